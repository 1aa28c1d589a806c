# Draw records with a fixed seed. Run from anywhere; prints the draw order.
import csv, random, os, json
csv.field_size_limit(10**9)
D = '/work/shared/data'
SEED = 2026
rng = random.Random(SEED)
mt = sorted(int(r['note_id']) for r in csv.DictReader(open(f'{D}/mtsamples/mtsamples.csv', encoding='utf-8')))
aci = []
for f in sorted(['aci-bench/train.csv', 'aci-bench/valid.csv', 'aci-bench/clinicalnlp_taskB_test1.csv']):
    for r in csv.DictReader(open(f'{D}/{f}', encoding='utf-8')):
        aci.append((f, r['encounter_id']))
aci.sort()
fhir = sorted(os.listdir(f'{D}/fhir-r4'))
hl7 = sorted(os.listdir(f'{D}/hl7v2'))
draw = {
    'mtsamples': rng.sample(mt, 90),
    'aci': rng.sample(aci, 40),
    'fhir': rng.sample(fhir, len(fhir)),
    'hl7': rng.sample(hl7, 60),
}
json.dump(draw, open('/work/brief/blind/draw.json', 'w'), indent=1)
print(json.dumps(draw))
