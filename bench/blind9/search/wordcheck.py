#!/usr/bin/python3
"""Enforce the no-shared-content-word rule for paraphrase_blind_g.tsv (own tokenizer, written blind).

Tokens: regex [a-z0-9]+ on the lowercased text (so "AFib" -> afib, "C5-6" -> c5, 6, "Crohn's" -> crohn, s).
Ignored: ~100 English stopwords and tokens of length 1.
Stem: spelling fold (norm), then crude iterative suffix stripping (see SUFFIXES). Two words conflict if
  stems are equal, or one stem is a prefix of the other and the shorter stem has >= 5 letters
  (catches fracture/fractured, inflamed/inflammation-ish cases; deliberately over-strict).
Note side = transcription + description + sample_name + keywords of the named note_id
(and of every other note_id with an identical transcription).
Usage: wordcheck.py [--format-only] [file.tsv ...]   (default paraphrase_blind_g.tsv); exit 1 on any violation.
--format-only (for paraphrase_desc_g.tsv, where shared words are allowed): only fields, ids, length, duplicates;
shared words are then reported as a count, not as a problem.
Also checks: 4-12 words per query, note_id exists, no duplicate note_ids.
"""
import csv, re, sys
from collections import defaultdict

CSV = '/work/shared/data/mtsamples/mtsamples.csv'
STOP = set("""a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her
here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only or
other our out over own same she should so some such than that the their them then there these they this those
through to too under until up very was we were what when where which while who whom why will with would you your
yours s t per via vs""".split())
SUFFIXES = ['ations', 'ation', 'ments', 'ment', 'ings', 'ing', 'ness', 'ities', 'ity', 'ously', 'ous', 'ively',
            'ive', 'ically', 'ical', 'ally', 'al', 'ers', 'er', 'ies', 'ied', 'es', 'ed', 'ly', 'ic', 'y', 'e', 's']

def tokens(text):
    return [t for t in re.findall(r'[a-z0-9]+', text.lower()) if len(t) > 1 and t not in STOP]

def norm(w):
    """fold British/variant spellings: haem->hem, oe->e, -our->-or, -ise->-ize, doubled l."""
    w = w.replace('ae', 'e').replace('oe', 'e').replace('ll', 'l')
    w = re.sub(r'our(s?)$', r'or\1', w)
    w = re.sub(r'is(e|ed|es|ing|ation)$', r'iz\1', w)
    return w

def stem(w):
    w = norm(w)
    for _ in range(3):
        for suf in SUFFIXES:
            if len(w) - len(suf) >= 3 and w.endswith(suf):
                w = w[:-len(suf)]
                break
        else:
            break
    return w

def conflicts(qstem, nstems):
    out = []
    for ns in nstems:
        if qstem == ns:
            out.append(ns)
        else:
            short, long_ = sorted((qstem, ns), key=len)
            if len(short) >= 5 and long_.startswith(short):
                out.append(ns)
    return out

def load_notes():
    rows = {r['note_id']: r for r in csv.DictReader(open(CSV, newline=''))}
    by_trans = defaultdict(list)
    for nid, r in rows.items():
        by_trans[r['transcription'].strip()].append(nid)
    return rows, by_trans

def note_stems(nid, rows, by_trans):
    ids = by_trans[rows[nid]['transcription'].strip()] if rows[nid]['transcription'].strip() else [nid]
    st = {}
    for i in ids:
        r = rows[i]
        for f in ('transcription', 'description', 'sample_name', 'keywords'):
            for t in tokens(r[f]):
                st.setdefault(stem(t), t)
    return st

def main(paths, format_only=False):
    rows, by_trans = load_notes()
    bad = 0; n = 0; shared_n = 0
    for p in paths:
        seen = set()
        for ln, line in enumerate(open(p), 1):
            if line.startswith('#') or not line.strip():
                continue
            parts = line.rstrip('\n').split('\t')
            if len(parts) != 3:
                print(f'{p}:{ln}: not 3 tab fields'); bad += 1; continue
            setname, nid, q = parts
            n += 1
            if nid not in rows:
                print(f'{p}:{ln}: unknown note_id {nid}'); bad += 1; continue
            if nid in seen:
                print(f'{p}:{ln}: duplicate note_id {nid}'); bad += 1
            seen.add(nid)
            nw = len(q.split())
            if not 4 <= nw <= 12:
                print(f'{p}:{ln}: {nid} query has {nw} words'); bad += 1
            st = note_stems(nid, rows, by_trans)
            hits = []
            for t in tokens(q):
                c = conflicts(stem(t), st)
                if c:
                    hits.append(f'{t}~{",".join(st[x] for x in c[:3])}')
            if hits and format_only:
                shared_n += 1
            elif hits:
                print(f'{p}:{ln}: {nid} "{q}" shares: {" ".join(hits)}'); bad += 1
    print(f'checked {n} queries, {bad} problems' + (f' ({shared_n} share words, allowed)' if format_only else ''))
    return 1 if bad else 0

if __name__ == '__main__':
    args = sys.argv[1:]
    fo = '--format-only' in args
    args = [a for a in args if a != '--format-only']
    sys.exit(main(args or ['paraphrase_blind_g.tsv'], format_only=fo))
