import csv,json,sys
csv.field_size_limit(10**9)
d=json.load(open('draw.json'))
D={}
for f in ['train.csv','valid.csv','clinicalnlp_taskB_test1.csv']:
    for r in csv.DictReader(open('/work/shared/data/aci-bench/'+f,encoding='utf-8-sig')): D[(f,r['encounter_id'])]=r
for f,e in d['aci'][int(sys.argv[1]):int(sys.argv[2])]:
    print('########',f,e); print(D[(f,e)]['note'])
