"""Seeded draw for blind round 4. One generator random.Random(8080), drawn in this order:
1. mtsamples: rng.sample(sorted int note_ids not in skip.json, 300)
2. aci-bench: rng.sample(sorted (file, encounter_id) over train/valid/clinicalnlp_taskB_test1, all)  (all are in skip.json)
3. fhir-r4: rng.sample(sorted file list, all)
4. hl7v2: rng.sample(sorted file list, all)
Writes draw.json."""
import csv, json, os, random, sys
csv.field_size_limit(10**9)
D = '/work/shared/data'
skip = json.load(open('/work/brief/blind4/skip.json'))
sk = set(skip['mtsamples_note_ids'])
rows = list(csv.DictReader(open(f'{D}/mtsamples/mtsamples.csv', encoding='utf-8-sig')))
ids = sorted(int(r['note_id']) for r in rows if r['note_id'] not in sk)
rng = random.Random(8080)
mt = rng.sample(ids, 300)
aci = []
for f in ['clinicalnlp_taskB_test1.csv', 'train.csv', 'valid.csv']:
    for r in csv.DictReader(open(f'{D}/aci-bench/{f}', encoding='utf-8-sig')):
        aci.append((f, r['encounter_id']))
aci = sorted(aci)
aci_d = rng.sample(aci, len(aci))
fh = rng.sample(sorted(os.listdir(f'{D}/fhir-r4')), len(os.listdir(f'{D}/fhir-r4')))
hl = rng.sample(sorted(os.listdir(f'{D}/hl7v2')), len(os.listdir(f'{D}/hl7v2')))
json.dump({'mtsamples': mt, 'aci': aci_d, 'fhir': fh, 'hl7': hl, 'n_mt_eligible': len(ids)}, open('draw.json', 'w'), indent=1)
print(len(ids), mt[:10], aci_d[:5], fh[:3], hl[:3])
