"""The audit screen (admins): filter the log, verify the chain, review and acknowledge flagged entries, alerts.

Every button calls one `archive` function in a worker; nothing here reads the
database or decides access (a non-admin who got here would be refused by the
archive call, and told so).
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Static

from tui.messages import AuditLoaded
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.status import StatusLine
from tui.workers import session_work

COLUMNS = ("seq", "time", "user", "role", "action", "outcome", "patient", "record", "reason", "flag")


class AuditScreen(Screen[None]):
    """Shows audit entries: who did what to which patient's record, when, why. Never record content."""

    AUTO_FOCUS = "#entries"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f5", "refresh", "Refresh"),
        Binding("ctrl+v", "verify", "Verify"),
        Binding("ctrl+r", "review", "Flagged"),
        Binding("ctrl+k", "ack", "Acknowledge"),
        Binding("ctrl+t", "alerts", "Alerts"),
    ]

    def __init__(self, session: Any) -> None:
        super().__init__(name="audit")
        self.session = session
        self.mode = "log"  # "log" | "review"
        self.rows: list[int] = []  # seq of each table row

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session, label="Audit log")
        with Vertical(id="audit-area"):
            with Horizontal(id="audit-filters"):
                yield Input(placeholder="user", id="filter-user")
                yield Input(placeholder="patient MRN", id="filter-patient")
                yield Input(placeholder="since (YYYY-MM-DD, 7d, 12h)", id="filter-since")
                yield Button("Filter", id="apply")
            with Horizontal(id="audit-buttons"):
                yield Button("Verify chain", id="verify")
                yield Button("Flagged", id="review")
                yield Button("Acknowledge", id="ack")
                yield Button("Alerts", id="alerts")
                yield Button("Whole log", id="log")
            yield Static("", id="audit-message", classes="message")
            yield DataTable(id="entries", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#entries", DataTable)
        table.add_columns(*COLUMNS)
        self.load_log()

    # -- actions ---------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load_review() if self.mode == "review" else self.load_log()

    def action_verify(self) -> None:
        self._say("Verifying the audit chain…")
        self.run_verify()

    def action_review(self) -> None:
        self.load_review()

    def action_alerts(self) -> None:
        self.load_alerts()

    def action_ack(self) -> None:
        table = self.query_one("#entries", DataTable)
        if self.mode != "review" or not self.rows:
            self._say("Show the flagged entries first (Flagged), then select one.", error=True)
            return
        row = table.cursor_row
        if row is None or not 0 <= row < len(self.rows):
            self._say("Select a flagged entry first.", error=True)
            return
        self.run_ack(self.rows[row])

    @on(Button.Pressed, "#apply")
    @on(Input.Submitted)
    def _apply(self) -> None:
        self.load_log()

    @on(Button.Pressed, "#log")
    def _log(self) -> None:
        for name in ("#filter-user", "#filter-patient", "#filter-since"):
            self.query_one(name, Input).value = ""
        self.load_log()

    @on(Button.Pressed, "#verify")
    def _verify(self) -> None:
        self.action_verify()

    @on(Button.Pressed, "#review")
    def _review(self) -> None:
        self.load_review()

    @on(Button.Pressed, "#ack")
    def _ack(self) -> None:
        self.action_ack()

    @on(Button.Pressed, "#alerts")
    def _alerts(self) -> None:
        self.load_alerts()

    # -- workers: one archive call each -------------------------------------------
    def _filters(self) -> dict[str, str | None]:
        def val(name: str) -> str | None:
            return self.query_one(name, Input).value.strip() or None

        return {"user": val("#filter-user"), "patient": val("#filter-patient"), "since": val("#filter-since")}

    @session_work("audit")
    def load_log(self) -> None:
        from archive.audit_review import read_audit_log

        filters = self._filters()
        try:
            entries = read_audit_log(
                self.session, user=filters["user"], patient=filters["patient"], since=filters["since"], limit=2000
            )
        except Exception as exc:  # noqa: BLE001  (shown, not raised: a worker must not kill the app)
            self.post_message(AuditLoaded("log", None, exc))
            return
        self.post_message(AuditLoaded("log", entries))

    @session_work("audit")
    def load_review(self) -> None:
        from archive.audit_review import flagged_entries

        try:
            items = flagged_entries(self.session)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AuditLoaded("review", None, exc))
            return
        self.post_message(AuditLoaded("review", items))

    @session_work("audit")
    def run_verify(self) -> None:
        from archive.audit_review import verify_audit

        try:
            report = verify_audit(self.session)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AuditLoaded("verify", None, exc))
            return
        self.post_message(AuditLoaded("verify", report))

    @session_work("audit")
    def run_ack(self, seq: int) -> None:
        from archive.audit_review import acknowledge

        try:
            ack_seq = acknowledge(self.session, seq)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AuditLoaded("ack", None, exc))
            return
        self.post_message(AuditLoaded("ack", (seq, ack_seq)))

    @session_work("audit")
    def load_alerts(self) -> None:
        from archive.alerts import audit_alerts

        try:
            alerts = audit_alerts(self.session)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AuditLoaded("alerts", None, exc))
            return
        self.post_message(AuditLoaded("alerts", alerts))

    # -- UI updates (main thread) ----------------------------------------------------
    def on_audit_loaded(self, message: AuditLoaded) -> None:
        result = message.result
        if message.error is not None:
            self._error(message.error)
        elif message.kind == "log":
            shown = [e for e in result if e.action != "audit_read"]  # our own reading is noise here
            self._show_entries("log", shown, f"{len(shown)} entries (newest last).")
        elif message.kind == "review":
            note = (f"{len(result)} flagged entries wait for review." if result
                    else "No flagged entries wait for review.")
            self._show_entries("review", [i.entry for i in result], note)
        elif message.kind == "verify":
            if result.ok:
                self._say(f"Audit chain intact: {result.entries} entries.")
            else:
                where = f"entry {result.first_bad_seq}" if result.first_bad_seq else "the saved head"
                self._say(f"AUDIT CHAIN BROKEN at {where}: {result.problem}", True)
        elif message.kind == "ack":
            seq, ack_seq = result
            self._say(f"Acknowledged entry {seq} (recorded as entry {ack_seq}).")
            self.load_review()
        else:
            self._show_alerts(result)

    def _show_entries(self, mode: str, entries: list[Any], note: str) -> None:
        self.mode = mode
        table = self.query_one("#entries", DataTable)
        table.clear()
        self.rows = []
        for e in entries:
            table.add_row(
                str(e.seq), e.ts[:19].replace("T", " "), e.user or "-", e.role or "-", e.action, e.outcome,
                e.patient or "", e.record or "", (e.reason or "")[:60], "FLAG" if e.flagged else "",
            )
            self.rows.append(e.seq)
        if mode == "log" and entries:
            table.move_cursor(row=len(entries) - 1)
        self._say(note)

    def _show_alerts(self, alerts: list[Any]) -> None:
        if not alerts:
            self._say("No alerts.")
            return
        lines = [f"[{a.severity.upper()}] {a.summary} (entries {', '.join(map(str, a.seqs[:12]))})" for a in alerts]
        self._say("\n".join(lines[-8:]), error=any(a.severity == "high" and not a.acknowledged for a in alerts))

    def _error(self, exc: Exception) -> None:
        from archive.errors import ChartvaultError

        if isinstance(exc, ChartvaultError):
            self._say(f"{exc.message} {exc.hint}".strip(), error=True)
            self.app.notify(exc.message, title=exc.title, severity="error")
        else:
            self._say(f"Unexpected error ({type(exc).__name__}); nothing was changed.", error=True)

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#audit-message", Static)
        msg.update(text)
        msg.set_class(error, "error")
