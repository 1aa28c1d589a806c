"""Work queues: records that need filing, scans that need transcription, quarantined inputs, and review.

A technician files a record to a patient (MRN), types a transcription for a
scan (stored encrypted beside it, unverified until a second person verifies
it) or releases a quarantined file to a folder. Each button calls one archive
function in a worker; policy is decided there. The Review tab lists what does
not add up (archive.review): the selected item shows both sources; Ctrl+Y
accepts this record's value, Ctrl+D keeps the other one, Ctrl+G corrects it to
the typed value, Ctrl+E refiles the record to the typed MRN, Ctrl+Z rejects a
held fact (the keys show in the footer while the Review tab is open). The
transcription tab draws the selected scan beside its OCR lines and the box
(tui.widgets.scan_view); F12 zooms the scan to the whole tab and back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Static, TabbedContent, TabPane, TextArea

from tui.messages import Done, DraftShown, OpenRecord, QueuesLoaded, ReviewShown, ScanShown
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.scan_view import ScanView
from tui.widgets.status import StatusLine
from tui.widgets.tabs import next_tab
from tui.workers import session_work


class QueueScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f5", "refresh", "Refresh"),
        Binding("ctrl+n", "next_tab", "Next tab",
                tooltip="Next tab: Needs filing, Needs transcription, Quarantine, Review (or Tab to the tabs, "
                        "then ←/→)"),
        Binding("ctrl+y", "review('accept')", "Accept", tooltip="Accept this record's value"),
        # Ctrl+D / Ctrl+E are the text box's delete-right / end-of-line elsewhere; on the review tab they act
        # here first (priority), as every other Ctrl letter already means something else in the app.
        Binding("ctrl+d", "review('other')", "Keep other", tooltip="Keep the value it conflicts with",
                priority=True),
        Binding("ctrl+g", "review('correct')", "Correct", tooltip="Correct it to the value typed below"),
        Binding("ctrl+e", "review('refile')", "Refile", tooltip="File the record to the MRN typed below",
                priority=True),
        Binding("ctrl+z", "review('reject')", "Reject", tooltip="Keep a held fact off the chart for good"),
        Binding("f12", "zoom_scan", "Zoom scan", tooltip="The scan over the whole tab (fitted to its width), "
                "and back"),
    ]
    REVIEW_ACTIONS = ("accept", "other", "correct", "refile", "reject")
    DEFAULT_CSS = """
    QueueScreen DataTable { height: 1fr; min-height: 5; }
    QueueScreen .queue-actions { height: auto; }
    QueueScreen .queue-actions Input { width: 1fr; margin-right: 1; }
    QueueScreen #transcription-work { height: 2fr; min-height: 8; }
    QueueScreen #scan { width: 1fr; height: 1fr; }
    QueueScreen #ocr-lines { width: 1fr; height: 1fr; overflow-y: auto; padding: 0 1; border: round $primary; }
    QueueScreen #transcription-text { width: 1fr; height: 1fr; }
    QueueScreen.scan-zoomed #transcription, QueueScreen.scan-zoomed #ocr-lines { display: none; }
    QueueScreen.scan-zoomed #scan { width: 3fr; }
    QueueScreen #queue-message { height: auto; padding: 0 1; }
    QueueScreen #queue-message.error { color: $error; text-style: bold; }
    QueueScreen #review-detail { height: auto; min-height: 3; padding: 0 1; border: round $primary; }
    """

    def __init__(self, session: Any) -> None:
        super().__init__(name="queue")
        self.session = session
        self.filing_ids: list[str] = []
        self.transcription_ids: list[str] = []
        self.quarantine_ids: list[str] = []
        self.review_ids: list[int] = []
        self.loads = 0  # completed refreshes (tests wait on it)
        self.draft_for: str | None = None  # the record whose OCR lines are shown (tests wait on it)
        self.draft_text: str | None = None  # the text last put in the box, untouched while it is equal

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session)
        yield Static("", id="queue-message")
        with TabbedContent(id="queues"):
            with TabPane("Needs filing", id="tab-filing"), Vertical():
                yield DataTable(id="filing", cursor_type="row", zebra_stripes=True)
                with Horizontal(classes="queue-actions"):
                    yield Input(placeholder="patient MRN", id="filing-mrn")
                    yield Button("File to patient", id="file", variant="primary")
            with TabPane("Needs transcription", id="tab-transcription"), Vertical():
                yield DataTable(id="transcription", cursor_type="row", zebra_stripes=True)
                with Horizontal(id="transcription-work"):
                    yield ScanView(id="scan")
                    yield Static("Select a scan: its OCR lines show here, weak ones marked ?", id="ocr-lines")
                    yield TextArea(id="transcription-text")
                with Horizontal(classes="queue-actions"):
                    yield Button("Open scan text", id="open-scan")
                    yield Button("Save transcription", id="save-transcription", variant="primary")
                    yield Button("Verify (second person)", id="verify-transcription")
            with TabPane("Quarantine", id="tab-quarantine"), Vertical():
                yield DataTable(id="quarantine", cursor_type="row", zebra_stripes=True)
                with Horizontal(classes="queue-actions"):
                    yield Input(placeholder="release to folder", id="release-to")
                    yield Button("Release", id="release")
            with TabPane("Review", id="tab-review"), Vertical():
                yield DataTable(id="review", cursor_type="row", zebra_stripes=True)
                yield Static("", id="review-detail")
                with Horizontal(classes="queue-actions"):
                    yield Input(placeholder="corrected value, or the MRN to refile to", id="review-value")
                    yield Input(placeholder="reason (audited)", id="review-reason")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#filing", DataTable).add_columns("record", "file", "type", "date", "why")
        self.query_one("#transcription", DataTable).add_columns("record", "file", "OCR confidence", "transcription")
        self.query_one("#quarantine", DataTable).add_columns("id", "file", "reason", "at")
        self.query_one("#review", DataTable).add_columns("#", "record", "patient", "what", "conflict")
        self.refresh_queues()

    # -- loading -----------------------------------------------------------------
    def action_refresh(self) -> None:
        self.refresh_queues()

    @session_work("queues")
    def refresh_queues(self) -> None:
        from archive.errors import AccessDenied
        from archive.records import list_quarantine, list_queue
        from archive.review import list_review

        result: dict[str, Any] = {}
        for key, fn in (
            ("filing", lambda: list_queue(self.session, "needs_filing")),
            ("transcription", lambda: list_queue(self.session, "needs_transcription")),
            ("quarantine", lambda: list_quarantine(self.session)),
            ("review", lambda: list_review(self.session)),
        ):
            try:
                result[key] = fn()
            except AccessDenied as exc:
                result[key] = exc.message
        self.post_message(QueuesLoaded(result))

    def on_queues_loaded(self, message: QueuesLoaded) -> None:
        self._fill(message.result)

    def _fill(self, result: dict[str, Any]) -> None:
        def fill(table_id: str, rows: Any, make: Any) -> list[Any]:
            table = self.query_one(f"#{table_id}", DataTable)
            table.clear()
            if isinstance(rows, str):  # not allowed for this user
                table.add_row(rows, *[""] * (len(table.columns) - 1))
                return []
            ids: list[Any] = []
            for item in rows:
                table.add_row(*make(item))
                ids.append(item.id if table_id in ("quarantine", "review") else item.record_id)
            return ids

        self.filing_ids = fill(
            "filing", result["filing"], lambda i: (i.record_id, i.filename, i.type or "-", i.date or "-", i.reason)
        )
        self.transcription_ids = fill(
            "transcription",
            result["transcription"],
            lambda i: (i.record_id, i.filename,
                       f"{i.ocr_confidence:.2f}" if i.ocr_confidence is not None else "-", i.transcription),
        )
        if not self.transcription_ids:
            self.query_one("#scan", ScanView).clear("No scan waits for transcription.")
        self.quarantine_ids = fill(
            "quarantine", result["quarantine"], lambda i: (i.id, i.original_name, i.reason, i.at)
        )
        self.review_ids = fill(
            "review", result["review"],
            lambda i: (f"#{i.id}", i.record_id, i.patient or "(not filed)", f"{i.kind}: {i.field}",
                       f"{i.value or '-'} vs {i.other_value or i.other_source or '-'}"),
        )
        self.query_one("#review-detail", Static).update(
            "Select an item to see both sources." if self.review_ids else "Nothing to review.")
        self.loads += 1

    def _selected(self, table_id: str, ids: list[str]) -> str | None:
        table = self.query_one(f"#{table_id}", DataTable)
        row = table.cursor_row
        if not ids or row is None or row < 0 or row >= len(ids):
            self._say("Select a row first.", error=True)
            return None
        return ids[row]

    @on(DataTable.RowHighlighted, "#transcription")
    def _scan_selected(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.transcription_ids):
            self.load_draft(self.transcription_ids[event.cursor_row])

    @session_work("transcription-draft")
    def load_draft(self, record_id: str) -> None:
        from archive.errors import ChartvaultError
        from archive.records import scan_picture, transcription_draft

        try:
            self.post_message(DraftShown(record_id, transcription_draft(self.session, record_id)))
        except ChartvaultError as exc:
            self.post_message(DraftShown(record_id, None, exc))
            return
        try:  # the picture after the text: the box can be worked in while the scan decodes
            self.post_message(ScanShown(record_id, scan_picture(self.session, record_id)))
        except ChartvaultError as exc:
            self.post_message(ScanShown(record_id, None, exc))

    def on_scan_shown(self, message: ScanShown) -> None:
        if message.record_id != self.draft_for:  # another scan was selected meanwhile
            return
        error = f"{message.error.message} {message.error.hint}".strip() if message.error is not None else None
        self.query_one("#scan", ScanView).show(message.record_id, message.page, error)

    def on_draft_shown(self, message: DraftShown) -> None:
        from rich.text import Text

        panel = self.query_one("#ocr-lines", Static)
        if message.error is not None:
            panel.update(f"{message.error.message} {message.error.hint}")
            return
        draft = message.draft
        out = Text()
        if draft.reasons:
            out.append("Queued: " + "; ".join(draft.reasons) + "\n", style="bold yellow")
        for line in draft.lines:
            mark = "? " if line.weak else "  "
            conf = f"{line.confidence:.2f} " if line.confidence is not None else ""
            out.append(f"{mark}{conf}{line.text}\n", style="bold red" if line.weak else "")
        panel.update(out)
        self.draft_for = message.record_id
        box = self.query_one("#transcription-text", TextArea)
        if not box.text.strip() or box.text == self.draft_text:  # never over what the technician typed
            box.load_text(draft.text)
            self.draft_text = draft.text

    @on(DataTable.RowHighlighted, "#review")
    def _review_selected(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.review_ids):
            self.show_item(self.review_ids[event.cursor_row])

    @session_work("review-show")
    def show_item(self, item_id: int) -> None:
        from archive.errors import ChartvaultError
        from archive.review import show_review

        try:
            detail = show_review(self.session, item_id)
        except ChartvaultError as exc:
            self.post_message(ReviewShown(item_id, "", exc))
            return
        i = detail.item
        held = {"fact": "this fact is kept off the chart", "record": "this record's facts are kept off the chart "
                "and out of statistics", "patient": f"the patient's {i.field} is left empty"}[i.holds]
        lines = [f"#{i.id} {i.kind} ({i.field}): {i.message}",
                 f"This record says {i.value or '-'}: {detail.this.describe()}"]
        if detail.other is not None:
            lines.append(f"Against {i.other_value or '-'}: {detail.other.describe()}")
        lines.append(f"Held until you decide: {held}.")
        self.post_message(ReviewShown(item_id, "\n".join(lines)))

    def on_review_shown(self, message: ReviewShown) -> None:
        text = message.text if message.error is None else f"{message.error.message} {message.error.hint}"
        self.query_one("#review-detail", Static).update(text)

    def _review_tab(self) -> bool:
        return self.query_one("#queues", TabbedContent).active == "tab-review"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "review":
            return self.is_mounted and bool(self.query("#queues")) and self._review_tab()
        if action == "zoom_scan":
            return self.is_mounted and bool(self.query("#queues")) and self._transcription_tab()
        return True

    def _transcription_tab(self) -> bool:
        return self.query_one("#queues", TabbedContent).active == "tab-transcription"

    def action_zoom_scan(self) -> None:
        """The scan over the whole tab, fitted to its width (scroll for the rest), and back."""
        zoomed = not self.has_class("scan-zoomed")
        self.set_class(zoomed, "scan-zoomed")
        self.query_one("#scan", ScanView).set_class(zoomed, "zoomed")

    @on(TabbedContent.TabActivated, "#queues")
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_review(self, kind: str) -> None:
        if kind not in self.REVIEW_ACTIONS:
            return
        table = self.query_one("#review", DataTable)
        row = table.cursor_row
        if not self.review_ids or row is None or not 0 <= row < len(self.review_ids):
            self._say("Select a review item first.", error=True)
            return
        value = self.query_one("#review-value", Input).value.strip()
        if kind in ("correct", "refile") and not value:
            self._say("Type the corrected value, or the MRN to refile to." if kind == "correct"
                      else "Type the MRN to refile the record to.", error=True)
            self.query_one("#review-value", Input).focus()
            return
        reason = self.query_one("#review-reason", Input).value.strip()
        self.apply_review(self.review_ids[row], kind, value, reason)

    @session_work("queue-action")
    def apply_review(self, item_id: int, kind: str, value: str, reason: str) -> None:
        from archive.errors import ChartvaultError
        from archive.review import resolve_review

        action = "accept" if kind == "other" else kind
        try:
            done = resolve_review(self.session, item_id, action, value=value or None, reason=reason or None,
                                  use_other=kind == "other")
        except ChartvaultError as exc:
            self.post_message(Done("", exc))
            return
        self.post_message(Done(f"Review item #{done.id} {done.status}."))

    # -- actions -----------------------------------------------------------------
    @on(Button.Pressed, "#file")
    @on(Input.Submitted, "#filing-mrn")
    def _file(self) -> None:
        record = self._selected("filing", self.filing_ids)
        mrn = self.query_one("#filing-mrn", Input).value.strip()
        if record is None:
            return
        if not mrn:
            self._say("Type the patient's MRN.", error=True)
            self.query_one("#filing-mrn", Input).focus()
            return
        self.apply_action("file", record, mrn)

    @on(Button.Pressed, "#save-transcription")
    def _save_transcription(self) -> None:
        record = self._selected("transcription", self.transcription_ids)
        text = self.query_one("#transcription-text", TextArea).text
        if record is not None:
            self.apply_action("transcribe", record, text)

    @on(Button.Pressed, "#verify-transcription")
    def _verify(self) -> None:
        record = self._selected("transcription", self.transcription_ids)
        if record is not None:
            self.apply_action("verify", record, "")

    @on(Button.Pressed, "#open-scan")
    def _open_scan(self) -> None:
        record = self._selected("transcription", self.transcription_ids)
        if record is not None:
            self.post_message(OpenRecord(record))  # the app opens it

    @on(Button.Pressed, "#release")
    @on(Input.Submitted, "#release-to")
    def _release(self) -> None:
        qid = self._selected("quarantine", self.quarantine_ids)
        folder = self.query_one("#release-to", Input).value.strip()
        if qid is None:
            return
        if not folder:
            self._say("Type the folder to release the file to.", error=True)
            return
        self.apply_action("release", qid, folder)

    @session_work("queue-action")
    def apply_action(self, kind: str, target: str, value: str) -> None:
        from archive.errors import ChartvaultError
        from archive.filing import file_record
        from archive.records import add_transcription, release_quarantine, verify_transcription

        try:
            if kind == "file":
                result = file_record(self.session, target, value)
                message = f"Filed {target} to MRN {result.mrn}" + (" (new patient)." if result.patient_created else ".")
            elif kind == "transcribe":
                add_transcription(self.session, target, value)
                message = f"Transcription of {target} saved; a second person must verify it."
            elif kind == "verify":
                verify_transcription(self.session, target)
                message = f"Transcription of {target} verified."
            else:
                dest = release_quarantine(self.session, target, Path(value).expanduser())
                message = f"Released {target} to {dest}."
        except ChartvaultError as exc:
            self.post_message(Done("", exc))
            return
        self.post_message(Done(message))

    def on_done(self, message: Done) -> None:
        if message.error is not None:
            self._say(f"{message.error.message} {message.error.hint}".strip(), True)
        else:
            self._done(message.text)

    def _done(self, message: str) -> None:
        self._say(message)
        if "filed" in message.lower():
            self.query_one("#filing-mrn", Input).value = ""
        if message.startswith("Review item"):
            self.query_one("#review-value", Input).value = ""
            self.query_one("#review-reason", Input).value = ""
        self.refresh_queues()

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#queue-message", Static)
        msg.update(text)
        msg.set_class(error, "error")

    def action_next_tab(self) -> None:
        next_tab(self.query_one("#queues", TabbedContent))

    def action_back(self) -> None:
        self.app.pop_screen()
