import sys, re
sys.argv=[sys.argv[0]]+sys.argv[1:]
from draw import rows, pool, skip_tx, norm
a,b,n=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3])
seen=set(); k=0
for pos,i in enumerate(pool):
    t=norm(rows[i]['transcription'])
    bad = (not t) or t in skip_tx or t in seen
    seen.add(t)
    if bad: continue
    if a<=k<b:
        r=rows[i]
        tx=re.sub(r'\s+',' ',r['transcription'])[:n]
        print(f"=== #{k} pos{pos} id{i} | {r['sample_name']} | {r['description'][:250]}")
        print('KW:', r['keywords'][:200]); print('TX:', tx); print()
    k+=1
