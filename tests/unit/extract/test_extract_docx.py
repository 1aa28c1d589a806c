"""indexer.extract.docx: Word documents built in memory round-trip to text."""

from __future__ import annotations

import zipfile
from datetime import datetime
from io import BytesIO

import docx
import pytest

from indexer.extract.dispatch import extract
from indexer.extract.errors import ExtractionError


def letter() -> bytes:
    document = docx.Document()
    document.add_heading("Cardiology clinic letter", 0)
    document.add_paragraph("Patient: Doe, Jane   MRN: 4471234   DOB: 1960-03-14")
    document.add_paragraph("Date: 14 February 2023")
    table = document.add_table(rows=3, cols=3)
    for row, cells in enumerate(
        [("Medication", "Dose", "Route"), ("Bisoprolol", "2.5 mg", "oral"),
         ("Apixaban", "5 mg", "oral")]
    ):
        for column, value in enumerate(cells):
            table.cell(row, column).text = value
    table.cell(0, 1).merge(table.cell(0, 2))
    document.add_paragraph("Impression: paroxysmal atrial fibrillation.")
    document.core_properties.author = "Dr. Ada Lovelace"
    document.core_properties.created = datetime(2023, 2, 15, 9, 30)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def test_paragraphs_and_tables_in_reading_order() -> None:
    result = extract(letter(), "letter.docx")
    assert (result.format, result.doc_type, result.title) == (
        "docx", "note", "Cardiology clinic letter"
    )
    lines = result.text.splitlines()
    assert lines.index("Bisoprolol | 2.5 mg | oral") < lines.index(
        "Impression: paroxysmal atrial fibrillation."
    )
    assert "Apixaban | 5 mg | oral" in lines
    assert lines[lines.index("Bisoprolol | 2.5 mg | oral") - 1].startswith("Medication | ")


def test_header_fields_and_core_properties() -> None:
    result = extract(letter(), "letter.docx")
    assert result.patient is not None
    assert (result.patient.mrn, result.patient.name, result.patient.dob) == (
        "4471234", "Jane Doe", "1960-03-14"
    )
    assert result.date == "2023-02-14"  # the letter's own date beats the file's creation
    assert result.author == "Dr. Ada Lovelace"


def test_creation_date_when_the_text_has_none() -> None:
    document = docx.Document()
    document.add_paragraph("Progress note without a date line.")
    document.core_properties.created = datetime(2022, 5, 6, 7, 8)
    out = BytesIO()
    document.save(out)
    assert extract(out.getvalue(), "note.docx").date == "2022-05-06"


def test_empty_document_is_refused() -> None:
    out = BytesIO()
    docx.Document().save(out)
    with pytest.raises(ExtractionError, match="no text"):
        extract(out.getvalue(), "empty.docx")


def test_damaged_document_xml_is_refused() -> None:
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(letter())) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, b"<w:document><broken" if item.filename == "word/document.xml"
                            else data)
    with pytest.raises(ExtractionError):
        extract(out.getvalue(), "letter.docx")


def _saved(document: docx.document.Document) -> bytes:
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_template_stamp_is_not_the_document_date() -> None:
    """python-docx's template is dated 2013-12-23 (created == modified, saved by no one): not the note's date."""
    document = docx.Document()
    document.add_paragraph("Progress note without a date line.")
    result = extract(_saved(document), "note.docx")
    assert (result.date, result.date_source) == (None, None)  # the pipeline takes the file's time


def test_last_saved_beats_created_from_a_template() -> None:
    document = docx.Document()
    document.add_paragraph("Clinic letter without a date line.")
    document.core_properties.created = datetime(2013, 1, 2, 3, 4)
    document.core_properties.modified = datetime(2024, 6, 7, 8, 9)
    document.core_properties.last_modified_by = "Dr. Ng"
    result = extract(_saved(document), "letter.docx")
    assert (result.date, result.date_source) == ("2024-06-07", "document properties (last saved)")
    assert extract(letter(), "letter.docx").date_source == "text"
