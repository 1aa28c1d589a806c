"""Round-4 assistant set validator. python3 validate.py -> ALL CHECKS PASS or a list of failures."""
import csv, json, re, sys, datetime, collections
csv.field_size_limit(10**9)
D = '/work/shared/data'
HERE = '/work/brief/blind4/assist'
fails = []
def fail(i, msg): fails.append(f'{i}: {msg}')
FIELDS = ['id', 'kind', 'question', 'patient', 'source', 'record', 'answer', 'answer_type', 'evidence']
TYPES = {'value', 'text', 'dose', 'date', 'list', 'yes', 'no'}
items = [json.loads(l) for l in open(f'{HERE}/assistant_blind4.jsonl')]
mt = {r['note_id']: r for r in csv.DictReader(open(f'{D}/mtsamples/mtsamples.csv', encoding='utf-8-sig'))}
mt_raw = open(f'{D}/mtsamples/mtsamples.csv', encoding='utf-8-sig').read()
skip = json.load(open('/work/brief/blind4/skip.json'))
skip_ids = set(skip['mtsamples_note_ids'])
skip_text = {mt[i]['transcription'].strip() for i in skip_ids if i in mt}
aci = {}
for f in ['train.csv', 'valid.csv', 'clinicalnlp_taskB_test1.csv']:
    for r in csv.DictReader(open(f'{D}/aci-bench/{f}', encoding='utf-8-sig')):
        aci[(f, r['encounter_id'])] = r
chart_lines = open(f'{HERE}/chart_entries.jsonl').read().splitlines()
chart = [json.loads(l) for l in chart_lines]
pats = {c['patient']['mrn']: c['patient'] for c in chart if 'patient' in c}
ents = [c['entry'] for c in chart if 'entry' in c]
low = lambda s: s.lower()
# ---- chart schema
for c in chart:
    if 'patient' in c:
        p = c['patient']
        if set(p) != {'mrn', 'name', 'dob', 'sex'} or not p['mrn'].startswith('R4') or p['sex'] not in 'FM':
            fail('chart', f'bad patient {p}')
        datetime.date.fromisoformat(p['dob'])
    else:
        e = c['entry']
        if e['mrn'] not in pats: fail('chart', f'unknown mrn {e}')
        if e['kind'] not in {'medication', 'procedure', 'diagnosis', 'complication', 'referral'}: fail('chart', f'kind {e}')
        d = datetime.date.fromisoformat(e['date'])
        if not (datetime.date(2015, 1, 1) <= d <= datetime.date(2025, 12, 31)): fail('chart', f'date range {e}')
        if d < datetime.date.fromisoformat(pats[e['mrn']]['dob']): fail('chart', f'before birth {e}')
        if 'stop' in e and datetime.date.fromisoformat(e['stop']) < d: fail('chart', f'stop before start {e}')
        if e['kind'] == 'referral' and not (e.get('to') and e.get('reason')): fail('chart', f'referral needs to/reason {e}')
        if 'to' in e and e['kind'] != 'referral': fail('chart', f'to on non-referral {e}')
        if e.get('status') and e['status'] not in {'active', 'completed', 'planned', 'resolved', 'stopped', 'cancelled', 'inactive', 'unknown'}:
            fail('chart', f'status {e}')
# ---- items
ids = [x['id'] for x in items]
if ids != [f'r4-{i:03d}' for i in range(1, len(items) + 1)]: fail('ids', 'not sequential')
used_text = {}
for x in items:
    i = x['id']
    keys = list(x)
    if keys[:9] != FIELDS or (len(keys) == 10 and keys[9] != 'note') or len(keys) > 10: fail(i, f'fields {keys}')
    if x['answer_type'] not in TYPES: fail(i, 'answer_type')
    if not isinstance(x['answer'], list) or not x['answer']: fail(i, 'answer list')
    if x['answer_type'] in ('yes', 'no') and x['answer'][0] != x['answer_type']: fail(i, 'yes/no first form')
    ev, src = x['evidence'], x['source']
    ans_in = lambda hay: any(low(a) in low(hay) for a in x['answer'])
    if x['kind'] == 'past_case':
        if x['patient'] is not None: fail(i, 'past_case has patient')
        if re.search(r'\bMRN\b|\d{6,}', x['question']): fail(i, 'past_case question has MRN/long number')
        if src == 'mtsamples/mtsamples.csv':
            nid = x['record'].split('=')[1]
            t = mt[nid]['transcription']
            if nid in skip_ids: fail(i, f'note {nid} in skip.json')
            if t.strip() in skip_text: fail(i, f'note {nid} duplicates a skip.json note by text')
            if t.strip() in used_text: fail(i, f'note {nid} same text as {used_text[t.strip()]}')
            used_text[t.strip()] = nid
            if ev not in t: fail(i, f'evidence not in note {nid}: {ev!r}')
            if ev not in mt_raw: fail(i, 'evidence not in raw csv')
        else:
            f = src.split('/')[1]; enc = x['record'].split('=')[1]
            r = aci[(f, enc)]
            if ev not in r['note'] and ev not in r['dialogue']: fail(i, f'evidence not in {enc}: {ev!r}')
            if ev not in open(f'{D}/{src}', encoding='utf-8-sig').read(): fail(i, 'evidence not in raw aci csv')
            # no patient name in question
            m = re.search(r'\b(Mr\.|Ms\.|Mrs\.)?\s*([A-Z][a-z]+) ([A-Z][a-z]+) is a', r['note'])
            if m and (m.group(2) in x['question'] or m.group(3) in x['question']): fail(i, 'ACI question names the patient')
        if x['answer_type'] not in ('yes', 'no') and not ans_in(ev): fail(i, f'no answer form in evidence {ev!r}')
        if x.get('note', '').startswith('ambiguous:'):
            other = x['note'].split(':')[1].split()[0]
            if other not in mt: fail(i, f'ambiguous partner {other} missing')
            else:
                ot = mt[other]['transcription']
                if other in skip_ids or ot.strip() in skip_text: fail(i, f'partner {other} is a skip note')
                if x['answer_type'] not in ('yes', 'no') and not ans_in(ot): fail(i, f'partner {other} holds no answer form')
    else:
        if not x['patient'] or x['record'] != x['patient']: fail(i, 'named needs patient == record')
        if src.startswith('fhir-r4/'):
            raw = open(f'{D}/{src}', encoding='utf-8-sig').read()
            if ev not in raw: fail(i, f'evidence not in bundle {ev!r}')
            b = json.loads(raw); p = [e['resource'] for e in b['entry'] if e['resource']['resourceType'] == 'Patient'][0]
            mrs = [d['value'] for d in p.get('identifier', []) if d.get('type', {}).get('coding', [{}])[0].get('code') == 'MR']
            if x['patient'] != (mrs[0] if mrs else p['id']): fail(i, 'FHIR patient != MR identifier')
            if x['answer_type'] not in ('yes', 'no', 'list') and not ans_in(ev): fail(i, f'no answer form in evidence {ev!r}')
            if x['answer_type'] == 'list' and not ans_in(ev): fail(i, 'list: no item in evidence')
        elif src.startswith('hl7v2/'):
            raw = open(f'{D}/{src}', encoding='utf-8-sig').read()
            segs = re.split(r'[\r\n]+', raw)
            if not any(ev in s for s in segs): fail(i, f'evidence not within one segment {ev!r}')
            pid = [s for s in segs if s.startswith('PID|')][0].split('|')[3].split('~')[0].split('^')[0]
            if x['patient'] != pid: fail(i, f'HL7 patient {x["patient"]} != PID-3.1 {pid}')
            if x['answer_type'] not in ('yes', 'no') and not ans_in(ev): fail(i, f'no answer form in evidence {ev!r}')
            if x['answer_type'] == 'no' and not any(low(a) in low(ev) for a in x['answer'][1:]): fail(i, 'no item lacks stated form')
        elif src == 'chart_entries.jsonl':
            if x['patient'] not in pats: fail(i, 'unknown chart mrn')
            if x['evidence'] == pats[x['patient']]['name']:
                if x['answer_type'] != 'no': fail(i, 'name evidence only for absence')
                continue
            lines = [l for l, c in zip(chart_lines, chart) if 'entry' in c and c['entry']['mrn'] == x['patient'] and c['entry']['text'] == ev]
            if len(lines) != 1: fail(i, f'evidence must be exactly one entry text of this patient: {ev!r}')
            elif x['answer_type'] not in ('yes', 'no') and not (ans_in(ev) or ans_in(lines[0])): fail(i, 'no answer form in entry')
            if x['answer_type'] == 'no' and lines and json.loads(lines[0])['entry'].get('status') != 'stopped' and 'referral' not in lines[0]:
                fail(i, 'no-item evidence should be a stopped drug or the referral')
        else:
            fail(i, f'unknown source {src}')
c = collections.Counter((x['kind'], x['source'].split('/')[0]) for x in items)
print('counts:', dict(c))
print('answer_type:', dict(collections.Counter(x['answer_type'] for x in items)))
print('ambiguous:', sum(1 for x in items if x.get('note', '').startswith('ambiguous')))
if fails:
    print('\n'.join(fails)); print(f'{len(fails)} FAILURES'); sys.exit(1)
print('ALL CHECKS PASS')
