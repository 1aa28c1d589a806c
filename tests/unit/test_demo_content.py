"""archive.demo_content: the demo's handwriting-style scan is the same picture in every process and test order."""

from __future__ import annotations


def test_the_handwriting_scan_does_not_depend_on_what_ran_before() -> None:
    """Its speckle came from PIL's effect_noise, which draws from the C library's rand(): a second drawing in the
    same process differed from the first, so the demo's OCR reading (and the TUI snapshots showing it) changed with
    the tests that had run before the demo was built."""
    from archive.demo_content import handwriting_png

    first = handwriting_png()
    assert handwriting_png() == first
