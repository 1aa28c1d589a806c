import json, sys, collections, re
import simple_icd_10_cm as c
P='/work/brief/blind12/coding/coding_nonaffirmed12.jsonl'
rows=[json.loads(l) for l in open(P)]
err=[]; cnt=collections.Counter(); seen=set(); ids=set()
for r in rows:
    assert set(r)=={"id","kind","text","concept","forbidden","expected"}, r
    cnt[r['kind']]+=1
    if r['id'] in ids: err.append(('dup id',r['id']))
    ids.add(r['id'])
    if r['kind'] not in 'negated family hypothetical uncertain other affirmed'.split(): err.append(('kind',r['id']))
    if r['concept'] not in r['text']: err.append(('concept not verbatim',r['id']))
    t=re.sub(r'\s+',' ',r['text'].lower()).strip()
    if t in seen: err.append(('dup text',r['id']))
    seen.add(t)
    for code in r['forbidden']+r['expected']:
        if len(code)!=3 or not c.is_valid_item(code): err.append(('bad code',r['id'],code))
    if set(r['forbidden'])&set(r['expected']): err.append(('forbidden/expected overlap',r['id']))
    if r['kind']!='affirmed' and not r['forbidden']: err.append(('no forbidden',r['id']))
    if r['kind']=='affirmed' and not r['expected']: err.append(('no expected',r['id']))
    if r['kind']=='family' and any(not x.startswith(('Z80','Z81','Z82','Z83','Z84')) for x in r['expected']): err.append(('family expected',r['id']))
    if re.search(r'consistent with|compatible with',r['text'],re.I): err.append(('banned phrase',r['id']))
    if r['kind']!='affirmed' and r['expected'] and r['kind'] not in ('family','other'): err.append(('expected on non-affirmed',r['id']))
print(dict(cnt), 'total',len(rows),'non-affirmed',len(rows)-cnt['affirmed'])
need={'negated':40,'family':30,'hypothetical':35,'uncertain':35,'other':20,'affirmed':50}
for k,v in need.items():
    if cnt[k]<v: err.append(('count',k,cnt[k],v))
for e in err: print('ERR',e)
print('OK' if not err else f'{len(err)} errors'); sys.exit(1 if err else 0)
