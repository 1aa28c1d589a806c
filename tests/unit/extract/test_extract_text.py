"""indexer.extract.text: encodings, binary refusal and the header lines of notes."""

from __future__ import annotations

import pytest

from indexer.extract.dispatch import extract
from indexer.extract.errors import ExtractionError
from indexer.extract.text import decode_text, parse_header_fields

NOTE = "Patient: Müller, Zoë   MRN: 12345   DOB: 03/14/1960\nSex: female\nDate: 2021-05-02\n\nCafé au lait spots noted."


def test_utf8_note_with_header_fields() -> None:
    result = extract(NOTE.encode("utf-8"), "visit.txt")
    assert (result.format, result.doc_type, result.encoding) == ("text", "note", "utf-8")
    assert result.patient is not None
    assert (result.patient.mrn, result.patient.name) == ("12345", "Zoë Müller")
    assert (result.patient.dob, result.patient.sex) == ("1960-03-14", "F")
    assert result.date == "2021-05-02"
    assert result.warnings == []


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_single_byte_encodings_decode(encoding: str) -> None:
    text = "Zoë Müller attended with her daughter; café, crème brûlée, naïve façade. " * 20
    result = extract(text.encode(encoding), "note.txt")
    assert "Zoë Müller" in result.text and "crème brûlée" in result.text
    assert any("not valid UTF-8" in w for w in result.warnings)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32"])
def test_unicode_encodings_with_and_without_bom(encoding: str) -> None:
    text = "Zoë Müller — follow-up in 2 weeks. MRN: 555123\n" * 5
    result = extract(text.encode(encoding), "note.txt")
    assert result.text.startswith("Zoë Müller — follow-up")
    assert result.patient is not None and result.patient.mrn == "555123"


def test_invalid_utf8_never_crashes() -> None:
    data = ("Patient reports chest pain. " * 40).encode() + b"\xff\xfe\xc3(\x80 tail"
    result = extract(data, "note.txt")
    assert "chest pain" in result.text and "tail" in result.text
    assert result.encoding and result.warnings


def test_crlf_is_normalised() -> None:
    assert extract(b"line one\r\nline two\rline three", "n.txt").text == (
        "line one\nline two\nline three"
    )


def test_markdown_title_from_heading() -> None:
    result = extract(b"Some preface\n\n# Discharge Summary\n\nText.", "summary.md")
    assert (result.format, result.title) == ("markdown", "Discharge Summary")


def test_plain_title_is_first_line_that_is_not_a_field() -> None:
    result = extract(b"MRN: 12345\nCardiology consult\nBody", "consult.txt")
    assert result.title == "Cardiology consult"


def test_header_fields_on_one_line_and_spelled_differently() -> None:
    patient, when, author = parse_header_fields(
        "Name: JANE Q DOE\tMedical Record Number: A-0099\nD.O.B.: 14.03.1960\n"
        "Date of Service: March 3, 2022\nDictated by: Dr. Gregory House\n"
    )
    assert patient is not None
    assert (patient.name, patient.mrn, patient.dob) == ("JANE Q DOE", "A-0099", "1960-03-14")
    assert when == "2022-03-03"
    assert author == "Dr. Gregory House"


def test_physician_name_is_not_taken_for_the_patient() -> None:
    patient, _, _ = parse_header_fields("Physician Name: Dr Who\nMRN: unknown\n")
    assert patient is None


def test_decode_text_refuses_binary() -> None:
    with pytest.raises(ExtractionError, match="binary content"):
        decode_text(bytes(range(256)) * 64)
