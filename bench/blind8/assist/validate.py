import csv,json,re,sys,datetime,collections
csv.field_size_limit(10**9)
D='/work/shared/data/'
F=['id','kind','question','patient','source','record','answer','answer_type','evidence']
TYPES={'value','text','dose','date','list','yes','no'}
err=[]
def E(i,m): err.append('%s: %s'%(i,m))
rows={int(r['note_id']):r for r in csv.DictReader(open(D+'mtsamples/mtsamples.csv',encoding='utf-8-sig'))}
skip=json.load(open('/work/brief/blind8/skip.json'))
sk=set(int(x) for x in skip['mtsamples_note_ids']); sktext={rows[i]['transcription'].strip() for i in sk if i in rows}
aci={}
for f in ['train.csv','valid.csv','clinicalnlp_taskB_test1.csv']:
    for r in csv.DictReader(open(D+'aci-bench/'+f,encoding='utf-8-sig')): aci[('aci-bench/'+f,r['encounter_id'])]=r
raw={}
def RAW(src):
    if src not in raw:
        p=src if src=='chart_entries.jsonl' else D+src
        raw[src]=open(p,encoding='utf-8-sig').read()
    return raw[src]
# chart entries
pats={};entries=[];chart_lines=open('chart_entries.jsonl').read().splitlines()
for ln in chart_lines:
    o=json.loads(ln)
    if 'patient' in o:
        p=o['patient']; assert set(p)=={'mrn','name','dob','sex'} and p['sex'] in 'FM' and p['mrn'].startswith('R6'); pats[p['mrn']]=p
    else:
        e=o['entry']; entries.append((e,ln))
        ok=set(e)<= {'mrn','kind','text','date','status','dose','route','frequency','stop','to','reason'}
        if not ok or e['kind'] not in ('medication','procedure','diagnosis','complication','referral'): E('chart',e)
        d=datetime.date.fromisoformat(e['date'])
        if not (datetime.date(2015,1,1)<=d<=datetime.date(2025,12,31)) or d<=datetime.date.fromisoformat(pats[e['mrn']]['dob']): E('chart date',e)
        if 'stop' in e and datetime.date.fromisoformat(e['stop'])<d: E('chart stop',e)
        if e['kind']=='referral' and not (e.get('to') and e.get('reason')): E('chart referral',e)
ACI_NAMES=['sophia','brown','clark','virginia','phillips','kyle','christina','cooper','raymond','taylor','eugene','walker','martha','betty','ross','lewis','sanchez']
items=[json.loads(l) for l in open('assistant_blind6.jsonl')]
ids=set();cnt=collections.Counter();types=collections.Counter();used_mt=[]
for it in items:
    i=it['id']
    k=list(it.keys())
    if k[:9]!=F or (len(k)==10 and k[9]!='note') or len(k)>10: E(i,'fields %s'%k)
    if i in ids: E(i,'dup id')
    ids.add(i)
    if it['answer_type'] not in TYPES: E(i,'type')
    if not it['answer'] or not all(isinstance(a,str) and a for a in it['answer']): E(i,'answer')
    ev=it['evidence']; src=it['source']
    if ev not in RAW(src): E(i,'evidence not verbatim in '+src)
    amb=(it.get('note') or '').startswith('ambiguous:')
    low=ev.lower(); forms=[a.lower() for a in it['answer']]
    if it['kind']=='past_case':
        if it['patient'] is not None: E(i,'patient not null')
        if src.startswith('mtsamples'):
            nid=int(it['record'].split('=')[1]); t=rows[nid]['transcription']; used_mt.append(nid)
            if ev not in t: E(i,'evidence not in note')
            if nid in sk or t.strip() in sktext: E(i,'note in skip.json or duplicate of a skip note')
            src_kind='mt'
        else:
            enc=it['record'].split('=')[1]; r=aci[(src,enc)]
            if ev not in r['note'] and ev not in r['dialogue']: E(i,'evidence not in encounter')
            q=it['question'].lower()
            for nm in ACI_NAMES:
                if re.search(r'\b%s\b'%nm,q): E(i,'ACI name in question: '+nm)
            src_kind='aci'
        if 'mrn' in it['question'].lower() or re.search(r'\d{5,}',it['question']): E(i,'identifier in past_case question')
        cnt[('past_case',src_kind,amb)]+=1
        if amb:
            other=it['note'].split(':',1)[1].strip()
            if src.startswith('mtsamples'):
                o=int(other); ot=rows[o]['transcription']; used_mt.append(o)
                if ot.strip()==rows[nid]['transcription'].strip(): E(i,'ambiguous partner is same text')
                if o in sk or ot.strip() in sktext: E(i,'ambiguous partner in skip.json or duplicate of a skip note')
                if not any(a in ot.lower() for a in forms): E(i,'ambiguous partner holds no answer form')
    else:
        if src.startswith('fhir'):
            b=json.loads(RAW(src)); p=[x['resource'] for x in b['entry'] if x['resource']['resourceType']=='Patient'][0]
            mr=[x['value'] for x in p.get('identifier',[]) if any(c.get('code')=='MR' for c in x.get('type',{}).get('coding',[]))]
            if it['patient']!=(mr[0] if mr else p['id']): E(i,'fhir patient')
            cnt[('named','fhir')]+=1
        elif src.startswith('hl7'):
            segs=re.split(r'[\r\n]+',RAW(src)); pid=[s for s in segs if s.startswith('PID|')][0].split('|')[3].split('~')[0].split('^')[0]
            if it['patient']!=pid: E(i,'hl7 patient %s'%pid)
            if not any(ev in s for s in segs): E(i,'hl7 evidence spans segments')
            cnt[('named','hl7')]+=1
        else:
            if it['patient'] not in pats: E(i,'chart mrn')
            match=[ln for e,ln in entries if e['mrn']==it['patient'] and e['text']==ev]
            if len(match)!=1: E(i,'chart evidence is not exactly one entry text of this patient')
            low=low+' '+(match[0].lower() if match else '')
            cnt[('named','chart')]+=1
        if it['record']!=it['patient']: E(i,'record != patient')
    types[it['answer_type']]+=1
    if it['answer_type'] not in ('yes','no') and not any(a in low for a in forms): E(i,'no answer form in evidence')
# duplicates among used mtsamples (by text)
tx=collections.Counter(rows[n]['transcription'].strip() for n in set(used_mt))
for t,c in tx.items():
    if c>1: E('mt','two used notes share a transcription')
print('items',len(items)); print(dict(cnt)); print(dict(types))
print('chart: %d patients, %d entries'%(len(pats),len(entries)))
if err:
    print('\n'.join(err)); print('FAILURES:',len(err)); sys.exit(1)
print('ALL CHECKS PASS')
