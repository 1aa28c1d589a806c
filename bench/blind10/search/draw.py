#!/usr/bin/python3
"""Seeded draw order for blind-h / desc-h (round 10).

Draw: rng = random.Random(12102); the candidate pool is every MTSamples note_id (sorted
numerically) that is not in ../skip.json; ONE call rng.shuffle(pool); notes are then taken in
that shuffled order. Automatic skips (printed with a reason): empty transcription, transcription
identical (whitespace-normalised) to a skip.json note, or to a note already taken earlier in the
order. Manual skips (no real patient case) are listed in README.md. The first 60 accepted notes
go to paraphrase_blind_h.tsv, the next 30 to paraphrase_desc_h.tsv.
"""
import csv, json, random, re, sys
DATA = '/work/shared/data/mtsamples/mtsamples.csv'
rows = {r['note_id']: r for r in csv.DictReader(open(DATA, newline='', encoding='utf-8'))}
skip = set(json.load(open('/work/brief/blind10/skip.json'))['mtsamples_note_ids'])
norm = lambda t: re.sub(r'\s+', ' ', t).strip().lower()
skip_tx = {norm(rows[i]['transcription']) for i in skip if i in rows}
pool = sorted((i for i in rows if i not in skip), key=int)
rng = random.Random(12102)
rng.shuffle(pool)
# Manual skips (no real patient case), decided by reading the note while walking the order:
MANUAL_SKIP = {
    '1036': 'transcription is one boilerplate sentence ("tolerated the procedure well"), no case',
    '1954': 'procedure write-up with a fill-in blank "__________", no patient details',
    '2008': 'procedure write-up with a placeholder ("the * extremity"), no patient details',
    '3584': '"EGD Template - 3", generic template fragment',
    '2469': '"Normal Physical Exam Template - 2" with ?? placeholders',
    '2447': 'fragment of a generic lower-lid blepharoplasty description, no case',
    '418':  '"Port-A-Cath insertion template" (description says template)',
    '4225': '"Normal Physical Exam Template - 3" with *** placeholders',
    '4941': 'truncated: indications empty, only premedication listed, no case',
    '1755': 'generic 3-D radiation simulation boilerplate, no patient case',
    '1523': 'truncated: only "INDICATIONS: Chest pain. STRESS TECHNIQUE:", no results or case',
    '1952': '"Transforaminal Epidural, lumbar - Template" (description says template)',
}

def accepted():
    seen, out = set(), []
    for i in pool:
        t = norm(rows[i]['transcription'])
        auto = (not t) or t in skip_tx or t in seen
        seen.add(t)
        if auto or i in MANUAL_SKIP: continue
        out.append(i)
    return out

if __name__ == '__main__':
    acc = accepted()
    role = {i: 'blind-h' for i in acc[:60]}
    role.update({i: 'desc-h' for i in acc[60:90]})
    last = pool.index(acc[89])
    n = int(sys.argv[1]) if len(sys.argv) > 1 else last + 1
    seen = set(); counts = {}
    for pos, i in enumerate(pool[:n]):
        t = norm(rows[i]['transcription'])
        if not t: why = 'AUTO-SKIP empty transcription'
        elif t in skip_tx: why = 'AUTO-SKIP duplicate of a skip.json note'
        elif t in seen: why = 'AUTO-SKIP duplicate of an earlier drawn note'
        elif i in MANUAL_SKIP: why = 'MANUAL-SKIP ' + MANUAL_SKIP[i]
        else: why = role.get(i, 'unused')
        seen.add(t)
        k = why.split(' ')[0] if why.startswith(('AUTO', 'MANUAL')) else why
        if why.startswith('AUTO'): k = why
        counts[k] = counts.get(k, 0) + 1
        r = rows[i]
        print(f"{pos}\t{i}\t{why}\t{r['medical_specialty']} | {r['sample_name']} | {r['description'][:100]}")
    print('# positions 0..%d:' % (n - 1), counts, file=sys.stderr)
