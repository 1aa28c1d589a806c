"""indexer.extract.fhir: the Synthea bundles, single resources and attached notes."""

from __future__ import annotations

import base64
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from indexer.extract.dispatch import extract
from indexer.extract.errors import ExtractionError

RESOURCE_KINDS = {
    "Encounter": "encounter",
    "Condition": "condition",
    "MedicationRequest": "medication",
    "Procedure": "procedure",
    "Observation": "observation",
    "Immunization": "immunization",
    "AllergyIntolerance": "allergy",
}


@pytest.fixture(scope="module")
def bundles(shared_data: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((shared_data / "fhir-r4").glob("*.json"))}


def test_every_bundle_yields_patient_and_all_facts(bundles: dict[str, bytes]) -> None:
    assert len(bundles) == 18
    totals: Counter[str] = Counter()
    for name, data in bundles.items():
        result = extract(data, name)
        raw = [entry["resource"] for entry in json.loads(data)["entry"]]
        patient = next(r for r in raw if r["resourceType"] == "Patient")
        mr = next(i["value"] for i in patient["identifier"]
                  if i.get("type", {}).get("coding", [{}])[0].get("code") == "MR")
        assert result.patient is not None
        assert result.patient.mrn == mr, name
        assert result.patient.dob == patient["birthDate"]
        assert result.patient.name and result.patient.name.split()[-1] == patient["name"][0]["family"]
        assert (result.format, result.doc_type) == ("fhir", "fhir:Bundle")
        expected = Counter(RESOURCE_KINDS[r["resourceType"]] for r in raw
                           if r["resourceType"] in RESOURCE_KINDS)
        got = Counter(fact.kind for fact in result.facts)
        assert got == expected, name
        assert got["encounter"] >= 6 and got["observation"] >= 30 and got["immunization"] >= 7
        assert all(fact.text for fact in result.facts)
        assert result.date == max(f.date for f in result.facts if f.date)
        totals.update(got)
    assert totals["medication"] >= 60 and totals["allergy"] >= 10 and totals["procedure"] >= 150


def test_fact_details_and_rendering(bundles: dict[str, bytes]) -> None:
    result = extract(bundles["Abdul_Koepp_e925b0f3-8006-43f6-aa31-94bd215e55e7.json"], "b.json")
    ibuprofen = next(f for f in result.facts if f.kind == "medication")
    assert (ibuprofen.text, ibuprofen.code, ibuprofen.date, ibuprofen.status) == (
        "Ibuprofen 200 MG Oral Tablet", "310965", "2017-03-21", "stopped"
    )
    assert ibuprofen.system == "http://www.nlm.nih.gov/research/umls/rxnorm"
    height = next(f for f in result.facts if f.text == "Body Height")
    assert height.extra["value"] == "176.4 cm"
    pressure = next(f for f in result.facts if f.text == "Blood Pressure")
    assert "Systolic Blood Pressure" in pressure.extra["value"]
    encounter = next(f for f in result.facts if f.kind == "encounter")
    assert encounter.extra["class"] == "AMB" and encounter.status == "finished"
    assert "Procedure: Colonoscopy [SNOMED CT 73761001]" in result.text
    assert result.title == "FHIR record of Abdul Koepp"


def test_single_patient_prefers_mr_identifier_else_first() -> None:
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"value": "ssn-1"}, {"type": {"coding": [{"code": "MR"}]}, "value": "mr-9"}],
        "name": [{"use": "nickname", "given": ["Jo"]}, {"use": "official", "family": "Doe",
                                                       "given": ["Jane", "Q"]}],
        "gender": "female",
        "birthDate": "1960-03-14",
    }
    result = extract(json.dumps(patient).encode(), "p.json")
    assert result.doc_type == "fhir:Patient"
    assert result.patient is not None
    assert (result.patient.mrn, result.patient.name, result.patient.sex) == (
        "mr-9", "Jane Q Doe", "F"
    )
    del patient["identifier"][1]
    again = extract(json.dumps(patient).encode(), "p.json")
    assert again.patient is not None and again.patient.mrn == "ssn-1"


def test_document_reference_attachment_is_decoded() -> None:
    note = "Discharge note: patient improved on amoxicillin.\nFollow up in 2 weeks."
    resource = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"text": "Discharge summary"},
        "date": "2023-02-14T10:00:00Z",
        "author": [{"display": "Dr. Ada Lovelace"}],
        "content": [{"attachment": {"contentType": "text/plain",
                                    "data": base64.b64encode(note.encode()).decode()}}],
    }
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": resource}]}
    result = extract(json.dumps(bundle).encode(), "doc.json")
    assert "patient improved on amoxicillin" in result.text
    assert (result.title, result.date, result.author) == (
        "Discharge summary", "2023-02-14", "Dr. Ada Lovelace"
    )


def test_bad_attachment_is_a_warning_not_a_failure() -> None:
    resource = {"resourceType": "DocumentReference", "description": "Scan",
                "content": [{"attachment": {"contentType": "application/pdf",
                                            "data": base64.b64encode(b"not a pdf").decode()}}]}
    result = extract(json.dumps(resource).encode(), "doc.json")
    assert result.title == "Scan"
    assert any("could not be read" in w for w in result.warnings)


def test_truncated_bundle_is_refused(bundles: dict[str, bytes]) -> None:
    data = next(iter(bundles.values()))
    with pytest.raises(ExtractionError, match="invalid JSON"):
        extract(data[: len(data) // 2], "bundle.json")


def test_deeply_nested_json_is_refused() -> None:
    with pytest.raises(ExtractionError):
        extract(b'{"resourceType": "Basic", "x": ' + b"[" * 100000 + b"]" * 100000 + b"}",
                "deep.json")


def test_deeply_nested_json_is_refused_as_nested_too_deeply() -> None:
    depth = 200_000
    bomb = ('{"resourceType": "Bundle", "entry": ' + '{"a": ' * depth + "1" + "}" * depth + "}").encode()
    with pytest.raises(ExtractionError, match="nested too deeply"):
        extract(bomb, "bundle.json")
    with pytest.raises(ExtractionError, match="damaged or truncated"):  # a truncated file is still called that
        extract(b'{"resourceType": "Patient", "id": ', "patient.json")
