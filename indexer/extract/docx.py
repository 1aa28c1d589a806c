"""Word documents (.docx): paragraphs and tables in reading order, plus core properties.

The package is opened from memory with python-docx; nothing is unpacked to
disk. The caller (`indexer.extract.dispatch`) has already refused ZIP files without
word/document.xml and zip bombs.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from indexer.extract.errors import ExtractionError
from indexer.extract.text import parse_header_fields
from indexer.extract.types import Extraction

MAX_TABLE_DEPTH = 5


def extract_docx(data: bytes, filename: str) -> Extraction:
    """A Word document: text from the body's paragraphs and tables, in order."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise ExtractionError("damaged Word document: its parts cannot be read") from exc

    lines: list[str] = []
    title: str | None = None
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if text:
                lines.append(text)
                style = (block.style.name if block.style is not None else "") or ""
                if title is None and (style == "Title" or style.startswith("Heading")):
                    title = text
        else:
            lines.extend(_table_lines(block, depth=0))
    text = "\n".join(lines)
    if not text.strip():
        raise ExtractionError("Word document contains no text")

    props = document.core_properties
    patient, when, author = parse_header_fields(text)
    when, source = document_date(when, props)
    return Extraction(
        text=text,
        format="docx",
        doc_type="note",
        title=title or (props.title or None) or lines[0][:200],
        date=when,
        date_source=source,
        author=author or (props.author or None),
        patient=patient,
    )


def document_date(in_text: str | None, props: Any) -> tuple[str | None, str | None]:
    """The document's own date and where it came from, or (None, None): the pipeline then takes the file's time.

    A date written in the text wins. Then the later of the "modified" and
    "created" properties, unless they are a template's stamp: a document a
    program made from a template (python-docx's is dated 2013-12-23) keeps
    the template's identical created/modified times and names no one who
    saved it, and that is not the document's date.
    """
    if in_text is not None:
        return in_text, "text"
    created, modified = props.created, props.modified
    if created is not None and modified is not None and created == modified and not props.last_modified_by:
        return None, None  # the template's stamp
    if modified is not None and (created is None or modified >= created):
        return modified.date().isoformat(), "document properties (last saved)"
    if created is not None:
        return created.date().isoformat(), "document properties (created)"
    return None, None


def _table_lines(table: Any, depth: int) -> list[str]:
    """One line per row, cells joined by " | "; merged cells are not repeated."""
    if depth > MAX_TABLE_DEPTH:
        return []
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            # A merged cell appears once per grid column it spans.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            parts = [p.text.strip() for p in cell.paragraphs if p.text.strip()]
            cells.append(" ".join(parts))
            for inner in cell.tables:
                lines.extend(_table_lines(inner, depth + 1))
        if any(cells):
            lines.append(" | ".join(cells))
    return lines
