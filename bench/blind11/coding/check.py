import json, collections, sys
import simple_icd_10_cm as c
P = "/work/brief/blind11/coding/coding_nonaffirmed11.jsonl"
rows = [json.loads(l) for l in open(P)]
errs = []
kinds = collections.Counter(r["kind"] for r in rows)
texts = collections.Counter(r["text"].strip().lower() for r in rows)
ids = [r["id"] for r in rows]
if len(set(ids)) != len(ids): errs.append("duplicate ids")
for t, n in texts.items():
    if n > 1: errs.append(f"duplicate text: {t}")
for r in rows:
    if r["kind"] not in {"negated","family","hypothetical","uncertain","other","affirmed"}: errs.append(f"{r['id']} bad kind")
    if r["concept"] not in r["text"]: errs.append(f"{r['id']} concept not verbatim: {r['concept']}")
    for k in ("forbidden", "expected"):
        for code in r.get(k, []):
            if not c.is_valid_item(code): errs.append(f"{r['id']} invalid {k} {code}")
            if k == "forbidden" and len(code) != 3: errs.append(f"{r['id']} forbidden not 3-char {code}")
    if r["kind"] != "affirmed" and not r["forbidden"]: errs.append(f"{r['id']} no forbidden")
    if r["kind"] == "affirmed" and not r["expected"]: errs.append(f"{r['id']} affirmed without expected")
    if set(r["forbidden"]) & set(r["expected"]): errs.append(f"{r['id']} forbidden/expected overlap")
    n = len(r["text"].replace("; ", ". ").split(". "))
print(dict(kinds), "total", len(rows), "non-affirmed", len(rows) - kinds["affirmed"])
need = dict(negated=40, family=30, hypothetical=35, uncertain=35, other=20, affirmed=45)
for k, v in need.items():
    if kinds[k] < v: errs.append(f"too few {k}: {kinds[k]} < {v}")
print("\n".join(errs) if errs else "OK")
sys.exit(1 if errs else 0)
