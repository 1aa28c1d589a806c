"""indexer.extract.jbig2: the in-memory JBIG2 generic-region decoder."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import pypdf
import pytest

from indexer.extract.jbig2 import JBIG2Unsupported, decode_embedded, decode_pdf_jbig2


@pytest.fixture(scope="module")
def skew_xobject(ocr_dir: Path) -> Any:
    page: Any = pypdf.PdfReader(str(ocr_dir / "skew.pdf")).pages[0]
    return page["/Resources"]["/XObject"]["/Im0"].get_object()


def test_decodes_the_scanned_page(skew_xobject: Any) -> None:
    image = decode_pdf_jbig2(skew_xobject)
    assert image is not None and image.size == (2550, 3300) and image.mode == "L"
    pixels = np.asarray(image)
    ink = float((pixels == 0).mean())
    assert 0.02 < ink < 0.2, ink  # a page of text, not noise (about half) nor blank
    assert (pixels[:100] == 255).all()  # white top margin
    rows_with_ink = (pixels == 0).any(axis=1)
    assert rows_with_ink[150:300].any()  # the title lines


def segment(number: int, kind: int, body: bytes) -> bytes:
    return struct.pack(">IBBBI", number, kind, 0, 1, len(body)) + body


def page_info(width: int, height: int) -> bytes:
    return segment(0, 48, struct.pack(">IIIIBH", width, height, 0, 0, 0, 0))


def test_unsupported_features_are_reported() -> None:
    symbol_dictionary = segment(1, 0, b"\x00" * 20)
    with pytest.raises(JBIG2Unsupported):
        decode_embedded(page_info(8, 8) + symbol_dictionary)
    mmr_region = segment(1, 38, struct.pack(">IIIIB", 8, 8, 0, 0, 0) + b"\x01" + b"\x00" * 8)
    with pytest.raises(JBIG2Unsupported, match="MMR"):
        decode_embedded(page_info(8, 8) + mmr_region)
    with pytest.raises(JBIG2Unsupported, match="page information"):
        decode_embedded(b"")


def test_unsupported_stream_gives_none() -> None:
    class XObject(dict[str, Any]):
        _data = segment(0, 0, b"\x00" * 4)

    assert decode_pdf_jbig2(XObject()) is None


# --- Round trip through a reference encoder (T.88 annex E.2), written for the test ---

QE = [(0x5601, 1, 1, 1), (0x3401, 2, 6, 0), (0x1801, 3, 9, 0), (0x0AC1, 4, 12, 0),
      (0x0521, 5, 29, 0), (0x0221, 38, 33, 0), (0x5601, 7, 6, 1), (0x5401, 8, 14, 0),
      (0x4801, 9, 14, 0), (0x3801, 10, 14, 0), (0x3001, 11, 17, 0), (0x2401, 12, 18, 0),
      (0x1C01, 13, 20, 0), (0x1601, 29, 21, 0), (0x5601, 15, 14, 1), (0x5401, 16, 14, 0),
      (0x5101, 17, 15, 0), (0x4801, 18, 16, 0), (0x3801, 19, 17, 0), (0x3401, 20, 18, 0),
      (0x3001, 21, 19, 0), (0x2801, 22, 19, 0), (0x2401, 23, 20, 0), (0x2201, 24, 21, 0),
      (0x1C01, 25, 22, 0), (0x1801, 26, 23, 0), (0x1601, 27, 24, 0), (0x1401, 28, 25, 0),
      (0x1201, 29, 26, 0), (0x1101, 30, 27, 0), (0x0AC1, 31, 28, 0), (0x09C1, 32, 29, 0),
      (0x08A1, 33, 30, 0), (0x0521, 34, 31, 0), (0x0441, 35, 32, 0), (0x02A1, 36, 33, 0),
      (0x0221, 37, 34, 0), (0x0141, 38, 35, 0), (0x0111, 39, 36, 0), (0x0085, 40, 37, 0),
      (0x0049, 41, 38, 0), (0x0025, 42, 39, 0), (0x0015, 43, 40, 0), (0x0009, 44, 41, 0),
      (0x0005, 45, 42, 0), (0x0001, 45, 43, 0), (0x5601, 46, 46, 0)]
TEMPLATE_PIXELS: dict[int, list[Any]] = {
    0: [(-1, 0), (-2, 0), (-3, 0), (-4, 0), "A1", (2, -1), (1, -1), (0, -1), (-1, -1), (-2, -1),
        "A2", "A3", (1, -2), (0, -2), (-1, -2), "A4"],
    1: [(-1, 0), (-2, 0), (-3, 0), "A1", (2, -1), (1, -1), (0, -1), (-1, -1), (-2, -1), (2, -2),
        (1, -2), (0, -2), (-1, -2)],
    2: [(-1, 0), (-2, 0), "A1", (1, -1), (0, -1), (-1, -1), (-2, -1), (1, -2), (0, -2), (-1, -2)],
    3: [(-1, 0), (-2, 0), (-3, 0), (-4, 0), "A1", (1, -1), (0, -1), (-1, -1), (-2, -1), (-3, -1)],
}
TPGDON_CONTEXT = {0: 0x9B25, 1: 0x0795, 2: 0x00E5, 3: 0x0195}


class MQEncoder:
    def __init__(self) -> None:
        self.a, self.c, self.ct, self.out = 0x8000, 0, 12, [0]
        self.index = [0] * 65536
        self.mps = [0] * 65536

    def encode(self, bit: int, cx: int) -> None:
        qe, nmps, nlps, switch = QE[self.index[cx]]
        self.a -= qe
        if bit == self.mps[cx]:
            if self.a & 0x8000:
                self.c += qe
                return
            if self.a < qe:
                self.a = qe
            else:
                self.c += qe
            self.index[cx] = nmps
        else:
            if self.a < qe:
                self.c += qe
            else:
                self.a = qe
            if switch:
                self.mps[cx] = 1 - self.mps[cx]
            self.index[cx] = nlps
        while True:
            self.a <<= 1
            self.c <<= 1
            self.ct -= 1
            if self.ct == 0:
                self.byte_out()
            if self.a & 0x8000:
                break

    def byte_out(self) -> None:
        if self.out[-1] == 0xFF:
            self.out.append((self.c >> 20) & 0xFF)
            self.c &= 0xFFFFF
            self.ct = 7
        elif self.c < 0x8000000:
            self.out.append((self.c >> 19) & 0xFF)
            self.c &= 0x7FFFF
            self.ct = 8
        else:
            self.out[-1] += 1
            if self.out[-1] == 0xFF:
                self.c &= 0x7FFFFFF
                self.out.append((self.c >> 20) & 0xFF)
                self.c &= 0xFFFFF
                self.ct = 7
            else:
                self.out.append((self.c >> 19) & 0xFF)
                self.c &= 0x7FFFF
                self.ct = 8

    def flush(self) -> bytes:
        temp = self.c + self.a
        self.c |= 0xFFFF
        if self.c >= temp:
            self.c -= 0x8000
        self.c <<= self.ct
        self.byte_out()
        self.c <<= self.ct
        self.byte_out()
        return bytes(self.out[1:]) + b"\xff\xac"


def encode_region(image: np.ndarray, template: int, tpgdon: bool, at: list[int]) -> bytes:
    height, width = image.shape
    pairs = iter(zip(at[0::2], at[1::2], strict=True))
    pixels = [p if p not in ("A1", "A2", "A3", "A4") else next(pairs)
              for p in TEMPLATE_PIXELS[template]]
    encoder = MQEncoder()
    ltp = 0
    for y in range(height):
        if tpgdon:
            same = y > 0 and bool((image[y] == image[y - 1]).all())
            encoder.encode(int(same != bool(ltp)), TPGDON_CONTEXT[template])
            ltp = int(same)
            if same:
                continue
        for x in range(width):
            ctx = 0
            for shift, (dx, dy) in enumerate(pixels):
                px, py = x + dx, y + dy
                if 0 <= px < width and py >= 0:
                    ctx |= int(image[py, px]) << shift
            encoder.encode(int(image[y, x]), ctx)
    data = encoder.flush()
    flags = (template << 1) | (0x08 if tpgdon else 0)
    region = struct.pack(">IIIIBB", width, height, 0, 0, 0, flags)
    region += struct.pack(f">{len(at)}b", *at) + data
    return page_info(width, height) + segment(1, 38, region)


@pytest.mark.parametrize(
    ("template", "tpgdon", "at"),
    [
        (0, False, [3, -1, -3, -1, 2, -2, -2, -2]),  # jbig2enc's choice: the fast path
        (0, True, [3, -1, -3, -1, 2, -2, -2, -2]),
        (0, False, [-1, -1, -4, -1, 3, -2, -3, 0]),  # moved adaptive pixels: the general path
        (1, True, [3, -1]),
        (2, False, [2, -1]),
        (3, True, [2, -1]),
    ],
)
def test_round_trip_through_reference_encoder(template: int, tpgdon: bool, at: list[int]) -> None:
    rng = np.random.default_rng(template * 10 + tpgdon)
    image = np.zeros((40, 70), dtype=np.uint8)
    for _ in range(25):  # blobs like letters, rows repeated like white space
        y, x = rng.integers(0, 36), rng.integers(0, 64)
        image[y : y + rng.integers(1, 5), x : x + rng.integers(1, 7)] = 1
    image[20:26] = image[19]
    image ^= (rng.random(image.shape) < 0.03).astype(np.uint8)
    pixels, width, height = decode_embedded(encode_region(image, template, tpgdon, at))
    decoded = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width)
    assert (width, height) == (70, 40)
    assert (decoded == image).all()
