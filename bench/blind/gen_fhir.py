import json,re
D='/work/shared/data/fhir-r4/'
out=[]
ABSENT=['Diabetes','Hypertension','Asthma','Appendicitis','Osteoporosis','Atrial Fibrillation','Anemia','Pneumonia','Hypothyroidism','Fracture','Migraine','Depression']
def dforms(iso):
    d=iso[:10]; y,m,dd=d.split('-')
    import datetime
    dt=datetime.date(int(y),int(m),int(dd))
    return [d, dt.strftime('%B %-d, %Y'), dt.strftime('%-m/%-d/%Y'), dt.strftime('%d %B %Y').lstrip('0')]
for i,f in enumerate(json.load(open('draw.json'))['fhir']):
    txt=open(D+f,encoding='utf-8').read(); b=json.loads(txt); R=[e['resource'] for e in b['entry']]
    p=R[0]; n=p['name'][0]; given=' '.join(n['given']); fam=n['family']; full=given+' '+fam
    mrn=[x['value'] for x in p['identifier'] if x.get('type',{}).get('text')=='Medical Record Number'][0]
    title='Mr.' if p['gender']=='male' else 'Ms.'
    style=i%4
    ref = [full, f'{title} {fam}', f'{given} {fam[0]}.', f'the patient with MRN {mrn}'][style]
    pat={'mrn':mrn,'name':full}
    src='fhir-r4/'+f
    # 1 last encounter
    enc=sorted((r['period']['start'],) for r in R if r['resourceType']=='Encounter')
    last=enc[-1][0]
    q=[f"When was {ref}'s most recent encounter?", f"What is the date of the last visit on record for {ref}?", f"On what date was {ref} last seen?", f"Give me the date of the latest encounter for {ref}."][i%4]
    out.append(dict(kind='named',question=q,patient=pat,source=src,answer=dforms(last),answer_type='date',evidence=f'"start": "{last}"'))
    # 2 condition yes/no
    conds=[r['code']['coding'][0]['display'] for r in R if r['resourceType']=='Condition']
    if i%2==0 and conds:
        c=conds[-1]; cn=re.sub(r' \((disorder|finding|situation)\)','',c)
        q=[f"Has {ref} ever been diagnosed with {cn.lower()}?", f"Does {ref}'s record include {cn.lower()}?"][i//2%2]
        out.append(dict(kind='named',question=q,patient=pat,source=src,answer=['yes'],answer_type='yes',evidence=f'"display": "{c}"'))
    else:
        a=[x for x in ABSENT[i%len(ABSENT):]+ABSENT if x.lower() not in txt.lower()][0]
        q=[f"Does {ref} have a history of {a.lower()}?", f"Is there any {a.lower()} diagnosis for {ref}?"][i//2%2]
        out.append(dict(kind='named',question=q,patient=pat,source=src,answer=['no'],answer_type='no',evidence=f'"family": "{fam}"',note=f'absence: no "{a}" anywhere in the bundle (case-insensitive)'))
    # 3 meds or weight
    meds=[r for r in R if r['resourceType']=='MedicationRequest']
    act=[r['medicationCodeableConcept']['coding'][0]['display'] for r in meds if r['status']=='active']
    if act and i%3!=2:
        act=sorted(set(act))
        q=[f"What medications is {ref} currently on?", f"List the active medication orders for {ref}."][i%2]
        out.append(dict(kind='named',question=q,patient=pat,source=src,answer=act,answer_type='list' if len(act)>1 else 'drug',evidence=f'"display": "{act[0]}"',note='answer lists all active MedicationRequests; all items expected'))
    elif meds and i%3==1:
        m=sorted(meds,key=lambda r:r['authoredOn'])[-1]; d=m['medicationCodeableConcept']['coding'][0]['display']
        q=f"When was {ref}'s most recent medication order written, and it was for what? (give the start date)"
        out.append(dict(kind='named',question=f"On what date was the most recent prescription for {ref} started?",patient=pat,source=src,answer=dforms(m['authoredOn']),answer_type='date',evidence=f'"authoredOn": "{m["authoredOn"]}"',note=f'the medication is {d}'))
    else:
        ws=sorted(((r['effectiveDateTime'],r['valueQuantity'])  for r in R if r['resourceType']=='Observation' and r['code']['coding'][0]['display']=='Body Weight' and 'valueQuantity' in r),key=lambda t:t[0])
        if ws:
            d,v=ws[-1]; val=v['value']; s=str(val)
            forms=[f"{s} {v['unit']}", s, f"{round(val,1)} kg"]
            out.append(dict(kind='named',question=f"What was {ref}'s most recent recorded body weight?",patient=pat,source=src,answer=forms,answer_type='value',evidence=f'"value": {s}',note=f'Body Weight observation dated {d}'))
    # 4 extra: systolic BP latest for some
    if i%2==1:
        bs=[]
        for r in R:
            if r['resourceType']=='Observation' and 'component' in r:
                for c in r['component']:
                    if c['code']['coding'][0]['display']=='Systolic Blood Pressure': bs.append((r['effectiveDateTime'],c['valueQuantity']))
        if bs:
            d,v=sorted(bs,key=lambda t:t[0])[-1]; s=str(v['value'])
            out.append(dict(kind='named',question=f"What was the systolic blood pressure at {ref}'s last measurement?",patient=pat,source=src,answer=[f"{s} mm[Hg]",s,f"{s} mmHg"],answer_type='value',evidence=f'"value": {s}',note=f'Systolic BP component dated {d}'))
json.dump(out,open('fhir_q.json','w'),indent=1)
print(len(out))
from collections import Counter; print(Counter(o['answer_type'] for o in out))
