"""indexer.filing: which patient a document belongs to."""

from __future__ import annotations

from indexer.extract.types import Extraction, PatientInfo
from indexer.filing import decide_filing, mrn_from_filename, normalise_mrn


def ext(mrn: str | None = None, **kw: object) -> Extraction:
    patient = PatientInfo(mrn=mrn, name="Jane Doe", dob="1960-02-01", sex="F") if mrn else None
    return Extraction(text="x", format="text", doc_type="note", patient=patient, **kw)  # type: ignore[arg-type]


def test_content_mrn_files_with_demographics() -> None:
    f = decide_filing(ext("12345"), None, "note.txt")
    assert (f.mrn, f.status) == ("12345", "filed")
    assert f.patient is not None and f.patient.name == "Jane Doe"
    assert f.sources == {"content": "12345"}


def test_sidecar_fields_override_extractor_guesses() -> None:
    sidecar = {"mrn": "A-77", "document_type": "discharge summary", "date": "2024-03-01", "author": "Dr Who"}
    f = decide_filing(ext(date="2020-01-01", author="someone"), sidecar, "scan.png")
    assert (f.mrn, f.status, f.doc_type, f.date, f.author) == ("A-77", "filed", "discharge summary", "2024-03-01",
                                                              "Dr Who")


def test_file_name_mrn() -> None:
    assert mrn_from_filename("MRN123__letter.pdf") == "MRN123"
    assert mrn_from_filename("letter__MRN.pdf") == "letter"
    assert mrn_from_filename("plain.pdf") is None
    assert mrn_from_filename("__x.pdf") is None
    f = decide_filing(ext(), None, "998877__referral.txt")
    assert (f.mrn, f.status) == ("998877", "filed")


def test_agreeing_sources_file_conflicting_ones_wait() -> None:
    agree = decide_filing(ext("555"), {"mrn": "555"}, "555__x.txt")
    assert (agree.mrn, agree.status) == ("555", "filed")
    assert set(agree.sources) == {"content", "sidecar", "filename"}
    clash = decide_filing(ext("555"), {"mrn": "556"}, "x.txt")
    assert (clash.mrn, clash.status) == (None, "needs_filing")
    assert "conflicting MRNs" in clash.reason and "555" in clash.reason and "556" in clash.reason


def test_no_mrn_needs_filing() -> None:
    f = decide_filing(ext(), None, "nothing.txt")
    assert (f.mrn, f.status) == (None, "needs_filing")


def test_bad_values_are_warnings_not_failures() -> None:
    f = decide_filing(ext(), {"mrn": "no spaces allowed", "date": "yesterday", "colour": "blue"}, "n.txt")
    assert f.status == "needs_filing"
    text = " ".join(f.warnings)
    assert "not a plausible MRN" in text and "not YYYY-MM-DD" in text and "'colour' is not used" in text


def test_normalise_mrn() -> None:
    assert normalise_mrn("  123-45 ") == "123-45"
    assert normalise_mrn("../etc") is None
    assert normalise_mrn("") is None
    assert normalise_mrn(None) is None
