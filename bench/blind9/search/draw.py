"""Draw order for blind-g / desc-g (seed 11102).
1. ids = all MTSamples note_id values, sorted numerically.
2. rng = random.Random(11102); rng.shuffle(ids)  -- the only use of the rng.
3. Walk ids in shuffled order; skip ids in skip.json, empty transcriptions, and transcriptions
   identical to an already accepted note or to a skip.json note. Remaining candidates are printed in order as a pool;
   the pool is then screened by hand for 'real patient case' (see README.md), first 60 accepted
   -> blind-g, next 30 accepted -> desc-g.
"""
import csv, json, random, sys
rows = {r['note_id']: r for r in csv.DictReader(open('/work/shared/data/mtsamples/mtsamples.csv'))}
skip = set(json.load(open('/work/brief/blind9/skip.json'))['mtsamples_note_ids'])
ids = sorted(rows, key=int)
rng = random.Random(11102)
rng.shuffle(ids)
seen = {rows[k]['transcription'].strip() for k in skip if k in rows}  # transcriptions of skipped notes count as skipped too
pool = []
n = int(sys.argv[1]) if len(sys.argv) > 1 else 120
for i in ids:
    r = rows[i]
    t = r['transcription'].strip()
    if i in skip:
        print('SKIPJSON', i, file=sys.stderr); continue
    if not t:
        print('EMPTY', i, file=sys.stderr); continue
    if t in seen:
        print('DUP', i, file=sys.stderr); continue
    seen.add(t); pool.append(i)
    if len(pool) >= n: break
print(' '.join(pool))
