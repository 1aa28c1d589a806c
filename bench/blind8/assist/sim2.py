import csv,json,re,sys
csv.field_size_limit(10**9)
rows={int(r['note_id']):r for r in csv.DictReader(open('/work/shared/data/mtsamples/mtsamples.csv',encoding='utf-8-sig'))}
sk=set(int(x) for x in json.load(open('/work/brief/blind8/skip.json'))['mtsamples_note_ids'])
sktext={rows[i]['transcription'].strip() for i in sk if i in rows}
W=lambda s:set(re.findall(r'[a-z]{4,}',s.lower()))
cand={j:W(b['transcription'][:1500]) for j,b in rows.items() if j not in sk and b['transcription'].strip() and b['transcription'].strip() not in sktext}
for i in map(int,sys.argv[1:]):
    a=rows[i]; wa=W(a['transcription'][:1500]); seen={a['transcription'].strip()}; best=[]
    for j,wb in cand.items():
        if rows[j]['transcription'].strip() in seen: continue
        best.append((len(wa&wb)/max(1,len(wa|wb)),j))
    best.sort(reverse=True); out=[]
    for s,j in best:
        t=rows[j]['transcription'].strip()
        if t in seen: continue
        seen.add(t); out.append((round(s,2),j,rows[j]['description'][:70]))
        if len(out)==3: break
    print(i,rows[i]['description'][:50],out)
