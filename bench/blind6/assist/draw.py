"""Seeded draw for round 5 (blind6/assist). One generator random.Random(9191), drawn in this order:
1. mtsamples: rng.sample(sorted int note_ids NOT in skip.json and whose transcription is not identical to a skip.json note's, 250)
2. aci-bench: rng.sample(sorted (file, encounter_id) over train/valid/clinicalnlp_taskB_test1 (127), 127)
3. fhir-r4: rng.sample(sorted file list (18), 18)
4. hl7v2: rng.sample(sorted file list (139), 139)
"""
import csv, json, os, random, sys
csv.field_size_limit(10**9)
D='/work/shared/data'
skip=json.load(open('/work/brief/blind6/skip.json'))
skip_mt=set(int(x) for x in skip['mtsamples_note_ids'])
rows={int(r['note_id']):r for r in csv.DictReader(open(D+'/mtsamples/mtsamples.csv',encoding='utf-8-sig'))}
skip_txt=set(rows[i]['transcription'].strip() for i in skip_mt if i in rows)
elig=sorted(i for i,r in rows.items() if i not in skip_mt and r['transcription'].strip() not in skip_txt and r['transcription'].strip())
rng=random.Random(9191)
mt=rng.sample(elig,250)
aci_all=[]
for f in ['train','valid','clinicalnlp_taskB_test1']:
    for r in csv.DictReader(open(D+'/aci-bench/'+f+'.csv',encoding='utf-8-sig')):
        aci_all.append((f+'.csv',r['encounter_id']))
aci=rng.sample(sorted(aci_all),len(aci_all))
fh=rng.sample(sorted(os.listdir(D+'/fhir-r4')),18)
hl=rng.sample(sorted(os.listdir(D+'/hl7v2')),139)
json.dump({'mtsamples':mt,'aci':aci,'fhir':fh,'hl7':hl,'n_mt_eligible':len(elig)},open('draw.json','w'),indent=1)
print(len(elig), mt[:20], aci[:12], fh[:5])
