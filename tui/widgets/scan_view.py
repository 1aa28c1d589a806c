"""The scan beside the transcription box, drawn in the terminal, or a sentence saying why it is not.

Drawn with textual-image: sixel or the kitty graphics protocol where the terminal has them, coloured half
blocks otherwise. textual-image asks the terminal what it can draw when it is first imported, which works
only before Textual starts reading the terminal, so `prepare_graphics()` runs in `launch_tui` before the
app. Without a terminal (tests, `chartvault serve`: nothing to ask) half blocks are drawn. The picture is
held in memory only (archive.records.scan_picture decrypts it there); it is dropped, and a terminal's copy
deleted, when another scan is shown or the widget goes (a lock).
"""

from __future__ import annotations

import sys
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

# How scans are drawn: None until known; "auto" once textual-image asked the terminal (prepare_graphics).
_renderer: dict[str, str | None] = {"kind": None}

SHOW_ORIGINAL = "'chartvault show {rid} --original --out FILE' writes the original (plaintext: delete it after)."


def prepare_graphics() -> None:
    """Let textual-image ask the terminal what it draws (sixel, kitty graphics); before the app runs."""
    from textual_image._terminal import TerminalError

    try:
        import textual_image.widget  # noqa: F401  (importing it asks the terminal, once)
    except (TerminalError, OSError):  # no answer we can use: scans are described, not drawn
        return
    _renderer["kind"] = "auto"


def image_widget_class() -> type[Widget] | None:
    """The textual-image widget to draw with; None when the terminal was not asked in time (it cannot be
    asked while Textual reads it)."""
    if _renderer["kind"] == "auto":
        from textual_image.widget import Image

        return Image  # type: ignore[no-any-return]
    if sys.__stdout__ is not None and sys.__stdout__.isatty():
        return None
    from textual_image.widget import HalfcellImage

    return HalfcellImage  # type: ignore[no-any-return]


def sharp() -> bool:
    """Whether scans are drawn in real pixels (sixel, kitty graphics) rather than coloured half blocks."""
    if _renderer["kind"] != "auto":
        return False
    from textual_image.renderable import HalfcellImage, UnicodeImage
    from textual_image.renderable import Image as Chosen

    return Chosen not in (HalfcellImage, UnicodeImage)


class ScanView(VerticalScroll):
    """One page of a scan, fitted to the panel (or, zoomed, to its width; scroll for the rest)."""

    DEFAULT_CSS = """
    ScanView { border: round $primary; padding: 0 1; }
    ScanView #scan-caption { height: auto; color: $text-muted; }
    ScanView .scan-image { width: auto; height: auto; }
    ScanView.zoomed .scan-image { width: 1fr; height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown_for: str | None = None  # the record whose scan is drawn (tests wait on it)
        self.drawn = False  # a picture is on screen (not just a sentence)

    def compose(self) -> ComposeResult:
        yield Static("Select a scan: its first page shows here.", id="scan-caption")

    def show(self, record_id: str, page: Any, error: str | None = None) -> None:
        """Draw `page` (indexer.scan_pages.ScanPage) of `record_id`, or say why not (`error`, or its why_not)."""
        caption = self.query_one("#scan-caption", Static)
        why = error or (page.why_not if page is not None else "nothing to show")
        if page is not None and page.image is not None and error is None:
            widget_class = image_widget_class()
            if widget_class is None:
                why = "this terminal's graphics were not checked at start-up"
            else:
                of = f" of {page.pages}" if page.pages > 1 else ""
                coarse = "" if sharp() else " · half blocks"
                caption.update(f"Page {page.page}{of} · F12 zoom{coarse}")
                caption.tooltip = None if sharp() else (
                    "This terminal draws no sixel or kitty graphics: the scan is drawn in coloured half blocks. "
                    + SHOW_ORIGINAL.format(rid=record_id))
                shown = self.query(".scan-image")
                if shown:  # the same widget draws the next scan (its old picture is freed)
                    shown.first().image = page.image  # type: ignore[attr-defined]
                else:
                    self.mount(widget_class(page.image, classes="scan-image"))
                self.drawn = True
                self.shown_for = record_id
                return
        self._drop_picture()
        caption.update(f"The scan is not drawn here: {why}. " + SHOW_ORIGINAL.format(rid=record_id))
        caption.tooltip = None
        self.shown_for = record_id

    def clear(self, text: str) -> None:
        """No scan selected: the picture dropped, `text` instead."""
        self._drop_picture()
        self.query_one("#scan-caption", Static).update(text)
        self.shown_for = None

    def _drop_picture(self) -> None:
        for widget in list(self.query(".scan-image")):
            widget.image = None  # type: ignore[attr-defined]  # frees it; deletes a kitty-graphics copy
            widget.remove_class("scan-image")  # (removal completes later: never found again meanwhile)
            widget.remove()
        self.drawn = False

    def on_unmount(self) -> None:
        for widget in self.query(".scan-image"):
            widget.image = None  # type: ignore[attr-defined]
