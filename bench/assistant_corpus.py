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
