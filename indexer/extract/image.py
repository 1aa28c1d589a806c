"""Scanned images (PNG, JPEG, TIFF incl. multi-page): OCR with per-line confidence.

Images are normalised before OCR: EXIF rotation applied, palette, 1-bit,
16-bit and alpha images turned into plain RGB, and very large scans scaled
down to at most MAX_OCR_SIDE pixels (rapidocr reads palette indices as grey
levels and finds nothing on such scans otherwise). The OCR engine is loaded
on first use, once per process, and shared behind a lock; it is never loaded
at import time: rapidocr 3.x with the models its wheel ships, or rapidocr-onnxruntime
when that cannot be loaded (indexer.extract.ocr_engines). Which engine read a scan is
kept with it, and the "needs transcription" thresholds are those calibrated for that
engine. Images are decoded from memory; nothing is written to disk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from io import BytesIO
from typing import TYPE_CHECKING

from indexer.extract.errors import ExtractionError
from indexer.extract.legibility import MEAN_BELOW, Thresholds, assess, mean_confidence, thresholds_for
from indexer.extract.ocr_engines import Engine, EngineUnavailable, load_engine
from indexer.extract.text import parse_header_fields
from indexer.extract.types import Extraction, OcrLine

if TYPE_CHECKING:
    from PIL.Image import Image

# Longest side given to OCR. At 1600 the word recall on the linn scan drops
# and words run together. Bicubic keeps thin strokes best: linn word recall
# 0.959 against 0.922 with Lanczos and 0.942 with a box filter.
MAX_OCR_SIDE = 2000
# The "needs transcription" decision (mean and weakest line confidence, misread tokens, unknown
# words) lives in indexer.extract.legibility, with thresholds per engine. The mean-confidence floor of
# the preferred engine, for callers that show it:
NEEDS_TRANSCRIPTION_BELOW = MEAN_BELOW
MAX_PIXELS = 200_000_000
MAX_FRAMES = 500
MIN_OCR_SIDE = 8

_engine_lock = threading.Lock()
_engine_holder: dict[str, Engine] = {}


def ocr_engine() -> Engine:
    """The shared OCR engine (rapidocr 3.x, else the older rapidocr-onnxruntime), loaded on first use."""
    with _engine_lock:
        if "engine" not in _engine_holder:
            try:
                _engine_holder["engine"] = load_engine()
            except EngineUnavailable as exc:
                raise ExtractionError(
                    f"no OCR engine could be loaded ({exc})",
                    "Reinstall chartvault's dependencies (pip install rapidocr), then import the scan again.",
                ) from exc
        return _engine_holder["engine"]


def normalise(image: Image) -> Image:
    """Upright, 8-bit RGB, longest side at most MAX_OCR_SIDE."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    try:
        if image.getexif().get(0x0112, 1) not in (0, 1):  # rotated: exif_transpose copies even when upright
            image = ImageOps.exif_transpose(image) or image
    except (ValueError, TypeError, OSError, SyntaxError):
        pass  # a damaged EXIF block only loses the rotation
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        image = _to_8bit(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = PILImage.alpha_composite(background, rgba)
    # Scale in grey where the scan is grey: a third of the work of RGB. (convert() always copies: only
    # when the mode changes, or a 144-megapixel scan is held twice.)
    target = "L" if image.mode in ("1", "L") else "RGB"
    if image.mode != target:
        image = _shrink(image)  # before the conversion, which would copy the full-size pixels
        image = image.convert(target)
    image = _shrink(image)
    if max(image.size) > MAX_OCR_SIDE:
        image.thumbnail((MAX_OCR_SIDE, MAX_OCR_SIDE), PILImage.Resampling.BICUBIC)
    return image if image.mode == "RGB" else image.convert("RGB")


def _shrink(image: Image) -> Image:
    """A very large page cut down by an integer box filter to at most twice MAX_OCR_SIDE (cheap, and the
    full-size pixels can be freed); the bicubic thumbnail then makes the last step, as for any scan."""
    factor = max(image.size) // (2 * MAX_OCR_SIDE)
    if factor < 2 or image.mode not in ("1", "L", "RGB", "P", "RGBA", "LA"):
        return image
    if image.mode in ("1", "P"):
        return image  # converted first (reduce() does not take these modes)
    return image.reduce(factor)


def _to_8bit(image: Image) -> Image:
    import numpy as np
    from PIL import Image as PILImage

    values = np.asarray(image, dtype=np.float32)
    low, high = float(values.min()), float(values.max())
    scale = 255.0 / (high - low) if high > low else 0.0
    return PILImage.fromarray(((values - low) * scale).astype(np.uint8), mode="L")


def ocr(image: Image, engine: Engine | None = None) -> list[OcrLine]:
    """Lines of text in reading order (top to bottom) with their confidence (by the shared engine unless
    one is given, as the benchmark does to compare engines)."""
    image = normalise(image)
    if min(image.size) < MIN_OCR_SIDE:
        return []
    engine = engine or ocr_engine()
    with _engine_lock:
        result = engine.read(image)
    lines = []
    for text, score in result:
        text = text.strip()
        if text:
            lines.append(OcrLine(text=text, confidence=round(score, 4)))
    return lines


def confidence(lines: list[OcrLine]) -> float | None:
    """Mean line confidence weighted by line length, so a stray "17" counts little."""
    return mean_confidence(lines)


def engine_thresholds() -> Thresholds:
    """The legibility thresholds calibrated for the engine in use."""
    return thresholds_for(ocr_engine().name)


def needs_transcription(lines: list[OcrLine]) -> bool:
    """Whether a person should transcribe the scan (read by the shared engine): see indexer.extract.legibility."""
    return assess(lines, engine_thresholds()).needs_transcription


def iter_frames(data: bytes) -> Iterator[Image]:
    """Every page of an image file (TIFFs may hold many), decoded in memory, normalised.

    Pages are yielded one at a time, already scaled down, so a long multi-page
    TIFF never holds more than one full-size page in memory.
    """
    import warnings

    from PIL import Image as PILImage
    from PIL import ImageSequence, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            image = PILImage.open(BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ExtractionError(
                    f"image is too large to OCR ({width}x{height} pixels)",
                    "Scan at 300 dpi or less and drop the file into the inbox again.",
                )
            if image.format == "JPEG" and max(width, height) > 2 * MAX_OCR_SIDE:
                # Let the JPEG decoder scale down by a power of two: far cheaper.
                image.draft("RGB", (MAX_OCR_SIDE, MAX_OCR_SIDE))
            frames = ImageSequence.Iterator(image)
            for _ in range(MAX_FRAMES):
                try:
                    frame = next(frames)
                except StopIteration:
                    return
                frame.load()
                # One page: no copy of the full-size pixels (a copy is needed only while seeking pages).
                single = getattr(image, "n_frames", 1) == 1
                page = normalise(frame if single else frame.copy())
                if single and page is not image:
                    image.close()  # frees the full-size pixels before OCR runs on the small page
                del frame
                yield page
                if single:
                    return
    except PILImage.DecompressionBombError as exc:
        raise ExtractionError("image is too large to OCR (decompression bomb)") from exc
    except UnidentifiedImageError as exc:
        raise ExtractionError("damaged image: the format is not recognised") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ExtractionError("damaged or truncated image: the pixels cannot be decoded") from exc


def extract_image(data: bytes, filename: str) -> Extraction:
    """A scanned page or photo: OCR text, confidence and the transcription flag."""
    lines: list[OcrLine] = []
    page_texts = []
    for page in iter_frames(data):
        page_lines = ocr(page)
        lines.extend(page_lines)
        page_texts.append("\n".join(line.text for line in page_lines))
    if not page_texts:
        raise ExtractionError("image contains no pages")
    text = "\n\n".join(t for t in page_texts if t)
    warnings = [] if text else ["OCR found no text in this image"]
    engine = ocr_engine()
    if engine.fallback_reason:
        warnings.append(f"read by the older OCR engine ({engine.name}): {engine.fallback_reason}")
    if len(page_texts) == MAX_FRAMES:
        warnings.append(f"only the first {MAX_FRAMES} pages were read")
    patient, when, author = parse_header_fields(text)
    score = confidence(lines)
    verdict = assess(lines, thresholds_for(engine.name))
    return Extraction(
        text=text,
        format="image",
        doc_type="scan",
        title=lines[0].text[:200] if lines else None,
        date=when,
        author=author,
        patient=patient,
        pages=len(page_texts),
        ocr_lines=lines,
        ocr_confidence=score if score is not None else 0.0,
        needs_transcription=verdict.needs_transcription,
        transcription_reasons=list(verdict.reasons),
        ocr_engine=engine.name,
        warnings=warnings,
    )
