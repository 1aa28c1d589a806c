import json,sys,collections
import simple_icd_10_cm as c
kinds={'negated':40,'family':30,'hypothetical':35,'uncertain':35,'other':20,'affirmed':40}
rows=[]
for f in ['src_neg.txt','src_fam.txt','src_hyp.txt','src_unc.txt','src_oth.txt','src_aff.txt']:
    for line in open(f):
        line=line.rstrip('\n')
        if not line.strip(): continue
        p=line.split('|')
        assert len(p) in (4,5),(f,line)
        rows.append(dict(kind=p[0],text=p[1],concept=p[2],forbidden=[x for x in p[3].split(',') if x],expected=[x for x in p[4].split(',') if x] if len(p)==5 else []))
err=0
out=[]
seen=set()
for i,r in enumerate(rows,1):
    r2={'id':'c7-%03d'%i,**r}
    if r['kind']=='affirmed':
        r2['forbidden']=[]
        r2['expected']=r['expected'] or r['forbidden']
    if r['concept'] not in r['text']: print('concept missing',r2['id'],r); err+=1
    if r['text'] in seen: print('dup',r2['id']); err+=1
    seen.add(r['text'])
    for code in r2['forbidden']+r2['expected']:
        if not c.is_valid_item(code): print('invalid',code,r2['id']); err+=1
    if r['kind']!='affirmed' and not r2['forbidden']: print('no forbidden',r2['id']); err+=1
    if r['kind'] not in kinds: print('bad kind',r2['id']); err+=1
    if r['kind'] in('family','other'):
        for e in r2['expected']:
            if e in r2['forbidden']: print('conflict',r2['id'])
    out.append(r2)
cnt=collections.Counter(r['kind'] for r in out)
print(cnt,len(out))
for k,v in kinds.items():
    if cnt[k]<v: print('SHORT',k,cnt[k],v); err+=1
if '--write' in sys.argv:
    with open('coding_nonaffirmed7.jsonl','w') as f:
        for r in out: f.write(json.dumps(r)+'\n')
print('errors',err)
