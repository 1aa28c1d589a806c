import json,collections,sys
import simple_icd_10_cm as c
P="/work/brief/blind9/coding/coding_nonaffirmed9.jsonl"
rows=[json.loads(l) for l in open(P)]
bad=0;seen=set();ids=set()
for r in rows:
    if r["concept"] not in r["text"]: print("concept missing",r["id"]);bad+=1
    if r["text"] in seen: print("dup",r["id"]);bad+=1
    if r["id"] in ids: print("dup id",r["id"]);bad+=1
    seen.add(r["text"]);ids.add(r["id"])
    for code in r["forbidden"]+r["expected"]:
        if not c.is_valid_item(code): print("invalid",r["id"],code);bad+=1
    if r["kind"]!="affirmed" and not r["forbidden"]: print("no forbidden",r["id"]);bad+=1
    if r["kind"]=="affirmed" and (r["forbidden"] or not r["expected"]): print("affirmed fmt",r["id"]);bad+=1
    if set(r["forbidden"])&set(r["expected"]): print("overlap",r["id"]);bad+=1
print(collections.Counter(r["kind"] for r in rows), len(rows))
need={"negated":40,"family":30,"hypothetical":35,"uncertain":35,"other":20,"affirmed":40}
cnt=collections.Counter(r["kind"] for r in rows)
for k,v in need.items():
    if cnt[k]<v: print("short",k,cnt[k]);bad+=1
print("problems:",bad); sys.exit(1 if bad else 0)
