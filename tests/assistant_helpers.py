"""A small synthetic corpus for the assistant's tests: one FHIR bundle, a few notes, two patients named Smith."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FHIR_MRN = "MRN-100"
FHIR_NAME = ("Jane", "Roe")


def _resource(kind: str, **fields: Any) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{kind}-{len(json.dumps(fields)) % 997}", "resource": {"resourceType": kind, **fields}}


def _med(text: str, when: str, status: str = "stopped") -> dict[str, Any]:
    return _resource("MedicationRequest", status=status, intent="order",
                     medicationCodeableConcept={"text": text, "coding": [{"display": text}]}, authoredOn=when)


def fhir_bundle() -> dict[str, Any]:
    entries = [
        _resource("Patient", id="p1", name=[{"family": FHIR_NAME[1], "given": [FHIR_NAME[0]]}], birthDate="1970-05-04",
                  gender="female", identifier=[{"type": {"text": "Medical Record Number"}, "value": FHIR_MRN}]),
        _resource("Encounter", status="finished", **{"class": {"code": "AMB"}},
                  type=[{"text": "Encounter for symptom"}], period={"start": "2021-03-05T10:00:00+00:00",
                                                                    "end": "2021-03-05T11:00:00+00:00"}),
        _resource("Condition", code={"text": "Acute bacterial sinusitis (disorder)"},
                  onsetDateTime="2021-03-05T10:00:00+00:00", clinicalStatus={"coding": [{"code": "resolved"}]}),
        _resource("Condition", code={"text": "Hypertension"}, onsetDateTime="2020-07-01T10:00:00+00:00",
                  clinicalStatus={"coding": [{"code": "active"}]}),
        _med("Amoxicillin 500 MG Oral Capsule", "2021-03-05T10:30:00+00:00"),
        _med("Ibuprofen 200 MG Oral Tablet", "2021-03-20T10:30:00+00:00"),
        _med("Lisinopril 10 MG Oral Tablet", "2020-07-01T10:30:00+00:00", status="active"),
        _med("Cefuroxime 250 MG Oral Tablet", "2019-03-11T10:30:00+00:00"),
        _resource("Procedure", status="completed", code={"text": "Appendectomy"},
                  performedPeriod={"start": "2021-03-06T08:00:00+00:00", "end": "2021-03-06T09:00:00+00:00"}),
    ]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


NOTES = {
    "smith-john.txt": (
        "Patient: John Smith\nMRN: MRN-200\nDate: 2021-02-01\n\nCHIEF COMPLAINT\n\nChest pain.\n\n"
        "HISTORY OF PRESENT ILLNESS\n\nJohn Smith is a 61-year-old male who presents with chest pain radiating to "
        "the left arm on exertion. He has a history of hypertension.\n\nASSESSMENT AND PLAN\n\n"
        "Stable angina.\nWe will start atorvastatin 40 mg daily and refer him to cardiology.\n"
    ),
    "smith-mary.txt": (
        "Patient: Mary Smith\nMRN: MRN-300\nDate: 2021-04-12\n\nCHIEF COMPLAINT\n\nKnee pain.\n\n"
        "HISTORY OF PRESENT ILLNESS\n\nMary Smith is a 54-year-old female with right knee pain after a fall. "
        "She denies chest pain.\n\nASSESSMENT AND PLAN\n\nRight knee sprain.\nIbuprofen 600 mg as needed.\n"
    ),
    "lee-tom.txt": (
        "Patient: Tom Lee\nMRN: MRN-400\nDate: 2020-11-20\n\nCHIEF COMPLAINT\n\nChest pain.\n\n"
        "HISTORY OF PRESENT ILLNESS\n\nTom Lee is a 58-year-old male with substernal chest pain and shortness of "
        "breath for two days. He has hypertension and type 2 diabetes.\n\nASSESSMENT AND PLAN\n\n"
        "Unstable angina.\nAdmit for observation; aspirin 325 mg given.\n"
    ),
}


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "roe-jane.json").write_text(json.dumps(fhir_bundle()), encoding="utf-8")
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def import_corpus(session: Any, folder: Path) -> None:
    from archive.intake import import_paths

    report = import_paths(session, [write_corpus(folder)])
    assert report.counts["imported"] == 1 + len(NOTES), report.counts


def corpus_physician(vault: Any, folder: Path) -> Iterator[Any]:
    """The test corpus imported into `vault` (a tests.conftest.VaultFixture), then drmaria's session over it."""
    from tests.conftest import PHYS_PASS

    import_corpus(vault.session, folder)
    session = vault.open("drmaria", PHYS_PASS)
    yield session
    session.close()
