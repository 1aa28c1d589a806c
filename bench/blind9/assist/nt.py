import csv,json,sys
csv.field_size_limit(10**9)
rows={}
with open('/work/shared/data/mtsamples/mtsamples.csv',encoding='utf-8-sig') as f:
    for r in csv.DictReader(f): rows[int(r['note_id'])]=r
d=json.load(open('draw.json'))
u=[m['note_id'] for m in d['mtsamples'] if not m['excluded']]
a,b,n=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3])
for k in range(a,b):
    i=u[k];r=rows[i]
    print(f"=== pos{k} id{i} | {r['description'][:200]}")
    print(r['transcription'][:n])
