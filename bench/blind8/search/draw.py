"""Draw order: rows of mtsamples.csv in file order -> list of note_id strings;
rng = random.Random(10102); rng.shuffle(ids); walk the shuffled list, skipping ids in skip.json
and ids whose transcription is identical to a skip-listed note or to an already drawn one.
Prints candidates in order; the accept/reject decision (real patient case?) is made by hand, in order."""
import csv, json, random, sys
rows = list(csv.DictReader(open('/work/shared/data/mtsamples/mtsamples.csv')))
byid = {r['note_id']: r for r in rows}
skip = set(json.load(open('/work/brief/blind8/skip.json'))['mtsamples_note_ids'])
skiptx = {byid[i]['transcription'].strip() for i in skip if i in byid}
ids = [r['note_id'] for r in rows]
rng = random.Random(10102)
rng.shuffle(ids)
n = int(sys.argv[1]) if len(sys.argv) > 1 else 130
seen = set(); out = []
for pos, i in enumerate(ids):
    r = byid[i]; tx = r['transcription'].strip()
    if i in skip: continue
    if tx in skiptx: print(f'#dup-of-skip pos={pos} id={i}', file=sys.stderr); continue
    if tx in seen: print(f'#dup-of-drawn pos={pos} id={i}', file=sys.stderr); continue
    seen.add(tx)
    out.append((pos, i))
    if len(out) >= n: break
for pos, i in out:
    r = byid[i]
    print(f"=== pos={pos} id={i} | {r['medical_specialty']} | {r['sample_name']} | {r['description'][:200]}")
    if '-v' in sys.argv: print('   ', r['transcription'][:400].replace('\n',' '))
