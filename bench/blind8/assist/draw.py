import csv, json, random, os
D='/work/shared/data'
csv.field_size_limit(10**9)
skip=json.load(open('/work/brief/blind8/skip.json'))
sk=set(int(x) for x in skip['mtsamples_note_ids'])
rows={int(r['note_id']):r for r in csv.DictReader(open(D+'/mtsamples/mtsamples.csv',encoding='utf-8-sig'))}
sktext=set(rows[i]['transcription'].strip() for i in sk if i in rows)
rng=random.Random(10101)
# 1. mtsamples
elig=sorted(i for i in rows if i not in sk)
mt=rng.sample(elig,200)
# 2. aci
aci=[]
for f in ['train.csv','valid.csv','clinicalnlp_taskB_test1.csv']:
    for r in csv.DictReader(open(D+'/aci-bench/'+f,encoding='utf-8-sig')):
        aci.append((f,r['encounter_id']))
aci=sorted(aci)
acid=rng.sample(aci,30)
# 3. fhir
fh=sorted(os.listdir(D+'/fhir-r4')); fhd=rng.sample(fh,len(fh))
# 4. hl7
h7=sorted(os.listdir(D+'/hl7v2')); h7d=rng.sample(h7,len(h7))
out={'mtsamples':[{'pos':p,'note_id':n,'dup_of_skip':rows[n]['transcription'].strip() in sktext,'empty':not rows[n]['transcription'].strip()} for p,n in enumerate(mt)],
     'aci':[list(x) for x in acid],'fhir':fhd,'hl7':h7d}
json.dump(out,open('draw.json','w'),indent=1)
print(len(elig), sum(x['dup_of_skip'] for x in out['mtsamples']))
