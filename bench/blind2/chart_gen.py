"""Writes chart_entries.jsonl: 6 fictional patients and their hand-entered chart entries (all invented)."""
import json
P = [
 ("CV2-1001", "Margaret Okafor", "1958-04-12", "F"),
 ("CV2-1002", "Tomasz Wieczorek", "1949-11-03", "M"),
 ("CV2-1003", "Aisha Rahman", "1990-07-25", "F"),
 ("CV2-1004", "Ronald Beaumont", "1962-01-30", "M"),
 ("CV2-1005", "Lucia Ferreira", "1975-09-18", "F"),
 ("CV2-1006", "Kwame Asante", "2010-05-06", "M"),
]
E = [
 # Margaret Okafor
 dict(mrn="CV2-1001", kind="diagnosis", text="Type 2 diabetes mellitus", date="2016-03-10", status="active"),
 dict(mrn="CV2-1001", kind="medication", text="Metformin 500 mg tablet", date="2016-03-10", status="active", dose="500 mg", route="oral", frequency="twice daily"),
 dict(mrn="CV2-1001", kind="medication", text="Lisinopril 10 mg tablet", date="2017-06-02", status="stopped", dose="10 mg", route="oral", frequency="once daily", stop="2021-09-15"),
 dict(mrn="CV2-1001", kind="complication", text="Angioedema of the lips attributed to lisinopril", date="2021-09-14", status="resolved"),
 dict(mrn="CV2-1001", kind="medication", text="Losartan 50 mg tablet", date="2021-09-15", status="active", dose="50 mg", route="oral", frequency="once daily"),
 dict(mrn="CV2-1001", kind="procedure", text="Diabetic retinal screening photography", date="2023-05-19", status="completed"),
 dict(mrn="CV2-1001", kind="referral", text="Ophthalmology referral", date="2023-06-01", to="Dr. Helen Marsh", reason="background diabetic retinopathy on screening photographs"),
 # Tomasz Wieczorek
 dict(mrn="CV2-1002", kind="procedure", text="Right total hip replacement", date="2019-02-21", status="completed"),
 dict(mrn="CV2-1002", kind="medication", text="Enoxaparin 40 mg injection", date="2019-02-21", status="stopped", dose="40 mg", route="subcutaneous", frequency="once daily", stop="2019-03-21"),
 dict(mrn="CV2-1002", kind="diagnosis", text="Atrial fibrillation", date="2022-08-30", status="active"),
 dict(mrn="CV2-1002", kind="medication", text="Apixaban 5 mg tablet", date="2022-08-30", status="active", dose="5 mg", route="oral", frequency="twice daily"),
 dict(mrn="CV2-1002", kind="referral", text="Cardiology referral", date="2022-08-30", to="St Luke's Heart Clinic", reason="new atrial fibrillation with palpitations"),
 dict(mrn="CV2-1002", kind="procedure", text="Electrical cardioversion", date="2022-10-11", status="completed"),
 # Aisha Rahman
 dict(mrn="CV2-1003", kind="diagnosis", text="Asthma", date="2015-09-01", status="active"),
 dict(mrn="CV2-1003", kind="medication", text="Salbutamol 100 mcg inhaler", date="2015-09-01", status="active", dose="2 puffs", route="inhaled", frequency="as needed"),
 dict(mrn="CV2-1003", kind="medication", text="Fluticasone 250 mcg inhaler", date="2018-01-15", status="stopped", dose="1 puff", route="inhaled", frequency="twice daily", stop="2020-05-01"),
 dict(mrn="CV2-1003", kind="procedure", text="Laparoscopic appendectomy", date="2020-11-07", status="completed"),
 dict(mrn="CV2-1003", kind="complication", text="Port-site wound infection", date="2020-11-19", status="resolved"),
 dict(mrn="CV2-1003", kind="medication", text="Cefalexin 500 mg capsule", date="2020-11-19", status="stopped", dose="500 mg", route="oral", frequency="four times daily", stop="2020-11-26"),
 # Ronald Beaumont
 dict(mrn="CV2-1004", kind="diagnosis", text="Hypertension", date="2015-05-05", status="active"),
 dict(mrn="CV2-1004", kind="medication", text="Amlodipine 5 mg tablet", date="2015-05-05", status="stopped", dose="5 mg", route="oral", frequency="once daily", stop="2018-03-12"),
 dict(mrn="CV2-1004", kind="medication", text="Amlodipine 10 mg tablet", date="2018-03-12", status="active", dose="10 mg", route="oral", frequency="once daily"),
 dict(mrn="CV2-1004", kind="procedure", text="Screening colonoscopy", date="2021-04-22", status="completed"),
 dict(mrn="CV2-1004", kind="procedure", text="Endoscopic removal of sigmoid colon polyp", date="2021-04-22", status="completed"),
 dict(mrn="CV2-1004", kind="referral", text="Sleep clinic referral", date="2024-02-08", to="Northfield Sleep Centre", reason="loud snoring and daytime sleepiness, suspected obstructive sleep apnoea"),
 # Lucia Ferreira
 dict(mrn="CV2-1005", kind="diagnosis", text="Hypothyroidism", date="2017-10-02", status="active"),
 dict(mrn="CV2-1005", kind="medication", text="Levothyroxine 75 mcg tablet", date="2017-10-02", status="active", dose="75 mcg", route="oral", frequency="once daily"),
 dict(mrn="CV2-1005", kind="procedure", text="Total abdominal hysterectomy", date="2019-06-14", status="completed"),
 dict(mrn="CV2-1005", kind="medication", text="Sertraline 50 mg tablet", date="2020-01-20", status="stopped", dose="50 mg", route="oral", frequency="once daily", stop="2022-07-01"),
 dict(mrn="CV2-1005", kind="referral", text="Endocrinology referral", date="2023-03-03", to="Dr. Samuel Ito", reason="thyroid nodule found on neck ultrasound"),
 # Kwame Asante (child)
 dict(mrn="CV2-1006", kind="procedure", text="Tonsillectomy", date="2016-04-19", status="completed"),
 dict(mrn="CV2-1006", kind="complication", text="Diabetic ketoacidosis at presentation", date="2018-12-01", status="resolved"),
 dict(mrn="CV2-1006", kind="diagnosis", text="Type 1 diabetes mellitus", date="2018-12-03", status="active"),
 dict(mrn="CV2-1006", kind="medication", text="Insulin glargine 100 units/mL pen", date="2018-12-03", status="active", dose="12 units", route="subcutaneous", frequency="once daily at bedtime"),
 dict(mrn="CV2-1006", kind="medication", text="Insulin aspart 100 units/mL pen", date="2018-12-03", status="active", dose="per carbohydrate ratio", route="subcutaneous", frequency="with meals"),
]
if __name__ == '__main__':
    with open('chart_entries.jsonl', 'w') as f:
        for m, n, d, s in P:
            f.write(json.dumps({"patient": {"mrn": m, "name": n, "dob": d, "sex": s}}) + "\n")
        for e in E:
            f.write(json.dumps({"entry": e}) + "\n")
    print(len(P), len(E))
