"""The assistant benchmark's corpus and its ground truth, read straight from ../shared/data.

- ACI-Bench (CC BY 4.0): each train note becomes a text record with a header
  (Patient, MRN ACI-<encounter id>, a date assigned deterministically: note i
  on 2019-01-07 + 11*i days, Sex). Ground truth: the chief complaint and the
  secondary complaints of train_metadata.csv.
- Synthea FHIR R4 bundles (Apache-2.0): imported as they are. Ground truth:
  MedicationRequest / Procedure / Condition resources parsed from the JSON here
  (not through chartvault's extractor), with their dates.
Nothing here is hand-copied from an answer: questions and expectations are
generated from these facts (bench/assistant.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIRST_DAY = dt.date(2019, 1, 7)


@dataclass
class AciNote:
    encounter_id: str
    mrn: str
    name: str
    sex: str
    date: str
    cc: str
    complaints: list[str]
    text: str
    file: str = ""


@dataclass
class FhirFact:
    kind: str  # medication | procedure | condition
    text: str
    date: str


@dataclass
class FhirPatient:
    mrn: str
    name: str
    file: Path
    facts: list[FhirFact] = field(default_factory=list)


def aci_notes(limit: int | None = None) -> list[AciNote]:
    csv.field_size_limit(10**8)
    folder = DATA / "aci-bench"
    with open(folder / "train.csv", encoding="utf-8", newline="") as fh:
        notes = {row["encounter_id"]: row["note"] for row in csv.DictReader(fh)}
    out = []
    with open(folder / "train_metadata.csv", encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            eid = row["encounter_id"]
            if eid not in notes:
                continue
            name = " ".join(p for p in (row["patient_firstname"].strip(), row["patient_familyname"].strip()) if p)
            date = (FIRST_DAY + dt.timedelta(days=11 * i)).isoformat()
            complaints = [c.strip() for c in row["2nd_complaints"].split(";") if c.strip()]
            out.append(AciNote(eid, f"ACI-{eid}", name, row["patient_gender"], date, row["cc"].strip(), complaints,
                               notes[eid]))
            if limit and len(out) >= limit:
                break
    return out


def note_file_text(note: AciNote) -> str:
    header = f"Patient: {note.name}\nMRN: {note.mrn}\nDate: {note.date}\nSex: {note.sex}\n\n"
    return header + note.text.strip() + "\n"


def _display(concept: dict) -> str:  # type: ignore[type-arg]
    text = concept.get("text")
    if not text:
        codings = concept.get("coding") or [{}]
        text = codings[0].get("display", "")
    return " ".join(str(text).split())


def fhir_patients(limit: int | None = None) -> list[FhirPatient]:
    out = []
    for path in sorted((DATA / "fhir-r4").glob("*.json"))[: limit or None]:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        patient: FhirPatient | None = None
        facts: list[FhirFact] = []
        for entry in bundle.get("entry", []):
            r = entry.get("resource", {})
            kind = r.get("resourceType")
            if kind == "Patient":
                mrn = next((i["value"] for i in r.get("identifier", [])
                            if (i.get("type") or {}).get("text") == "Medical Record Number"), r.get("id"))
                n = (r.get("name") or [{}])[0]
                name = " ".join([*n.get("given", []), n.get("family", "")]).strip()
                patient = FhirPatient(mrn, re.sub(r"\d+", "", name), path)
            elif kind == "MedicationRequest" and r.get("authoredOn"):
                facts.append(FhirFact("medication", _display(r.get("medicationCodeableConcept") or {}),
                                      r["authoredOn"][:10]))
            elif kind == "Procedure":
                when = (r.get("performedPeriod") or {}).get("start") or r.get("performedDateTime")
                if when:
                    facts.append(FhirFact("procedure", _display(r.get("code") or {}), when[:10]))
            elif kind == "Condition" and r.get("onsetDateTime"):
                facts.append(FhirFact("condition", _display(r.get("code") or {}), r["onsetDateTime"][:10]))
        if patient is not None:
            patient.facts = [f for f in facts if f.text]
            out.append(patient)
    return out


def write_corpus(folder: Path, aci_limit: int | None = None, fhir_limit: int | None = None
                 ) -> tuple[list[AciNote], list[FhirPatient]]:
    """Write the notes (with headers) and copy the bundles into `folder`; return the ground truth."""
    folder.mkdir(parents=True, exist_ok=True)
    notes = aci_notes(aci_limit)
    for note in notes:
        note.file = f"aci-{note.encounter_id}.txt"
        (folder / note.file).write_text(note_file_text(note), encoding="utf-8")
    patients = fhir_patients(fhir_limit)
    for p in patients:
        (folder / p.file.name).write_bytes(p.file.read_bytes())
    return notes, patients


# ---------------------------------------------------------------- the fact questions' corpus (bench/assistant.py
# --questions): the above, plus a seeded sample of MTSamples notes and the demo's patients, notes and typed-in
# chart entries.

MTS_SEED = 20
MTS_KINDS = re.compile(r"consult|h&p|history and physical|discharge|soap|follow|progress|office|clinic|"
                       r"evaluation|visit", re.I)


@dataclass
class MtsNote:
    row: int
    mrn: str
    date: str
    title: str
    specialty: str
    text: str
    file: str = ""


def mts_notes(n: int = 60, seed: int = MTS_SEED, also: tuple[int, ...] = ()) -> list[MtsNote]:
    """`n` MTSamples notes (consultations, H&Ps, discharge summaries, follow-ups), chosen by `seed`, and the rows
    `also` (a question file's records: MRN MTS-<row>, the 0-based row of mtsamples.csv)."""
    import random

    csv.field_size_limit(10**8)
    with open(DATA / "mtsamples" / "mtsamples.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    pool = [i for i, r in enumerate(rows)
            if MTS_KINDS.search(r["sample_name"] + " " + r["medical_specialty"])
            and 800 <= len(r["transcription"]) <= 6000]
    picked = sorted(set(random.Random(seed).sample(pool, n)) | {i for i in also if 0 <= i < len(rows)})
    out = []
    for k, i in enumerate(picked):
        r = rows[i]
        date = (dt.date(2018, 2, 3) + dt.timedelta(days=13 * k)).isoformat()
        out.append(MtsNote(i, f"MTS-{i}", date, r["sample_name"].strip(), r["medical_specialty"].strip(),
                           r["transcription"]))
    return out


def mts_file_text(note: MtsNote) -> str:
    body = re.sub(r",\s*(?=[A-Z][A-Z /&]{3,}:)", "\n\n", note.text.strip())  # the CSV flattened its sections
    return f"MRN: {note.mrn}\nDate: {note.date}\nTitle: {note.title}\n\n{body}\n"


# The demo's typed-in chart entries (archive/demo.py), entered here through the same API by a technician.
DEMO_ENTRIES: list[tuple[str, str, str, str, dict[str, str]]] = [
    ("DEMO-1001", "medication", "Furosemide", "2024-02-09",
     {"dose": "40 mg", "route": "oral", "frequency": "once daily", "source": "vale_discharge_2024-02-09.txt"}),
    ("DEMO-1001", "medication", "Lisinopril", "2024-02-09",
     {"dose": "10 mg", "route": "oral", "frequency": "once daily", "source": "vale_discharge_2024-02-09.txt"}),
    ("DEMO-1001", "medication", "Bisoprolol", "2024-03-15",
     {"dose": "1.25 mg", "route": "oral", "frequency": "once daily"}),
    ("DEMO-1001", "medication", "Atorvastatin", "2024-03-15", {"dose": "20 mg", "route": "oral",
                                                               "frequency": "once daily"}),
    ("DEMO-1003", "medication", "Amoxicillin", "2023-11-20",
     {"dose": "1 g", "route": "oral", "frequency": "three times daily", "stop": "2023-11-25",
      "source": "okafor_clinic_2023-11-20.txt"}),
    ("DEMO-1004", "procedure", "Right hip hemiarthroplasty", "2024-01-13", {}),
    ("DEMO-1004", "medication", "Enoxaparin", "2024-01-13",
     {"dose": "40 mg", "route": "subcutaneous", "frequency": "once daily", "stop": "2024-02-10"}),
    ("DEMO-1005", "medication", "Budesonide inhaler", "2023-09-05",
     {"dose": "100 micrograms", "route": "inhaled", "frequency": "twice daily"}),
]
DEMO_ENCOUNTERS = [
    ("DEMO-1001", "admission", "2024-02-03", "2024-02-09", "Heart failure admission"),
    ("DEMO-1001", "visit", "2024-03-15", None, "Cardiology clinic"),
    ("DEMO-1003", "visit", "2023-11-20", None, "Chest clinic"),
    ("DEMO-1004", "admission", "2024-01-12", "2024-01-20", "Hip fracture"),
    ("DEMO-1005", "visit", "2023-09-05", None, "Asthma review"),
    ("DEMO-1002", "visit", "2024-01-10", None, "Diabetes follow-up"),
]


def other_aci_notes(ids: set[str]) -> list[AciNote]:
    """ACI-Bench notes of the validation and test splits named in `ids` (encounter ids; no metadata: no name)."""
    out = []
    for name in ("valid.csv", "clinicalnlp_taskB_test1.csv"):
        with open(DATA / "aci-bench" / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["encounter_id"] in ids and row["encounter_id"] not in {n.encounter_id for n in out}:
                    date = (dt.date(2021, 1, 4) + dt.timedelta(days=11 * len(out))).isoformat()
                    out.append(AciNote(row["encounter_id"], f"ACI-{row['encounter_id']}", "", "", date, "", [],
                                       row["note"]))
    return out


def write_fact_corpus(folder: Path, mts: int = 60, mts_rows: tuple[int, ...] = (),
                      aci_ids: set[str] | None = None) -> list[MtsNote]:
    """The MTSamples sample (and `mts_rows`), ACI-Bench notes of other splits (`aci_ids`), the HL7 v2 messages
    and the demo's text notes, written into `folder` (next to write_corpus's files)."""
    import shutil

    from archive.demo_content import synthetic_files

    folder.mkdir(parents=True, exist_ok=True)
    for note in other_aci_notes(aci_ids or set()):
        header = f"MRN: {note.mrn}\nDate: {note.date}\n\n"
        (folder / f"aci-{note.encounter_id}.txt").write_text(header + note.text.strip() + "\n", encoding="utf-8")
    hl7 = folder / "hl7"
    hl7.mkdir(exist_ok=True)
    for path in sorted((DATA / "hl7v2").glob("*.hl7")):
        shutil.copyfile(path, hl7 / path.name)
    notes = mts_notes(mts, also=mts_rows)
    for note in notes:
        note.file = f"mts-{note.row}.txt"
        (folder / note.file).write_text(mts_file_text(note), encoding="utf-8")
    for f in synthetic_files():
        if f.name.startswith("notes/"):
            (folder / Path(f.name).name).write_bytes(f.data)
    return notes


def add_demo_chart(tech: object, physician: str, record_of_file: dict[str, str], patients: bool = True) -> None:
    """The demo's patients (unless added already), encounters and typed-in entries (a technician's session)."""
    from archive.charts.encounters import add_encounter
    from archive.charts.entries import add_entry
    from archive.charts.patients import add_patient
    from archive.demo_content import PATIENTS

    for pt in PATIENTS if patients else ():
        add_patient(tech, pt.mrn, pt.name, pt.dob, pt.sex, physician=physician)  # type: ignore[arg-type]
    for mrn, kind, start, end, text in DEMO_ENCOUNTERS:
        add_encounter(tech, mrn, kind, start, end, physician, text)  # type: ignore[arg-type]
    for mrn, kind, text, date, extra in DEMO_ENTRIES:
        options = {k: v for k, v in extra.items() if k != "source"}
        if extra.get("source") in record_of_file:
            options["source_record"] = record_of_file[extra["source"]]
        add_entry(tech, mrn, kind, text, date, force=True, **options)  # type: ignore[arg-type]


# ---------------------------------------------------------------- hand-entered patients and chart entries (a question
# set's chart_entries.jsonl: {"patient": {mrn, name, dob, sex}} or {"entry": {mrn, kind, text, date, status, dose,
# route, frequency, start, stop, to, to_kind, reason, code}}, the fields of `chartvault patient add` / `chart add`;
# a referral's "reason" is its referral reason (`--reason`), a medication's why it was stopped (`--stop-reason`))

ENTRY_OPTION = {"status": "status", "dose": "dose", "route": "route", "frequency": "frequency", "start": "start",
                "stop": "stop", "to": "referral_to", "to_kind": "referral_to_kind", "reason": "referral_reason",
                "code": "code"}
REASON_OF_KIND = {"medication": "stop_reason"}  # "reason" of other kinds: the referral reason


def load_chart_entries(path: Path) -> list[dict[str, dict[str, str]]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(json.loads(line))
    return out


def _entry_field(kind: str, key: str) -> str:
    """The chart entry field a row's key fills (its "reason" depends on the entry's kind)."""
    return REASON_OF_KIND.get(kind, ENTRY_OPTION[key]) if key == "reason" else ENTRY_OPTION[key]


def add_chart_entries(tech: object, physician: str, rows: list[dict[str, dict[str, str]]]) -> list[str]:
    """Add the rows' patients and chart entries through the domain API, as a technician types them in
    (`chartvault patient add` / `chartvault chart add`); returns what was refused (the row and the reason)."""
    from archive.charts.entries import add_entry
    from archive.charts.patients import add_patient
    from archive.errors import ChartvaultError

    refused = []
    for row in rows:
        try:
            if "patient" in row:
                p = row["patient"]
                add_patient(tech, p["mrn"], p["name"], p["dob"], p.get("sex") or "U",  # type: ignore[arg-type]
                            physician=physician, force=True)
            elif "entry" in row:
                e = dict(row["entry"])
                options = {_entry_field(e["kind"], k): v for k, v in e.items()
                           if k in ENTRY_OPTION and v not in (None, "")}
                add_entry(tech, e["mrn"], e["kind"], e["text"], e["date"], force=True,  # type: ignore[arg-type]
                          **options)
        except ChartvaultError as exc:
            refused.append(f"{json.dumps(row)}: {exc}")
    return refused
