#!/usr/bin/python3
"""Enforce the no-shared-word rule for paraphrase_blind_h.tsv.

For every `blind-h<TAB>note_id<TAB>query` line: no content word of the query (regex [a-z0-9]+ on
lowercased text, minus ~100 English stopwords) may share a crude stem with any word of the note's
transcription, description, sample_name or keywords. To be strict, the note's text is the union
over ALL MTSamples rows whose transcription is identical (whitespace-normalised) to the note's,
since MTSamples repeats the same case under several ids/specialties.
Also checks 4-12 words per query (all tokens), unique note_ids, and that no id is in skip.json.
Prints WARN for near-misses (one stem a prefix of the other, shorter >= 5 chars) for manual review.
Usage: wordcheck.py [file ...]   (default paraphrase_blind_h.tsv); exit 1 on any failure.
"""
import csv, json, re, sys
DATA = '/work/shared/data/mtsamples/mtsamples.csv'
SKIP = '/work/brief/blind10/skip.json'
STOP = set("""a an the and or but nor of in on at to for from by with without within into onto over under
up down out off about after before during while as is are was were be been being am do does did done has
have had having it its this that these those he she him her his hers they them their we us our you your i me my
not no yes so than then too very can could will would should may might must shall who whom whose which what
when where why how all any some each both few more most other such only own same just also per via vs
after again further once here there s t""".split())
SUFFIXES = sorted("""ational ization ations ation ments ment ness ities ity ively ive ingly ings ing edly ed ies
ied ier iest es s ly al ally ical ic ics ous ful ism ist ists er ers ors or ion ions ia ial ian ae e y""".split(),
                  key=len, reverse=True)
def tokens(text):
    return re.findall(r'[a-z0-9]+', text.lower())
def stem(w):
    if w.isdigit(): return w
    for _ in range(2):
        for suf in SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= 4:
                w = w[:-len(suf)]
                break
    return w
def norm(t): return re.sub(r'\s+', ' ', t).strip().lower()
def load():
    rows = {r['note_id']: r for r in csv.DictReader(open(DATA, newline='', encoding='utf-8'))}
    by_tx = {}
    for i, r in rows.items(): by_tx.setdefault(norm(r['transcription']), []).append(i)
    return rows, by_tx
def note_words(rows, by_tx, nid):
    ids = by_tx[norm(rows[nid]['transcription'])] if rows[nid]['transcription'].strip() else [nid]
    words = set()
    for i in ids:
        r = rows[i]
        for col in ('transcription', 'description', 'sample_name', 'keywords'):
            words.update(tokens(r[col]))
    return words, ids
def check_query(q, words):
    """returns (fails, warns): lists of (query_word, note_word)."""
    stems = {}
    for w in words: stems.setdefault(stem(w), w)
    fails, warns = [], []
    for qw in tokens(q):
        if qw in STOP: continue
        s = stem(qw)
        if qw in words or s in stems:
            fails.append((qw, stems.get(s, qw))); continue
        for ns, nw in stems.items():
            short, long_ = (s, ns) if len(s) <= len(ns) else (ns, s)
            if len(short) >= 5 and long_.startswith(short):
                warns.append((qw, nw)); break
    return fails, warns
def main(paths):
    rows, by_tx = load()
    skip = set(json.load(open(SKIP))['mtsamples_note_ids'])
    bad = 0; n = 0; seen = set()
    for path in paths:
        for ln, line in enumerate(open(path, encoding='utf-8'), 1):
            if not line.strip() or line.startswith('#'): continue
            parts = line.rstrip('\n').split('\t')
            if len(parts) != 3: print(f'{path}:{ln}: FAIL not 3 fields'); bad += 1; continue
            tag, nid, q = parts; n += 1
            if nid not in rows: print(f'{path}:{ln}: FAIL unknown note {nid}'); bad += 1; continue
            if nid in skip: print(f'{path}:{ln}: FAIL note {nid} in skip.json'); bad += 1
            if nid in seen: print(f'{path}:{ln}: FAIL duplicate note {nid}'); bad += 1
            seen.add(nid)
            nt = len(tokens(q))
            if not 4 <= nt <= 12: print(f'{path}:{ln}: FAIL {nt} words: {q}'); bad += 1
            if tag != 'blind-h': continue   # desc-h queries may share words
            words, ids = note_words(rows, by_tx, nid)
            fails, warns = check_query(q, words)
            for qw, nw in fails: print(f'{path}:{ln}: FAIL {nid} shares "{qw}" ~ "{nw}": {q}'); bad += 1
            for qw, nw in warns: print(f'{path}:{ln}: WARN {nid} "{qw}" ~ "{nw}": {q}')
    print(f'{n} queries checked, {bad} failures')
    return 1 if bad else 0
if __name__ == '__main__':
    sys.exit(main(sys.argv[1:] or ['paraphrase_blind_h.tsv']))
