"""indexer.extract.ocr_engines: rapidocr 3.x from its wheel, offline; rapidocr-onnxruntime when it cannot load."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from indexer.extract import image as image_mod
from indexer.extract import ocr_engines
from indexer.extract.dispatch import extract
from indexer.extract.legibility import (
    RAPIDOCR_ONNXRUNTIME_THRESHOLDS,
    RAPIDOCR_THRESHOLDS,
    thresholds_for,
)
from indexer.extract.ocr_engines import RAPIDOCR, RAPIDOCR_ONNXRUNTIME, EngineUnavailable, load_engine

REPO = Path(__file__).resolve().parents[3]


def page_png(text: str = "Cimetidine 400 mg") -> bytes:
    page = Image.new("RGB", (700, 700), "white")
    ImageDraw.Draw(page).text((30, 300), text, font=ImageFont.load_default(size=40), fill="black")
    out = BytesIO()
    page.save(out, "PNG")
    return out.getvalue()


def test_the_new_engine_reads_scans_and_is_named_with_them() -> None:
    engine = image_mod.ocr_engine()
    assert (engine.name, engine.fallback_reason) == (RAPIDOCR, None)
    result = extract(page_png(), "scan.png")
    assert result.text == "Cimetidine 400 mg"
    assert result.ocr_engine == RAPIDOCR
    assert not any("older OCR engine" in w for w in result.warnings)


def test_it_loads_the_models_of_its_wheel_with_no_network() -> None:
    """A fresh process, every socket connection and URL open refused and recorded: the engine loads from the
    model files inside the rapidocr wheel and reads a page; nothing was fetched."""
    script = textwrap.dedent(
        """
        import socket, sys
        attempts = []
        def hook(event, args):
            if event in ("socket.connect", "socket.getaddrinfo", "urllib.Request", "http.client.connect"):
                attempts.append(event)
                raise OSError("network blocked in this test")
        sys.addaudithook(hook)
        from PIL import Image, ImageDraw, ImageFont
        from indexer.extract.image import ocr
        from indexer.extract.ocr_engines import load_engine, shipped_models
        import rapidocr, pathlib
        wheel = pathlib.Path(rapidocr.__file__).parent / "models"
        assert all(pathlib.Path(p).parent == wheel for p in shipped_models().values())
        engine = load_engine("rapidocr")
        page = Image.new("RGB", (600, 600), "white")
        ImageDraw.Draw(page).text((20, 250), "Metformin 850 mg", font=ImageFont.load_default(size=40), fill="black")
        print(engine.name, "|", " ".join(line.text for line in ocr(page, engine)), "|", attempts)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "rapidocr | Metformin 850 mg | []"


def test_falls_back_to_the_old_engine_when_rapidocr_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # import rapidocr -> ImportError; find_spec -> None
    with pytest.raises(EngineUnavailable, match="not installed"):
        load_engine(RAPIDOCR)
    engine = load_engine()
    assert engine.name == RAPIDOCR_ONNXRUNTIME
    assert engine.fallback_reason is not None and "rapidocr package is not installed" in engine.fallback_reason
    assert any(text.strip() for text, _ in engine.read(Image.open(BytesIO(page_png()))))


def test_falls_back_when_a_model_file_is_missing_or_does_not_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with monkeypatch.context() as patch:
        patch.setitem(ocr_engines.MODEL_FILES, "Rec.model_path", "PP-OCRv99_rec.onnx")
        with pytest.raises(EngineUnavailable, match="lacks PP-OCRv99_rec.onnx"):
            load_engine(RAPIDOCR)  # never downloaded: refused
    broken = tmp_path / "rec.onnx"
    broken.write_bytes(b"not a model")
    real = ocr_engines.shipped_models()
    monkeypatch.setattr(ocr_engines, "shipped_models", lambda: {**real, "Rec.model_path": str(broken)})
    with pytest.raises(EngineUnavailable, match="rapidocr: "):
        load_engine(RAPIDOCR)  # the models load on the self-test page, so the failure shows here
    engine = load_engine()
    assert engine.name == RAPIDOCR_ONNXRUNTIME and engine.fallback_reason


def test_a_scan_read_by_the_fallback_says_so_and_uses_its_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    old = load_engine(RAPIDOCR_ONNXRUNTIME)
    old.fallback_reason = "rapidocr cannot be imported: test"
    monkeypatch.setitem(image_mod._engine_holder, "engine", old)
    result = extract(page_png(), "scan.png")
    assert result.ocr_engine == RAPIDOCR_ONNXRUNTIME
    assert "Cimetidine" in result.text
    assert "read by the older OCR engine (rapidocr-onnxruntime): rapidocr cannot be imported: test" in result.warnings
    assert image_mod.engine_thresholds() == RAPIDOCR_ONNXRUNTIME_THRESHOLDS


def test_thresholds_follow_the_engine_that_read_the_scan() -> None:
    assert thresholds_for(RAPIDOCR) == RAPIDOCR_THRESHOLDS
    assert thresholds_for(RAPIDOCR_ONNXRUNTIME) == RAPIDOCR_ONNXRUNTIME_THRESHOLDS
    assert thresholds_for(None) == RAPIDOCR_ONNXRUNTIME_THRESHOLDS  # records imported before engines were named


def test_no_engine_at_all_is_an_extraction_error_with_a_remedy(monkeypatch: pytest.MonkeyPatch) -> None:
    from indexer.extract.errors import ExtractionError

    def unavailable(name: str | None = None) -> ocr_engines.Engine:
        raise EngineUnavailable("no OCR engine could be loaded: test")

    monkeypatch.delitem(image_mod._engine_holder, "engine", raising=False)
    monkeypatch.setattr(image_mod, "load_engine", unavailable)
    with pytest.raises(ExtractionError, match="no OCR engine could be loaded") as caught:
        extract(page_png(), "scan.png")
    assert "pip install rapidocr" in (caught.value.hint or "")
