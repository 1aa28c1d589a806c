import json, sys, collections
D='/work/shared/data/fhir-r4/'
def summ(fn, full=False):
    b=json.load(open(D+fn))
    res=[e['resource'] for e in b['entry']]
    by=collections.defaultdict(list)
    for r in res: by[r['resourceType']].append(r)
    p=by['Patient'][0]
    nm=p['name'][0]
    print('====',fn)
    print('name', nm.get('prefix'), nm['given'], nm['family'], 'birth', p.get('birthDate'), 'gender', p.get('gender'), 'deceased', p.get('deceasedDateTime'))
    for i in p.get('identifier',[]):
        print('  id', i.get('type',{}).get('text'), i.get('value'))
    print('counts', {k:len(v) for k,v in by.items()})
    encs=sorted(by['Encounter'], key=lambda e:e['period']['start'])
    print('last enc', [(e['period']['start'], e['type'][0].get('text')) for e in encs[-3:]])
    conds=[(c.get('onsetDateTime','')[:10], c['code']['coding'][0]['display'], c.get('clinicalStatus',{}).get('coding',[{}])[0].get('code'), c.get('abatementDateTime','')[:10]) for c in by['Condition']]
    print('conditions', sorted(set(conds)))
    procs=collections.Counter(pr['code']['coding'][0]['display'] for pr in by['Procedure'])
    print('procedures', dict(procs))
    pd={}
    for pr in by['Procedure']:
        d=pr['code']['coding'][0]['display']; s=pr.get('performedPeriod',{}).get('start') or pr.get('performedDateTime')
        pd.setdefault(d,[]).append(s[:10])
    print('proc dates', {k:(min(v),max(v)) for k,v in pd.items()})
    meds=collections.defaultdict(list)
    for m in by['MedicationRequest']:
        d=m.get('medicationCodeableConcept',{}).get('coding',[{}])[0].get('display')
        meds[(d,m['status'])].append(m['authoredOn'][:10])
    print('meds', {k:(len(v),min(v),max(v)) for k,v in meds.items()})
    imms=collections.Counter(i['vaccineCode']['coding'][0]['display'] for i in by['Immunization'])
    print('imms', dict(imms))
    if full:
        obs=collections.defaultdict(list)
        for o in by['Observation']:
            d=o['code']['coding'][0]['display']; v=o.get('valueQuantity')
            if v: obs[d].append((o['effectiveDateTime'][:10], v['value'], v.get('unit')))
        for k,v in obs.items(): print('  obs', k, sorted(v)[-1], len(v))
for fn in sys.argv[1:]: summ(fn, full=True)
