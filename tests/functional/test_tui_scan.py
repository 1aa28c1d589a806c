"""The transcription tab draws the scan beside the OCR lines and the prefilled box (issue 17): half blocks
without a terminal to ask (these tests), a sentence saying why when it cannot be drawn, F12 to zoom. Pilot
tests on the demo vault (its handwriting-style scan waits for transcription)."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Static, TabbedContent, TextArea

from tests.functional.conftest import copy_demo, session_on
from tests.tui_helpers import text, transcription_tab, wait_until
from tui.app import make_app

wait_for = partial(wait_until, timeout=60.0)


def footer_keys(app: Any) -> set[str]:
    """The descriptions of the keys the footer shows."""
    from textual.widgets._footer import FooterKey

    return {k.description for k in app.screen.query(FooterKey) if k.region.width}


async def test_the_scan_is_drawn_beside_the_prefilled_box(demo_vault: Path, sessions: dict[str, Any],
                                                          tmp_path: Path) -> None:
    from textual_image.widget import HalfcellImage

    from archive.intake import fork_session
    from archive.records import list_queue, show_record
    from tui.widgets.scan_view import ScanView

    root = copy_demo(demo_vault, tmp_path / "vault")  # opening the scan is audited: keep the module's copy
    private = session_on(root, sessions["tess"])
    check = fork_session(private)
    (item,) = list_queue(check, "needs_transcription")
    ocr_text = show_record(check, item.record_id).text
    check.close()
    try:
        app = make_app(root)
        async with app.run_test(size=(120, 36)) as pilot:
            queue = await transcription_tab(pilot, private)
            scan = queue.query_one("#scan", ScanView)
            await wait_for(pilot, lambda: scan.shown_for == item.record_id, "the scan drawn")
            assert scan.drawn
            (picture,) = scan.query(HalfcellImage)
            assert picture.image is not None and picture.image.size[0] > 100  # the decoded page, in memory
            # it takes room on screen, drawn in half blocks (layout and paint may lag on a loaded machine)
            await wait_for(pilot, lambda: picture.size.width > 10 and picture.size.height > 5, "the scan laid out")
            await wait_for(pilot, lambda: "▀" in app.export_screenshot() or "▄" in app.export_screenshot(),
                           "half blocks painted")
            assert "Page 1 · F12 zoom · half blocks" in text(queue.query_one("#scan-caption", Static))
            # beside it: the OCR lines and the box, prefilled with the OCR text
            assert queue.query_one("#transcription-text", TextArea).text == ocr_text
            assert scan.region.right <= queue.query_one("#ocr-lines").region.x
            await wait_for(pilot, lambda: "Zoom scan" in footer_keys(app), "the zoom key in the footer")

            # F12: the scan over the whole tab (the list and the OCR lines give way), wider; F12 again: back
            table = queue.query_one("#transcription", DataTable)
            width = scan.region.width
            await pilot.press("f12")
            await wait_for(pilot, lambda: not table.display and scan.region.width > width, "zoomed")
            assert scan.has_class("zoomed") and not queue.query_one("#ocr-lines").display
            await pilot.press("f12")
            await wait_for(pilot, lambda: table.display and scan.region.width == width, "back")

            # the zoom key is the transcription tab's own
            queue.query_one("#queues", TabbedContent).active = "tab-review"
            await wait_for(pilot, lambda: "Zoom scan" not in footer_keys(app), "no zoom on the review tab")
        audit = fork_session(private)
        views = [e for e in audit.audit_log.entries(action="view_record", user="tess")
                 if e.record == item.record_id and (e.details or {}).get("scan_page") == 1]
        audit.close()
        assert views  # seeing the scan is audited like opening the record
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def test_a_record_without_a_picture_says_why(demo_vault: Path, sessions: dict[str, Any],
                                                    tmp_path: Path) -> None:
    """A typed note sent to the transcription queue: no picture, a sentence instead, with what to do."""
    from archive.intake import fork_session
    from archive.records import list_queue
    from archive.search import search_records
    from tui.widgets.scan_view import ScanView

    root = copy_demo(demo_vault, tmp_path / "vault")
    private = session_on(root, sessions["tess"])
    check = fork_session(private)
    (scan_item,) = list_queue(check, "needs_transcription")
    note = next(h.record_id for h in search_records(check, "furosemide") if h.record_id != scan_item.record_id)
    with check.transaction():  # the note waits first in the queue (the store's own statement for it is `transcribed`)
        check.db.execute("UPDATE records SET needs_transcription = 1, imported_at = '2000-01-01' WHERE id = ?", [note])
    check.close()
    try:
        app = make_app(root)
        async with app.run_test(size=(120, 36)) as pilot:
            queue = await transcription_tab(pilot, private)
            scan = queue.query_one("#scan", ScanView)
            await wait_for(pilot, lambda: scan.shown_for == note, "the note's panel")
            caption = text(queue.query_one("#scan-caption", Static))
            assert not scan.drawn and not scan.query(".scan-image")
            assert "The scan is not drawn here: a text record has no scan to show." in caption
            assert f"chartvault show {note} --original --out FILE" in caption
            # the next row is the scan: drawn, and the note's sentence is gone
            await pilot.click("#transcription")
            queue.query_one("#transcription", DataTable).move_cursor(row=1)
            await wait_for(pilot, lambda: scan.shown_for == scan_item.record_id and scan.drawn, "the scan drawn")
            assert "not drawn" not in text(queue.query_one("#scan-caption", Static))
    finally:
        shutil.rmtree(root, ignore_errors=True)
