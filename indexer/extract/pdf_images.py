"""The images embedded in one PDF page, decoded in memory for OCR.

pypdf's `page.images` decodes most images. Two kinds it refuses are handled
here instead of being lost:

* very large Flate images (pypdf stops at 75 MB of pixels as a decompression
  bomb guard): inflated as a stream, a band of rows at a time, and averaged
  down to at most MAX_OCR_SIDE, so memory stays small;
* JBIG2 images: pypdf would hand them to the `jbig2dec` program through temp
  files, which must never happen to patient data; `jbig2.py` decodes them in
  memory instead. (`extract_pdf` also turns pypdf's jbig2dec use off.)
"""

from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING, Any

from indexer.extract.image import MAX_OCR_SIDE
from indexer.extract.pdf_errors import pdf_errors

if TYPE_CHECKING:
    from PIL.Image import Image

MAX_IMAGES_PER_PAGE = 8
MIN_IMAGE_SIDE = 64  # logos, rules and bullets are not worth OCR
# Upper bound on pixels the streaming decoder will inflate (about 2 GB of RGB).
MAX_STREAM_PIXELS = 700_000_000


def page_images(page: Any, warnings: list[str], page_number: int) -> list[Image]:
    """The page's images worth OCR, largest side at least MIN_IMAGE_SIDE."""
    from pypdf.errors import DependencyError, LimitReachedError

    images: list[Image] = []
    try:
        keys = page.images.keys()
    except pdf_errors():  # a broken resource dictionary: no images
        warnings.append(f"page {page_number}: its images cannot be listed")
        return images
    for key in keys[: MAX_IMAGES_PER_PAGE * 2]:
        if len(images) >= MAX_IMAGES_PER_PAGE:
            warnings.append(f"page {page_number}: only {MAX_IMAGES_PER_PAGE} images were read")
            break
        try:
            image = page.images[key].image
        except (LimitReachedError, DependencyError):
            image = _fallback_decode(page, key)
        except pdf_errors():
            image = None
        if image is None:
            warnings.append(f"page {page_number}: an embedded image could not be decoded")
            continue
        if max(image.size) >= MIN_IMAGE_SIDE:
            images.append(image)
    return images


def _xobject(page: Any, key: str | list[str]) -> Any:
    """Follow an image key ("/Im1" or ["/Fm0", "/Im1"]) to its stream object."""
    path = [key] if isinstance(key, str) else list(key)
    holder = page
    for name in path:
        holder = holder["/Resources"]["/XObject"][name].get_object()
    return holder


def _filters(xobject: Any) -> list[str]:
    value = xobject.get("/Filter")
    if value is None:
        return []
    if isinstance(value, str):
        return [str(value)]
    return [str(item) for item in value]


def _fallback_decode(page: Any, key: str | list[str]) -> Image | None:
    try:
        xobject = _xobject(page, key)
    except (KeyError, AttributeError, TypeError):
        return None
    filters = _filters(xobject)
    if filters == ["/JBIG2Decode"]:
        from indexer.extract.jbig2 import decode_pdf_jbig2

        return decode_pdf_jbig2(xobject)
    if filters == ["/FlateDecode"]:
        return _stream_flate(xobject)
    return None


def _resolve(value: Any) -> Any:
    """Follow an indirect reference; plain values pass through."""
    return value.get_object() if hasattr(value, "get_object") else value


def _colour_channels(xobject: Any) -> int | None:
    space = _resolve(xobject.get("/ColorSpace"))
    if space in ("/DeviceGray", "/CalGray"):
        return 1
    if space in ("/DeviceRGB", "/CalRGB"):
        return 3
    if isinstance(space, list) and len(space) > 1 and str(space[0]) == "/ICCBased":
        channels = _resolve(space[1]).get("/N")
        return int(channels) if channels in (1, 3) else None
    return None


def _stream_flate(xobject: Any) -> Image | None:
    """Inflate a huge 8-bit Flate image band by band, averaging k x k blocks."""
    import numpy as np
    from PIL import Image as PILImage

    params = _resolve(xobject.get("/DecodeParms")) or {}
    if isinstance(params, list):
        params = params[0] if params else {}
    channels = _colour_channels(xobject)
    width, height = int(xobject.get("/Width", 0)), int(xobject.get("/Height", 0))
    if (
        channels is None
        or int(xobject.get("/BitsPerComponent", 0)) != 8
        or int(params.get("/Predictor", 1)) > 1  # PNG predictors chain rows: no skipping
        or width <= 0
        or height <= 0
        or width * height > MAX_STREAM_PIXELS
    ):
        return None
    k = max(1, math.ceil(max(width, height) / MAX_OCR_SIDE))
    row_bytes = width * channels
    band_bytes = row_bytes * k
    out_width = width // k
    inflater = zlib.decompressobj()
    pending = xobject._data
    buffer = bytearray()
    bands: list[Any] = []
    try:
        while len(bands) < height // k:
            chunk = inflater.decompress(pending, max(band_bytes, 1 << 20))
            pending = inflater.unconsumed_tail
            buffer += chunk
            while len(buffer) >= band_bytes:
                band = np.frombuffer(bytes(buffer[:band_bytes]), dtype=np.uint8)
                del buffer[:band_bytes]
                band = band.reshape(k, width, channels)[:, : out_width * k]
                bands.append(band.reshape(k, out_width, k, channels).mean(axis=(0, 2)))
            if not chunk:  # all input was given, so no output means the stream ended
                break
    except zlib.error:
        if not bands:
            return None
    if not bands:
        return None
    pixels = np.stack(bands).astype(np.uint8)
    if channels == 1:
        return PILImage.fromarray(pixels[:, :, 0], mode="L")
    return PILImage.fromarray(pixels, mode="RGB")
