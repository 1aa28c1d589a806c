import json
from past_mt import MT
from past_aci import ACI
from gen_fhir import FH
from gen_hl7 import HL
from gen_chart import CQ
import os
FD='/work/shared/data/fhir-r4/'
ff={f.split('_')[0]+'_'+f.split('_')[1]:f for f in os.listdir(FD)}
out=[]
def add(kind,q,patient,source,record,ans,at,ev,note):
    d={"id":f"r7-{len(out)+1:03d}","kind":kind,"question":q,"patient":patient,"source":source,"record":record,"answer":ans,"answer_type":at,"evidence":ev}
    if note: d["note"]=note
    out.append(d)
for nid,q,a,t,e,n in MT: add("past_case",q,None,"mtsamples/mtsamples.csv",f"note_id={nid}",a,t,e,n)
for key,q,a,t,e,n in ACI:
    fn,enc=key.split(':'); add("past_case",q,None,"aci-bench/"+fn,f"encounter_id={enc}",a,t,e,n)
for pre,q,a,t,e,n in FH:
    fn=ff[pre]; mr=fn.rsplit('_',1)[1][:-5]
    add("named",q,mr,"fhir-r4/"+fn,mr,a,t,e,n)
for fn,p,q,a,t,e,n in HL: add("named",q,p,"hl7v2/"+fn,p,a,t,e,n)
for m,q,a,t,e,n in CQ: add("named",q,m,"chart_entries.jsonl",m,a,t,e,n)
with open('assistant_blind7.jsonl','w') as f:
    for d in out: f.write(json.dumps(d,ensure_ascii=False)+"\n")
print(len(out))
