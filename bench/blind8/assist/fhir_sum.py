import json,sys,collections
D='/work/shared/data/fhir-r4/'
d=json.load(open('draw.json'))
for f in d['fhir'][int(sys.argv[1]):int(sys.argv[2])]:
    b=json.load(open(D+f)); R=collections.defaultdict(list)
    for e in b['entry']: R[e['resource']['resourceType']].append(e['resource'])
    p=R['Patient'][0]
    mr=[i['value'] for i in p.get('identifier',[]) if any(c.get('code')=='MR' for c in i.get('type',{}).get('coding',[]))]
    print('#####',f,'| name',p['name'][0].get('prefix'),p['name'][0]['given'],p['name'][0]['family'],'| MR',mr,'| id',p['id'],'| birth',p.get('birthDate'),'| death',p.get('deceasedDateTime'),'| gender',p.get('gender'))
    print(' counts',{k:len(v) for k,v in R.items()})
    enc=sorted(R['Encounter'],key=lambda r:r['period']['start']); print(' last enc',enc[-1]['period'],enc[-1]['type'][0]['coding'][0]['display'])
    print(' COND',sorted(set((c['code']['coding'][0]['display'],c.get('onsetDateTime','')[:10],c.get('clinicalStatus',{}).get('coding',[{}])[0].get('code')) for c in R['Condition']),key=lambda x:x[1]))
    print(' PROC',sorted(set((c['code']['coding'][0]['display'],(c.get('performedPeriod',{}).get('start') or c.get('performedDateTime',''))[:10]) for c in R['Procedure']),key=lambda x:x[1])[-25:])
    print(' MED',sorted(set((c.get('medicationCodeableConcept',{}).get('coding',[{}])[0].get('display'),c['status'],c.get('authoredOn','')[:10]) for c in R['MedicationRequest']),key=lambda x:x[2])[-15:])
    print(' ALLERGY',[(a['code']['coding'][0]['display'],a.get('recordedDate','')[:10]) for a in R['AllergyIntolerance']])
    print(' IMM',collections.Counter(i['vaccineCode']['coding'][0]['display'] for i in R['Immunization']).most_common(6))
    print(' CAREPLAN',[(c.get('category',[{}])[0].get('coding',[{}])[0].get('display'),c['status']) for c in R['CarePlan']][-6:])
