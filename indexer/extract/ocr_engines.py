"""The OCR engines: rapidocr 3.x (PP-OCRv6 models shipped in its wheel) first, rapidocr-onnxruntime 1.x as fallback.

rapidocr 3.x can download models, fonts and images; this module never lets it. The three model files are
given by path from the wheel's own `models/` folder (a path given means the downloader is never called),
the recogniser's character list is read from the ONNX file's metadata, images are handed over as PIL
images (never as a path or URL), and the library's logger is set to critical so it writes nothing to the
terminal the TUI draws on. If the package is missing, a model file is absent, or the models do not load
and run on a small test image, the older engine (PP-OCRv4, models in its own wheel) is used and the reason
kept in `Engine.fallback_reason`. Nothing is imported or loaded until `load_engine` is called.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

# The engine names, as recorded with each scan ("ocr_engine" in a record's metadata) and used to pick
# the legibility thresholds calibrated for that engine (indexer.extract.legibility.THRESHOLDS).
RAPIDOCR = "rapidocr"  # rapidocr 3.x: PP-OCRv6 small det/rec, v2.0 mobile angle classifier
RAPIDOCR_ONNXRUNTIME = "rapidocr-onnxruntime"  # rapidocr-onnxruntime 1.x: PP-OCRv4 (the engine before issue 17)
PREFERRED = (RAPIDOCR, RAPIDOCR_ONNXRUNTIME)

# The model files of the rapidocr 3.x wheel its default configuration names (rapidocr/config.yaml).
MODEL_FILES = {
    "Det.model_path": "PP-OCRv6_det_small.onnx",
    "Rec.model_path": "PP-OCRv6_rec_small.onnx",
    "Cls.model_path": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}

# rapidocr 3 scales a page's short side up to 736 pixels; a thin strip (a cropped line of text, 400x50 for
# crom.png) then falls apart into word boxes ("Covfefe is" / "sa" / "perfectly"). Under this height it gets a
# margin of its own height on every side first, and reads as one sentence. (rapidocr-onnxruntime reads such
# strips right as they are, and worse with the margin: not padded.)
PAD_BELOW = 100

log = logging.getLogger(__name__)


class EngineUnavailable(RuntimeError):
    """An OCR engine could not be imported or its models could not be loaded."""


@dataclass
class Engine:
    """A loaded OCR engine: `read(image)` gives (text, confidence) per line, top to bottom."""

    name: str
    read: Callable[[Image], list[tuple[str, float]]]
    fallback_reason: str | None = None  # why the preferred engine is not the one in use


def shipped_models() -> dict[str, str]:
    """The rapidocr 3.x configuration keys for the model files inside its wheel (EngineUnavailable if absent)."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("the rapidocr package is not installed")
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    paths = {key: models / name for key, name in MODEL_FILES.items()}
    missing = [p.name for p in paths.values() if not p.is_file()]
    if missing:  # never let it download them
        raise EngineUnavailable(f"rapidocr's wheel lacks {', '.join(missing)}")
    return {key: str(path) for key, path in paths.items()}


def _load_rapidocr() -> Engine:
    params: dict[str, Any] = {"Global.log_level": "critical", **shipped_models()}
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:
        raise EngineUnavailable(f"rapidocr cannot be imported: {exc}") from exc
    engine = RapidOCR(params=params)

    def read(image: Image) -> list[tuple[str, float]]:
        if min(image.size) < PAD_BELOW:
            from PIL import ImageOps

            rgb = image.convert("RGB")
            corner = rgb.getpixel((0, 0))
            background = corner if isinstance(corner, tuple) else (255, 255, 255)
            image = ImageOps.expand(rgb, border=min(rgb.size), fill=background)
        out = engine(image)
        texts, scores = getattr(out, "txts", None), getattr(out, "scores", None)
        if not texts or scores is None:
            return []
        return [(str(t), float(s)) for t, s in zip(texts, scores, strict=True)]

    _self_test(read)  # rapidocr 3 loads its models on the first page: load them now, so a failure falls back
    return Engine(RAPIDOCR, read)


def _load_rapidocr_onnxruntime() -> Engine:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        raise EngineUnavailable(f"rapidocr-onnxruntime cannot be imported: {exc}") from exc
    engine = RapidOCR()

    def read(image: Image) -> list[tuple[str, float]]:
        result, _ = engine(image)
        return [(str(text), float(score)) for _box, text, score in result or []]

    return Engine(RAPIDOCR_ONNXRUNTIME, read)


LOADERS: dict[str, Callable[[], Engine]] = {
    RAPIDOCR: _load_rapidocr,
    RAPIDOCR_ONNXRUNTIME: _load_rapidocr_onnxruntime,
}


def _self_test(read: Callable[[Image], list[tuple[str, float]]]) -> None:
    """One word drawn on a small page, read: loads the detector, angle classifier and recogniser."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

    page = PILImage.new("RGB", (160, 160), "white")  # square: the detector scales a page's short side up to 736
    ImageDraw.Draw(page).text((10, 55), "Rx 42", font=ImageFont.load_default(size=40), fill="black")
    if not any(text.strip() for text, _ in read(page)):
        raise EngineUnavailable("the models loaded but read nothing on a test page")


def load_engine(name: str | None = None) -> Engine:
    """The named engine, or the first of PREFERRED that loads (EngineUnavailable if none does)."""
    if name is not None:
        try:
            return LOADERS[name]()
        except EngineUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - onnxruntime and omegaconf raise plain Exception subclasses
            raise EngineUnavailable(f"{name}: {type(exc).__name__}: {exc}") from exc
    reasons: list[str] = []
    for candidate in PREFERRED:
        try:
            engine = load_engine(candidate)
        except EngineUnavailable as exc:
            log.warning("OCR engine %s not used: %s", candidate, exc)
            reasons.append(str(exc))
            continue
        engine.fallback_reason = "; ".join(reasons) or None
        return engine
    raise EngineUnavailable("no OCR engine could be loaded: " + "; ".join(reasons))
