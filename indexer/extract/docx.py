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
    if when is None and props.created is not None:
        when = props.created.date().isoformat()
    return Extraction(
        text=text,
        format="docx",
        doc_type="note",
        title=title or (props.title or None) or lines[0][:200],
        date=when,
        author=author or (props.author or None),
        patient=patient,
    )


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
