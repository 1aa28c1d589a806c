"""Validate assistant_blind5.jsonl + chart_entries.jsonl. Prints failures, then ALL CHECKS PASS or N FAILURES."""
import csv, json, re, datetime, collections
csv.field_size_limit(10**9)
D = '/work/shared/data/'
HERE = '/work/brief/blind6/assist/'
fails = []
def fail(i, m): fails.append('%s: %s' % (i, m))
rows = {int(r['note_id']): r for r in csv.DictReader(open(D + 'mtsamples/mtsamples.csv', encoding='utf-8-sig'))}
skip = json.load(open('/work/brief/blind6/skip.json'))
skip_mt = set(int(x) for x in skip['mtsamples_note_ids'])
skip_txt = set(rows[i]['transcription'].strip() for i in skip_mt if i in rows)
aci = {}
for f in ['train.csv', 'valid.csv', 'clinicalnlp_taskB_test1.csv']:
    for r in csv.DictReader(open(D + 'aci-bench/' + f, encoding='utf-8-sig')):
        aci[(f, r['encounter_id'])] = r
raw_cache = {}
def raw(path):
    if path not in raw_cache:
        raw_cache[path] = open(path, encoding='utf-8-sig').read()
    return raw_cache[path]
FIELDS = ["id", "kind", "question", "patient", "source", "record", "answer", "answer_type", "evidence"]
TYPES = {"value", "text", "dose", "date", "list", "yes", "no"}
# chart entries
pats, ents, chart_lines = {}, [], []
for ln in open(HERE + 'chart_entries.jsonl'):
    o = json.loads(ln); chart_lines.append(ln)
    if 'patient' in o:
        p = o['patient']
        if set(p) != {"mrn", "name", "dob", "sex"} or p['sex'] not in 'FM' or not p['mrn'].startswith('R5'): fail('chart', 'bad patient %s' % p)
        pats[p['mrn']] = p
    else:
        e = o['entry']; ents.append((e, ln))
        ok = {"mrn", "kind", "text", "date", "status", "dose", "route", "frequency", "stop", "to", "reason"}
        if not set(e) <= ok or e['kind'] not in {"medication", "procedure", "diagnosis", "complication", "referral"}: fail('chart', 'bad entry %s' % e)
        d = datetime.date.fromisoformat(e['date'])
        if not (datetime.date(2015, 1, 1) <= d <= datetime.date(2025, 12, 31)): fail('chart', 'date range %s' % e)
        if e['mrn'] not in pats or d <= datetime.date.fromisoformat(pats[e['mrn']]['dob']): fail('chart', 'dob/mrn %s' % e)
        if 'stop' in e and datetime.date.fromisoformat(e['stop']) < d: fail('chart', 'stop before start %s' % e)
        if e['kind'] == 'referral' and not ('to' in e and 'reason' in e): fail('chart', 'referral w/o to/reason %s' % e)
        if e['kind'] != 'medication' and any(k in e for k in ('dose', 'route', 'frequency', 'stop')): fail('chart', 'med fields on non-med %s' % e)
items = [json.loads(l) for l in open(HERE + 'assistant_blind5.jsonl')]
used_txt = {}
cnt = collections.Counter()
for n, it in enumerate(items, 1):
    i = it['id']
    if i != 'r5-%03d' % n: fail(i, 'id sequence')
    keys = list(it)
    if keys[:9] != FIELDS or (len(keys) > 9 and keys[9:] != ['note']): fail(i, 'fields %s' % keys)
    if it['answer_type'] not in TYPES: fail(i, 'answer_type')
    if not it['answer'] or not all(isinstance(a, str) and a for a in it['answer']): fail(i, 'answer list')
    ev = it['evidence']; src = it['source']; t = it['answer_type']
    al = [a.lower() for a in it['answer']]
    if t in ('yes', 'no') and al[0] != t: fail(i, 'first answer must be %s' % t)
    def ans_in(text):
        return any(a in text.lower() for a in al)
    if it['kind'] == 'past_case':
        if it['patient'] is not None: fail(i, 'past_case patient not null')
        if re.search(r'MRN|\d{5,}', it['question']): fail(i, 'MRN/long number in question')
        if src == 'mtsamples/mtsamples.csv':
            nid = int(it['record'].split('=')[1]); r = rows[nid]; txt = r['transcription'].strip()
            cnt['past_case/mtsamples'] += 1
            if nid in skip_mt or txt in skip_txt: fail(i, 'note %d in skip.json (by id or text)' % nid)
            if txt in used_txt: fail(i, 'note %d duplicates text of %s' % (nid, used_txt[txt]))
            used_txt[txt] = nid
            if ev not in r['transcription'] or ev not in raw(D + src): fail(i, 'evidence not verbatim in note %d' % nid)
            if t not in ('yes', 'no') and not ans_in(ev): fail(i, 'no answer form in evidence')
            if 'note' in it and it['note'].startswith('ambiguous'):
                cnt['ambiguous'] += 1
                oid = int(re.match(r'ambiguous: (\d+)', it['note']).group(1)); o = rows[oid]
                if oid in skip_mt or o['transcription'].strip() in skip_txt: fail(i, 'ambiguous partner %d in skip' % oid)
                if o['transcription'].strip() == txt: fail(i, 'partner same text')
                if t not in ('yes', 'no') and not ans_in(o['transcription']): fail(i, 'partner %d lacks an answer form' % oid)
        else:
            cnt['past_case/aci'] += 1
            f = src.split('/')[1]; e = it['record'].split('=')[1]; r = aci[(f, e)]
            if ev not in r['note'] and ev not in r['dialogue']: fail(i, 'evidence not in encounter')
            if ev not in raw(D + src): fail(i, 'evidence not in raw file')
            if t not in ('yes', 'no') and not ans_in(ev): fail(i, 'no answer form in evidence')
            m = re.search(r'\b([A-Z][a-z]+ [A-Z][a-z]+) is a', r['note'])
            if m and any(w in it['question'] for w in m.group(1).split()): fail(i, 'ACI patient name in question')
    else:
        if it['patient'] != it['record']: fail(i, 'record != patient')
        if src.startswith('fhir-r4/'):
            cnt['named/fhir'] += 1
            b = json.load(open(D + src, encoding='utf-8-sig'))
            p = [e['resource'] for e in b['entry'] if e['resource']['resourceType'] == 'Patient'][0]
            mr = [x['value'] for x in p['identifier'] if x.get('type', {}).get('coding', [{}])[0].get('code') == 'MR']
            if it['patient'] != (mr[0] if mr else p['id']): fail(i, 'FHIR MR mismatch')
            if ev not in raw(D + src): fail(i, 'evidence not in bundle')
            if t not in ('yes', 'no') and not ans_in(ev): fail(i, 'no answer form in evidence')
            if t == 'no' and 'absence' in it.get('note', ''):
                # the question's key term must be absent from the bundle
                term = re.search(r'(colonoscopy)', it['question'].lower())
                if term and term.group(1) in raw(D + src).lower(): fail(i, 'absence term present in bundle')
        elif src.startswith('hl7v2/'):
            cnt['named/hl7'] += 1
            segs = re.split(r'[\r\n]+', raw(D + src))
            if not any(ev in s for s in segs): fail(i, 'evidence not within one segment')
            pid = [s for s in segs if s.startswith('PID')][0].split('|')
            if pid[3].split('^')[0] != it['patient']: fail(i, 'PID-3.1 mismatch %s' % pid[3].split('^')[0])
            if t not in ('yes', 'no') and not ans_in(ev): fail(i, 'no answer form in evidence')
        elif src == 'chart_entries.jsonl':
            cnt['named/chart'] += 1
            m = [(e, ln) for e, ln in ents if e['mrn'] == it['patient'] and e['text'] == ev]
            if len(m) != 1: fail(i, 'evidence is not exactly one entry text of this patient')
            elif t not in ('yes', 'no') and not (ans_in(ev) or ans_in(m[0][1])): fail(i, 'no answer form in entry')
            name = pats[it['patient']]['name']
            if not any(w in it['question'] for w in name.split()): fail(i, 'question does not name the patient')
        else:
            fail(i, 'unknown source')
    cnt['type/' + t] += 1
for k in sorted(cnt): print('%-22s %d' % (k, cnt[k]))
print('total', len(items), '| chart patients', len(pats), 'entries', len(ents))
for f in fails: print('FAIL', f)
print('ALL CHECKS PASS' if not fails else '%d FAILURES' % len(fails))
