import json,sys,os,collections
D='/work/shared/data/fhir-r4/'
for f in sys.argv[1:]:
    b=json.load(open(D+f,encoding='utf-8-sig'))
    res=[e['resource'] for e in b['entry']]
    by=collections.defaultdict(list)
    for r in res: by[r['resourceType']].append(r)
    p=by['Patient'][0]
    print('=====',f)
    print('name',p['name'][0].get('prefix'),p['name'][0]['given'],p['name'][0]['family'],'gender',p.get('gender'),'birth',p.get('birthDate'),'deceased',p.get('deceasedDateTime'),'id',p['id'])
    print('ids',[(i.get('type',{}).get('coding',[{}])[0].get('code'),i['value']) for i in p.get('identifier',[])])
    enc=sorted(by['Encounter'],key=lambda e:e['period']['start'])
    print('enc n',len(enc),'last',[(e['period']['start'],e['type'][0].get('text')) for e in enc[-2:]])
    print('allergy',[(a['code'].get('text') or a['code']['coding'][0]['display'], a.get('clinicalStatus',{}).get('coding',[{}])[0].get('code')) for a in by['AllergyIntolerance']])
    print('meds',sorted(set((m['status'],(m.get('medicationCodeableConcept') or {}).get('text'),m.get('authoredOn','')[:10]) for m in by['MedicationRequest']))[-12:])
    print('active meds',sorted(set((m.get('medicationCodeableConcept') or {}).get('text') for m in by['MedicationRequest'] if m['status']=='active')))
    print('cond',sorted(set((c['code'].get('text'),c.get('onsetDateTime','')[:10],c.get('clinicalStatus',{}).get('coding',[{}])[0].get('code')) for c in by['Condition'])))
    print('proc',sorted(set((c['code'].get('text'),(c.get('performedPeriod') or {}).get('start','')[:10] or c.get('performedDateTime','')[:10]) for c in by['Procedure']))[:40])
    print('imm',sorted(set((c['vaccineCode'].get('text'),c.get('occurrenceDateTime','')[:10]) for c in by['Immunization']))[-6:])
    print('types',{k:len(v) for k,v in by.items()})
