"""Validates the round-2 blind sets.
assistant_blind2.jsonl:
  * fields/kinds/ids; past_case has patient null; named has a patient
  * every evidence occurs verbatim in its raw source file (read as utf-8-sig); for the CSV sources also
    inside the named row's text field (mtsamples transcription / aci-bench note)
  * for every non-yes/no item at least one answer form occurs (case-insensitive) in the evidence; for
    chart_entries.jsonl items the evidence is the entry's "text" value and the answer form may be in any
    field of that entry (date, dose, reason, to, ...), since a chart entry is one record
  * past_case questions contain no ACI-Bench patient first/last name, no 'MRN', no long digit run
  * chart_entries.jsonl: patients/entries well formed, dates 2015-2025 and after birth, stop after start,
    referrals have to+reason
paraphrase_blind_c.tsv / paraphrase_desc_c.tsv: counts, no shared content word (check_para), no reuse of
round-1 note_ids, no note used twice."""
import csv, json, re, sys, os, datetime
csv.field_size_limit(10**9)
DATA = '/work/shared/data/'
HERE = os.path.dirname(os.path.abspath(__file__))
errors = []
def err(*a): errors.append(' '.join(str(x) for x in a))

# ---- chart entries
chart_raw = open(os.path.join(HERE, 'chart_entries.jsonl'), encoding='utf-8').read()
pats, entries = {}, []
for ln in chart_raw.splitlines():
    o = json.loads(ln)
    if 'patient' in o:
        p = o['patient']; pats[p['mrn']] = p
        assert set(p) == {'mrn', 'name', 'dob', 'sex'} and p['sex'] in 'FM'
    else:
        entries.append(o['entry'])
for e in entries:
    dob = datetime.date.fromisoformat(pats[e['mrn']]['dob'])
    d = datetime.date.fromisoformat(e['date'])
    if not (datetime.date(2015, 1, 1) <= d <= datetime.date(2025, 12, 31) and d > dob): err('chart date', e)
    if e['kind'] not in ('medication', 'procedure', 'diagnosis', 'complication', 'referral'): err('chart kind', e)
    if 'stop' in e and datetime.date.fromisoformat(e['stop']) < d: err('chart stop before start', e)
    if e['kind'] == 'referral' and not (e.get('to') and e.get('reason')): err('referral fields', e)
    if 'stop' in e and datetime.date.fromisoformat(e['stop']) > datetime.date(2025, 12, 31): err('future stop', e)

# ---- sources
rows_mt = {r['note_id']: r for r in csv.DictReader(open(DATA + 'mtsamples/mtsamples.csv', encoding='utf-8-sig'))}
aci_rows, aci_names = {}, set()
for f in ['train.csv', 'valid.csv', 'clinicalnlp_taskB_test1.csv']:
    for r in csv.DictReader(open(DATA + 'aci-bench/' + f, encoding='utf-8-sig')):
        aci_rows[('aci-bench/' + f, r['encounter_id'])] = r
        for m in re.findall(r'(?:Mr\.|Ms\.|Mrs\.|Miss) ([A-Z][a-z]+(?: [A-Z][a-z]+)?)', r['note']) + re.findall(r'^([A-Z][a-z]+ [A-Z][a-z]+) is a', r['note'], re.M):
            aci_names.update(w for w in m.split() if len(w) > 2)
for r in csv.DictReader(open(DATA + 'aci-bench/train_metadata.csv', encoding='utf-8-sig')):
    aci_names.update([r['patient_firstname'], r['patient_familyname']])
aci_names -= {'', 'The', 'This', 'Patient'}
raw_cache = {}
def raw(src):
    if src not in raw_cache:
        path = os.path.join(HERE, src) if src == 'chart_entries.jsonl' else DATA + src
        raw_cache[src] = open(path, encoding='utf-8-sig').read()
    return raw_cache[src]

FIELDS = ['id', 'kind', 'question', 'patient', 'source', 'record', 'answer', 'answer_type', 'evidence']
TYPES = {'value', 'dose', 'drug', 'date', 'duration', 'procedure', 'list', 'yes', 'no'}
items = [json.loads(l) for l in open(os.path.join(HERE, 'assistant_blind2.jsonl'), encoding='utf-8')]
ids = set(); counts = {}
npass = 0
for it in items:
    ok = True
    for k in FIELDS:
        if k not in it: err(it.get('id'), 'missing', k); ok = False
    if set(it) - set(FIELDS) - {'note'}: err(it['id'], 'extra fields', set(it) - set(FIELDS)); ok = False
    if it['id'] in ids: err('dup id', it['id']); ok = False
    ids.add(it['id'])
    if it['answer_type'] not in TYPES or not it['answer'] or not isinstance(it['answer'], list): err(it['id'], 'answer/type'); ok = False
    src, ev = it['source'], it['evidence']
    if ev not in raw(src): err(it['id'], 'evidence not verbatim in', src); ok = False
    if it['kind'] == 'past_case':
        if it['patient'] is not None: err(it['id'], 'past_case with patient'); ok = False
        if src.startswith('mtsamples'):
            nid = it['record'].split('=')[1]
            if ev not in rows_mt[nid]['transcription']: err(it['id'], 'evidence not in note', nid); ok = False
        else:
            r = aci_rows[(src, it['record'].split('=')[1])]
            if ev not in r['note']: err(it['id'], 'evidence not in aci note'); ok = False
        q = it['question']
        bad = [w for w in aci_names if re.search(r'\b' + re.escape(w) + r'\b', q)]
        if bad or 'MRN' in q or re.search(r'\d{5,}', q): err(it['id'], 'identifier in past_case question', bad); ok = False
    elif it['kind'] == 'named':
        if not it['patient']: err(it['id'], 'named without patient'); ok = False
    else:
        err(it['id'], 'kind'); ok = False
    if it['answer_type'] not in ('yes', 'no'):
        hay = ev.lower()
        if src == 'chart_entries.jsonl':
            mrn = it['record'].replace('MRN ', '')
            ent = [e for e in entries if e['mrn'] == mrn and e['text'] == ev]
            if len(ent) != 1: err(it['id'], 'chart evidence is not exactly one entry text'); ok = False
            else: hay = ' '.join(str(v) for v in ent[0].values()).lower()
        if not any(a.lower() in hay for a in it['answer']):
            err(it['id'], 'no answer form in evidence'); ok = False
    else:
        if it['answer'][0] != it['answer_type']: err(it['id'], 'yes/no first answer'); ok = False
        if src == 'chart_entries.jsonl' and it['answer_type'] == 'yes':
            mrn = it['record'].replace('MRN ', '')
            if not [e for e in entries if e['mrn'] == mrn and e['text'] == ev]: err(it['id'], 'yes without entry'); ok = False
    key = (it['kind'], src.split('/')[0])
    counts[key] = counts.get(key, 0) + 1
    npass += ok
print(f'assistant_blind2.jsonl: {npass}/{len(items)} pass')
for k, v in sorted(counts.items()): print('  ', k, v)
print('   answer types:', {t: sum(1 for i in items if i['answer_type'] == t) for t in sorted(TYPES)})

# ---- paraphrase sets
sys.path.insert(0, HERE)
from check_para import violations, toks
r1 = json.load(open('/work/main/bench/blind/draw.json'))
r1_mt = {str(x) for x in r1['mtsamples']}
used = {}
for fn, tag, n_expected, strict in [('paraphrase_blind_c.tsv', 'blind-c', 60, True), ('paraphrase_desc_c.tsv', 'desc-c', 30, False)]:
    n = 0
    for ln in open(os.path.join(HERE, fn), encoding='utf-8'):
        if ln.startswith('#') or not ln.strip(): continue
        t, nid, q = ln.rstrip('\n').split('\t')
        n += 1
        if t != tag: err(fn, 'tag', t)
        if nid not in rows_mt: err(fn, 'unknown note', nid)
        if nid in r1_mt: err(fn, 'round-1 note reused', nid)
        if nid in used: err(fn, 'note used twice', nid, used[nid])
        used[nid] = fn
        if strict:
            b = violations(nid, q)
            if b: err(fn, nid, 'shares words', b)
            if not 4 <= len(toks(q)) <= 12: err(fn, nid, 'length', len(toks(q)))
    if n != n_expected: err(fn, 'count', n)
    print(f'{fn}: {n} queries')
mt_b = {i['record'].split('=')[1] for i in items if i['source'].startswith('mtsamples')}
if mt_b & set(used): err('assistant notes overlap paraphrase notes', mt_b & set(used))
if mt_b & r1_mt: err('assistant notes reuse round-1 notes', mt_b & r1_mt)
r1_aci = {tuple(x) for x in r1['aci']}
if {(i['source'], i['record'].split('=')[1]) for i in items if i['source'].startswith('aci')} & r1_aci: err('aci round-1 reuse')
print('errors:', len(errors))
for e in errors: print('  ', e)
sys.exit(1 if errors else 0)
