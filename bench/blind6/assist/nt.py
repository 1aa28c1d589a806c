import csv,json,sys
csv.field_size_limit(10**9)
rows={int(r['note_id']):r for r in csv.DictReader(open('/work/shared/data/mtsamples/mtsamples.csv',encoding='utf-8-sig'))}
d=json.load(open('draw.json'))['mtsamples']
a,b,n=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3])
seen={}
for p in range(a,b):
    i=d[p]; r=rows[i]; t=r['transcription'].strip()
    print(f"### pos{p} id={i} | {r['description'][:150]}")
    print(t[:n].replace(',  ',' ').replace('\n',' '))
