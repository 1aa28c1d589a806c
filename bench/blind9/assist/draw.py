import csv, json, random, os, sys
csv.field_size_limit(10**9)
D='/work/shared/data'
skip=json.load(open('/work/brief/blind9/skip.json'))
rng=random.Random(11101)
rows={}
with open(D+'/mtsamples/mtsamples.csv',encoding='utf-8-sig') as f:
    for r in csv.DictReader(f): rows[int(r['note_id'])]=r
skipids=set(int(x) for x in skip['mtsamples_note_ids'])
skiptexts=set(rows[i]['transcription'].strip() for i in skipids if i in rows)
elig=sorted(i for i in rows if i not in skipids)
# 1. mtsamples
mt=rng.sample(elig,300)
# 2. aci
aci=[]
for fn in ['train.csv','valid.csv','clinicalnlp_taskB_test1.csv']:
    with open(D+'/aci-bench/'+fn,encoding='utf-8-sig') as f:
        for r in csv.DictReader(f): aci.append((fn,r['encounter_id']))
aci=sorted(aci)
acid=rng.sample(aci,30)
# 3. fhir, 4. hl7
fh=sorted(os.listdir(D+'/fhir-r4')); fhd=rng.sample(fh,len(fh))
hl=sorted(os.listdir(D+'/hl7v2')); hld=rng.sample(hl,len(hl))
# mark mt exclusions (automatic): same text as skip note, empty, same text as earlier drawn
seen=set(); mtinfo=[]
for i in mt:
    t=rows[i]['transcription'].strip()
    why=None
    if len(t)<200: why='empty/short'
    elif t in skiptexts: why='duplicate text of skip.json note'
    elif t in seen: why='duplicate of earlier drawn note'
    seen.add(t)
    mtinfo.append({'note_id':i,'excluded':why})
json.dump({'seed':11101,'mtsamples':mtinfo,'aci':[f+':'+e for f,e in acid],'fhir':fhd,'hl7':hld},open('draw.json','w'),indent=1)
print(sum(1 for m in mtinfo if not m['excluded']),'usable mt of 300')
