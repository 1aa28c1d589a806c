"""indexer.extract.hl7v2: all 139 sample messages, BOMs, separators and the facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.extract.dispatch import extract
from indexer.extract.errors import ExtractionError
from indexer.extract.types import Extraction

BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def messages(shared_data: Path) -> dict[str, bytes]:
    files = sorted((shared_data / "hl7v2").glob("*.hl7"))
    return {path.name: path.read_bytes() for path in files}


@pytest.fixture(scope="module")
def extracted(messages: dict[str, bytes]) -> dict[str, Extraction]:
    return {name: extract(data, name) for name, data in messages.items()}


def by_kind(result: Extraction, kind: str) -> list:
    return [fact for fact in result.facts if fact.kind == kind]


def test_every_message_extracts_with_type_and_mrn(
    messages: dict[str, bytes], extracted: dict[str, Extraction]
) -> None:
    assert len(messages) == 139
    for name, data in messages.items():
        result = extracted[name]
        assert result.format == "hl7v2"
        event = data.removeprefix(BOM).split(b"|")[8].split(b"^")[:2]
        assert result.doc_type == "hl7:" + "^".join(p.decode() for p in event), name
        if b"\nPID|" in data:
            assert result.patient is not None and result.patient.mrn, name
        assert result.text.startswith("HL7 "), name
        assert result.date, name


def test_byte_order_mark_files(messages: dict[str, bytes], extracted: dict[str, Extraction]) -> None:
    with_bom = [name for name, data in messages.items() if data.startswith(BOM)]
    assert len(with_bom) == 27
    for name in with_bom:
        assert extracted[name].patient is not None
        assert "\ufeff" not in extracted[name].text


def test_admission_patient_and_facts(extracted: dict[str, Extraction]) -> None:
    result = extracted["ADT-A01-01.hl7"]
    assert result.doc_type == "hl7:ADT^A01"
    assert result.patient is not None
    assert (result.patient.mrn, result.patient.name, result.patient.dob, result.patient.sex) == (
        "PATID1234", "ADAM EVERYMAN", "1988-08-18", "M"
    )
    assert result.date == "1989-08-18"  # MSH-7: an ADT message has no document date of its own
    (stroke,) = by_kind(result, "condition")
    assert (stroke.code, stroke.system, stroke.date) == (
        "422504002", "http://snomed.info/sct", "2004-01-25"
    )
    assert by_kind(result, "allergy")[0].text == "PENICILLIN"
    assert by_kind(result, "procedure")[0].text.startswith("Biopsy of colon")
    assert by_kind(result, "encounter")[0].extra["attending"] == "Mohammed Alaz"
    assert "Diagnosis: Ischemic stroke(disorder) [SNOMED CT 422504002]" in result.text


def test_document_message_body_author_and_date(extracted: dict[str, Extraction]) -> None:
    result = extracted["MDM-T02-03.hl7"]
    assert result.doc_type == "hl7:MDM^T02"
    assert result.title == "Discharge summary"
    assert result.author == "Kathleen Woolfson"
    assert result.date == "2021-08-03"  # TXA-6, origination
    assert "Toilet cylinder crackers model step-mother" in result.text
    assert "Reminder shofar congo vibration" in result.text
    assert not by_kind(result, "observation"), "narrative OBX lines are text, not facts"


def test_lab_results_are_observations_with_units(extracted: dict[str, Extraction]) -> None:
    result = extracted["LAB-ORU-1.hl7"]
    hematocrit = next(f for f in result.facts if f.text == "HEMATOCRIT")
    assert (hematocrit.code, hematocrit.system) == ("20570-8", "http://loinc.org")
    assert hematocrit.extra["value"] == "40.1" and hematocrit.extra["unit"] == "%"
    assert hematocrit.date == "2014-10-06"
    assert result.title == "Hemogram and platelet count, automated"


def test_immunizations_and_medications(extracted: dict[str, Extraction]) -> None:
    vaccines = by_kind(extracted["VXU.hl7"], "immunization")
    assert [v.date for v in vaccines] == ["2015-06-24", "2014-10-12", "2013-11-12"]
    assert vaccines[0].extra == {"dose": "0.5 mL", "lot": "315841", "route": "Intramuscular"}
    medications = by_kind(extracted["RDE-O11-02.hl7"], "medication")
    assert medications[0].text == "Ampicillin 250 mg caps"
    assert medications[0].extra["instructions"] == "1 tablet by oral route 2 times daily."


def test_problem_segments_are_conditions(extracted: dict[str, Extraction]) -> None:
    (problem,) = by_kind(extracted["PC1-Problem-Add-v2.3.1.hl7"], "condition")
    assert (problem.text, problem.code, problem.system) == (
        "BLADDER DYSFUNCTION", "596.5", "ICD-9-CM"
    )


@pytest.mark.parametrize("separator", [b"\r", b"\r\n", b"\n"])
def test_segment_separators(messages: dict[str, bytes], separator: bytes) -> None:
    original = extract(messages["ADT-A01-01.hl7"], "a.hl7")
    lines = messages["ADT-A01-01.hl7"].replace(b"\r\n", b"\n").split(b"\n")
    result = extract(separator.join(lines), "a.hl7")
    assert result.text == original.text and result.facts == original.facts


def test_minimal_and_broken_messages() -> None:
    minimal = extract(b"MSH|^~\\&|A|B|C|D|20230214||ORU^R01|1|P|2.5\rPID|||77^^^X^MR", "m.hl7")
    assert minimal.patient is not None and minimal.patient.mrn == "77"
    assert minimal.date == "2023-02-14"
    with pytest.raises(ExtractionError):
        extract(b"PID|||77\rMSH|^~\\&|A", "m.hl7")
