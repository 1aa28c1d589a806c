import json,sys,os,collections
D='/work/shared/data/fhir-r4/'
for fn in sys.argv[1:]:
    b=json.load(open(D+fn)); res=[e['resource'] for e in b['entry']]
    by=collections.defaultdict(list)
    for r in res: by[r['resourceType']].append(r)
    p=by['Patient'][0]
    mr=[i['value'] for i in p.get('identifier',[]) if 'MR' in json.dumps(i.get('type',{}))]
    nm=p['name'][0]
    print('#####',fn, nm.get('prefix'),nm.get('given'),nm.get('family'),'MR',mr,'id',p['id'],p.get('gender'),p.get('birthDate'),'deceased',p.get('deceasedDateTime'))
    print(' counts',{k:len(v) for k,v in by.items()})
    enc=sorted(e['period']['start'] for e in by['Encounter']); print(' enc last',enc[-1:] )
    print(' COND',sorted(set((c['code'].get('text') or c['code']['coding'][0]['display'])+'|'+c.get('onsetDateTime','')[:10]+'|'+(c.get('clinicalStatus',{}).get('coding',[{}])[0].get('code','')) for c in by['Condition']))[:40])
    meds=collections.Counter()
    for m in by['MedicationRequest']:
        t=(m.get('medicationCodeableConcept',{}).get('text') or str(m.get('medicationReference')))
        meds[(t,m['status'])]+=1
    print(' MEDS',dict(meds))
    print(' PROC',sorted(set((c['code'].get('text') or c['code']['coding'][0]['display'])+'|'+str(c.get('performedPeriod',{}).get('start',c.get('performedDateTime','')))[:10] for c in by['Procedure']))[:30])
    print(' ALLERGY',[(a['code'].get('text') or a['code']['coding'][0]['display'], a.get('recordedDate','')[:10]) for a in by['AllergyIntolerance']])
    print(' IMM',sorted(set(i['vaccineCode'].get('text','') for i in by['Immunization'])))
