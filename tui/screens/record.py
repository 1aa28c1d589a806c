"""One record: metadata, extracted text and any transcription. Loaded by one archive call in a worker."""

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

    BINDINGS = [Binding("escape", "back", "Back"), Binding("s", "similar", "Similar cases")]
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
    """

    def __init__(self, session: Any, record_id: str) -> None:
        super().__init__(name="record")
        self.session = session
        self.record_id = record_id
        self.view: Any = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session)
        yield Static(f"Loading {self.record_id}…", id="record-meta")
        yield Static("", id="record-access")  # who has seen this record
        yield Input(placeholder="Emergency? Type the reason to break the glass (flagged for review)", id="break-glass")
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
        self.query_one("#record-body", Static).update(body)
        self.query_one("#record-scroll", VerticalScroll).focus()

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
