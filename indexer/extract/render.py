"""One readable line per structured fact, shared by the HL7 v2 and FHIR renderings.

The rendered lines are what full-text search and the assistant read, so they
spell out code systems by their common names ("SNOMED CT 422504002").
"""

from __future__ import annotations

from indexer.extract.types import Fact, PatientInfo

SYSTEM_LABELS = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://hl7.org/fhir/sid/icd-9-cm": "ICD-9-CM",
    "http://www.ama-assn.org/go/cpt": "CPT-4",
    "http://hl7.org/fhir/sid/ndc": "NDC",
}


def system_label(system: str | None) -> str:
    if not system:
        return ""
    return SYSTEM_LABELS.get(system, system.rstrip("/").rsplit("/", 1)[-1])


def fact_line(fact: Fact, label: str) -> str:
    """ "Diagnosis: Ischemic stroke [SNOMED CT 422504002]; 2004-01-25; status active"."""
    head = fact.text
    if fact.code:
        head += f" [{system_label(fact.system)} {fact.code}]".replace("[ ", "[")
    parts = [head]
    parts.extend(f"{key} {value}" for key, value in fact.extra.items() if value)
    if fact.date:
        same_day = not fact.end_date or fact.end_date == fact.date
        parts.append(fact.date if same_day else f"{fact.date} to {fact.end_date}")
    if fact.status:
        parts.append(f"status {fact.status}")
    return f"{label}: " + "; ".join(parts)


def patient_line(patient: PatientInfo) -> str:
    parts = [patient.name or "(no name)"]
    if patient.mrn:
        parts.append(f"MRN {patient.mrn}")
    if patient.dob:
        parts.append(f"born {patient.dob}")
    if patient.sex:
        parts.append(f"sex {patient.sex}")
    return "Patient: " + "; ".join(parts)
