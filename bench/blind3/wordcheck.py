"""No-shared-content-word check for paraphrase queries (own tokenizer, not the project's).
Tokens: [a-z0-9]+ after lowercasing; stopwords removed; a query word conflicts with a note word if
equal, or same crude stem, or one is a prefix of the other and the shorter has >= 5 letters."""
import csv, re, sys
D = '/work/shared/data'
STOP = set("""a an the and or but if then else of to in on at by for with from as into onto upon about over under
after before between through during without within against among is are was were be been being am do does did
has have had having it its this that these those he she they them his her their him we us our you your i me my
who whom whose which what when where why how not no nor so than too very can could will would shall should may
might must all any both each few more most other some such only own same just also s t there here out up down
off again further once per vs via""".split())
TOK = re.compile(r'[a-z0-9]+')
def stem(w):
    for suf in ('ational','ations','ation','ities','ments','ment','ness','ings','ing','ies','ied','ed','es','ly','al','ic','s','y','e'):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            return w[:-len(suf)]
    return w
def toks(s):
    return [t for t in TOK.findall(s.lower()) if t not in STOP]
_rows = None
def rows():
    global _rows
    if _rows is None:
        _rows = {r['note_id']: r for r in csv.DictReader(open(f'{D}/mtsamples/mtsamples.csv', encoding='utf-8-sig'))}
    return _rows
def note_words(nid):
    r = rows()[nid]
    return set(toks(' '.join(r[k] for k in ('transcription', 'description', 'sample_name', 'keywords'))))
def conflicts(nid, query):
    nw = note_words(nid); ns = {stem(w): w for w in nw}
    out = []
    for q in set(toks(query)):
        if q in nw: out.append(q); continue
        if stem(q) in ns: out.append(f'{q}~{ns[stem(q)]}'); continue
        for w in nw:
            a, b = (q, w) if len(q) <= len(w) else (w, q)
            if len(a) >= 5 and b.startswith(a):
                out.append(f'{q}~{w}'); break
    return out
if __name__ == '__main__':
    f = sys.argv[1] if len(sys.argv) > 1 else 'paraphrase_blind_d.tsv'
    bad = 0; n = 0
    for line in open(f, encoding='utf-8'):
        if line.startswith('#') or not line.strip(): continue
        s, nid, q = line.rstrip('\n').split('\t'); n += 1
        c = conflicts(nid, q); nq = len(q.split())
        if c or not (4 <= nq <= 12):
            bad += 1; print(nid, q, '->', c, f'({nq} words)')
    print(f'{n} queries, {bad} failing')
