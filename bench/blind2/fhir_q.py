"""Named FHIR questions (30) for assistant_blind2.jsonl. Facts are looked up in the bundles; the
question wording, patient references and the choice of facts are hand-written."""
import json, datetime, re
D = '/work/shared/data/fhir-r4/'
MONTHS = ['January','February','March','April','May','June','July','August','September','October','November','December']
def date_forms(iso):
    d = datetime.date.fromisoformat(iso[:10])
    return [iso[:10], f"{MONTHS[d.month-1]} {d.day}, {d.year}", f"{d.day} {MONTHS[d.month-1]} {d.year}", f"{d.month:02d}/{d.day:02d}/{d.year}"]
_cache = {}
def load(fn):
    if fn not in _cache:
        raw = open(D + fn, encoding='utf-8-sig').read()
        b = json.loads(raw)
        by = {}
        for e in b['entry']:
            by.setdefault(e['resource']['resourceType'], []).append(e['resource'])
        _cache[fn] = (raw, by)
    return _cache[fn]
def patient(fn):
    raw, by = load(fn); return by['Patient'][0]
def last_encounter(fn):
    raw, by = load(fn)
    s = max(e['period']['start'] for e in by['Encounter'])
    return s, f'"start": "{s}"'
def proc_date(fn, display, latest=True):
    raw, by = load(fn)
    ds = [(p.get('performedPeriod', {}).get('start') or p.get('performedDateTime')) for p in by['Procedure'] if p['code']['coding'][0]['display'] == display]
    s = max(ds) if latest else min(ds)
    key = 'start' if '"performedPeriod"' in raw else 'performedDateTime'
    return s, f'"start": "{s}"'
def cond_onset(fn, display):
    raw, by = load(fn)
    s = min(c['onsetDateTime'] for c in by['Condition'] if c['code']['coding'][0]['display'] == display)
    return s, f'"onsetDateTime": "{s}"'
def active_meds(fn):
    raw, by = load(fn)
    return sorted({m['medicationCodeableConcept']['coding'][0]['display'] for m in by['MedicationRequest'] if m['status'] == 'active'})
def latest_obs(fn, display):
    raw, by = load(fn)
    obs = [o for o in by['Observation'] if o['code']['coding'][0]['display'] == display and 'valueQuantity' in o]
    o = max(obs, key=lambda o: o['effectiveDateTime'])
    v = o['valueQuantity']['value']
    m = re.search(r'"value": (' + re.escape(repr(v)[:8]) + r'[0-9]*)', raw)
    return v, o['valueQuantity'].get('unit'), o['effectiveDateTime'], f'"value": {m.group(1)}'
def disp(s): return f'"display": "{s}"'
def num_forms(v, unit):
    f = [str(v), f"{v:.1f}", f"{round(v)}"]
    return f + [f"{v:.1f} {unit}"]

Q = []
def add(fn, question, answer, atype, evidence, ref, note=None):
    p = patient(fn)
    nm = p['name'][0]
    item = dict(kind='named', question=question, patient=' '.join(nm['given']) + ' ' + nm['family'],
                source='fhir-r4/' + fn, record=' '.join(nm['given']) + ' ' + nm['family'] + ' (MRN ' + mrn_of(p) + ')',
                answer=answer, answer_type=atype, evidence=evidence)
    if note: item['note'] = note
    Q.append(item)

F = {k.split('_')[0] + ' ' + k.split('_')[1]: k for k in [
 'Alfonso_Dietrich_96160268-66b9-4c07-aa11-0a72de133a52.json', 'Adalberto_Hartmann_44ec4447-9e2c-4eb9-bd4f-0bdb416b806e.json',
 'Adolph_Smith_0c6b1f3d-edb2-422b-a0af-a262fb90ed07.json', 'Abdul_Koepp_e925b0f3-8006-43f6-aa31-94bd215e55e7.json',
 'Alexis_Toy_68cd1181-6359-4047-a77f-a165d7912480.json', 'Andy_Gusikowski_76742a08-3643-41fa-bddc-73a2c0bae9da.json',
 'Ammie_Huels_ea186cb3-ccb1-4dfc-a92e-dc9286aaa2ce.json', 'Alden_Considine_42ba9929-3ab7-44fd-8f64-401c936fd769.json',
 'Alberto_Atencio_fc712d1f-5a2e-4407-9c55-a2a2bad623c2.json', 'Ali_Harris_eed1d00b-7665-4da3-88b7-c37cfb2ed245.json',
 'Alica_Powlowski_f26f7274-a5d0-404b-b76d-2547fba51a3b.json', 'Amiee_Buckridge_cfda32ac-8382-4a7c-92a2-1b072b2a70de.json',
 'Alfreda_Wyman_3287b938-4670-47eb-91e5-e0ce3df71405.json', 'Adolfo_Marquardt_50635536-8051-4085-bfd4-511a05062ac2.json',
 'Alberto_Armstrong_dc9335d0-bbdd-4120-8ae9-baa6604343b6.json', 'Alejandro_Riojas_a9fcc685-c7a2-4474-bf25-26c8fe4b48f9.json',
 'Alda_Carter_ee1034c9-cb75-413c-8f36-da7e4268d2b5.json', 'Alexia_Senger_a5f5a550-b13e-4f92-b194-6d118f67fcdb.json']}
def mrn_of(p): return [i['value'] for i in p['identifier'] if i.get('type', {}).get('text') == 'Medical Record Number'][0]
def mrn(n): return mrn_of(patient(F[n]))
def fam(n): return f'"family": "{patient(F[n])["name"][0]["family"]}"'

# 1 Alfonso Dietrich
s, ev = last_encounter(F['Alfonso Dietrich'])
add(F['Alfonso Dietrich'], "When was Mr. Dietrich's most recent encounter?", date_forms(s), 'date', ev, 'Mr. Surname')
s, ev = proc_date(F['Alfonso Dietrich'], 'Colonoscopy')
add(F['Alfonso Dietrich'], "When did Alfonso Dietrich have his most recent colonoscopy?", date_forms(s), 'date', ev, 'full name')
# 2 Adalberto Hartmann
m = '24 HR Donepezil hydrochloride 10 MG / Memantine hydrochloride 28 MG Extended Release Oral Capsule'
add(F['Adalberto Hartmann'], "What is Adalberto H. currently taking for his Alzheimer's disease?", [m, 'Donepezil', 'Memantine', 'donepezil/memantine'], 'drug', disp(m), 'first name + initial')
v, u, t, ev = latest_obs(F['Adalberto Hartmann'], 'Total score [MMSE]')
add(F['Adalberto Hartmann'], "What was Mr. Hartmann's most recent MMSE score?", num_forms(v, u)[:3], 'value', ev, 'Mr. Surname', note=f'latest MMSE observation {t[:10]}; full precision in the record')
# 3 Adolph Smith
s, ev = cond_onset(F['Adolph Smith'], 'Fracture subluxation of wrist')
add(F['Adolph Smith'], "When did Adolph Smith fracture his wrist?", date_forms(s), 'date', ev, 'full name')
# 4 Abdul Koepp
s, ev = proc_date(F['Abdul Koepp'], 'Surgical manipulation of joint of knee')
add(F['Abdul Koepp'], "What was done to Mr. Koepp's knee after his ACL injury in 2017?", ['Surgical manipulation of joint of knee', 'surgical manipulation of the knee', 'knee manipulation'], 'procedure', disp('Surgical manipulation of joint of knee'), 'Mr. Surname')
add(F['Abdul Koepp'], f"Does the patient with MRN {mrn('Abdul Koepp')} have asthma?", ['no'], 'no', fam('Abdul Koepp'), 'MRN', note="absence: 'asthma' does not occur anywhere in the bundle (case-insensitive)")
# 5 Alexis Toy
meds = active_meds(F['Alexis Toy'])
add(F['Alexis Toy'], "What medications is Alexis Toy on now?", meds, 'list', disp(meds[0]), 'full name', note='current = MedicationRequest status active (2 items); short forms: loratadine, epinephrine auto-injector (EpiPen)')
s, ev = proc_date(F['Alexis Toy'], 'Allergy screening test')
add(F['Alexis Toy'], "When did Alexis T. have allergy screening testing?", date_forms(s), 'date', ev, 'first name + initial')
# 6 Andy Gusikowski
add(F['Andy Gusikowski'], "What antibiotic was Andy Gusikowski prescribed for his ear infection in November 2020?", ['Cefuroxime 250 MG Oral Tablet', 'cefuroxime', 'Cefuroxime 250 mg'], 'drug', disp('Cefuroxime 250 MG Oral Tablet'), 'full name')
add(F['Andy Gusikowski'], f"Has Andy G. had his tonsils out?", ['no'], 'no', fam('Andy Gusikowski'), 'first name + initial', note="absence: 'tonsil' does not occur anywhere in the bundle (case-insensitive)")
# 7 Ammie Huels
meds = active_meds(F['Ammie Huels'])
add(F['Ammie Huels'], "What is Mrs. Huels currently taking?", meds, 'list', disp(meds[0]), 'Mrs. Surname', note='current = MedicationRequest status active (1 item, authored 1966); short form: ferrous sulfate (iron)')
add(F['Ammie Huels'], f"Has the patient with MRN {mrn('Ammie Huels')} ever had a colonoscopy?", ['no'], 'no', fam('Ammie Huels'), 'MRN', note="absence: 'colonoscopy' does not occur anywhere in the bundle (case-insensitive)")
# 8 Alden Considine
v, u, t, ev = latest_obs(F['Alden Considine'], 'Hemoglobin A1c/Hemoglobin.total in Blood')
add(F['Alden Considine'], "What was Alden Considine's latest hemoglobin A1c?", num_forms(v, u), 'value', ev, 'full name', note=f'latest A1c observation {t[:10]}')
# 9 Alberto Atencio
meds = active_meds(F['Alberto Atencio'])
add(F['Alberto Atencio'], "Which antiepileptic drugs is Alberto Atencio on?", meds, 'list', disp(meds[0]), 'full name', note='current = MedicationRequest status active (2 items); short forms: carbamazepine (Tegretol), clonazepam (Klonopin)')
s, ev = last_encounter(F['Alberto Atencio'])
add(F['Alberto Atencio'], f"When was the patient with MRN {mrn('Alberto Atencio')} last seen?", date_forms(s), 'date', ev, 'MRN')
# 10 Ali Harris
s, ev = proc_date(F['Ali Harris'], 'Suture open wound')
add(F['Ali Harris'], "Has Mr. Harris ever needed stitches for a wound?", ['yes', 'Suture open wound'] + date_forms(s), 'yes', disp('Suture open wound'), 'Mr. Surname', note=f'suture of a facial laceration on {s[:10]}')
# 11 Alica Powlowski
s, ev = proc_date(F['Alica Powlowski'], 'Childbirth')
add(F['Alica Powlowski'], "When did Mrs. Powlowski give birth?", date_forms(s), 'date', ev, 'Mrs. Surname')
add(F['Alica Powlowski'], "Did Alica Powlowski have preeclampsia during her pregnancy?", ['yes', 'Preeclampsia'], 'yes', disp('Preeclampsia'), 'full name')
# 12 Amiee Buckridge
add(F['Amiee Buckridge'], "Has Amiee Buckridge had the HPV vaccine?", ['yes', 'HPV, quadrivalent'], 'yes', disp('HPV, quadrivalent'), 'full name', note='two doses of HPV quadrivalent in the Immunization resources')
# 13 Alfreda Wyman
s, ev = cond_onset(F['Alfreda Wyman'], 'Prediabetes')
add(F['Alfreda Wyman'], "When was Alfreda W. found to have prediabetes?", date_forms(s), 'date', ev, 'first name + initial')
# 14 Adolfo Marquardt
add(F['Adolfo Marquardt'], "Has Adolfo Marquardt had a defibrillator implanted?", ['yes', 'Insertion of biventricular implantable cardioverter defibrillator', 'biventricular ICD'], 'yes', disp('Insertion of biventricular implantable cardioverter defibrillator'), 'full name')
s, ev = proc_date(F['Adolfo Marquardt'], 'Rectal polypectomy')
add(F['Adolfo Marquardt'], f"When did the patient with MRN {mrn('Adolfo Marquardt')} have a rectal polypectomy?", date_forms(s), 'date', ev, 'MRN')
# 15 Alberto Armstrong
add(F['Alberto Armstrong'], "What brought Alberto Armstrong to the emergency room in July 2020?", ['Sprain of ankle', 'ankle sprain', 'sprained ankle'], 'value', disp('Sprain of ankle'), 'full name')
# 16 Alejandro Riojas
add(F['Alejandro Riojas'], "Did Mr. Riojas undergo coronary artery bypass grafting?", ['yes', 'Coronary artery bypass grafting', 'CABG'], 'yes', disp('Coronary artery bypass grafting'), 'Mr. Surname', note='CABG and PCI on 2008-12-14, the day of his myocardial infarction and death')
p = patient(F['Alejandro Riojas'])
add(F['Alejandro Riojas'], "When did Alejandro Riojas die?", date_forms(p['deceasedDateTime']), 'date', f'"deceasedDateTime": "{p["deceasedDateTime"]}"', 'full name')
# 17 Alda Carter
add(F['Alda Carter'], "Is Alda Carter on any medications?", ['no'], 'no', fam('Alda Carter'), 'full name', note='absence: the bundle has no MedicationRequest resource')
s, ev = last_encounter(F['Alda Carter'])
add(F['Alda Carter'], "When was Alda C. last seen?", date_forms(s), 'date', ev, 'first name + initial')
# 18 Alexia Senger
add(F['Alexia Senger'], "What is Ms. Senger taking for her osteoporosis?", ['Alendronic acid 10 MG Oral Tablet', 'alendronic acid', 'alendronate', 'Fosamax'], 'drug', disp('Alendronic acid 10 MG Oral Tablet'), 'Ms. Surname')
s, ev = proc_date(F['Alexia Senger'], 'Bone density scan (procedure)')
add(F['Alexia Senger'], "Has Alexia Senger had a bone density scan?", ['yes', 'Bone density scan'] + date_forms(s), 'yes', disp('Bone density scan (procedure)'), 'full name', note=f'bone density scan on {s[:10]}')

if __name__ == '__main__':
    for q in Q:
        raw, _ = load(q['source'].split('/')[1])
        ok = q['evidence'] in raw
        print('OK ' if ok else 'BAD', q['question'], '|', q['answer'][:3], '|', q['evidence'])
    print(len(Q))
    for fn, term in [('Abdul Koepp', 'asthma'), ('Andy Gusikowski', 'tonsil'), ('Ammie Huels', 'colonoscopy'), ('Alda Carter', 'MedicationRequest')]:
        print(fn, term, term.lower() in load(F[fn])[0].lower())
