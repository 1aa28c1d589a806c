"""Draw order for part A (see README.md).
rng = random.Random(8181); perm = rng.sample(ids, len(ids)) where ids = note_ids in CSV file order.
Walk perm; skip: ids in ../skip.json, empty transcriptions, transcriptions identical (whitespace-normalised)
to a skipped note's or an already drawn note's; then manual skip of notes without a real patient case
(listed in MANUAL_SKIP). First 60 kept -> blind-e, next 30 kept -> desc-e."""
import csv, json, random, sys
csv.field_size_limit(10**9)
rows = list(csv.DictReader(open('/work/shared/data/mtsamples/mtsamples.csv')))
byid = {r['note_id']: r for r in rows}
ids = [r['note_id'] for r in rows]
skip = set(json.load(open('/work/brief/blind4/skip.json'))['mtsamples_note_ids'])
norm = lambda t: ' '.join(t.split()).lower()
skip_tx = {norm(byid[i]['transcription']) for i in skip if i in byid}
MANUAL_SKIP = set(json.load(open('manual_skip.json'))) if __import__('os').path.exists('manual_skip.json') else set()
rng = random.Random(8181)
perm = rng.sample(ids, len(ids))
kept, seen_tx, log = [], set(), []
for i in perm:
    r = byid[i]; t = norm(r['transcription'])
    if i in skip: log.append((i,'skip.json')); continue
    if not t: log.append((i,'empty')); continue
    if t in skip_tx: log.append((i,'same text as a skip.json note')); continue
    if t in seen_tx: log.append((i,'same text as an earlier drawn note')); continue
    if i in MANUAL_SKIP: log.append((i,'manual: no patient case')); continue
    seen_tx.add(t); kept.append(i)
    if len(kept) >= 90: break
if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == 'log':
        for x in log: print(*x, sep='\t')
    else:
        for n, i in enumerate(kept):
            r = byid[i]
            print(n, i, r['medical_specialty'], '|', r['sample_name'], '|', r['description'][:150], sep=' ')
