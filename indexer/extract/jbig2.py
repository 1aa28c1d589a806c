"""A small in-memory JBIG2 decoder for the generic regions of scanned PDF pages.

pypdf decodes JBIG2 only by running the jbig2dec program on temp files, and
patient data must never touch the disk, so scans compressed with JBIG2 (as
jbig2enc and ocrmypdf write them in generic-region mode) are decoded here:
page information plus immediate generic regions, arithmetic coded, any of
the four templates, with or without typical prediction (TPGDON). Symbol and
text regions (lossy "symbol mode" encoding) and MMR coding are not handled:
`decode_pdf_jbig2` then returns None and the page is reported as unreadable.

References: ITU-T T.88 sections 6.2 (generic region decoding), 7.2-7.4
(segments) and annex E (the MQ arithmetic decoder).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

MAX_PIXELS = 40_000_000  # A4 at 600 dpi is 35 million; pure Python needs ~0.6 s each million

# Annex E, table E.1: (Qe, next index after MPS, after LPS, switch MPS sense).
_QE_TABLE = (
    (0x5601, 1, 1, 1), (0x3401, 2, 6, 0), (0x1801, 3, 9, 0), (0x0AC1, 4, 12, 0),
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
    (0x0005, 45, 42, 0), (0x0001, 45, 43, 0), (0x5601, 46, 46, 0),
)
_QE = [row[0] for row in _QE_TABLE]
_NMPS = [row[1] for row in _QE_TABLE]
_NLPS = [row[2] for row in _QE_TABLE]
_SWITCH = [row[3] for row in _QE_TABLE]

# Context bits of each template with its adaptive pixels at their nominal
# places, as (dx, dy) per bit, bit 0 first (T.88 figures 3 to 6).
_TEMPLATES = {
    0: ((-1, 0), (-2, 0), (-3, 0), (-4, 0), None, (2, -1), (1, -1), (0, -1), (-1, -1),
        (-2, -1), None, None, (1, -2), (0, -2), (-1, -2), None),
    1: ((-1, 0), (-2, 0), (-3, 0), None, (2, -1), (1, -1), (0, -1), (-1, -1), (-2, -1),
        (2, -2), (1, -2), (0, -2), (-1, -2)),
    2: ((-1, 0), (-2, 0), None, (1, -1), (0, -1), (-1, -1), (-2, -1), (1, -2), (0, -2),
        (-1, -2)),
    3: ((-1, 0), (-2, 0), (-3, 0), (-4, 0), None, (1, -1), (0, -1), (-1, -1), (-2, -1),
        (-3, -1)),
}
# Context used for the "same as the row above" flag of typical prediction.
_TPGDON_CONTEXT = {0: 0x9B25, 1: 0x0795, 2: 0x00E5, 3: 0x0195}
_AT_COUNT = {0: 4, 1: 1, 2: 1, 3: 1}


class JBIG2Unsupported(Exception):
    """The stream uses a JBIG2 feature this decoder does not implement."""


def decode_pdf_jbig2(xobject: Any) -> Image | None:
    """Decode a PDF image XObject with /JBIG2Decode; None when not possible."""
    from PIL import Image as PILImage

    params = xobject.get("/DecodeParms") or {}
    if isinstance(params, list):
        params = params[0] if params else {}
    chunks = []
    globals_ref = params.get("/JBIG2Globals") if hasattr(params, "get") else None
    if globals_ref is not None:
        chunks.append(globals_ref.get_object().get_data())
    chunks.append(xobject._data)
    try:
        pixels, width, height = decode_embedded(b"".join(chunks))
    except (JBIG2Unsupported, IndexError, ValueError, struct.error):
        return None
    decode = xobject.get("/Decode")
    black_is_one = not (decode is not None and len(decode) == 2 and float(decode[0]) == 1.0)
    # JBIG2 1 = black; PDF grey samples 0 = black, unless /Decode inverts them.
    table = bytes([255, 0]) + bytes(254) if black_is_one else bytes([0, 255]) + bytes(254)
    return PILImage.frombytes("L", (width, height), pixels.translate(table))


def decode_embedded(data: bytes) -> tuple[bytes, int, int]:
    """An embedded (header-less) JBIG2 stream -> (one byte per pixel, width, height)."""
    import numpy as np

    page: Any = None
    width = height = 0
    offset = 0
    while offset + 11 <= len(data):
        number, flags = struct.unpack_from(">IB", data, offset)
        offset += 5
        kind = flags & 0x3F
        referred = data[offset] >> 5
        if referred > 4:
            raise JBIG2Unsupported("long form of referred-to segments")
        offset += 1
        ref_size = 1 if number <= 256 else 2 if number <= 65536 else 4
        offset += referred * ref_size
        offset += 4 if flags & 0x40 else 1  # page association
        (length,) = struct.unpack_from(">I", data, offset)
        offset += 4
        if length == 0xFFFFFFFF:
            raise JBIG2Unsupported("segment of unknown length")
        body = data[offset : offset + length]
        offset += length
        if kind == 48:  # page information
            width, height = struct.unpack_from(">II", body, 0)
            if height == 0xFFFFFFFF or width * height > MAX_PIXELS:
                raise JBIG2Unsupported("striped or oversized page")
            default_pixel = (body[16] >> 2) & 1
            page = np.full((height, width), default_pixel, dtype=np.uint8)
        elif kind in (36, 38, 39):  # generic regions
            if page is None:
                raise JBIG2Unsupported("region before page information")
            _place_generic_region(body, page)
        elif kind in (49, 50, 51, 52, 53, 62):  # end of page/stripe/file, profiles, tables, ext.
            continue
        else:
            raise JBIG2Unsupported(f"segment type {kind}")
    if page is None:
        raise JBIG2Unsupported("no page information")
    return page.tobytes(), width, height


def _place_generic_region(body: bytes, page: Any) -> None:
    import numpy as np

    region_w, region_h, region_x, region_y = struct.unpack_from(">IIII", body, 0)
    operator = body[16] & 0x07
    flags = body[17]
    if flags & 0x01:
        raise JBIG2Unsupported("MMR coding")
    template = (flags >> 1) & 0x03
    tpgdon = bool(flags & 0x08)
    at_count = _AT_COUNT[template]
    at = struct.unpack_from(f">{2 * at_count}b", body, 18)
    start = 18 + 2 * at_count
    if region_w * region_h > MAX_PIXELS:
        raise JBIG2Unsupported("oversized region")
    decoded = decode_generic(body[start:], region_w, region_h, template, tpgdon, at)
    region = np.frombuffer(bytes(decoded), dtype=np.uint8).reshape(region_h, region_w)
    target = page[region_y : region_y + region_h, region_x : region_x + region_w]
    region = region[: target.shape[0], : target.shape[1]]
    if operator == 0:
        target |= region
    elif operator == 1:
        target &= region
    elif operator == 2:
        target ^= region
    elif operator == 3:
        target[...] = 1 - (target ^ region)
    else:
        target[...] = region


def _context_bits(template: int, at: tuple[int, ...]) -> list[tuple[int, int]]:
    positions = list(_TEMPLATES[template])
    pairs = iter(zip(at[0::2], at[1::2], strict=True))
    return [p if p is not None else next(pairs) for p in positions]


def decode_generic(
    data: bytes, width: int, height: int, template: int, tpgdon: bool, at: tuple[int, ...]
) -> bytearray:
    """Arithmetic-coded generic region -> one byte (0 or 1) per pixel, row by row."""
    import numpy as np

    bits = _context_bits(template, at)
    pad = 8
    stride = width + 2 * pad
    # Two blank rows above the region and `pad` blank columns either side.
    plane = bytearray(stride * (height + 2))
    view = np.frombuffer(plane, dtype=np.uint8)
    stats_index = [0] * 65536
    stats_mps = [0] * 65536
    columns = np.arange(width)

    # MQ decoder state (annex E.3), with C as one 32-bit register.
    qe_t, nmps_t, nlps_t, switch_t = _QE, _NMPS, _NLPS, _SWITCH
    end = len(data)

    def byte_in(bp: int, c: int) -> tuple[int, int, int]:
        byte = data[bp] if bp < end else 0xFF
        if byte == 0xFF:
            following = data[bp + 1] if bp + 1 < end else 0xFF
            if following > 0x8F:
                return bp, c + 0xFF00, 8
            bp += 1
            return bp, c + (following << 9), 7
        bp += 1
        return bp, c + ((data[bp] if bp < end else 0xFF) << 8), 8

    bp, c, ct = byte_in(0, (data[0] if end else 0xFF) << 16)
    c = (c << 7) & 0xFFFFFFFF
    ct -= 7
    a = 0x8000

    nominal = template == 0 and tuple(at) == (3, -1, -3, -1, 2, -2, -2, -2)
    ltp = 0
    for y in range(height):
        row = (y + 2) * stride + pad
        if tpgdon:
            bit, a, c, ct, bp = _decode_one(
                _TPGDON_CONTEXT[template], stats_index, stats_mps, a, c, ct, bp, byte_in
            )
            ltp ^= bit
            if ltp:
                plane[row : row + width] = plane[row - stride : row - stride + width]
                continue
        incoming: list[int] = []
        zeros_from: list[int] = []
        ctx = 0
        if nominal:
            # Incremental context (T.88 6.2.5.7): shift, drop the bits that leave
            # the window (mask 0x7BF7), bring in the new pixels of the rows above.
            above1 = view[row - stride : row - stride + width + 5].astype(np.int32)
            above2 = view[row - 2 * stride : row - 2 * stride + width + 4].astype(np.int32)
            entering = (above1[4:] << 4) | (above2[3:] << 11)
            incoming = entering.tolist()
            # Where the rows above are blank the context stays 0 while white is
            # decoded, so runs of sure "white" decisions can be taken at once.
            inked = np.flatnonzero(entering[:width])
            following = np.append(inked, width)[np.searchsorted(inked, columns)]
            zeros_from = (following - columns).tolist()
            for k in range(4):
                ctx |= int(above1[3 - k]) << (4 + k)
            for k in range(3):
                ctx |= int(above2[2 - k]) << (11 + k)
        x = 0
        while x < width:
            if nominal and ctx == 0 and stats_mps[0] == 0:
                qe = qe_t[stats_index[0]]
                run = min((c >> 16) // qe, (a - 0x8000) // qe, 1 + zeros_from[x], width - x)
                if run > 0:
                    # `run` MPS decisions in a row: no renormalisation, no state change.
                    a -= run * qe
                    c -= (run * qe) << 16
                    x += run
                    ctx = incoming[x - 1]
                    continue
            if not nominal:
                ctx = 0
                for shift, (dx, dy) in enumerate(bits):
                    px, py = x + dx, y + dy
                    if 0 <= px < width and py >= 0:
                        ctx |= plane[(py + 2) * stride + pad + px] << shift
            # --- MQ DECODE (figure E.15), inlined for speed ---
            state = stats_index[ctx]
            qe = qe_t[state]
            a -= qe
            if (c >> 16) < qe:
                # LPS_EXCHANGE
                mps = stats_mps[ctx]
                if a < qe:
                    bit = mps
                    stats_index[ctx] = nmps_t[state]
                else:
                    bit = 1 - mps
                    if switch_t[state]:
                        stats_mps[ctx] = bit
                    stats_index[ctx] = nlps_t[state]
                a = qe
            else:
                c -= qe << 16
                mps = stats_mps[ctx]
                if a & 0x8000:
                    bit = mps
                elif a < qe:  # MPS_EXCHANGE
                    bit = 1 - mps
                    if switch_t[state]:
                        stats_mps[ctx] = bit
                    stats_index[ctx] = nlps_t[state]
                else:
                    bit = mps
                    stats_index[ctx] = nmps_t[state]
            if not a & 0x8000:  # RENORMD
                while True:
                    if ct == 0:
                        bp, c, ct = byte_in(bp, c)
                    a <<= 1
                    c = (c << 1) & 0xFFFFFFFF
                    ct -= 1
                    if a & 0x8000:
                        break
            if bit:
                plane[row + x] = 1
            if nominal:
                ctx = ((ctx & 0x7BF7) << 1) | bit | incoming[x]
            x += 1
    region = bytearray(width * height)
    for y in range(height):
        row = (y + 2) * stride + pad
        region[y * width : (y + 1) * width] = plane[row : row + width]
    return region


def _decode_one(
    ctx: int, stats_index: list[int], stats_mps: list[int], a: int, c: int, ct: int, bp: int,
    byte_in: Any,
) -> tuple[int, int, int, int, int]:
    """One MQ decode (figure E.15) for the rare, non-pixel decisions."""
    state = stats_index[ctx]
    qe = _QE[state]
    mps = stats_mps[ctx]
    a -= qe
    if (c >> 16) < qe:
        if a < qe:
            bit = mps
            stats_index[ctx] = _NMPS[state]
        else:
            bit = 1 - mps
            if _SWITCH[state]:
                stats_mps[ctx] = bit
            stats_index[ctx] = _NLPS[state]
        a = qe
    else:
        c -= qe << 16
        if a & 0x8000:
            return mps, a, c, ct, bp
        if a < qe:
            bit = 1 - mps
            if _SWITCH[state]:
                stats_mps[ctx] = bit
            stats_index[ctx] = _NLPS[state]
        else:
            bit = mps
            stats_index[ctx] = _NMPS[state]
    while True:
        if ct == 0:
            bp, c, ct = byte_in(bp, c)
        a <<= 1
        c = (c << 1) & 0xFFFFFFFF
        ct -= 1
        if a & 0x8000:
            break
    return bit, a, c, ct, bp
