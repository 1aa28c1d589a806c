"""The demo vault's documents: a small synthetic set made in code, and a modest subset of the public data.

Everything here is fictional or public: the synthetic patients, notes, HL7 and
FHIR messages, the DOCX letter, the text-layer PDF and the handwriting-style
scan are generated in memory with fixed names and dates (so a demo vault is
the same every time); `shared_files` picks a few files from the public test
data (../shared/data, see its README for licences). This module only returns
bytes; `archive.demo` writes them into the new vault's inbox and imports them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DemoPatient:
    mrn: str
    name: str
    dob: str
    sex: str
    attending: str  # a demo physician's user name


@dataclass(frozen=True)
class DemoFile:
    name: str  # relative path inside the staging folder
    data: bytes
    about: str = ""  # what it demonstrates
    patient: DemoPatient | None = None  # a patient made for this file (to add before the import)


PATIENTS = (
    DemoPatient("DEMO-1001", "Harriet Vale", "1948-03-12", "F", "drmaria"),
    DemoPatient("DEMO-1002", "Tomas Reyes", "1975-09-30", "M", "drmaria"),
    DemoPatient("DEMO-1003", "Amina Okafor", "1990-06-21", "F", "drchen"),
    DemoPatient("DEMO-1004", "George Lund", "1962-11-02", "M", "drchen"),
    DemoPatient("DEMO-1005", "Lucy Brennan", "2012-04-15", "F", "drmaria"),
)

# What the handwriting-style scan says (its transcription is left for a technician to type).
HANDWRITTEN_LINES = (
    "Pt c/o SOB x3 days, hx HTN, DM2.",
    "BP 150/95  HR 98  SpO2 93% RA",
    "Impression: CAP, r/o CHF exacerbation",
    "Plan: CXR, BNP, start ceftriaxone",
)


def _note(header: dict[str, str], body: str) -> bytes:
    lines = [f"{key}: {value}" for key, value in header.items()]
    return ("\n".join(lines) + "\n\n" + body.strip() + "\n").encode("utf-8")


def synthetic_files() -> list[DemoFile]:
    """The synthetic demo documents: every supported format, fixed content."""
    p = {pt.mrn: pt for pt in PATIENTS}
    files = [
        DemoFile("notes/vale_discharge_2024-02-09.txt", _note(
            {"Patient": p["DEMO-1001"].name, "MRN": "DEMO-1001", "DOB": p["DEMO-1001"].dob,
             "Date": "2024-02-09", "Author": "Dr. Maria Lopez"},
            """
DISCHARGE SUMMARY

Admitted 2024-02-03 with shortness of breath and leg swelling. Diagnosis: acute on
chronic systolic congestive heart failure (heart failure exacerbation), essential
hypertension. Echocardiogram: ejection fraction 30 percent.

Treatment: intravenous furosemide, then furosemide 40 mg by mouth once daily.
Lisinopril 10 mg once daily continued. Weight down 4 kg at discharge.

Follow-up: cardiology clinic (Dr. Wei Chen) in 4 weeks; daily weights; low-salt diet.
""")),
        DemoFile("notes/vale_cardiology_2024-03-15.md", _note(
            {"Patient": p["DEMO-1001"].name, "MRN": "DEMO-1001", "Date": "2024-03-15",
             "Author": "Dr. Wei Chen"},
            """
# Cardiology clinic note

Seen after admission for heart failure. Breathing much better, no orthopnoea.
Blood pressure 132/80. Mild ankle oedema.

## Plan
- Continue furosemide 40 mg daily and lisinopril 10 mg daily.
- Start bisoprolol 1.25 mg daily for heart failure with reduced ejection fraction.
- Repeat echocardiogram in 3 months.
""")),
        DemoFile("notes/reyes_diabetes_2024-01-10.txt", _note(
            {"Patient": p["DEMO-1002"].name, "MRN": "DEMO-1002", "DOB": p["DEMO-1002"].dob,
             "Date": "2024-01-10", "Author": "Dr. Maria Lopez"},
            """
DIABETES FOLLOW-UP

Type 2 diabetes mellitus without complications, diagnosed 2023. HbA1c 7.2 percent,
down from 8.1. Tolerating metformin; increase metformin to 1000 mg twice daily.
Foot examination normal, monofilament sensation intact. Retinal screening booked.
""")),
        DemoFile("notes/okafor_clinic_2023-11-20.txt", _note(
            {"Patient": p["DEMO-1003"].name, "MRN": "DEMO-1003", "DOB": p["DEMO-1003"].dob,
             "Date": "2023-11-20", "Author": "Dr. Wei Chen"},
            """
CLINIC NOTE

Four days of fever, productive cough and right-sided pleuritic chest pain.
Crackles at the right base. Chest X-ray: right lower lobe consolidation.
Assessment: community-acquired pneumonia, right lower lobe.
Plan: amoxicillin 1 g three times daily for 5 days; review in 48 hours if not improving.
""")),
        DemoFile("notes/brennan_asthma_2023-09-05.md", _note(
            {"Patient": p["DEMO-1005"].name, "MRN": "DEMO-1005", "DOB": p["DEMO-1005"].dob,
             "Date": "2023-09-05", "Author": "Dr. Maria Lopez"},
            """
# Paediatric asthma review

Mild persistent asthma, night cough twice a week. Inhaler technique checked with spacer.
Continue salbutamol inhaler as needed; start inhaled budesonide 100 micrograms twice daily.
Asthma action plan given to her mother.
""")),
        # No MRN and no patient name: waits in the "needs filing" queue.
        DemoFile("inbox-fax/referral_fax_2024-04-02.txt", _note(
            {"Date": "2024-04-02"},
            """
FAXED REFERRAL (patient details illegible on the cover sheet)

Please see this gentleman with chronic kidney disease stage 3 and anaemia for a
nephrology opinion. Current medication: ramipril 5 mg daily, ferrous sulfate 200 mg daily.
""")),
        DemoFile("reports/okafor_chest_xray_2023-11-20.pdf", text_pdf([
            "RADIOLOGY REPORT - CHEST X-RAY PA",
            f"Patient: {p['DEMO-1003'].name}   MRN: DEMO-1003",
            "Date: 2023-11-20",
            "Findings: airspace consolidation in the right lower lobe.",
            "No pleural effusion. Heart size normal.",
            "Impression: right lower lobe pneumonia.",
        ])),
        DemoFile("letters/lund_orthopaedic_consult_2024-01-12.docx", docx_letter(
            "Orthopaedic consultation",
            {"Patient": p["DEMO-1004"].name, "MRN": "DEMO-1004", "DOB": p["DEMO-1004"].dob,
             "Date": "2024-01-12", "Author": "Dr. Wei Chen"},
            [
                "Mr Lund fell at home and could not bear weight. X-ray shows a displaced fracture of the "
                "right femoral neck (closed fracture of the right hip).",
                "Background: osteoporosis, on alendronic acid 70 mg weekly.",
                "Plan: right hip hemiarthroplasty tomorrow; thromboprophylaxis with enoxaparin 40 mg daily; "
                "physiotherapy referral after surgery.",
            ],
        )),
        DemoFile("hl7/lund_operative_note_MDM_T02.hl7", hl7_mdm(p["DEMO-1004"])),
        DemoFile("hl7/vale_admission_ADT_A01.hl7", hl7_adt(p["DEMO-1001"])),
        DemoFile("fhir/reyes_bundle.json", fhir_bundle(p["DEMO-1002"])),
        DemoFile("scans/progress_note_handwritten.png", handwriting_png()),
        # A damaged file: quarantined with its reason (see the queues screen).
        DemoFile("scans/fax_0417_damaged.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"),
    ]
    return files


# ----------------------------------------------------------------- formats


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a real text layer (Helvetica), written by hand."""
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    content = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({line}) '" for line in escaped) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        "/Contents 5 0 R >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def docx_letter(title: str, header: dict[str, str], paragraphs: list[str]) -> bytes:
    """A Word document made with python-docx, in memory (fixed core properties, so the bytes repeat)."""
    import datetime as dt

    from docx import Document

    doc = Document()
    doc.add_heading(title, level=1)
    for key, value in header.items():
        doc.add_paragraph(f"{key}: {value}")
    for text in paragraphs:
        doc.add_paragraph(text)
    fixed = dt.datetime(2024, 1, 12, 9, 0, 0)
    props = doc.core_properties
    props.author, props.last_modified_by = "chartvault demo", "chartvault demo"
    props.created, props.modified, props.revision = fixed, fixed, 1
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def hl7_adt(pt: DemoPatient) -> bytes:
    family, given = pt.name.split()[-1], pt.name.split()[0]
    dob = pt.dob.replace("-", "")
    segments = [
        "MSH|^~\\&|DEMOADT|DEMOHOSP|CHARTVAULT|DEMOHOSP|20240203101500||ADT^A01|DEMO0001|P|2.5",
        "EVN|A01|20240203101500",
        f"PID|1||{pt.mrn}^^^DEMOHOSP^MR||{family}^{given}||{dob}|{pt.sex}",
        "PV1|1|I|WARD4^12^B^DEMOHOSP||||MLOPEZ^Lopez^Maria^^^Dr|||MED||||||||||V1001|||||||||||||||||||||||||"
        "20240203101500|20240209150000",
        "DG1|1|I10|I50.9^Heart failure, unspecified^I10|Heart failure|20240203|A",
        "DG1|2|I10|I10^Essential (primary) hypertension^I10|Hypertension|20240203|A",
    ]
    return ("\r".join(segments) + "\r").encode("ascii")


def hl7_mdm(pt: DemoPatient) -> bytes:
    family, given = pt.name.split()[-1], pt.name.split()[0]
    dob = pt.dob.replace("-", "")
    text = [
        "OPERATIVE NOTE",
        "Procedure: right hip hemiarthroplasty for displaced femoral neck fracture.",
        "Anaesthesia: spinal. Blood loss 300 ml. No complications.",
        "Post-operative plan: enoxaparin 40 mg daily for 28 days, full weight bearing, physiotherapy.",
    ]
    segments = [
        "MSH|^~\\&|DEMOTHEATRE|DEMOHOSP|CHARTVAULT|DEMOHOSP|20240113160000||MDM^T02|DEMO0002|P|2.5",
        "EVN|T02|20240113160000",
        f"PID|1||{pt.mrn}^^^DEMOHOSP^MR||{family}^{given}||{dob}|{pt.sex}",
        "PV1|1|I|THEATRE2^^^DEMOHOSP||||WCHEN^Chen^Wei^^^Dr|||ORT",
        "TXA|1|OP^Operative note|TX|20240113160000|WCHEN^Chen^Wei^^^Dr|20240113160000",
    ]
    segments += [f"OBX|{i}|TX|OPNOTE^Operative note||{line}||||||F" for i, line in enumerate(text, 1)]
    return ("\r".join(segments) + "\r").encode("ascii")


def fhir_bundle(pt: DemoPatient) -> bytes:
    given, family = pt.name.split()[0], pt.name.split()[-1]
    subject = {"reference": "Patient/demo-reyes"}
    resources = [
        {"resourceType": "Patient", "id": "demo-reyes",
         "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": pt.mrn}],
         "name": [{"use": "official", "family": family, "given": [given]}],
         "gender": "male" if pt.sex == "M" else "female", "birthDate": pt.dob},
        {"resourceType": "Encounter", "id": "demo-enc-1", "status": "finished",
         "class": {"code": "AMB"}, "type": [{"text": "Diabetes clinic visit"}], "subject": subject,
         "period": {"start": "2023-06-14T09:00:00Z", "end": "2023-06-14T09:30:00Z"}},
        {"resourceType": "Condition", "id": "demo-cond-1", "subject": subject,
         "clinicalStatus": {"coding": [{"code": "active"}]},
         "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9",
                              "display": "Type 2 diabetes mellitus without complications"}],
                  "text": "Type 2 diabetes mellitus"},
         "onsetDateTime": "2023-06-14"},
        {"resourceType": "MedicationRequest", "id": "demo-med-1", "status": "active", "intent": "order",
         "subject": subject, "authoredOn": "2023-06-14",
         "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                   "code": "860975", "display": "Metformin 500 MG Oral Tablet"}],
                                       "text": "Metformin 500 MG Oral Tablet"}},
        {"resourceType": "Observation", "id": "demo-obs-1", "status": "final", "subject": subject,
         "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c"}],
                  "text": "Hemoglobin A1c"},
         "effectiveDateTime": "2023-06-14", "valueQuantity": {"value": 8.1, "unit": "%"}},
    ]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    return json.dumps(bundle, indent=1).encode("utf-8")


def handwriting_png(lines: tuple[str, ...] = HANDWRITTEN_LINES) -> bytes:
    """A handwriting-style scan drawn with PIL: each letter tilted and shifted, grey noise, blur (seeded)."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = random.Random(20240203)
    width, height = 1100, 90 + 70 * len(lines)
    img = Image.new("L", (width, height), 245)
    for row, line in enumerate(lines):
        x = 50.0
        base = 45 + 70 * row
        for ch in line:
            font = ImageFont.load_default(size=rng.randint(26, 36))
            glyph = Image.new("L", (60, 60), 0)
            ImageDraw.Draw(glyph).text((10, 5), ch, fill=255, font=font)
            glyph = glyph.rotate(rng.uniform(-14, 14), resample=Image.Resampling.BICUBIC)
            ink = Image.new("L", glyph.size, rng.randint(20, 80))
            img.paste(ink, (int(x), int(base + rng.uniform(-6, 6))), glyph)
            x += font.getlength(ch) * rng.uniform(0.9, 1.25)
    img = img.rotate(1.5, resample=Image.Resampling.BICUBIC, fillcolor=245)
    # Speckle on about one pixel in eight, from the seeded generator: PIL's effect_noise draws from the C
    # library's rand(), whose state is the process's, so the scan (and its OCR) changed with what ran before.
    noise = Image.frombytes("L", (width, height), rng.randbytes(width * height)).point(lambda v: 0 if v < 33 else 255)
    img = Image.composite(img, Image.new("L", (width, height), 140), noise)
    img = img.filter(ImageFilter.GaussianBlur(1.1))
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False)
    return out.getvalue()


# ----------------------------------------------------------------- public data


# A modest subset of ../shared/data: a few of each kind, small files first.
SHARED_HL7 = ("ADT-A01-02.hl7", "ADT-A03-01.hl7", "MDM-T02-01.hl7", "ORU-R01-01.hl7", "REF-I12-01.hl7",
              "SIU-S12-01.hl7")
SHARED_FHIR_BUNDLES = 3
SHARED_MTSAMPLES = ("Cardiovascular / Pulmonary", "Orthopedic", "Gastroenterology", "Neurology",
                    "Discharge Summary", "Nephrology")
SHARED_MTSAMPLES_EACH = 2
SHARED_ACI_NOTES = 4


def shared_files(data_dir: Path) -> list[DemoFile]:
    """A modest subset of the public test data. Each note is filed to the patient it describes (see
    `file_notes`); two are left without an MRN, for the filing queue."""
    files: list[DemoFile] = []
    hl7_dir = data_dir / "hl7v2"
    for name in SHARED_HL7:
        if (hl7_dir / name).is_file():
            files.append(DemoFile(f"shared/hl7/{name}", (hl7_dir / name).read_bytes(), "HL7 v2 (public sample)"))
    fhir_dir = data_dir / "fhir-r4"
    if fhir_dir.is_dir():
        smallest = sorted(fhir_dir.glob("*.json"), key=lambda f: f.stat().st_size)[:SHARED_FHIR_BUNDLES]
        for path in smallest:
            files.append(DemoFile(f"shared/fhir/{path.name}", path.read_bytes(), "Synthea FHIR R4 bundle"))
    notes = _mtsamples(data_dir / "mtsamples" / "mtsamples.csv") + _aci_notes(data_dir / "aci-bench" / "train.csv")
    files += file_notes(notes, unfiled=2)
    scan = data_dir / "ocr" / "handwriting_style_note.png"
    if scan.is_file():
        files.append(DemoFile("shared/scans/handwriting_style_note.png", scan.read_bytes(), "handwriting scan"))
    return files


# ----------------------------------------------------------------- who a note is about

# Public notes describe their own (fictional) patients: "Martha Collins is a 50-year-old female",
# "This 31 y/o RHF", "Ms. Connor". A note is filed only to a patient it agrees with (name, sex, age at
# the note's date); a note that fits no demo patient gets a patient of its own, made from what it says.

_TITLES = {"mr": "M", "mrs": "F", "ms": "F", "miss": "F"}
_SEX_WORDS = {"male": "M", "man": "M", "boy": "M", "gentleman": "M", "female": "F", "woman": "F", "girl": "F",
              "lady": "F"}
_NOT_NAMES = {"this", "the", "that", "patient", "she", "he", "it", "there", "today", "history", "our", "her", "his"}
_AGE_SEX = re.compile(
    r"\b(\d{1,3})[- ](?:year|yr)s?[- ]old\b(?:[\s,]+(?:white|black|african[- ]american|caucasian|hispanic|asian|"
    r"right[- ]handed|left[- ]handed|obese|pleasant|healthy))*(?:[\s,]+(male|female|man|woman|boy|girl|gentleman|"
    r"lady)\b)?", re.I)
_YO = re.compile(r"\b(\d{1,3})\s*y/?o\b(?:\s+[RL]?H?([MF])\b)?")
_NAMED = re.compile(
    r"\b(?:(Mr|Mrs|Ms|Miss)\.?\s+)?([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+is\s+an?\s+\d{1,3}[- ](?:year|yr)")
_TITLED = re.compile(r"\b(Mr|Mrs|Ms|Miss)\.?\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\b")
_SHE = re.compile(r"\b(?:she|her|hers|herself)\b", re.I)
_HE = re.compile(r"\b(?:he|him|his|himself)\b", re.I)


@dataclass(frozen=True)
class Stated:
    """What a note says about its patient (None: it does not say)."""

    name: str | None = None
    sex: str | None = None  # "F" or "M"
    age: int | None = None

    def __bool__(self) -> bool:
        return bool(self.name or self.sex or self.age is not None)


def stated_patient(text: str) -> Stated:
    """The patient's name, sex and age as a note states them: the first "<Name> is a N-year-old <sex>",
    "N-year-old <sex>", "N y/o RHF" or "Mr./Ms. <Name>"; sex from the pronouns when only one kind is used."""
    name: str | None = None
    sex: str | None = None
    age: int | None = None
    named = _NAMED.search(text)
    if named and (named.group(1) or len(named.group(2).split()) == 2) \
            and named.group(2).split()[0].lower() not in _NOT_NAMES:
        name = named.group(2)
        sex = _TITLES.get((named.group(1) or "").lower())
    else:
        titled = _TITLED.search(text)
        if titled:
            name, sex = titled.group(2), _TITLES[titled.group(1).lower()]
    age_sex = _AGE_SEX.search(text)
    yo = _YO.search(text)
    first = min((m for m in (age_sex, yo) if m), key=lambda m: m.start(), default=None)
    if first is not None:
        age = int(first.group(1))
        word = first.group(2)
        if word:
            sex = sex or _SEX_WORDS.get(word.lower(), word.upper() if word.upper() in ("F", "M") else None)
    if sex is None:
        she, he = len(_SHE.findall(text)), len(_HE.findall(text))
        if she >= 2 and not he:
            sex = "F"
        elif he >= 2 and not she:
            sex = "M"
    return Stated(name, sex, age)


def age_on(dob: str, day: str) -> int:
    born, then = dt.date.fromisoformat(dob[:10]), dt.date.fromisoformat(day[:10])
    return then.year - born.year - ((then.month, then.day) < (born.month, born.day))


def agrees(stated: Stated, patient: DemoPatient, day: str) -> bool:
    """Whether a note that says `stated` on `day` can be about `patient` (what it does not say agrees)."""
    if stated.sex and stated.sex != patient.sex:
        return False
    if stated.age is not None and age_on(patient.dob, day) != stated.age:
        return False
    if stated.name:
        known = {w.lower() for w in patient.name.split()}
        if not {w.lower() for w in stated.name.split()} <= known:
            return False
    return True


# Names for patients a note describes without naming them in full (fictional, fixed).
_GIVEN = {"F": ("Rosa", "Nora", "Ellen", "Ines", "Greta"), "M": ("Victor", "Samuel", "Peter", "Omar", "Felix"),
          "U": ("Alex", "Sam", "Robin", "Kim", "Jo")}
_FAMILY = ("Hale", "Novak", "Marsh", "Ortiz", "Lindqvist", "Achebe", "Moreau", "Keller")


def patient_for(stated: Stated, day: str, n: int) -> DemoPatient:
    """The `n`th patient made from a note: its name (completed with a fictional one where it gives only part
    or none), its sex, and a birth date that makes the stated age true on `day`."""
    sex = stated.sex or "U"
    words = stated.name.split() if stated.name else []
    if len(words) < 2:
        words = [_GIVEN[sex][n % len(_GIVEN[sex])]] + (words or [_FAMILY[n % len(_FAMILY)]])
    age = stated.age if stated.age is not None else 40 + 7 * n
    born = dt.date.fromisoformat(day) - dt.timedelta(days=int(age * 365.25) + 100)
    if age_on(born.isoformat(), day) != age:  # leap years: one more day settles it
        born -= dt.timedelta(days=1)
    return DemoPatient(f"DEMO-{2001 + n}", " ".join(words), born.isoformat(), sex, ("drchen", "drmaria")[n % 2])


def file_notes(notes: list[tuple[str, str, str]], unfiled: int = 0) -> list[DemoFile]:
    """(name, text, date) notes as demo files, each with the MRN of a patient it agrees with: a demo patient
    (taking turns among those that fit), else one made from the note. The first `unfiled` wait for filing."""
    made: list[DemoPatient] = []
    files: list[DemoFile] = []
    for i, (name, text, date) in enumerate(notes):
        header = {"Date": date}
        new: DemoPatient | None = None
        if i >= unfiled:
            stated = stated_patient(text)
            fits = [pt for pt in (*PATIENTS, *made) if agrees(stated, pt, date)]
            if fits:
                mrn = fits[i % len(fits)].mrn
            else:
                new = patient_for(stated, date, len(made))
                made.append(new)
                mrn = new.mrn
            header = {"MRN": mrn, **header}
        files.append(DemoFile(f"shared/notes/{name}", _note(header, text), "public transcription", new))
    return files


def _mtsamples(path: Path) -> list[tuple[str, str, str]]:
    if not path.is_file():
        return []
    wanted = {s: 0 for s in SHARED_MTSAMPLES}
    out: list[tuple[str, str, str]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            specialty = (row.get("medical_specialty") or "").strip()
            text = (row.get("transcription") or "").strip()
            if specialty not in wanted or wanted[specialty] >= SHARED_MTSAMPLES_EACH or not 400 < len(text) < 6000:
                continue
            wanted[specialty] += 1
            n = len(out) + 1
            slug = "".join(c if c.isalnum() else "_" for c in specialty.lower()).strip("_")
            out.append((f"mtsamples_{n:02d}_{slug}.txt", text, f"2023-{(n % 12) + 1:02d}-{(n * 3) % 27 + 1:02d}"))
            if all(v >= SHARED_MTSAMPLES_EACH for v in wanted.values()):
                break
    return out


def _aci_notes(path: Path) -> list[tuple[str, str, str]]:
    if not path.is_file():
        return []
    out: list[tuple[str, str, str]] = []
    csv.field_size_limit(10_000_000)
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            note = (row.get("note") or "").strip()
            if not note:
                continue
            n = len(out) + 1
            out.append((f"aci_bench_{n:02d}.txt", note, f"2024-{(n % 12) + 1:02d}-{(n * 5) % 27 + 1:02d}"))
            if len(out) >= SHARED_ACI_NOTES:
                break
    return out
