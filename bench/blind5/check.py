import json, collections, sys
import simple_icd_10_cm as c
rows = [json.loads(l) for l in open("/work/brief/blind5/coding_nonaffirmed5.jsonl")]
bad = 0
cnt = collections.Counter(r["kind"] for r in rows)
texts = collections.Counter(r["text"] for r in rows)
ids = collections.Counter(r["id"] for r in rows)
for r in rows:
    if r["concept"] not in r["text"]:
        print("concept not in text", r["id"]); bad += 1
    if r["kind"] not in {"negated","family","hypothetical","uncertain","other","affirmed"}:
        print("kind", r["id"]); bad += 1
    for code in r["forbidden"] + r["expected"]:
        if not c.is_valid_item(code):
            print("invalid code", r["id"], code); bad += 1
    for code in r["forbidden"]:
        if len(code) != 3: print("forbidden not 3-char", r["id"], code); bad += 1
    if r["kind"] != "affirmed" and not r["forbidden"]:
        print("no forbidden", r["id"]); bad += 1
    if r["kind"] == "affirmed":
        if not r["expected"]: print("affirmed without expected", r["id"]); bad += 1
        if set(r["expected"]) & set(r["forbidden"]): print("expected in forbidden", r["id"]); bad += 1
    if r["kind"] == "family":
        for e in r["expected"]:
            if not e[:3] in {"Z80","Z81","Z82","Z83","Z84"}: print("family expected not Z80-84", r["id"], e); bad += 1
            if not c.is_leaf(e): print("family expected not billable", r["id"], e)
for t, n in texts.items():
    if n > 1: print("dup text", t); bad += 1
for i, n in ids.items():
    if n > 1: print("dup id", i); bad += 1
need = {"negated":40,"family":30,"hypothetical":35,"uncertain":35,"other":20,"affirmed":40}
for k, n in need.items():
    print(f"{k}: {cnt[k]} (min {n})")
    if cnt[k] < n: bad += 1
print("total", len(rows), "problems", bad)
for r in rows:
    print(r["id"], r["kind"], "|", r["concept"], "|", " ".join(f"{x}={c.get_description(x)[:40]}" for x in r["forbidden"]+r["expected"]))
sys.exit(1 if bad else 0)
