import json, sys, os, collections
import simple_icd_10_cm as c
p = os.path.join(os.path.dirname(os.path.abspath(__file__)), "coding_nonaffirmed10.jsonl")
rows = [json.loads(l) for l in open(p)]
bad = 0
cnt = collections.Counter(r["kind"] for r in rows)
texts = collections.Counter(r["text"] for r in rows)
ids = collections.Counter(r["id"] for r in rows)
for r in rows:
    if r["concept"] not in r["text"]:
        print("concept not verbatim", r["id"]); bad += 1
    for code in r["forbidden"] + r.get("expected", []):
        if not c.is_valid_item(code):
            print("invalid code", r["id"], code); bad += 1
    if r["kind"] != "affirmed" and not r["forbidden"]:
        print("no forbidden", r["id"]); bad += 1
    if r["kind"] == "affirmed" and (r["forbidden"] or not r.get("expected")):
        print("affirmed shape", r["id"]); bad += 1
    if set(r["forbidden"]) & set(r.get("expected", [])):
        print("overlap", r["id"]); bad += 1
for t, n in texts.items():
    if n > 1: print("dup text", t); bad += 1
for t, n in ids.items():
    if n > 1: print("dup id", t); bad += 1
print(dict(cnt), "total", len(rows), "non-affirmed", len(rows) - cnt["affirmed"])
need = {"negated": 40, "family": 30, "hypothetical": 35, "uncertain": 35, "other": 20, "affirmed": 45}
for k, n in need.items():
    if cnt[k] < n: print("too few", k, cnt[k], "<", n); bad += 1
print("OK" if not bad else f"{bad} problems")
sys.exit(1 if bad else 0)
