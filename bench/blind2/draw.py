"""Reproducible draw for blind evaluation set round 2. Run: python3 draw.py -> draw.json"""
import csv, json, os, random
csv.field_size_limit(10**9)
D = '/work/shared/data'
rng = random.Random(6060)
r1 = json.load(open('/work/main/bench/blind/draw.json'))
r1_mt = set(r1['mtsamples'])
r1_aci = set(tuple(x) for x in r1['aci'])
ids = sorted(int(r['note_id']) for r in csv.DictReader(open(f'{D}/mtsamples/mtsamples.csv', encoding='utf-8-sig')))
aci = []
for f in ['train.csv', 'valid.csv', 'clinicalnlp_taskB_test1.csv']:
    for r in csv.DictReader(open(f'{D}/aci-bench/{f}', encoding='utf-8-sig')):
        aci.append(('aci-bench/' + f, r['encounter_id']))
aci.sort()
fhir = sorted(os.listdir(f'{D}/fhir-r4'))
hl7 = sorted(os.listdir(f'{D}/hl7v2'))
# draw order: 1 mtsamples (400), 2 aci (all 127, i.e. a random order), 3 fhir (all 18), 4 hl7 (all 139)
mt = rng.sample(ids, 400)
ac = rng.sample(aci, len(aci))
fh = rng.sample(fhir, len(fhir))
hl = rng.sample(hl7, len(hl7))
out = {
    'mtsamples_raw': mt,
    'mtsamples': [i for i in mt if i not in r1_mt],   # round-1 draws removed, order kept
    'aci_raw': [list(x) for x in ac],
    'aci': [list(x) for x in ac if tuple(x) not in r1_aci],
    'fhir': fh, 'hl7': hl,
}
json.dump(out, open('draw.json', 'w'), indent=1)
print(len(out['mtsamples']), len(out['aci']))
