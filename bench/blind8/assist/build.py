import csv,json,re,glob,os,sys
sys.path.insert(0,'.')
csv.field_size_limit(10**9)
D='/work/shared/data/'
import past_mt,past_aci,gen_fhir,gen_hl7,gen_chart
rows={int(r['note_id']):r for r in csv.DictReader(open(D+'mtsamples/mtsamples.csv',encoding='utf-8-sig'))}
def resolve(text,ev):
    if ev in text: return ev
    pat=r'[\s,]*'.join(re.escape(t) for t in ev.split())
    m=re.search(pat,text)
    if not m: raise SystemExit('EVIDENCE NOT FOUND: %r'%ev)
    return m.group(0)
out=[];n=0
def add(**k):
    global n; n+=1
    r=dict(id='r6-%03d'%n,kind=k['kind'],question=k['question'],patient=k['patient'],source=k['source'],record=k['record'],answer=k['answer'],answer_type=k['answer_type'],evidence=k['evidence'])
    if k.get('note'): r['note']=k['note']
    out.append(r)
for nid,q,a,t,ev,note in past_mt.Q:
    add(kind='past_case',question=q,patient=None,source='mtsamples/mtsamples.csv',record='note_id=%d'%nid,answer=a,answer_type=t,evidence=resolve(rows[nid]['transcription'],ev),note=note)
aci={}
for f in ['train.csv','valid.csv','clinicalnlp_taskB_test1.csv']:
    for r in csv.DictReader(open(D+'aci-bench/'+f,encoding='utf-8-sig')): aci[(f,r['encounter_id'])]=r
for f,e,q,a,t,ev,note in past_aci.Q:
    add(kind='past_case',question=q,patient=None,source='aci-bench/'+f,record='encounter_id='+e,answer=a,answer_type=t,evidence=resolve(aci[(f,e)]['note'],ev),note=note)
for pre,q,a,t,ev,note in gen_fhir.Q:
    fn=glob.glob(D+'fhir-r4/'+pre+'_*.json')[0]; raw=open(fn,encoding='utf-8-sig').read(); b=json.loads(raw)
    p=[x['resource'] for x in b['entry'] if x['resource']['resourceType']=='Patient'][0]
    mr=[i['value'] for i in p.get('identifier',[]) if any(c.get('code')=='MR' for c in i.get('type',{}).get('coding',[]))]
    pid=mr[0] if mr else p['id']
    if ev.startswith('re:'):
        m=re.search(ev[3:],raw); assert m,ev; ev=m.group(0)
    assert ev in raw,ev
    add(kind='named',question=q,patient=pid,source='fhir-r4/'+os.path.basename(fn),record=pid,answer=a,answer_type=t,evidence=ev,note=note)
for fn,q,a,t,ev,note in gen_hl7.Q:
    raw=open(D+'hl7v2/'+fn,encoding='utf-8-sig').read()
    pidseg=[s for s in re.split(r'[\r\n]+',raw) if s.startswith('PID|')][0]
    pid=pidseg.split('|')[3].split('~')[0].split('^')[0]
    add(kind='named',question=q,patient=pid,source='hl7v2/'+fn,record=pid,answer=a,answer_type=t,evidence=ev,note=note)
gen_chart.write('chart_entries.jsonl')
for m,q,a,t,ev,note in gen_chart.Q:
    add(kind='named',question=q,patient=m,source='chart_entries.jsonl',record=m,answer=a,answer_type=t,evidence=ev,note=note)
with open('assistant_blind6.jsonl','w') as f:
    for r in out: f.write(json.dumps(r,ensure_ascii=False)+'\n')
print(len(out))
