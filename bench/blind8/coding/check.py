import json, collections, sys
import simple_icd_10_cm as c
P='/work/brief/blind8/coding/coding_nonaffirmed8.jsonl'
rows=[json.loads(l) for l in open(P)]
err=0; cnt=collections.Counter(); texts=set(); ids=set()
need={'negated':40,'family':30,'hypothetical':35,'uncertain':35,'other':20,'affirmed':40}
for r in rows:
    cnt[r['kind']]+=1
    if r['kind'] not in need: print('bad kind',r); err+=1
    if r['id'] in ids: print('dup id',r['id']); err+=1
    ids.add(r['id'])
    t=r['text'].strip().lower()
    if t in texts: print('dup text',r['id']); err+=1
    texts.add(t)
    if r['concept'] not in r['text']: print('concept not verbatim',r['id']); err+=1
    for code in r['forbidden']+r.get('expected',[]):
        if not c.is_valid_item(code) or len(code)!=3: print('invalid',r['id'],code); err+=1
    if r['kind']!='affirmed' and not r['forbidden']: print('no forbidden',r['id']); err+=1
    if r['kind']=='affirmed' and not r.get('expected'): print('affirmed w/o expected',r['id']); err+=1
    if set(r['forbidden'])&set(r.get('expected',[])): print('overlap',r['id']); err+=1
for k,n in need.items():
    if cnt[k]<n: print('too few',k,cnt[k],n); err+=1
print(dict(cnt), 'total',len(rows),'errors',err)
sys.exit(1 if err else 0)
