import json,re
exec(open('past_q.py').read()); exec(open('aci_q.py').read())
out=[]
import re as _re
def standalone(items, key):
    # make follow-up questions ("Same ...", "In that ...") self-contained by reusing the
    # case description of the first question asked about the same record
    first={}
    res=[]
    for it in items:
        k=key(it); q=it[-4] if False else None
        res.append(it)
    return res
def fix(qs):
    first={}; out2=[]
    for rec,q in qs:
        m=_re.match(r'^(Same |That |For that |In that )',q)
        if rec not in first or not m:
            if rec not in first: first[rec]=q.split(': ')[0] if ': ' in q else None
            out2.append(q); continue
        desc=first[rec]
        if m.group(1) in ('Same ','That '): rest=q.split(': ',1)[1]
        else: rest=q.split(', ',1)[1]
        out2.append(desc+': '+rest)
    return out2
_pq=fix([(p[0],p[1]) for p in P]); P=[(p[0],q)+tuple(p[2:]) for p,q in zip(P,_pq)]
_aq=fix([(a[1],a[2]) for a in A]); A=[(a[0],a[1],q)+tuple(a[3:]) for a,q in zip(A,_aq)]
for nid,q,a,t,e in P:
    out.append(dict(kind='past_case',question=q,patient=None,source='mtsamples/mtsamples.csv',record=f'note_id={nid}',answer=a,answer_type=t,evidence=e))
for src,enc,q,a,t,e in A:
    out.append(dict(kind='past_case',question=q,patient=None,source=src,record=f'encounter_id={enc}',answer=a,answer_type=t,evidence=e))
fh=json.load(open('fhir_q.json'))
for o in fh:
    q=o['question']
    m=re.match(r"(.*?)(the patient with MRN (\S+?))'s (.*)\?$",q)
    if m:
        pre,ref,mrn,rest=m.groups()
        if pre=="When was ": q=f"When was the most recent encounter for the patient with MRN {mrn}?"
        elif 'body weight' in rest: q=f"What was the most recent recorded body weight for the patient with MRN {mrn}?"
        elif 'last measurement' in rest: q=f"What was the systolic blood pressure at the last measurement for the patient with MRN {mrn}?"
        else: raise SystemExit(q)
    o['question']=q
    if o['answer_type']=='value':
        v=float(o['answer'][1]); unit='kg' if 'weight' in q else 'mmHg'
        extra=[f"{v:.1f}",f"{v:.1f} {unit}",str(round(v))]
        o['answer']=list(dict.fromkeys(o['answer']+extra))
    if 'Riojas' in o['source'] and o['answer_type']=='date' and 'last' in o['question']:
        o['note']='patient died 2008-12-14; the last Encounter (2008-12-21) is a Death Certification encounter'
    o['record']='Patient '+o['patient']['name']
    out.append(o)
for o in json.load(open('hl7_q.json')):
    o['record']='PID '+o['patient']['mrn']; out.append(o)
keys=['id','kind','question','patient','source','record','answer','answer_type','evidence','note']
with open('assistant_blind.jsonl','w') as f:
    for i,o in enumerate(out,1):
        o['id']=f'b{i:03d}'
        f.write(json.dumps({k:o[k] for k in keys if k in o},ensure_ascii=False)+'\n')
files=sorted(set(o['source'] for o in out))
open('files.txt','w').write('\n'.join(files)+'\n')
print(len(out),len(files))
