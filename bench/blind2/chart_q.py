"""Named questions (20) about the hand-entered chart entries in chart_entries.jsonl.
evidence = the entry's "text" value; for absences, the patient's "name" field (see note)."""
def D(iso, long):
    y, m, d = iso.split('-')
    return [iso, long, f"{m}/{d}/{y}"]
Q = [
("Margaret Okafor", "CV2-1001", "What is Margaret Okafor on now?", ["Metformin 500 mg tablet", "Losartan 50 mg tablet"], "list", "Metformin 500 mg tablet", "current = medication entries with status active and no stop date (2 items: metformin, losartan); lisinopril was stopped 2021-09-15"),
("Margaret Okafor", "CV2-1001", "When was Ms. Okafor referred to ophthalmology, and why?", D("2023-06-01", "June 1, 2023") + ["background diabetic retinopathy on screening photographs", "diabetic retinopathy", "Dr. Helen Marsh"], "date", "Ophthalmology referral", "the date, the reason and the recipient (Dr. Helen Marsh) are fields of the same entry"),
("Margaret Okafor", "CV2-1001", "Did Margaret Okafor have a reaction to lisinopril?", ["yes", "Angioedema of the lips attributed to lisinopril", "angioedema"], "yes", "Angioedema of the lips attributed to lisinopril", "complication entry 2021-09-14; lisinopril stopped the next day and replaced by losartan"),
("Tomasz Wieczorek", "CV2-1002", "What is Tomasz Wieczorek taking now?", ["Apixaban 5 mg tablet"], "list", "Apixaban 5 mg tablet", "only one active medication (apixaban); enoxaparin was stopped 2019-03-21"),
("Tomasz Wieczorek", "CV2-1002", "Has Tomasz Wieczorek had a hip replacement?", ["yes", "Right total hip replacement"] + D("2019-02-21", "February 21, 2019"), "yes", "Right total hip replacement", None),
("Tomasz Wieczorek", "CV2-1002", "When was Mr. Wieczorek referred to cardiology, and for what?", D("2022-08-30", "August 30, 2022") + ["new atrial fibrillation with palpitations", "atrial fibrillation", "St Luke's Heart Clinic"], "date", "Cardiology referral", "referred to St Luke's Heart Clinic"),
("Tomasz Wieczorek", "CV2-1002", "Has Tomasz Wieczorek had a pacemaker put in?", ["no"], "no", '"name": "Tomasz Wieczorek"', "absence: no entry mentions a pacemaker (he had an electrical cardioversion on 2022-10-11)"),
("Tomasz Wieczorek", "CV2-1002", "What dose of enoxaparin was Tomasz Wieczorek given after his hip surgery?", ["40 mg", "40 mg once daily", "40 mg subcutaneous once daily"], "dose", "Enoxaparin 40 mg injection", "dose 40 mg subcutaneous once daily, 2019-02-21 to 2019-03-21"),
("Aisha Rahman", "CV2-1003", "What is Aisha Rahman on now?", ["Salbutamol 100 mcg inhaler"], "list", "Salbutamol 100 mcg inhaler", "only active medication (salbutamol = albuterol); fluticasone stopped 2020-05-01, cefalexin stopped 2020-11-26"),
("Aisha Rahman", "CV2-1003", "Has Aisha Rahman had her appendix removed?", ["yes", "Laparoscopic appendectomy"] + D("2020-11-07", "November 7, 2020"), "yes", "Laparoscopic appendectomy", None),
("Aisha Rahman", "CV2-1003", "What antibiotic and dose did Ms. Rahman get for her port-site infection?", ["Cefalexin 500 mg capsule", "cefalexin 500 mg", "500 mg four times daily", "cephalexin 500 mg"], "dose", "Cefalexin 500 mg capsule", "500 mg oral four times daily, 2020-11-19 to 2020-11-26"),
("Aisha Rahman", "CV2-1003", "Is Aisha Rahman still using her fluticasone inhaler?", ["no", "stopped"], "no", "Fluticasone 250 mcg inhaler", "stated: status stopped, stop date 2020-05-01"),
("Ronald Beaumont", "CV2-1004", "What dose of amlodipine is Ronald Beaumont taking now?", ["10 mg", "10 mg once daily", "Amlodipine 10 mg tablet"], "dose", "Amlodipine 10 mg tablet", "the 5 mg entry was stopped 2018-03-12 when the 10 mg one started"),
("Ronald Beaumont", "CV2-1004", "When was Ronald Beaumont referred to the sleep clinic, and why?", D("2024-02-08", "February 8, 2024") + ["loud snoring and daytime sleepiness, suspected obstructive sleep apnoea", "suspected obstructive sleep apnoea", "sleep apnea", "Northfield Sleep Centre"], "date", "Sleep clinic referral", "referred to Northfield Sleep Centre"),
("Ronald Beaumont", "CV2-1004", "Has Mr. Beaumont had a colonoscopy?", ["yes", "Screening colonoscopy"] + D("2021-04-22", "April 22, 2021"), "yes", "Screening colonoscopy", "a sigmoid polyp was removed at the same procedure"),
("Lucia Ferreira", "CV2-1005", "What is Lucia Ferreira on now?", ["Levothyroxine 75 mcg tablet"], "list", "Levothyroxine 75 mcg tablet", "only active medication (levothyroxine); sertraline stopped 2022-07-01"),
("Lucia Ferreira", "CV2-1005", "Has Lucia Ferreira had a hysterectomy?", ["yes", "Total abdominal hysterectomy"] + D("2019-06-14", "June 14, 2019"), "yes", "Total abdominal hysterectomy", None),
("Lucia Ferreira", "CV2-1005", "Has Ms. Ferreira had a thyroidectomy?", ["no"], "no", '"name": "Lucia Ferreira"', "absence: no thyroid surgery entry (hypothyroidism on levothyroxine; endocrinology referral for a nodule)"),
("Kwame Asante", "CV2-1006", "What dose of insulin glargine is Kwame Asante on?", ["12 units", "12 units once daily at bedtime", "12 units at bedtime"], "dose", "Insulin glargine 100 units/mL pen", "dose 12 units subcutaneous once daily at bedtime"),
("Kwame Asante", "CV2-1006", "Has Kwame Asante had his tonsils taken out?", ["yes", "Tonsillectomy"] + D("2016-04-19", "April 19, 2016"), "yes", "Tonsillectomy", None),
]
