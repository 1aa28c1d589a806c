"""Assembles assistant_blind2.jsonl from past_mt.py, past_aci.py, fhir_q.py, hl7_q.py, chart_q.py."""
import json
import past_mt, past_aci, fhir_q, hl7_q, chart_q
items = []
for n, q, a, t, e in past_mt.Q:
    items.append(dict(kind='past_case', question=q, patient=None, source='mtsamples/mtsamples.csv', record=f'note_id={n}', answer=a, answer_type=t, evidence=e))
for f, enc, q, a, t, e in past_aci.Q:
    items.append(dict(kind='past_case', question=q, patient=None, source=f, record=f'encounter_id={enc}', answer=a, answer_type=t, evidence=e))
for it in fhir_q.Q:
    items.append(dict(kind='named', question=it['question'], patient=it['patient'], source=it['source'], record=it['record'], answer=it['answer'], answer_type=it['answer_type'], evidence=it['evidence'], **({'note': it['note']} if it.get('note') else {})))
for f, p, r, q, a, t, e in hl7_q.Q:
    items.append(dict(kind='named', question=q, patient=p, source='hl7v2/' + f, record=r, answer=a, answer_type=t, evidence=e))
for p, mrn, q, a, t, e, note in chart_q.Q:
    it = dict(kind='named', question=q, patient=p, source='chart_entries.jsonl', record=f'MRN {mrn}', answer=a, answer_type=t, evidence=e)
    if note: it['note'] = note
    items.append(it)
with open('assistant_blind2.jsonl', 'w') as f:
    for i, it in enumerate(items, 1):
        out = {'id': f'c{i:03d}'}
        out.update(it)
        f.write(json.dumps(out, ensure_ascii=False) + '\n')
print(len(items))
