import json,csv,os,re,sys,collections
csv.field_size_limit(10**9)
H=os.path.dirname(os.path.abspath(__file__)); D='/work/shared/data/'
FIELDS=["id","kind","question","patient","source","record","answer","answer_type","evidence"]
TYPES={"value","text","dose","date","list","yes","no"}
fails=[]
def F(i,m): fails.append(f"{i}: {m}")
mt={}
with open(D+'mtsamples/mtsamples.csv',encoding='utf-8-sig') as f:
    for r in csv.DictReader(f): mt[r['note_id']]=r
aci={}
for fn in ['train.csv','valid.csv','clinicalnlp_taskB_test1.csv']:
    with open(D+'aci-bench/'+fn,encoding='utf-8-sig') as f:
        for r in csv.DictReader(f): aci[(fn,r['encounter_id'])]=r
skip=json.load(open('/work/brief/blind9/skip.json'))
skipids=set(skip['mtsamples_note_ids']); skiptexts={mt[i]['transcription'].strip() for i in skipids if i in mt}
chart=[json.loads(l) for l in open(os.path.join(H,'chart_entries.jsonl'))]
pats={c['patient']['mrn']:c['patient'] for c in chart if 'patient' in c}
ents=[c['entry'] for c in chart if 'entry' in c]
for e in ents:
    p=pats.get(e['mrn'])
    if not p: F('chart',f"entry for unknown mrn {e['mrn']}"); continue
    if e['kind'] not in {'medication','procedure','diagnosis','complication','referral'}: F('chart','bad kind')
    for k in ('date','stop'):
        if k in e and not ('2015-01-01'<=e[k]<='2025-12-31' and e[k]>p['dob']): F('chart',f"bad {k} {e}")
    if e['kind']=='referral' and not (e.get('to') and e.get('reason')): F('chart','referral without to/reason')
    if 'stop' in e and e['stop']<e['date']: F('chart','stop before start')
for p in pats.values():
    assert p['mrn'].startswith('R7') and p['sex'] in 'FM'
ids=set(); used_mt=set(); counts=collections.Counter(); types=collections.Counter()
rows=[json.loads(l) for l in open(os.path.join(H,'assistant_blind7.jsonl'))]
for d in rows:
    i=d['id']
    keys=list(d.keys())
    if keys[:9]!=FIELDS or keys[9:] not in ([],['note']): F(i,f"fields {keys}")
    if i in ids: F(i,'dup id')
    ids.add(i)
    if d['answer_type'] not in TYPES: F(i,'bad answer_type')
    if not d['answer'] or not all(isinstance(a,str) and a for a in d['answer']): F(i,'bad answer list')
    ev=d['evidence']; at=d['answer_type']; src=d['source']
    def anscheck(text):
        if at in ('yes','no'): return True
        return any(a.lower() in text.lower() for a in d['answer'])
    if d['kind']=='past_case':
        if d['patient'] is not None: F(i,'past_case with patient')
        if re.search(r'\bMRN\b|\d{6,}',d['question']): F(i,'identifier in past_case question')
        if src.startswith('mtsamples'):
            nid=d['record'].split('=')[1]; r=mt[nid]
            if nid in skipids: F(i,'note in skip.json')
            if r['transcription'].strip() in skiptexts: F(i,'note text duplicates a skip.json note')
            if nid in used_mt: F(i,'note used twice')
            used_mt.add(nid)
            if ev not in r['transcription']: F(i,'evidence not in note')
            counts['past_case/mtsamples']+=1
        else:
            fn=src.split('/')[1]; enc=d['record'].split('=')[1]; r=aci[(fn,enc)]
            if ev not in r['note']: F(i,'evidence not in ACI note')
            first=r['note'].split()[:0]
            for nm in re.findall(r'\b([A-Z][a-z]+ [A-Z][a-z]+) is a',r['note']):
                for w in nm.split():
                    if w in d['question']: F(i,f'patient name word {w} in question')
            counts['past_case/aci-bench']+=1
        if not anscheck(ev): F(i,f'no answer form in evidence: {ev!r}')
        n=d.get('note','')
        if n and n.startswith('ambiguous:'):
            other=re.search(r'note_id=(\d+)',n).group(1)
            ot=mt[other]['transcription']
            if ot.strip()==mt[d['record'].split('=')[1]]['transcription'].strip(): F(i,'ambiguous partner is same text')
            if not any(a.lower() in ot.lower() for a in d['answer']): F(i,'ambiguous partner holds no answer form')
            counts['  of which ambiguous']+=1
    else:
        if d['record']!=d['patient']: F(i,'record != patient')
        if src.startswith('fhir-r4/'):
            raw=open(D+src,encoding='utf-8-sig').read()
            if ev not in raw: F(i,'evidence not in FHIR file')
            b=json.loads(raw)
            p=[e['resource'] for e in b['entry'] if e['resource']['resourceType']=='Patient'][0]
            mr=[x['value'] for x in p.get('identifier',[]) if any(c.get('code')=='MR' for c in x.get('type',{}).get('coding',[]))]
            if d['patient']!=(mr[0] if mr else p['id']): F(i,'FHIR patient != MR identifier')
            if not anscheck(ev): F(i,f'no answer form in evidence {ev!r}')
            counts['named/fhir']+=1
        elif src.startswith('hl7v2/'):
            raw=open(D+src,encoding='utf-8-sig').read()
            segs=re.split(r'\r\n|\r|\n',raw)
            if not any(ev in s for s in segs): F(i,'evidence not within one HL7 segment')
            pid=[s for s in segs if s.startswith('PID')][0].split('|')[3].split('^')[0]
            if pid!=d['patient']: F(i,f'patient != PID-3.1 ({pid})')
            if not anscheck(ev): F(i,f'no answer form in evidence {ev!r}')
            counts['named/hl7']+=1
        elif src=='chart_entries.jsonl':
            es=[e for e in ents if e['mrn']==d['patient'] and e['text']==ev]
            if not es: F(i,'evidence is not an entry text of this patient')
            elif not (anscheck(ev) or anscheck(json.dumps(es[0]))): F(i,'no answer form in evidence/entry')
            if pats[d['patient']]['name'].split()[-1].split('-')[0] not in d['question']: F(i,'patient name not in question')
            counts['named/chart']+=1
        else: F(i,'unknown source')
    types[at]+=1
print('counts:',dict(counts)); print('answer_type:',dict(types)); print('total',len(rows))
if fails:
    print('\n'.join(fails)); print(len(fails),'FAILURES'); sys.exit(1)
print('ALL CHECKS PASS')
