import csv,sys,json,re
csv.field_size_limit(10**9)
rows={}
with open('/work/shared/data/mtsamples/mtsamples.csv',encoding='utf-8-sig') as f:
    for r in csv.DictReader(f): rows[int(r['note_id'])]=r
pairs={651:'laparoscopic appendectomy',37:'bladder tumor',2519:'Falope',428:'pilonidal',3881:'menometrorrhagia',2597:'ThermaChoice',454:'penile prosthesis',3492:'Roux-en-Y',1195:'brachiocephalic',3464:'food impaction',4874:'pneumothorax',861:'stricture',3913:'poly exchange',1636:'Cardiolite',3052:'basilic',253:'total knee',4645:'thoracoabdominal',1264:'adenotonsillectomy'}
for nid,kw in pairs.items():
    t=rows[nid]['transcription'].strip(); seen={t}; out=[]
    for j,s in sorted(rows.items()):
        st=s['transcription'].strip()
        if st in seen: continue
        if kw.lower() in (s['description']+st).lower():
            seen.add(st); out.append(f"{j}:{s['description'][:70]}")
    print(nid,kw,len(out)); print('   '+'\n   '.join(out[:8]))
