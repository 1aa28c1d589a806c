"""Validates the round-3 blind sets. Run: python3 validate.py  (exit code 0 = all pass)
* assistant_blind3.jsonl: fields/kinds/types; every evidence verbatim in the raw source file (utf-8-sig);
  past_case evidence inside the named record; for non-yes/no items an answer form occurs in the evidence
  (chart entries: in the evidence or in the JSON line of the entry whose text is the evidence);
  ambiguous notes: the other record exists and one answer form occurs in it; past_case questions name no
  patient (ACI names, 'MRN', long digit runs).
* chart_entries.jsonl: schema, dates (2015-2025, after birth, not future, stop >= date), referrals have to+reason.
* paraphrase_blind_d.tsv (60) / paraphrase_desc_d.tsv (30): format, word counts, note ids exist, no id in
  skip.json, no id reused between the two files, and the no-shared-content-word rule (wordcheck.py).
"""
import csv, json, os, re, sys, datetime
HERE = '/work/brief/blind3'
D = '/work/shared/data'
sys.path.insert(0, HERE)
from wordcheck import conflicts
fails = []
def fail(msg): fails.append(msg)

MT = {r['note_id']: r for r in csv.DictReader(open(f'{D}/mtsamples/mtsamples.csv', encoding='utf-8-sig'))}
ACI = {}
for f in ['train.csv', 'valid.csv', 'clinicalnlp_taskB_test1.csv']:
    for r in csv.DictReader(open(f'{D}/aci-bench/{f}', encoding='utf-8-sig')):
        ACI[r['encounter_id']] = r['note']
skip = json.load(open(f'{HERE}/skip.json'))
skip_mt = set(skip['mtsamples_note_ids'])
raw_cache = {}
def raw(src):
    p = f'{HERE}/{src}' if src == 'chart_entries.jsonl' else f'{D}/{src}'
    if p not in raw_cache: raw_cache[p] = open(p, encoding='utf-8-sig').read()
    return raw_cache[p]

# ---- chart entries ----
today = datetime.date.today()
pats, entries, entry_lines = {}, [], []
for ln in open(f'{HERE}/chart_entries.jsonl', encoding='utf-8'):
    o = json.loads(ln)
    if 'patient' in o:
        p = o['patient']
        if set(p) != {'mrn', 'name', 'dob', 'sex'} or p['sex'] not in ('F', 'M'): fail(f'chart patient fields {p}')
        pats[p['mrn']] = p
    elif 'entry' in o:
        e = o['entry']; entries.append(e); entry_lines.append((e, ln))
        allowed = {'mrn', 'kind', 'text', 'date', 'status', 'dose', 'route', 'frequency', 'stop', 'to', 'reason'}
        if not set(e) <= allowed or not {'mrn', 'kind', 'text', 'date'} <= set(e): fail(f'chart entry fields {e}')
        if e['kind'] not in ('medication', 'procedure', 'diagnosis', 'complication', 'referral'): fail(f'chart kind {e}')
        if e['mrn'] not in pats: fail(f'entry before/without patient {e}')
        d = datetime.date.fromisoformat(e['date'])
        dob = datetime.date.fromisoformat(pats[e['mrn']]['dob'])
        if not (datetime.date(2015, 1, 1) <= d <= datetime.date(2025, 12, 31)) or d <= dob or d > today: fail(f'chart date {e}')
        if 'stop' in e and datetime.date.fromisoformat(e['stop']) < d: fail(f'stop before start {e}')
        if e['kind'] == 'referral' and not (e.get('to') and e.get('reason')): fail(f'referral needs to+reason {e}')
    else: fail(f'chart line {ln}')
if len(pats) != 6: fail(f'{len(pats)} chart patients, want 6')

# ---- assistant items ----
KEYS = ['id', 'kind', 'question', 'patient', 'source', 'record', 'answer', 'answer_type', 'evidence']
TYPES = {'value', 'dose', 'date', 'text', 'list', 'yes', 'no'}
items = [json.loads(l) for l in open(f'{HERE}/assistant_blind3.jsonl', encoding='utf-8')]
ids = set()
aci_names = {}
for e, note in ACI.items():
    ns = set(re.findall(r'\b(?:Mr|Ms|Mrs|Dr)\.\s+([A-Z][a-z]+)', note))
    m = re.search(r'\n\s*([A-Z][a-z]+) ([A-Z][a-z]+) is an? ', note)
    if m: ns |= {m.group(1), m.group(2)}
    aci_names[e] = ns
for it in items:
    iid = it.get('id')
    if list(it)[:9] != KEYS or set(it) - set(KEYS) - {'note'}: fail(f'{iid} field order/names {list(it)}')
    if iid in ids: fail(f'dup id {iid}')
    ids.add(iid)
    if it['kind'] not in ('past_case', 'named'): fail(f'{iid} kind')
    if it['answer_type'] not in TYPES: fail(f'{iid} answer_type {it["answer_type"]}')
    if not isinstance(it['answer'], list) or not it['answer']: fail(f'{iid} answer list')
    if it['answer_type'] in ('yes', 'no') and it['answer'][0] != it['answer_type']: fail(f'{iid} yes/no first answer')
    ev = it['evidence']
    if ev not in raw(it['source']): fail(f'{iid} evidence not verbatim in {it["source"]}: {ev!r}')
    low = [a.lower() for a in it['answer']]
    if it['kind'] == 'past_case':
        if it['patient'] is not None: fail(f'{iid} past_case has patient')
        q = it['question']
        if re.search(r'\bMRN\b|\d{6,}', q): fail(f'{iid} question has MRN/long number')
        k, v = it['record'].split('=')
        if k == 'note_id':
            if v in skip_mt: fail(f'{iid} note {v} is in skip.json')
            text = MT[v]['transcription']
        else:
            text = ACI[v]
            hit = [n for n in aci_names[v] if re.search(r'\b' + n + r'\b', q)]
            if hit: fail(f'{iid} names patient {hit}')
        if ev not in text: fail(f'{iid} evidence not inside record {it["record"]}')
        if it.get('note', '').startswith('ambiguous:'):
            other = it['note'].split(':', 1)[1].strip()
            otext = MT[other]['transcription'] if other in MT else ACI.get(other)
            if otext is None: fail(f'{iid} ambiguous other record {other} missing')
            elif it['answer_type'] not in ('yes', 'no') and not any(a in otext.lower() for a in low):
                fail(f'{iid} no answer form in ambiguous other record {other}')
    else:
        if not it['patient'] or it['record'] != it['patient']: fail(f'{iid} named patient/record')
        if it['source'] == 'chart_entries.jsonl' and it['patient'] not in pats: fail(f'{iid} unknown chart mrn'); continue
    if it['answer_type'] not in ('yes', 'no'):
        hay = ev.lower()
        if it['source'] == 'chart_entries.jsonl':
            hay += ' '.join(ln.lower() for e, ln in entry_lines if e['mrn'] == it['patient'] and e['text'] == ev)
        if not any(a in hay for a in low): fail(f'{iid} no answer form in evidence')
    if it['source'] == 'chart_entries.jsonl':
        texts = {e['text'] for e in entries if e['mrn'] == it['patient']}
        if ev not in texts and ev != pats[it['patient']]['name']: fail(f'{iid} chart evidence is not an entry text of {it["patient"]}')
    if it['source'].startswith('hl7v2/'):
        segs = re.split(r'\r\n|\r|\n', raw(it['source']))
        if not any(ev in s for s in segs): fail(f'{iid} HL7 evidence spans segments')
        pid = [s for s in segs if s.lstrip('\ufeff').startswith('PID|')][0].split('|')
        if pid[3].split('~')[0].split('^')[0] != it['patient']: fail(f'{iid} HL7 patient != PID-3.1')
    if it['source'].startswith('fhir-r4/'):
        b = json.loads(raw(it['source']))
        p = [e['resource'] for e in b['entry'] if e['resource']['resourceType'] == 'Patient'][0]
        mr = [i['value'] for i in p['identifier'] if i.get('type', {}).get('coding', [{}])[0].get('code') == 'MR']
        if [it['patient']] != mr: fail(f'{iid} FHIR patient != MR identifier')

counts = {}
for it in items:
    k = it['kind'] if it['kind'] == 'past_case' else 'named'
    src = it['source'].split('/')[0]
    counts[(k, src)] = counts.get((k, src), 0) + 1
amb = sum(1 for it in items if it.get('note', '').startswith('ambiguous:'))

# ---- paraphrase files ----
def tsv(path, tag, n):
    rows = []
    for ln in open(path, encoding='utf-8'):
        if ln.startswith('#') or not ln.strip(): continue
        parts = ln.rstrip('\n').split('\t')
        if len(parts) != 3 or parts[0] != tag: fail(f'{path}: bad line {ln!r}'); continue
        rows.append(parts)
    if len(rows) != n: fail(f'{path}: {len(rows)} rows, want {n}')
    if len({r[1] for r in rows}) != len(rows): fail(f'{path}: duplicate note_id')
    for _, nid, q in rows:
        if nid not in MT: fail(f'{path}: unknown note {nid}')
        if nid in skip_mt: fail(f'{path}: note {nid} in skip.json')
    return rows
bd = tsv(f'{HERE}/paraphrase_blind_d.tsv', 'blind-d', 60)
for _, nid, q in bd:
    c = conflicts(nid, q); nw = len(q.split())
    if c: fail(f'blind-d {nid}: shared words {c}')
    if not 4 <= nw <= 12: fail(f'blind-d {nid}: {nw} words')
dd = tsv(f'{HERE}/paraphrase_desc_d.tsv', 'desc-d', 30)
if {r[1] for r in bd} & {r[1] for r in dd}: fail('note reused between blind-d and desc-d')

# ---- no record used in rounds 1-2, by id or by exact-duplicate transcription ----
import collections
bytext = collections.defaultdict(set)
for k, r in MT.items(): bytext[r['transcription'].strip()].add(k)
mine = {r[1] for r in bd} | {r[1] for r in dd}
for it in items:
    if it['record'].startswith('note_id='): mine.add(it['record'].split('=')[1])
    o = it.get('note') or ''
    if o.startswith('ambiguous:') and o.split(':')[1].strip() in MT: mine.add(o.split(':')[1].strip())
for n in sorted(mine):
    prev = bytext[MT[n]['transcription'].strip()] & skip_mt
    if prev: fail(f'note {n} duplicates previously used note(s) {sorted(prev)}')
within = [sorted(v & mine) for v in bytext.values() if len(v & mine) > 1]
print('exact-duplicate transcriptions used twice within this round (allowed, reported):', within)

print('assistant items:', len(items), {f'{k}/{s}': v for (k, s), v in sorted(counts.items())}, 'ambiguous:', amb)
print('chart:', len(pats), 'patients,', len(entries), 'entries; paraphrase:', len(bd), 'blind-d,', len(dd), 'desc-d')
if fails:
    print(f'{len(fails)} FAILURES'); [print(' ', f) for f in fails]; sys.exit(1)
print('ALL CHECKS PASS')
