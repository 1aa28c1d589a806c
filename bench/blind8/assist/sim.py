import csv,json,re
csv.field_size_limit(10**9)
rows={int(r['note_id']):r for r in csv.DictReader(open('/work/shared/data/mtsamples/mtsamples.csv',encoding='utf-8-sig'))}
W=lambda s:set(re.findall(r'[a-z]{4,}',s.lower()))
import sys; ids=[int(x) for x in sys.argv[1:]]
for i in ids:
    a=rows[i]; wa=W(a['transcription'][:1500])
    best=[]
    for j,b in rows.items():
        if j==i or b['transcription'].strip()==a['transcription'].strip() or not b['transcription'].strip(): continue
        wb=W(b['transcription'][:1500]); s=len(wa&wb)/max(1,len(wa|wb))
        best.append((s,j))
    best.sort(reverse=True); print(i,[(round(s,2),j,rows[j]['description'][:60]) for s,j in best[:2]])
