import json, glob, os
D = '/work/shared/data/fhir-r4/'
def F(prefix):
    return os.path.basename(glob.glob(D + prefix + '_*.json')[0])
def load(f):
    b = json.load(open(D + f, encoding='utf-8-sig'))
    return [e['resource'] for e in b['entry']]
def mrn(f):
    p = [r for r in load(f) if r['resourceType'] == 'Patient'][0]
    for i in p['identifier']:
        if i.get('type', {}).get('coding', [{}])[0].get('code') == 'MR':
            return i['value']
    return p['id']
def q(k, v): return '"%s": "%s"' % (k, v)
def med(f, sub):
    for r in load(f):
        if r['resourceType'] == 'MedicationRequest':
            t = (r.get('medicationCodeableConcept') or {}).get('text', '')
            if sub in t: return q('text', t)
    raise KeyError(sub)
def proc_start(f, text, last=True):
    ps = sorted([r for r in load(f) if r['resourceType'] == 'Procedure' and r['code'].get('text') == text],
                key=lambda r: (r.get('performedPeriod') or {}).get('start', ''))
    r = ps[-1] if last else ps[0]
    return q('start', r['performedPeriod']['start'])
def onset(f, text):
    for r in load(f):
        if r['resourceType'] == 'Condition' and r['code'].get('text') == text:
            return q('onsetDateTime', r['onsetDateTime'])
    raise KeyError(text)
def last_enc(f):
    es = sorted([r for r in load(f) if r['resourceType'] == 'Encounter'], key=lambda e: e['period']['start'])
    return q('start', es[-1]['period']['start'])
def deceased(f):
    p = [r for r in load(f) if r['resourceType'] == 'Patient'][0]
    return q('deceasedDateTime', p['deceasedDateTime'])
def imm(f, text, last=True):
    im = sorted([r for r in load(f) if r['resourceType'] == 'Immunization' and r['vaccineCode'].get('text') == text],
                key=lambda r: r['occurrenceDateTime'])
    return q('occurrenceDateTime', (im[-1] if last else im[0])['occurrenceDateTime'])
def family(f):
    p = [r for r in load(f) if r['resourceType'] == 'Patient'][0]
    return q('family', p['name'][0]['family'])

AP, AC, AS, AB, AA = F('Alica_Powlowski'), F('Alden_Considine'), F('Alexia_Senger'), F('Amiee_Buckridge'), F('Alberto_Armstrong')
AD, AR, AT, AH, AAT = F('Alfonso_Dietrich'), F('Alejandro_Riojas'), F('Alexis_Toy'), F('Ammie_Huels'), F('Alberto_Atencio')
AK, AG, ASm, AHa, AW = F('Abdul_Koepp'), F('Andy_Gusikowski'), F('Adolph_Smith'), F('Ali_Harris'), F('Alfreda_Wyman')
AHt, ACa, AM = F('Adalberto_Hartmann'), F('Alda_Carter'), F('Adolfo_Marquardt')

# (file, question, answers, answer_type, evidence, note)
def items():
    return [
    (AP, "What inhaler is Mrs. Powlowski currently prescribed?", ["Fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT", "fluticasone/salmeterol", "fluticasone and salmeterol", "Advair"], "dose", med(AP, 'salmeterol'), "status active; other drugs in the bundle are stopped"),
    (AP, "Has Alica Powlowski ever had a colonoscopy? When?", ["2020-02-20", "February 20, 2020", "20 Feb 2020"], "date", proc_start(AP, 'Colonoscopy'), None),
    (AC, "Alden C.: any allergies on file?", ["Allergy to mould", "mould", "mold", "Dander (animal) allergy", "animal dander"], "list", '"text": "Allergy to mould"', "two AllergyIntolerance resources: mould and animal dander; both expected"),
    (AC, "Has Mr. Considine ever had a colonoscopy?", ["no"], "no", family(AC), "absence: no 'colonoscopy' anywhere in the bundle (case-insensitive)"),
    (AS, "What is Ms. Senger taking for her osteoporosis?", ["Alendronic acid 10 MG Oral Tablet", "alendronic acid 10 mg", "alendronate 10 mg", "alendronate"], "dose", med(AS, 'Alendronic'), "status active"),
    (AS, "When did Alexia Senger have her bone density scan?", ["2018-09-21", "September 21, 2018", "21 Sep 2018"], "date", proc_start(AS, 'Bone density scan (procedure)'), None),
    (AB, "Is Amiee Buckridge on any current medication?", ["no"], "no", family(AB), "her only MedicationRequest (acetaminophen 325 mg, 2021-02-12) is status stopped; evidence is the family line"),
    (AB, "When did Amiee Buckridge get her Tdap shot?", ["2020-12-25", "December 25, 2020", "25 Dec 2020"], "date", imm(AB, 'Tdap'), None),
    (AA, "What was Mr. Armstrong given for his sprained ankle?", ["Naproxen sodium 220 MG Oral Tablet", "naproxen sodium 220 mg", "naproxen"], "dose", med(AA, 'Naproxen'), "2020-07-14 ER visit, status stopped"),
    (AA, "Alberto Armstrong: date of his last encounter?", ["2021-01-11", "January 11, 2021", "11 Jan 2021"], "date", last_enc(AA), "check-up"),
    (AD, "Is Alfonso Dietrich still taking allopurinol for his gout?", ["no"], "no", med(AD, 'Allopurinol'), "both allopurinol MedicationRequests (2015, 2019) are status stopped"),
    (AD, "Mr. Dietrich: when was his most recent colonoscopy?", ["2017-06-01", "June 1, 2017", "1 Jun 2017"], "date", proc_start(AD, 'Colonoscopy'), "earlier one 2012-06-02"),
    (AR, "When did Alejandro Riojas die?", ["2008-12-14", "December 14, 2008", "14 Dec 2008"], "date", deceased(AR), None),
    (AR, "Did Mr. Riojas have coronary bypass surgery?", ["yes", "2008-12-14"], "yes", '"text": "Coronary artery bypass grafting"', "CABG on 2008-12-14, same day as a PCI and his death"),
    (AT, "Alexis Toy: which food allergies are recorded?", ["Allergy to dairy product", "dairy", "Allergy to wheat", "wheat", "Allergy to nut", "nut"], "list", '"text": "Allergy to dairy product"', "food allergies: dairy, wheat, nut (also mould, dust mite, dander, grass and tree pollen = non-food)"),
    (AT, "What epinephrine product does Alexis Toy have?", ["0.3 ML Epinephrine 1 MG/ML Auto-Injector", "epinephrine 0.3 mL auto-injector", "EpiPen 0.3 mg", "0.3 ML"], "dose", med(AT, 'Epinephrine'), "status active"),
    (AH, "Mrs. Huels: which antibiotic was she given in November 2018?", ["Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet", "amoxicillin/clavulanate", "Augmentin", "Amoxicillin 250 MG / Clavulanate 125 MG"], "dose", med(AH, 'Amoxicillin'), "2018-11-30, with viral sinusitis and an ankle sprain that day; stopped"),
    (AH, "Has Ammie Huels had a colonoscopy?", ["no"], "no", family(AH), "absence: no 'colonoscopy' in the bundle"),
    (AAT, "What medications is the patient with MRN %s on?" % mrn(AAT), ["Carbamazepine[Tegretol]", "carbamazepine", "Tegretol", "Clonazepam [Klonopin]", "clonazepam", "Klonopin"], "list", med(AAT, 'Carbamazepine'), "both active (epilepsy); both expected"),
    (AK, "What was done to Abdul Koepp's knee after his ACL injury, and when?", ["2017-03-28", "Surgical manipulation of joint of knee", "March 28, 2017"], "date", proc_start(AK, 'Surgical manipulation of joint of knee'), "procedure 'Surgical manipulation of joint of knee'"),
    (AG, "Andy G.: which antibiotic was used for his second ear infection?", ["Cefuroxime 250 MG Oral Tablet", "cefuroxime 250 mg", "cefuroxime"], "dose", med(AG, 'Cefuroxime'), "otitis media 2020-11-04 (first one 2020-01-28 got amoxicillin)"),
    (ASm, "Was Adolph Smith's appendix taken out?", ["yes", "1953-11-29"], "yes", '"text": "History of appendectomy"', "Condition 'History of appendectomy', onset 1953-11-29"),
    (AHa, "Ali Harris: what blood pressure medicine is he on?", ["Hydrochlorothiazide 25 MG", "hydrochlorothiazide 25 mg", "HCTZ 25 mg", "hydrochlorothiazide"], "dose", med(AHa, 'Hydrochlorothiazide'), "status active"),
    (AHa, "Has Mr. Harris ever had a colonoscopy?", ["no"], "no", family(AHa), "absence: no 'colonoscopy' in the bundle"),
    (AW, "Mrs. Wyman: when was she last seen?", ["2020-12-01", "December 1, 2020", "1 Dec 2020"], "date", last_enc(AW), "check-up"),
    (AHt, "Which Alzheimer's drug was Mr. Hartmann taken off?", ["Galantamine 4 MG Oral Tablet", "galantamine 4 mg", "galantamine"], "dose", med(AHt, 'Galantamine'), "stopped; replaced 2021-02-18 by donepezil/memantine"),
    (AHt, "Adalberto Hartmann: current dementia medication?", ["24 HR Donepezil hydrochloride 10 MG / Memantine hydrochloride 28 MG Extended Release Oral Capsule", "donepezil 10 mg / memantine 28 mg", "Namzaric", "donepezil", "memantine"], "dose", med(AHt, 'Donepezil'), "status active"),
    (ACa, "When did Alda Carter get her most recent varicella vaccine?", ["2020-08-02", "August 2, 2020", "2 Aug 2020"], "date", imm(ACa, 'varicella'), "first dose 2016-10-30"),
    (AM, "What cardiac device was implanted in Adolfo Marquardt in 2016?", ["Insertion of biventricular implantable cardioverter defibrillator", "biventricular ICD", "biventricular implantable cardioverter defibrillator", "CRT-D"], "text", '"text": "Insertion of biventricular implantable cardioverter defibrillator"', "2016-04-26, after cardiac arrest"),
    (AM, "Mr. Marquardt: allergies?", ["Shellfish allergy", "shellfish"], "text", '"text": "Shellfish allergy"', None),
    ]
