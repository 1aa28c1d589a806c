#!/usr/bin/python3
"""Check the no-shared-content-word rule for blind paraphrase queries.

Usage: python3 wordcheck.py paraphrase_blind_f.tsv [more.tsv]
Each data line: set<TAB>note_id<TAB>query. For each query, every content token (regex [a-z0-9]+ on the
lowercased text, minus ~100 stopwords and 1-character tokens) is compared with every token of the
note's transcription, description, sample_name and keywords (union over all MTSamples rows whose
transcription is identical to the note's). A clash is: same token, same crude stem (suffix stripping),
or one token starting with the other's stem when that stem has >= 5 characters.
Exit status 1 if any query clashes or has not 4-12 words; prints every clash.
"""
import csv, re, sys

STOP = set("""a an the and or but if of in on at to for from by with without within into onto over under
up down out off as is are was were be been being am do does did done has have had having it its it's this that
these those there here then than so such not no nor too very can could will would should may might must shall
he she him her his hers they them their we us our you your i me my who whom whose which what when where why how
all any both each few more most other some same own only just also after before about again against between
through during above below while because until per via s t""".split())
SUFFIXES = sorted("""ational tional ization ations ation ments ment ness ities ity ously ous ively ive
fully ful ables able ibles ible ingly ing edly ed ies es s ers er ors or ally al ical ic ics ism isms ist ists
ized izes ize ised ises ise ly ia ium ae""".split(), key=len, reverse=True)
TOKEN = re.compile(r"[a-z0-9]+")

def tokens(text):
    return TOKEN.findall(text.lower())

def stem(w):
    for suf in SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)]
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w

def content(text):
    return [w for w in tokens(text) if w not in STOP and len(w) > 1]

def load_notes():
    rows = list(csv.DictReader(open('/work/shared/data/mtsamples/mtsamples.csv', encoding='utf-8')))
    by_tx = {}
    for r in rows:
        by_tx.setdefault(r['transcription'].strip(), []).append(r)
    vocab = {}
    for r in rows:
        words = set()
        for rr in by_tx[r['transcription'].strip()]:
            for col in ('transcription', 'description', 'sample_name', 'keywords'):
                words.update(tokens(rr[col] or ''))
        vocab[r['note_id']] = words
    return vocab

def clashes(query, note_words, note_stems):
    out = []
    for w in content(query):
        s = stem(w)
        if w in note_words:
            out.append(f"{w} (same word)")
        elif s in note_stems:
            out.append(f"{w} (stem {s}: {sorted(note_stems[s])[:3]})")
        elif len(s) >= 5:
            hit = [nw for nw in note_words if len(nw) > 1 and nw.startswith(s)]
            if hit:
                out.append(f"{w} (prefix {s}: {sorted(hit)[:3]})")
    return out

def main(paths):
    vocab = load_notes()
    bad = n = 0
    for p in paths:
        for line in open(p, encoding='utf-8'):
            if not line.strip() or line.startswith('#'):
                continue
            setname, nid, query = line.rstrip('\n').split('\t')
            n += 1
            words = vocab[nid]
            stems = {}
            for w in words:
                stems.setdefault(stem(w), set()).add(w)
            c = clashes(query, words, stems)
            nw = len(query.split())
            if not 4 <= nw <= 12:
                c.append(f"length {nw} words")
            if c:
                bad += 1
                print(f"CLASH {setname} {nid}: {query!r}: " + '; '.join(c))
    print(f"{n} queries checked, {bad} with problems")
    return 1 if bad else 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
