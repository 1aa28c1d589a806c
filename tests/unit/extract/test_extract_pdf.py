"""indexer.extract.pdf: text layers, OCR of scanned pages, encryption and truncation."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest

from indexer.extract import pdf
from indexer.extract.dispatch import extract
from indexer.extract.errors import ExtractionError
from indexer.extract.types import Extraction

WORDS = re.compile(r"[a-z0-9]+")


def test_text_layer_needs_no_ocr(text_pdf: bytes) -> None:
    result = extract(text_pdf, "summary.pdf")
    assert (result.format, result.doc_type, result.pages) == ("pdf", "note", 1)
    assert "Amoxicillin 500 mg three times daily" in result.text
    assert result.ocr_lines == [] and result.ocr_confidence is None
    assert not result.needs_transcription
    assert result.title == "Discharge summary"
    assert result.patient is not None and result.patient.mrn == "4471234"
    assert result.date == "2023-02-14"


def test_page_count(make_text_pdf: Callable[..., bytes]) -> None:
    result = extract(make_text_pdf(["Progress note, page of three."], pages=3), "n.pdf")
    assert result.pages == 3
    assert result.text.count("Progress note") == 3


def test_empty_user_password_opens_other_passwords_refused(
    text_pdf: bytes, encrypt: Callable[..., bytes]
) -> None:
    assert "Amoxicillin" in extract(encrypt(text_pdf, ""), "open.pdf").text
    with pytest.raises(ExtractionError, match="PDF is encrypted") as caught:
        extract(encrypt(text_pdf, "s3cret"), "locked.pdf")
    assert "password" in caught.value.hint


def test_truncated_and_damaged(text_pdf: bytes) -> None:
    with pytest.raises(ExtractionError, match="truncated PDF"):
        extract(text_pdf[:-200], "cut.pdf")
    with pytest.raises(ExtractionError):
        extract(b"%PDF-1.4\n" + b"garbage " * 100 + b"\n%%EOF\n", "junk.pdf")


def test_scanned_page_is_ocred(ocr_dir: Path) -> None:
    result = extract((ocr_dir / "c03-29.pdf").read_bytes(), "c03-29.pdf")
    assert (result.pages, result.doc_type) == (1, "scan")
    words = set(WORDS.findall(result.text.lower()))
    assert {"watson", "widow", "morning", "closet", "prayed", "hooks"} <= words
    assert result.ocr_confidence is not None and result.ocr_confidence > 0.92
    assert not result.needs_transcription


@pytest.mark.slow
def test_multipage_mixes_text_layers_big_images_and_scans(ocr_dir: Path) -> None:
    result = extract((ocr_dir / "multipage.pdf").read_bytes(), "multipage.pdf")
    assert result.pages == 6
    text = result.text.lower()
    assert "watson" in text  # page 1, a scan
    assert "megapixels" in text  # page 2, a 9000 x 9000 image, decoded as a stream
    assert "percentage" in text  # page 4, its own text layer
    assert "woodman" in text and "cock-lane" in text  # pages 5 and 6, scans
    assert result.warnings == []
    assert result.date == "2015-07-28"


def test_jbig2dec_is_switched_off_while_pages_are_read(
    text_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even where jbig2dec is installed, pypdf must not run it: it works on temp files."""
    seen: list[str | None] = []

    def record(reader: object, page_count: int) -> Extraction:
        seen.append(pypdf.get_configuration().jbig2dec_binary)
        return Extraction(text="", format="pdf", doc_type="note")

    monkeypatch.setattr(pdf, "_read_pages", record)
    with pypdf.apply_configuration(jbig2dec_binary="/usr/bin/jbig2dec"):
        extract(text_pdf, "note.pdf")
    assert seen == [None]


@pytest.mark.slow
def test_jbig2_scan_is_ocred(ocr_dir: Path) -> None:
    result = extract((ocr_dir / "skew.pdf").read_bytes(), "skew.pdf")
    assert (result.pages, result.doc_type) == (1, "scan")
    truth = set(WORDS.findall((ocr_dir / "linn.txt").read_text(encoding="utf-8").lower()))
    recall = len(truth & set(WORDS.findall(result.text.lower()))) / len(truth)
    assert recall >= 0.9, f"word recall {recall:.3f}"
