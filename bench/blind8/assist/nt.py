import csv,json,sys
csv.field_size_limit(10**9)
rows={int(r['note_id']):r for r in csv.DictReader(open('/work/shared/data/mtsamples/mtsamples.csv',encoding='utf-8-sig'))}
d=json.load(open('draw.json'))
seen=set();L=[]
for x in d['mtsamples']:
    if x['dup_of_skip'] or x['empty']: continue
    t=rows[x['note_id']]['transcription'].strip()
    if t in seen: continue
    seen.add(t); L.append(x['note_id'])
a,b,n=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3])
for i in L[a:b]:
    r=rows[i]; print('##',i,'|',r['description'][:150]); print(r['transcription'][:n].replace(',  ',' ').replace('  ',' ')); print()
