"""Validate coding_nonaffirmed.jsonl: unique ids, known kinds and counts, `concept` verbatim in `text`,
every forbidden entry is a 3-character ICD-10-CM category and every expected entry a valid code in
simple_icd_10_cm (the public PyPI package; run with an interpreter that has it, e.g.
/work/main/.venv/bin/python check.py). Affirmed rows: forbidden empty, expected = one 3-char category.
Also re-runs wordcheck.py on the paraphrase files."""
import json, sys, subprocess
from collections import Counter
import simple_icd_10_cm as icd
WANT = {"negated": 40, "family": 25, "hypothetical": 20, "uncertain": 20, "other": 15, "affirmed": 40}
rows = [json.loads(l) for l in open("coding_nonaffirmed.jsonl")]
errs = []
ids = [r["id"] for r in rows]
if len(ids) != len(set(ids)): errs.append("duplicate ids")
for r in rows:
    if set(r) != {"id", "kind", "text", "concept", "forbidden", "expected"}: errs.append(f"{r['id']}: keys {sorted(r)}")
    if r["kind"] not in WANT: errs.append(f"{r['id']}: kind {r['kind']}")
    if r["concept"] not in r["text"]: errs.append(f"{r['id']}: concept not verbatim in text")
    for c in r["forbidden"]:
        if len(c) != 3 or not icd.is_valid_item(c) or not icd.is_category(c): errs.append(f"{r['id']}: forbidden {c} not a category")
    for c in r["expected"]:
        if not icd.is_valid_item(c): errs.append(f"{r['id']}: expected {c} not in ICD-10-CM")
    if r["kind"] == "affirmed":
        if r["forbidden"] or len(r["expected"]) != 1 or len(r["expected"][0]) != 3 or not icd.is_category(r["expected"][0]):
            errs.append(f"{r['id']}: affirmed row needs forbidden [] and one 3-char expected category")
    else:
        if not r["forbidden"]: errs.append(f"{r['id']}: no forbidden category")
        if set(c[:3] for c in r["expected"]) & set(r["forbidden"]): errs.append(f"{r['id']}: expected overlaps forbidden")
    n = r["text"].count(". ") + 1
    if n > 3: errs.append(f"{r['id']}: more than 3 sentences?")
cnt = Counter(r["kind"] for r in rows)
for k, v in WANT.items():
    if cnt[k] != v: errs.append(f"kind {k}: {cnt[k]} rows, want {v}")
print("rows:", len(rows), dict(cnt))
for c in sorted({c for r in rows for c in r["forbidden"] + r["expected"]}):
    print(f"  {c:8s} {icd.get_description(c)}")
rc = subprocess.call([sys.executable, "wordcheck.py", "paraphrase_blind_e.tsv"], stdout=subprocess.DEVNULL)
if rc: errs.append("wordcheck.py found shared words in paraphrase_blind_e.tsv")
from draw import kept
def ids_of(f): return [l.split("\t")[1] for l in open(f) if l.strip() and not l.startswith("#")]
if ids_of("paraphrase_blind_e.tsv") != kept[:60]: errs.append("blind-e note_ids differ from the seeded draw (draw.py kept[:60])")
if ids_of("paraphrase_desc_e.tsv") != kept[60:90]: errs.append("desc-e note_ids differ from the seeded draw (draw.py kept[60:90])")
print("\n".join(errs) or "OK")
sys.exit(1 if errs else 0)
