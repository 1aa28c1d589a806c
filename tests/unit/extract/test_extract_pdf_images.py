"""indexer.extract.pdf_images: huge Flate images are decoded as a stream, scaled down."""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pypdf
import pytest
from PIL import Image

from indexer.extract import jbig2
from indexer.extract.image import MAX_OCR_SIDE
from indexer.extract.pdf_images import _stream_flate, page_images


class FakeImageXObject(dict[str, Any]):
    """Just enough of a pypdf image stream: its dictionary and its raw bytes."""

    def __init__(self, pixels: np.ndarray, space: str, **extra: Any) -> None:
        height, width = pixels.shape[:2]
        super().__init__({"/Width": width, "/Height": height, "/BitsPerComponent": 8,
                          "/ColorSpace": space, "/Filter": "/FlateDecode", **extra})
        self._data = zlib.compress(pixels.tobytes())


def test_grey_image_is_averaged_down() -> None:
    pixels = np.zeros((300, 4100), dtype=np.uint8)
    pixels[:, 2050:] = 255
    image = _stream_flate(FakeImageXObject(pixels, "/DeviceGray"))
    assert image is not None and image.mode == "L"
    assert image.size == (4100 // 3, 300 // 3) and max(image.size) <= MAX_OCR_SIDE
    assert image.getpixel((10, 10)) == 0 and image.getpixel((1300, 10)) == 255


def test_rgb_image() -> None:
    pixels = np.full((2500, 2500, 3), (200, 10, 30), dtype=np.uint8)
    image = _stream_flate(FakeImageXObject(pixels, "/DeviceRGB"))
    assert image is not None and image.size == (1250, 1250)
    assert image.getpixel((5, 5)) == (200, 10, 30)


def test_png_predictors_and_odd_depths_are_left_alone() -> None:
    pixels = np.zeros((10, 10), dtype=np.uint8)
    assert _stream_flate(FakeImageXObject(pixels, "/DeviceGray",
                                          **{"/DecodeParms": {"/Predictor": 15}})) is None
    assert _stream_flate(FakeImageXObject(pixels, "/Indexed")) is None


def test_damaged_stream_gives_what_was_decoded_or_none() -> None:
    xobject = FakeImageXObject(np.zeros((100, 100), dtype=np.uint8), "/DeviceGray")
    xobject._data = b"not zlib at all"
    assert _stream_flate(xobject) is None


def test_real_pages_big_flate_and_jbig2_without_programs(
    ocr_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """multipage.pdf page 2 (9000 x 9000) and skew.pdf (JBIG2) reach their decoders.

    Run as extraction runs them, with pypdf's jbig2dec switched off; starting
    any program fails the test. (test_extract_jbig2 checks the JBIG2 pixels.)
    """

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a program was started during extraction")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    handed: list[object] = []

    def fake_jbig2(xobject: object) -> Image.Image:
        handed.append(xobject)
        return Image.new("L", (100, 100), 255)

    monkeypatch.setattr(jbig2, "decode_pdf_jbig2", fake_jbig2)
    warnings: list[str] = []
    with pypdf.apply_configuration(jbig2dec_binary=None):
        big = pypdf.PdfReader(str(ocr_dir / "multipage.pdf")).pages[1]
        (huge,) = page_images(big, warnings, 2)
        skew = pypdf.PdfReader(str(ocr_dir / "skew.pdf")).pages[0]
        (scan,) = page_images(skew, warnings, 1)
    assert huge.size == (1800, 1800)  # 9000 / 5, the smallest factor that fits 2000
    assert len(handed) == 1 and scan.size == (100, 100)
    assert warnings == []
