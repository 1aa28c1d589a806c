"""A scan's page as a picture, for a person to read beside its OCR text (the TUI's transcription screen).

Decoded from the bytes it is given, in memory: never a temporary file, never an external program (pypdf's
jbig2dec is off, as in indexer.extract.pdf). Images go through the same decoder as OCR (upright, RGB,
longest side at most indexer.extract.image.MAX_OCR_SIDE); a PDF page shows its largest embedded image.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING, Any

from indexer.extract.errors import ExtractionError

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True)
class ScanPage:
    """One page of a scan: its picture, or why there is none (`why_not`, a sentence for the person)."""

    image: Image | None
    page: int  # 1-based
    pages: int  # how many pages the file has (0 when unknown)
    why_not: str | None = None


def scan_page(data: bytes, fmt: str | None, page: int = 1) -> ScanPage:
    """Page `page` of a scanned image (PNG, JPEG, TIFF) or image-only PDF, decoded in memory."""
    page = max(1, int(page))
    try:
        if fmt == "image":
            return _image_page(data, page)
        if fmt == "pdf":
            return _pdf_page(data, page)
    except ExtractionError as exc:
        return ScanPage(None, page, 0, exc.message)
    return ScanPage(None, page, 0, f"a {fmt or 'text'} record has no scan to show")


def _image_page(data: bytes, page: int) -> ScanPage:
    from PIL import Image as PILImage

    from indexer.extract.image import iter_frames

    try:
        with PILImage.open(BytesIO(data)) as probe:
            pages = int(getattr(probe, "n_frames", 1) or 1)
    except (OSError, SyntaxError, ValueError, EOFError, PILImage.DecompressionBombError):
        pages = 0
    for number, picture in enumerate(iter_frames(data), start=1):
        if number == page:
            return ScanPage(picture, page, max(pages, number))
    return ScanPage(None, page, pages, f"the scan has {pages} page{'s' if pages != 1 else ''}")


def _pdf_page(data: bytes, page: int) -> ScanPage:
    import pypdf

    from indexer.extract.pdf_errors import pdf_errors
    from indexer.extract.pdf_images import page_images

    with pypdf.apply_configuration(jbig2dec_binary=None):
        try:
            reader: Any = pypdf.PdfReader(BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                return ScanPage(None, page, 0, "the PDF is encrypted")
            pages = len(reader.pages)
        except pdf_errors():
            return ScanPage(None, page, 0, "the PDF cannot be read")
        if page > pages:
            return ScanPage(None, page, pages, f"the PDF has {pages} page{'s' if pages != 1 else ''}")
        warnings: list[str] = []
        pictures = page_images(reader.pages[page - 1], warnings, page)
    if not pictures:
        return ScanPage(None, page, pages, f"page {page} of the PDF holds no image")
    from indexer.extract.image import normalise

    largest = max(pictures, key=lambda p: p.size[0] * p.size[1])
    try:
        return ScanPage(normalise(largest), page, pages)
    except (OSError, ValueError) as exc:
        return ScanPage(None, page, pages, f"page {page}'s image cannot be decoded ({exc.__class__.__name__})")


__all__ = ["ScanPage", "scan_page"]
