"""PDF files: the text layer with pypdf, OCR for pages that have none.

A page whose text layer holds fewer than MIN_TEXT_LAYER_CHARS letters and
digits is treated as a scan: its embedded images go to OCR (image.py). The
PDF is read from memory; pypdf's use of the external jbig2dec program is
switched off because it passes images through temp files, and this module
must never write plaintext to disk.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from indexer.extract.errors import ExtractionError
from indexer.extract.image import confidence, needs_transcription, ocr, ocr_engine
from indexer.extract.pdf_errors import pdf_errors
from indexer.extract.text import parse_header_fields
from indexer.extract.types import Extraction, OcrLine

MIN_TEXT_LAYER_CHARS = 30
MAX_OCR_PAGES = 200
EOF_MARKER_WINDOW = 4096


def extract_pdf(data: bytes, filename: str) -> Extraction:
    """A PDF document, text layer first, OCR where a page is only an image."""
    import pypdf

    if b"%%EOF" not in data[-EOF_MARKER_WINDOW:]:
        raise ExtractionError(
            "truncated PDF: the end-of-file marker is missing",
            "The copy is probably incomplete. Copy the file again from its source.",
        )
    with pypdf.apply_configuration(jbig2dec_binary=None):
        try:
            reader = pypdf.PdfReader(BytesIO(data), strict=False)
            _unlock(reader)
            page_count = len(reader.pages)
        except ExtractionError:
            raise
        except pdf_errors() as exc:
            raise ExtractionError("damaged PDF: its structure cannot be read") from exc
        if page_count == 0:
            raise ExtractionError("PDF has no pages")
        return _read_pages(reader, page_count)


def _unlock(reader: Any) -> None:
    """Open PDFs that are encrypted with an empty user password; refuse the others."""
    from pypdf import PasswordType
    from pypdf.errors import DependencyError, PdfReadError

    if not reader.is_encrypted:
        return
    try:
        opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except (DependencyError, PdfReadError, NotImplementedError, ValueError):
        opened = False
    if not opened:
        raise ExtractionError(
            "PDF is encrypted",
            "Open it with its password, save an unprotected copy and drop that into the inbox.",
        )


def _read_pages(reader: Any, page_count: int) -> Extraction:
    from indexer.extract.pdf_images import page_images

    warnings: list[str] = []
    page_texts: list[str] = []
    ocr_lines: list[OcrLine] = []
    ocr_pages = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            layer = page.extract_text() or ""
        except pdf_errors():  # one odd page must not lose the others
            layer = ""
            warnings.append(f"page {number}: the text layer cannot be read")
        if sum(c.isalnum() for c in layer) >= MIN_TEXT_LAYER_CHARS:
            page_texts.append(layer.strip())
            continue
        if ocr_pages >= MAX_OCR_PAGES:
            if ocr_pages == MAX_OCR_PAGES:
                warnings.append(f"OCR stopped after {MAX_OCR_PAGES} pages")
            page_texts.append(layer.strip())
            continue
        lines: list[OcrLine] = []
        for picture in page_images(page, warnings, number):
            lines.extend(ocr(picture))
        if lines:
            ocr_pages += 1
            ocr_lines.extend(lines)
            page_texts.append("\n".join(line.text for line in lines))
        else:
            page_texts.append(layer.strip())

    text = "\n\n".join(t for t in page_texts if t)
    if not text.strip():
        warnings.append("no text found: no text layer and OCR found nothing")
    info = _metadata(reader)
    patient, when, author = parse_header_fields(text)
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), None)
    ocr_score = confidence(ocr_lines) if ocr_pages else None
    return Extraction(
        text=text,
        format="pdf",
        doc_type="scan" if ocr_pages and ocr_pages == page_count else "note",
        title=info.get("title") or (first_line[:200] if first_line else None),
        date=when or info.get("date"),
        author=author or info.get("author"),
        patient=patient,
        pages=page_count,
        ocr_lines=ocr_lines,
        ocr_confidence=ocr_score,
        needs_transcription=bool(ocr_pages) and needs_transcription(ocr_lines),
        ocr_engine=ocr_engine().name if ocr_pages else None,
        warnings=warnings,
    )


def _metadata(reader: Any) -> dict[str, str]:
    """Title, author and creation date from the document information, when readable."""
    found: dict[str, str] = {}
    try:
        meta = reader.metadata
        if meta is None:
            return found
        if meta.title and str(meta.title).strip():
            found["title"] = str(meta.title).strip()[:200]
        if meta.author and str(meta.author).strip():
            found["author"] = str(meta.author).strip()[:200]
        created = meta.creation_date
        if created is not None:
            found["date"] = created.date().isoformat()
    except pdf_errors():  # malformed dates are common; metadata is optional
        return found
    return found
