import json, sys
sys.path.insert(0, '.')
from past_mt import MT
from past_aci import ACI
import gen_fhir, gen_hl7, gen_chart
out = []
def add(**k): out.append(k)
for nid, q, a, t, ev, note in MT:
    d = dict(kind="past_case", question=q, patient=None, source="mtsamples/mtsamples.csv", record="note_id=%d" % nid, answer=a, answer_type=t, evidence=ev)
    if note: d['note'] = note
    out.append(d)
for f, e, q, a, t, ev, note in ACI:
    d = dict(kind="past_case", question=q, patient=None, source="aci-bench/" + f, record="encounter_id=" + e, answer=a, answer_type=t, evidence=ev)
    if note: d['note'] = note
    out.append(d)
for f, q, a, t, ev, note in gen_fhir.items():
    m = gen_fhir.mrn(f)
    d = dict(kind="named", question=q, patient=m, source="fhir-r4/" + f, record=m, answer=a, answer_type=t, evidence=ev)
    if note: d['note'] = note
    out.append(d)
for f, m, q, a, t, ev, note in gen_hl7.HL7:
    d = dict(kind="named", question=q, patient=m, source="hl7v2/" + f, record=m, answer=a, answer_type=t, evidence=ev)
    if note: d['note'] = note
    out.append(d)
gen_chart.write()
for m, q, a, t, ev, note in gen_chart.Q:
    d = dict(kind="named", question=q, patient=m, source="chart_entries.jsonl", record=m, answer=a, answer_type=t, evidence=ev)
    if note: d['note'] = note
    out.append(d)
with open('assistant_blind5.jsonl', 'w') as f:
    for i, d in enumerate(out, 1):
        row = {"id": "r5-%03d" % i}
        for k in ["kind", "question", "patient", "source", "record", "answer", "answer_type", "evidence", "note"]:
            if k in d: row[k] = d[k]
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
print(len(out))
