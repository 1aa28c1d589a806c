"""indexer.scan_pages: a scan's page as a picture (decoded in memory), or why there is none."""

from __future__ import annotations

import io

from PIL import Image

from indexer.scan_pages import scan_page


def picture(size: tuple[int, int], colour: str = "white", fmt: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt, **options)
    return out.getvalue()


def test_an_image_page_is_decoded_upright_and_in_rgb() -> None:
    grey = io.BytesIO()
    Image.new("L", (600, 400), 200).save(grey, format="PNG")
    page = scan_page(grey.getvalue(), "image")
    assert page.why_not is None and page.image is not None
    assert page.image.mode == "RGB" and page.image.size == (600, 400) and (page.page, page.pages) == (1, 1)


def test_pages_of_a_multi_page_tiff() -> None:
    frames = [Image.new("RGB", (300, 200), c) for c in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:])
    second = scan_page(out.getvalue(), "image", page=2)
    assert second.image is not None and second.image.getpixel((5, 5)) == (0, 128, 0)
    assert (second.page, second.pages) == (2, 3)
    beyond = scan_page(out.getvalue(), "image", page=4)
    assert beyond.image is None and beyond.why_not == "the scan has 3 pages"


def test_a_scanned_pdf_shows_its_page_image() -> None:
    data = picture((800, 1000), "yellow", fmt="PDF", resolution=100)
    page = scan_page(data, "pdf")
    assert page.why_not is None and page.image is not None and page.pages == 1
    assert page.image.getpixel((10, 10)) == (255, 255, 0)
    assert scan_page(data, "pdf", page=2).why_not == "the PDF has 1 page"


def test_no_picture_says_why() -> None:
    from pypdf import PdfWriter

    blank = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(blank)
    assert scan_page(blank.getvalue(), "pdf").why_not == "page 1 of the PDF holds no image"
    assert scan_page(b"Patient: text", "text").why_not == "a text record has no scan to show"
    assert scan_page(b"Patient: text", None).why_not == "a text record has no scan to show"
    damaged = scan_page(picture((50, 50))[:40], "image")
    assert damaged.image is None and damaged.why_not and "damaged" in damaged.why_not
    assert scan_page(b"%PDF-1.4 nonsense", "pdf").why_not == "the PDF cannot be read"
