import json,collections,sys
import simple_icd_10_cm as c
rows=[json.loads(l) for l in open('/work/brief/blind13/coding/coding_nonaffirmed13.jsonl')]
bad=0; cnt=collections.Counter(); texts=set(); ids=set()
for r in rows:
    cnt[r['kind']]+=1
    assert r['kind'] in {'negated','family','hypothetical','uncertain','other','affirmed'}
    if r['concept'] not in r['text']: print('CONCEPT',r['id']); bad+=1
    if r['text'] in texts: print('DUP',r['id']); bad+=1
    texts.add(r['text'])
    if r['id'] in ids: print('DUPID',r['id']); bad+=1
    ids.add(r['id'])
    for code in r['forbidden']+r['expected']:
        if not c.is_valid_item(code): print('INVALID',r['id'],code); bad+=1
    if set(r['forbidden'])&set(r['expected']): print('OVERLAP',r['id']); bad+=1
    if r['kind']!='affirmed' and not r['forbidden']: print('NOFORB',r['id']); bad+=1
    if r['kind']=='affirmed' and not r['expected']: print('NOEXP',r['id']); bad+=1
    low=r['text'].lower()
    if 'consistent with' in low or 'compatible with' in low: print('BANNED',r['id']); bad+=1
print(dict(cnt), 'non-affirmed', sum(v for k,v in cnt.items() if k!='affirmed'), 'total', len(rows))
mins={'negated':40,'family':30,'hypothetical':35,'uncertain':35,'other':20,'affirmed':50}
for k,m in mins.items():
    if cnt[k]<m: print('SHORT',k,cnt[k],m); bad+=1
print('problems',bad)
