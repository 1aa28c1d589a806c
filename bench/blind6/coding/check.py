"""Checks coding_nonaffirmed6.jsonl: fields, concept verbatim, codes valid in simple_icd_10_cm, counts, duplicates."""
import collections, json, pathlib, sys
import simple_icd_10_cm as c

MIN = {"negated": 40, "family": 30, "hypothetical": 35, "uncertain": 35, "other": 20, "affirmed": 50}
path = pathlib.Path(__file__).with_name("coding_nonaffirmed6.jsonl")
errs, counts, texts, ids = [], collections.Counter(), set(), set()
for n, line in enumerate(path.read_text().splitlines(), 1):
    r = json.loads(line)
    if set(r) != {"id", "kind", "text", "concept", "forbidden", "expected"}:
        errs.append(f"{n}: fields {sorted(r)}")
    if r["id"] in ids: errs.append(f"{n}: duplicate id {r['id']}")
    ids.add(r["id"])
    if r["kind"] not in MIN: errs.append(f"{n}: kind {r['kind']}")
    counts[r["kind"]] += 1
    if r["concept"] not in r["text"]: errs.append(f"{n}: concept not verbatim: {r['concept']!r}")
    key = " ".join(r["text"].lower().split())
    if key in texts: errs.append(f"{n}: duplicate text")
    texts.add(key)
    for code in r["forbidden"] + r["expected"]:
        if not c.is_valid_item(code): errs.append(f"{n}: invalid code {code}")
    for code in r["forbidden"]:
        if len(code) != 3: errs.append(f"{n}: forbidden not a 3-char category: {code}")
    if r["kind"] == "affirmed":
        if not r["expected"]: errs.append(f"{n}: affirmed without expected")
        if r["forbidden"]: errs.append(f"{n}: affirmed with forbidden")
    else:
        if not r["forbidden"]: errs.append(f"{n}: no forbidden")
        if set(r["forbidden"]) & {e[:3] for e in r["expected"]}: errs.append(f"{n}: expected overlaps forbidden")
    if r["kind"] == "family":
        for e in r["expected"]:
            if not ("Z80" <= e[:3] <= "Z84"): errs.append(f"{n}: family expected outside Z80-Z84: {e}")
    sents = r["text"].count(". ") + r["text"].count("; ")
for k, m in MIN.items():
    if counts[k] < m: errs.append(f"kind {k}: {counts[k]} < {m}")
print(dict(counts), "total", sum(counts.values()))
if "-v" in sys.argv:
    for line in path.read_text().splitlines():
        r = json.loads(line)
        for code in r["forbidden"] + r["expected"]:
            print(r["id"], code, c.get_description(code) if c.is_valid_item(code) else "INVALID")
print("\n".join(errs) or "OK")
sys.exit(1 if errs else 0)
