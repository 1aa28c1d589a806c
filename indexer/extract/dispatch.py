"""Choosing the format module for a file's bytes, and the one contract of extraction.

`extract(data, filename)` sniffs the content first (PDF, PNG/JPEG/TIFF, Word,
HL7 v2, FHIR JSON) and falls back on the file name's extension. Every way an
input can be bad ends in `ExtractionError` with a reason a person can read,
so the pipeline can quarantine it; no other exception leaves `extract`.
The format modules are imported inside the handlers, so importing this is cheap.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import PurePath

from indexer.extract.errors import ExtractionError
from indexer.extract.types import Extraction
from indexer.inputs import max_input_bytes

TEXT_EXTENSIONS = frozenset({".txt", ".text"})
MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown"})
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
SUPPORTED_EXTENSIONS: frozenset[str] = (
    TEXT_EXTENSIONS
    | MARKDOWN_EXTENSIONS
    | IMAGE_EXTENSIONS
    | frozenset({".pdf", ".docx", ".hl7", ".json"})
)

# Larger inputs are refused rather than risking the memory of a 2-core laptop.
MAX_INPUT_BYTES = 256 * 1024 * 1024
# A .docx whose parts inflate beyond this is treated as a zip bomb.
MAX_DOCX_UNCOMPRESSED = 256 * 1024 * 1024

_UTF8_BOM = b"\xef\xbb\xbf"


def extract(data: bytes, filename: str) -> Extraction:
    """Extract text and metadata from a file's bytes; raise ExtractionError if unreadable.

    `filename` is used only for its extension, when the content itself does
    not say what it is.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    if not data:
        raise ExtractionError("file is empty")
    limit = max(MAX_INPUT_BYTES, max_input_bytes())  # the setting can raise the limit, never lower it here
    if len(data) > limit:
        raise ExtractionError(
            f"file is too large ({len(data) // (1024 * 1024)} MB; the limit is {limit // (1024 * 1024)} MB)"
        )
    label, handler = _choose_handler(data, filename)
    try:
        return handler(data, filename)
    except ExtractionError:
        raise
    except Exception as exc:
        # A parser met an input nobody foresaw. Only the exception's type is
        # kept: library messages can quote the file's content.
        raise ExtractionError(f"{label} could not be read ({type(exc).__name__})") from exc


def _choose_handler(data: bytes, filename: str) -> tuple[str, Callable[[bytes, str], Extraction]]:
    """Pick the format by sniffing the content first, then by extension."""
    suffix = PurePath(filename).suffix.lower()
    head = data[:1024]
    body = head[len(_UTF8_BOM) :] if head.startswith(_UTF8_BOM) else head
    body = body.lstrip()

    if b"%PDF-" in head:
        return "PDF", _pdf
    if _is_image(head):
        return "image", _image
    if head.startswith(b"PK\x03\x04"):
        _check_docx_package(data)
        return "Word document", _docx
    if body[:3] in (b"MSH", b"FHS", b"BHS") and body[3:4] == b"|":
        return "HL7 message", _hl7v2
    if body.startswith(b"{") and (b'"resourceType"' in data[:65536] or suffix == ".json"):
        return "FHIR resource", _fhir

    if suffix == ".pdf":
        raise ExtractionError("not a PDF: the file does not start with a %PDF header")
    if suffix in IMAGE_EXTENSIONS:
        raise ExtractionError(f"not a valid {suffix[1:].upper()} image: unrecognised header")
    if suffix == ".docx":
        raise ExtractionError("not a Word document: a .docx file must be a ZIP package")
    if suffix == ".hl7":
        raise ExtractionError("not an HL7 v2 message: no MSH segment at the start")
    if suffix == ".json":
        raise ExtractionError("not a FHIR resource: the file is not a JSON object")
    return "text file", _text


def _is_image(head: bytes) -> bool:
    return (
        head.startswith(b"\x89PNG\r\n\x1a\n")
        or head.startswith(b"\xff\xd8\xff")
        or head.startswith(b"II*\x00")
        or head.startswith(b"MM\x00*")
    )


def _check_docx_package(data: bytes) -> None:
    """Refuse ZIP files that are not Word documents, and zip bombs."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as package:
            infos = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExtractionError("damaged ZIP/Word file: the archive cannot be opened") from exc
    names = {info.filename for info in infos}
    if "word/document.xml" not in names:
        raise ExtractionError("ZIP archive that is not a Word document (no word/document.xml)")
    if sum(info.file_size for info in infos) > MAX_DOCX_UNCOMPRESSED:
        raise ExtractionError("Word document inflates to more than 256 MB: refused as a zip bomb")


def _text(data: bytes, filename: str) -> Extraction:
    from indexer.extract import text

    return text.extract_text(data, filename)


def _pdf(data: bytes, filename: str) -> Extraction:
    from indexer.extract import pdf

    return pdf.extract_pdf(data, filename)


def _image(data: bytes, filename: str) -> Extraction:
    from indexer.extract import image

    return image.extract_image(data, filename)


def _docx(data: bytes, filename: str) -> Extraction:
    from indexer.extract import docx

    return docx.extract_docx(data, filename)


def _hl7v2(data: bytes, filename: str) -> Extraction:
    from indexer.extract import hl7v2

    return hl7v2.extract_hl7v2(data, filename)


def _fhir(data: bytes, filename: str) -> Extraction:
    from indexer.extract import fhir

    return fhir.extract_fhir(data, filename, extract_attachment=extract)
