"""Reproducible draw for blind round 3. Run: python3 draw.py  -> draw.json
One generator random.Random(7070); draws in this order:
 1. mtsamples: rng.sample(sorted int note_ids not in skip.json, 300)
 2. aci-bench: rng.sample(sorted (file, encounter_id) over train/valid/clinicalnlp_taskB_test1, 60)
    (all 127 encounters are in skip.json, so none can be skipped; see README)
 3. fhir-r4:   rng.sample(sorted file list, 18)
 4. hl7v2:     rng.sample(sorted file list, 139)
"""
import csv, json, os, random
D = '/work/shared/data'
skip = json.load(open('/work/brief/blind3/skip.json'))
skip_mt = set(skip['mtsamples_note_ids'])
rng = random.Random(7070)
ids = sorted(int(r['note_id']) for r in csv.DictReader(open(f'{D}/mtsamples/mtsamples.csv', encoding='utf-8-sig')))
pool = [i for i in ids if str(i) not in skip_mt]
mt = rng.sample(pool, 300)
aci = []
for f in ['train.csv', 'valid.csv', 'clinicalnlp_taskB_test1.csv']:
    for r in csv.DictReader(open(f'{D}/aci-bench/{f}', encoding='utf-8-sig')):
        aci.append((f, r['encounter_id']))
aci = sorted(aci)
aci_draw = rng.sample(aci, 60)
fhir = rng.sample(sorted(os.listdir(f'{D}/fhir-r4')), 18)
hl7 = rng.sample(sorted(os.listdir(f'{D}/hl7v2')), 139)
json.dump({'mtsamples': mt, 'aci': aci_draw, 'fhir': fhir, 'hl7': hl7, 'pool_size': len(pool)},
          open('/work/brief/blind3/draw.json', 'w'), indent=0)
print(len(ids), len(pool), mt[:10])
