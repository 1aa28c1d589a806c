"""One record: metadata, extracted text and any transcription. Loaded by one archive call in a worker.

Opened from a search result or a cited passage (`terms`), it opens scrolled to the
first hit, every hit highlighted (the search's words, and the clinical words that
stood in for everyday ones), and n / N step through the hits.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static

from tui.messages import RecordLoaded
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.status import StatusLine
from tui.workers import session_work


class RecordScreen(Screen[None]):
    """Shows what `archive.records.show_record` returns (the view is audited there)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("s", "similar", "Similar cases"),
        Binding("n", "next_hit", "Next hit"),
        Binding("N", "previous_hit", "Previous hit"),
    ]
    DEFAULT_CSS = """
    RecordScreen #record-meta {
        height: auto;
        background: $panel;
        padding: 0 1;
    }
    RecordScreen #record-body {
        padding: 1 1;
    }
    RecordScreen #record-access {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    RecordScreen #break-glass {
        display: none;
    }
    RecordScreen #record-hits {
        height: auto;
        padding: 0 1;
        display: none;
    }
    """
    HIT_STYLE = "bold reverse"
    CURRENT_STYLE = "bold black on yellow"

    def __init__(self, session: Any, record_id: str, terms: Any = None) -> None:
        super().__init__(name="record")
        self.session = session
        self.record_id = record_id
        self.terms = terms  # archive.hits.HitTerms: what to highlight, or None
        self.view: Any = None
        self.hits: list[tuple[int, int]] = []  # (start, end) of each hit in the body text
        self.current = -1  # the hit shown (index into `hits`), -1 before the record is shown
        self._body: Text | None = None
        self.shown_body: Text | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session)
        yield Static(f"Loading {self.record_id}…", id="record-meta")
        yield Static("", id="record-access")  # who has seen this record
        yield Input(placeholder="Emergency? Type the reason to break the glass (flagged for review)", id="break-glass")
        yield Static("", id="record-hits")
        with VerticalScroll(id="record-scroll"):
            yield Static("", id="record-body")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()

    @session_work("record")
    def load(self) -> None:
        from archive.audit_review import record_access_history
        from archive.errors import ChartvaultError
        from archive.records import show_record

        try:
            view = show_record(self.session, self.record_id)
        except ChartvaultError as exc:
            self.post_message(RecordLoaded(self.record_id, None, [], exc))
            return
        try:
            history = record_access_history(self.session, self.record_id)
        except ChartvaultError:
            history = []
        self.post_message(RecordLoaded(self.record_id, view, history))

    def on_record_loaded(self, message: RecordLoaded) -> None:
        if message.error is not None:
            self._failed(message.error.message, message.error.hint, message.error.title)
            return
        self._show(message.view)
        self._show_access(message.history)

    def _show_access(self, history: list[Any]) -> None:
        seen: dict[str, list[Any]] = {}
        for event in history:
            if event.outcome == "ok" and event.user:
                seen.setdefault(event.user, []).append(event)
        parts = []
        for user, events in sorted(seen.items(), key=lambda kv: kv[1][-1].seq, reverse=True):
            last = events[-1]
            flag = " BREAK-GLASS" if any(e.via == "break_glass" or e.action == "break_glass" for e in events) else ""
            parts.append(f"{user} ({last.role}) ×{len(events)}, last {last.ts[:16].replace('T', ' ')}{flag}")
        self.query_one("#record-access", Static).update("Who has seen this record: " + ("; ".join(parts) or "-"))

    @on(Input.Submitted, "#break-glass")
    def _break_glass(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.break_glass(event.value)

    @session_work("record")
    def break_glass(self, reason: str) -> None:
        from archive.access import break_glass
        from archive.errors import ChartvaultError

        try:
            break_glass(self.session, self.record_id, None, reason)
        except ChartvaultError as exc:
            self.app.call_from_thread(self._failed, exc.message, exc.hint, exc.title)
            return
        self.app.call_from_thread(self.notify, "Access granted for a limited time and flagged for review.",
                                  title="Break-glass", severity="warning")
        self.app.call_from_thread(self._hide_break_glass)
        self.app.call_from_thread(self.load)

    def _hide_break_glass(self) -> None:
        self.query_one("#break-glass", Input).display = False

    def _show(self, view: Any) -> None:
        self.view = view
        who = f"{view.patient} {view.patient_name or ''}".strip() if view.patient else "needs filing"
        meta = Text()
        meta.append(f"{view.record_id}  ", style="bold")
        meta.append(f"{view.filename}  ({view.format}, {view.size} bytes)\n")
        source = view.metadata.get("date_source") if view.date else None
        dated = f" (from {source})" if source not in (None, "content", "text") else ""  # said when not the text
        meta.append(f"{view.type or '-'}  ·  {view.date or 'no date'}{dated}  ·  {view.author or 'no author'}  ·  ")
        meta.append(f"patient {who}", style="bold")
        if view.needs_transcription:
            meta.append("  ·  needs transcription", style="bold yellow")
        self.query_one("#record-meta", Static).update(meta)
        body = Text(view.text or "(no text)")
        if view.transcription is not None:
            t = view.transcription
            status = f"verified by {t.verified_by}" if t.verified else "UNVERIFIED"
            body.append(f"\n\n--- Transcription by {t.by} ({status}) ---\n", style="bold")
            body.append(t.text or "")
        self._body = body
        self.hits = self._find_hits(body.plain)
        self.current = 0 if self.hits else -1
        self._render_body()
        self.refresh_bindings()
        self.query_one("#record-scroll", VerticalScroll).focus()
        if self.hits:
            self.call_after_refresh(self._scroll_to_current)

    # -- hits: highlighted, stepped through with n / N -------------------------
    def _find_hits(self, text: str) -> list[tuple[int, int]]:
        from archive.hits import hit_spans

        return hit_spans(text, self.terms) if self.terms else []

    def _render_body(self) -> None:
        if self._body is None:
            return
        body = self._body.copy()
        for i, (start, end) in enumerate(self.hits):
            body.stylize(self.CURRENT_STYLE if i == self.current else self.HIT_STYLE, start, end)
        self.shown_body = body  # what the body shows, hits styled (tests read it)
        self.query_one("#record-body", Static).update(body)
        line = self.query_one("#record-hits", Static)
        line.display = bool(self.terms)
        line.update(self._hits_line())

    def _hits_line(self) -> Text:
        terms = self.terms
        if not self.hits:
            return Text("No hit of the search in this record's text (it matched by meaning, or in its metadata).",
                        style="italic")
        out = Text()
        out.append(f"Hit {self.current + 1} of {len(self.hits)}", style="bold")
        out.append("  (n next, N previous)")
        if terms.stand_ins:
            out.append("  ·  clinical words for the query's own: " + ", ".join(terms.stand_ins))
        return out

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """n / N only where there are hits to step through (the footer shows them then)."""
        if action in ("next_hit", "previous_hit"):
            return len(self.hits) > 0
        return True

    def action_next_hit(self) -> None:
        self._step(1)

    def action_previous_hit(self) -> None:
        self._step(-1)

    def _step(self, by: int) -> None:
        if not self.hits:
            return
        self.current = (self.current + by) % len(self.hits)
        self._render_body()
        self._scroll_to_current()

    def hit_line(self, index: int | None = None) -> int:
        """The line of the body (as wrapped on screen) where hit `index` (default: the current one) starts."""
        if self._body is None or not self.hits:
            return 0
        start = self.hits[self.current if index is None else index][0]
        body = self.query_one("#record-body", Static)
        width = max(10, body.content_region.width or body.size.width - 2)
        console = self.app.console
        lines = 0
        paragraphs = self._body.plain[:start].split("\n")
        for paragraph in paragraphs[:-1]:
            lines += len(Text(paragraph).wrap(console, width)) if len(paragraph) > width else 1
        last = paragraphs[-1]
        if len(last) > width:  # the hit's own paragraph: the lines before the hit's
            lines += len(Text(last).wrap(console, width)) - 1
        return lines

    def _scroll_to_current(self) -> None:
        if not self.hits:
            return
        body = self.query_one("#record-body", Static)
        scroll = self.query_one("#record-scroll", VerticalScroll)
        y = body.region.y - scroll.region.y + int(scroll.scroll_y) + body.styles.padding.top + self.hit_line()
        # A few lines of context above the hit.
        scroll.scroll_to(y=max(0, y - 3), animate=False)

    def _failed(self, message: str, hint: str, title: str = "Cannot open record") -> None:
        self.query_one("#record-meta", Static).update(Text(f"{message} {hint}".strip(), style="bold red"))
        self.notify(message, severity="error", title=title)
        if title == "Access denied":  # offer break-glass: the reason is typed here
            reason = self.query_one("#break-glass", Input)
            reason.display = True
            reason.focus()

    def action_similar(self) -> None:
        from tui.screens.similar import SimilarScreen

        self.app.push_screen(SimilarScreen(self.session, self.record_id))

    def action_back(self) -> None:
        self.app.pop_screen()
