#!/usr/bin/python3
"""Check the no-shared-content-word rule for paraphrase_blind_i.tsv (own tokenizer, written blind).

Tokens: regex [a-z0-9]+ on the lowercased text (so "C5-C6" -> c5, c6; "Wilson's" -> wilson, s).
Stopwords: ~100 common English function words (below), plus single characters.
A query word FAILS when, for some word of the note's transcription, description, sample_name or
keywords columns: the words are equal, or their crude stems are equal (suffix stripping below),
or both are >= 6 characters long and share their first 6 characters (catches
fracture/fractured, operation/operative, cardiology/cardiologist ...), or one (>= 4 characters)
is a prefix of the other (pain/painful, ulcer/ulcerative, cath/catheter).
Usage: wordcheck.py [TSV ...]   (default paraphrase_blind_i.tsv); exit 1 on any failure.
Also checks 4-12 words per query (all tokens counted, split on whitespace), and checks each query
against every other MTSamples note whose transcription is identical (stripped) to its note's.
"""
import csv, re, sys
DATA = '/work/shared/data/mtsamples/mtsamples.csv'
STOP = set("""a an the and or but nor so yet of in on at to for from by with without within into onto
over under after before during about above below between through up down out off again then once
is are was were be been being am do does did doing have has had having i me my we our you your he him
his she her it its they them their this that these those who whom which what when where why how all
any both each few more most other some such no not only own same than too very can will just should
would could may might must shall s t as if because while until also there here one""".split())
SUFFIXES = sorted("""s es ed ing ly al ally ation ations ion ions ive ure ures ity ities ic ical ically
ous er ers or ors ment ments ness ism ist ists ia ial y ies ied e able ible ant ent ance ence ize ized
ise ised""".split(), key=len, reverse=True)

def tokens(text):
    return [t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in STOP and len(t) > 1]

def stem(w):
    if w.endswith('ies') and len(w) > 4: w = w[:-3] + 'y'
    elif w.endswith('s') and not w.endswith('ss') and len(w) >= 3: w = w[:-1]
    changed = True
    while changed:
        changed = False
        for suf in SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= 4:
                w = w[: -len(suf)]; changed = True
                break
    return w

def note_vocab(row):
    words = set()
    for col in ('transcription', 'description', 'sample_name', 'keywords'):
        words.update(tokens(row[col] or ''))
    return words

def violations(query, row, words=None):
    words = words if words is not None else note_vocab(row)
    stems = {stem(w) for w in words}
    pref = {w[:6] for w in words if len(w) >= 6}
    bad = []
    for q in tokens(query):
        if q in words: bad.append((q, 'same word'))
        elif stem(q) in stems: bad.append((q, 'same stem ' + stem(q)))
        elif len(q) >= 6 and q[:6] in pref: bad.append((q, 'same first 6 letters'))
        elif len(q) >= 4 and any(w.startswith(q) for w in words if len(w) > len(q)):
            bad.append((q, 'prefix of a note word'))
        elif any(len(w) >= 4 and q.startswith(w) for w in words):
            bad.append((q, 'a note word is its prefix'))
    return bad

def load_rows():
    return {r['note_id']: r for r in csv.DictReader(open(DATA, newline='', encoding='utf-8'))}

def main(paths):
    rows = load_rows(); fails = 0; n = 0
    copies = {}
    for nid, r in rows.items():
        copies.setdefault(r['transcription'].strip(), []).append(nid)
    for path in paths:
        for line in open(path, encoding='utf-8'):
            if not line.strip() or line.startswith('#'): continue
            tag, nid, q = line.rstrip('\n').split('\t')
            n += 1
            nw = len(q.split())
            if not 4 <= nw <= 12:
                print(f'{path}: {nid}: {nw} words: {q}'); fails += 1
            bad = violations(q, rows[nid])
            # also the description/sample_name/keywords of every note with the same transcription
            for other in copies[rows[nid]['transcription'].strip()]:
                if other != nid:
                    bad += [(w, why + ' (in copy ' + other + ')') for w, why in violations(q, rows[other])]
            if bad:
                fails += 1; print(f'{path}: {nid}: {q!r}: {bad}')
    print(f'{n} queries checked, {fails} failing')
    return 1 if fails else 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1:] or ['/work/brief/blind11/search/paraphrase_blind_i.tsv']))
