"""Check that blind-e queries share no content word (crude stem) with their note's
transcription, description, sample_name, keywords. desc-e queries are only reported.
Usage: python3 wordcheck.py [file ...]"""
import csv, re, sys
csv.field_size_limit(10**9)
STOP = set("""a an the and or but nor of in on at to for from by with without within into onto
upon over under after before during about as is are was were be been being am has have had
do does did this that these those it its he she him her his hers they them their we our you your
i me my mine not no so than then too very can could will would should shall may might must
s t just also only any all each some such both either neither own same other which who whom whose
what when where why how there here out up down off again further once more most few
through between above below against if because while until per via""".split())
assert len(STOP) >= 100, len(STOP)
SUFFIXES = sorted("""ations ation ations ings ing ness ments ment ities ity ies ied ied ions ion
ously ous ives ive ia ally ically ical ic al ers er ors or ed es s ly y e""".split(), key=len, reverse=True)
def spelling(w):
    """fold British spellings onto American ones (haemorrhage/hemorrhage, tumour/tumor, -isation)"""
    w = w.replace('ae', 'e').replace('oe', 'e')
    w = re.sub(r'our(s?)$', r'or\1', w)
    w = w.replace('isation', 'ization').replace('ise', 'ize')
    w = re.sub(r'tre(s?)$', r'ter\1', w)
    return w
def stem(w):
    w = spelling(w.lower())
    for _ in range(2):
        for suf in SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= 3:
                w = w[: -len(suf)]
                break
    return w
def toks(text):
    return re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
def content(text):
    return [t for t in toks(text) if t not in STOP]
rows = {r['note_id']: r for r in csv.DictReader(open('/work/shared/data/mtsamples/mtsamples.csv'))}
def note_words(nid):
    r = rows[nid]
    return content(' '.join(r[k] for k in ('transcription', 'description', 'sample_name', 'keywords')))
def check(nid, query):
    nw = note_words(nid); ns = {stem(w) for w in nw}; nset = set(nw)
    bad, warn = [], []
    for w in content(query):
        if w in nset or stem(w) in ns:
            bad.append(w)
        elif len(w) >= 5 and any(x.startswith(w[:5]) for x in nset):
            warn.append((w, sorted({x for x in nset if x.startswith(w[:5])})[:4]))
    return bad, warn
if __name__ == '__main__':
    files = sys.argv[1:] or ['paraphrase_blind_e.tsv', 'paraphrase_desc_e.tsv']
    nbad = 0
    for f in files:
        for line in open(f):
            if line.startswith('#') or not line.strip(): continue
            s, nid, q = line.rstrip('\n').split('\t')
            n = len(toks(q))
            bad, warn = check(nid, q)
            strict = s.startswith('blind')
            if strict and (bad or not 4 <= n <= 12):
                nbad += 1
                print('FAIL', s, nid, q, '| shared:', bad, '| words:', n)
            elif warn and strict:
                print('warn', s, nid, q, '| prefix-similar:', warn)
            if not strict:
                print('info', s, nid, 'words', n, 'shared', bad)
    print('failures:', nbad)
    sys.exit(1 if nbad else 0)
