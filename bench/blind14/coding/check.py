import json,collections,simple_icd_10_cm as c
P="/work/brief/blind14/coding/coding_nonaffirmed14.jsonl"
rows=[json.loads(l) for l in open(P)]
bad=0;seen=set();ids=set()
for r in rows:
    assert r["id"] not in ids; ids.add(r["id"])
    if r["concept"] not in r["text"]: print("concept not verbatim",r["id"]);bad+=1
    for code in r["forbidden"]+r["expected"]:
        if not c.is_valid_item(code): print("invalid",r["id"],code);bad+=1
    if set(r["forbidden"])&set(r["expected"]): print("overlap",r["id"]);bad+=1
    if r["kind"]!="affirmed" and not r["forbidden"]: print("no forbidden",r["id"]);bad+=1
    if r["kind"]=="affirmed" and not r["expected"]: print("no expected",r["id"]);bad+=1
    t=r["text"].strip().lower()
    if t in seen: print("dup",r["id"]);bad+=1
    seen.add(t)
    if "consistent with" in t or "compatible with" in t: print("forbidden phrase",r["id"]);bad+=1
cnt=collections.Counter(r["kind"] for r in rows)
print(dict(cnt),"nonaffirmed",sum(v for k,v in cnt.items() if k!="affirmed"),"total",len(rows),"problems",bad)
