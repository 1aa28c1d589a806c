# Checks: every evidence is a verbatim substring of its source file (raw text);
# at least one answer form occurs (case-insensitive) in the evidence or the source,
# except answer_type yes/no where the answer is a judgement, not a quoted string.
import json,collections
D='/work/shared/data/'
cache={}
def raw(p):
    if p not in cache: cache[p]=open(D+p,encoding='utf-8-sig',newline='').read()
    return cache[p]
bad=0; n=0; kinds=collections.Counter(); types=collections.Counter(); tk=collections.Counter()
ids=set()
for line in open('assistant_blind.jsonl'):
    o=json.loads(line); n+=1
    assert o['id'] not in ids; ids.add(o['id'])
    assert o['kind'] in ('past_case','named')
    assert o['answer_type'] in ('drug','dose','value','date','duration','yes','no','list','other')
    assert (o['patient'] is None)==(o['kind']=='past_case')
    kinds[o['kind']]+=1; types[o['answer_type']]+=1; tk[(o['kind'],o['answer_type'])]+=1
    t=raw(o['source'])
    if o['evidence'] not in t:
        bad+=1; print('EVIDENCE NOT FOUND',o['id'],o['evidence'][:100]); continue
    if o['answer_type'] in ('yes','no'): continue
    ev=o['evidence'].lower(); tl=t.lower()
    if not any(a.lower() in ev for a in o['answer']):
        if any(a.lower() in tl for a in o['answer']): print('answer only in source (not evidence):',o['id'],o['answer'][:2])
        else: bad+=1; print('ANSWER NOT FOUND',o['id'],o['answer'])
    if o['kind']=='past_case':
        # the question must not name the patient: check surnames from aci metadata are absent
        pass
print('n',n,'bad',bad); print(dict(kinds)); print(dict(types)); print(sorted(tk.items()))
