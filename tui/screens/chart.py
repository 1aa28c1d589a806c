"""A patient's chart: the timeline of encounters and entries, the records filed to the patient (Enter opens
one), forms to add and correct entries, history.

Each load or save calls one archive function in a worker (archive.charts.entries /
archive.charts.patients decide policy and audit). Forms check dates as they are
typed (archive.charts.rules, pure) and show a refused save's problem beside
the field it names (ValidationError.field). A correction carries the version
it started from, so a save that someone else overtook is refused and shown,
never silently overwritten. Fields with a fixed list of values (archive.charts.rules)
are selects; Esc on a form holding unsaved input asks before throwing it away.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from archive.plural import counted
from tui.messages import OpenRecord
from tui.widgets.footer import KeyFooter
from tui.widgets.form_select import FormSelect
from tui.widgets.header import AppHeader
from tui.widgets.status import StatusLine
from tui.workers import session_work

# (field, label, placeholder, which kinds show it: None = all)
FORM_FIELDS: list[tuple[str, str, str, tuple[str, ...] | None]] = [
    ("text", "Text", "what it was (a medication: name and strength)", None),
    ("date", "Date", "YYYY-MM-DD", None),
    ("status", "Status", "", None),
    ("dose", "Dose", "e.g. 500 mg", ("medication",)),
    ("route", "Route", "e.g. oral", ("medication",)),
    ("frequency", "Frequency", "e.g. twice daily", ("medication",)),
    ("start", "Start", "YYYY-MM-DD (default: the date)", ("medication",)),
    ("stop", "Stop", "YYYY-MM-DD", ("medication",)),
    ("stop_reason", "Stop reason", "why it was stopped (with a stop date or status stopped)", ("medication",)),
    ("to", "Referred to", "doctor or facility", ("referral",)),
    ("to_kind", "Target kind", "default: doctor", ("referral",)),
    ("referral_reason", "Referral reason", "why", ("referral",)),
    ("code", "Code", "ICD-10-CM, e.g. E11.9", ("diagnosis", "complication", "procedure")),
    ("source", "Source record", "record id (optional)", None),
    ("encounter", "Encounter", "e.g. e3 (default: the one covering the date)", None),
]
DATE_FIELDS = {"date": "the date", "start": "the start date", "stop": "the stop date"}


def _choices(name: str) -> tuple[str, ...]:
    """The allowed values of a field that is a fixed list (archive's rules say which); () for free text."""
    from archive.charts import rules

    return {"status": rules.ENTRY_STATUSES, "to_kind": rules.REFERRAL_TARGETS}.get(name, ())


def _value_of(entry: Any, name: str) -> str:
    # A form field is named after the option a person types (archive.charts.entries.OPTION).
    from archive.charts.entries import FIELD_OF_OPTION

    value = getattr(entry, FIELD_OF_OPTION.get(name, name), None)
    return "" if value is None else str(value)


class EntryForm(ModalScreen[Any]):
    """Add an entry (entry=None) or correct one (with a reason); dismissed with the saved entry.

    Kind and the fixed-list fields are FormSelects: choosing one never takes the focus back from the field
    the keys typed since went to. A Kind change shows and hides that kind's fields in place, before the next
    key is handled. Esc with unsaved input asks first (DiscardInput).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]
    DEFAULT_CSS = """
    EntryForm { align: center middle; }
    EntryForm #form { width: 90; max-width: 100%; height: 90%; border: round $primary; padding: 0 1; }
    EntryForm .field { height: auto; }
    EntryForm .row { height: auto; }
    EntryForm .row Label { width: 16; padding-top: 1; }
    EntryForm .row Input, EntryForm .row Select { width: 1fr; margin-bottom: 0; }
    EntryForm .field-error { color: $error; text-style: bold; height: auto; padding-left: 16; }
    EntryForm #form-message { height: auto; }
    EntryForm #form-message.error { color: $error; text-style: bold; }
    EntryForm #form-buttons { height: auto; margin-top: 1; }
    """

    def __init__(self, session: Any, mrn: str, entry: Any = None) -> None:
        super().__init__()
        self.session = session
        self.mrn = mrn
        self.entry = entry
        self.expect_version = entry.version if entry is not None else None
        self.saving = False
        self._as_opened: dict[str, str] = {}  # every field's value when the form opened (Esc asks if changed)

    def compose(self) -> ComposeResult:
        from archive.charts import rules
        from archive.charts.entries import default_status

        title = f"Correct {self.entry.id} (version {self.entry.version})" if self.entry else f"New entry for {self.mrn}"
        kind = self.entry.kind if self.entry else "procedure"
        with VerticalScroll(id="form"):
            yield Static(title, classes="dialog-title")
            with Horizontal(classes="row", id="row-kind"):
                yield Label("Kind")
                yield FormSelect([(k, k) for k in rules.KINDS], value=kind, allow_blank=False, id="f-kind")
            yield Static("", id="err-kind", classes="field-error")
            for name, label, placeholder, _kinds in FORM_FIELDS:
                value = _value_of(self.entry, name) if self.entry else ""
                if name == "status" and not value:
                    value = default_status(kind)
                with Vertical(classes="field", id=f"field-{name}"):  # hidden with its error
                    with Horizontal(classes="row", id=f"row-{name}"):
                        yield Label(label)
                        choices = _choices(name)
                        if choices:
                            if value and value not in choices:  # stored before the rule: shown, not lost
                                choices = (*choices, value)
                            yield FormSelect([(c.replace("_", " "), c) for c in choices], id=f"f-{name}",
                                             value=value or Select.NULL, allow_blank=not value,
                                             prompt=placeholder or "Select")
                        else:
                            yield Input(value=value, placeholder=placeholder, id=f"f-{name}")
                    yield Static("", id=f"err-{name}", classes="field-error")
            if self.entry is not None:
                with Horizontal(classes="row", id="row-reason"):
                    yield Label("Reason")
                    yield Input(placeholder="why the entry was wrong (required)", id="f-reason")
                yield Static("", id="err-reason", classes="field-error")
            yield Static("", id="form-message")
            with Horizontal(id="form-buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._show_fields_for(self.kind)
        # A watcher runs as the value is set, so the kind's fields are in place before the next key.
        self.watch(self.query_one("#f-kind", Select), "value", self._kind_changed, init=False)
        self._as_opened = self._snapshot()
        self.query_one("#f-text", Input).focus()

    @property
    def kind(self) -> str:
        value = self.query_one("#f-kind", Select).value
        return str(value) if isinstance(value, str) else "procedure"

    def _kind_changed(self, previous: object, kind: object) -> None:
        from archive.charts.entries import default_status

        if not isinstance(kind, str):
            return
        self._show_fields_for(kind)
        status = self.query_one("#f-status", Select)
        if self.entry is None and isinstance(previous, str) and status.value == default_status(previous):
            status.value = default_status(kind)  # the kind's default, unless the person chose another
        # What a save refused was about the previous kind; what the fields still hold is checked again.
        for widget in self.query(".field-error").results(Static):
            widget.update("")
        if not self.saving:
            self._say("")
        for name in DATE_FIELDS:
            if self.query_one(f"#field-{name}").display:
                self._check_date(name, self.query_one(f"#f-{name}", Input).value)

    def _show_fields_for(self, kind: str) -> None:
        for name, _label, _placeholder, kinds in FORM_FIELDS:
            self.query_one(f"#field-{name}").display = kinds is None or kind in kinds

    # -- inline checks as the person types ---------------------------------------------
    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("f-")
        if name not in DATE_FIELDS:
            self._field_error(name, "")
            return
        self._check_date(name, event.value)

    def _check_date(self, name: str, value: str) -> None:
        from archive.charts import rules as chart_rules
        from archive.errors import ValidationError

        try:
            day = chart_rules.parse_day(name, value, DATE_FIELDS[name])
            if name != "stop":  # a medication may be planned to stop later
                chart_rules.check_not_future(name, day, DATE_FIELDS[name])
        except ValidationError as exc:
            if len(value.strip()) >= 10:  # do not complain while the date is half typed
                self._field_error(name, exc.problem)
            return
        self._field_error(name, "")

    def _field_error(self, name: str, problem: str) -> None:
        for widget in self.query(f"#err-{name}").results(Static):
            widget.update(problem)

    # -- saving -------------------------------------------------------------------
    def _field_value(self, name: str) -> str:
        widget = self.query_one(f"#f-{name}")
        if isinstance(widget, Select):
            return widget.value if isinstance(widget.value, str) else ""
        assert isinstance(widget, Input)
        return widget.value.strip()

    def _values(self) -> dict[str, str]:
        out = {"kind": self.kind}
        for name, _label, _placeholder, kinds in FORM_FIELDS:
            if kinds is None or self.kind in kinds:
                out[name] = self._field_value(name)
        return out

    def _snapshot(self) -> dict[str, str]:
        """Every field's value, shown or not (what Esc compares with the form as opened)."""
        names = ["kind", *(name for name, *_rest in FORM_FIELDS)] + (["reason"] if self.entry is not None else [])
        return {name: self._field_value(name) for name in names}

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        if self.saving:
            return
        for widget in self.query(".field-error").results(Static):
            widget.update("")
        reason = self.query_one("#f-reason", Input).value.strip() if self.entry is not None else ""
        self.saving = True
        self._say("Saving…")
        self.save(self._values(), reason)

    @session_work("entry-form")
    def save(self, values: dict[str, str], reason: str) -> None:
        from archive.charts.entries import FIELD_OF_OPTION, add_entry, correct_entry, default_status
        from archive.errors import ChartvaultError, ValidationError

        fields: dict[str, Any] = {FIELD_OF_OPTION.get(k, k): v for k, v in values.items()}
        try:
            if self.entry is None:
                kind, text, date = fields.pop("kind"), fields.pop("text"), fields.pop("date")
                if fields.get("status") == default_status(kind):
                    fields["status"] = ""  # as left: archive's default (a medication with a stop reason: stopped)
                saved = add_entry(self.session, self.mrn, kind, text, date, **fields)
            else:
                before = {FIELD_OF_OPTION.get(k, k): _value_of(self.entry, k) for k in values}
                before["kind"] = self.entry.kind
                changes = {k: v for k, v in fields.items() if v != before.get(k)}
                saved = correct_entry(self.session, self.entry.id, reason, self.expect_version, **changes)
        except ValidationError as exc:
            self.app.call_from_thread(self._refused_field, exc.field, exc.problem, exc.hint)
            return
        except ChartvaultError as exc:
            self.app.call_from_thread(self._refused, exc.message, exc.hint)
            return
        self.app.call_from_thread(self.dismiss, saved)

    def _refused_field(self, name: str, problem: str, hint: str) -> None:
        self.saving = False
        name = {"referral_reason": "referral_reason"}.get(name, name)
        if self.query(f"#err-{name}"):
            self._field_error(name, problem)
            for widget in self.query(f"#f-{name}"):
                widget.focus()
            self._say(f"Not saved: {problem} {hint}".strip(), error=True)
        else:
            self._say(f"Not saved: {problem} {hint}".strip(), error=True)

    def _refused(self, message: str, hint: str) -> None:
        self.saving = False
        self._say(f"Not saved: {message} {hint}".strip(), error=True)

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#form-message", Static)
        msg.update(text)
        msg.set_class(error, "error")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self._snapshot() == self._as_opened:
            self.dismiss(None)
            return
        self.app.push_screen(DiscardInput(), self._discard_answered)

    def _discard_answered(self, discard: bool | None) -> None:
        if discard:
            self.dismiss(None)


class DiscardInput(ModalScreen[bool]):
    """Asked when Esc would close an entry form holding unsaved input: discard it, or keep editing."""

    BINDINGS = [Binding("d", "discard", "Discard"), Binding("k,escape", "keep", "Keep editing")]
    DEFAULT_CSS = """
    DiscardInput { align: center middle; }
    DiscardInput .dialog { width: 60; }
    DiscardInput #discard-buttons { height: auto; }
    DiscardInput #discard-buttons Button { margin-right: 2; }
    """

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Discard the unsaved input?", classes="dialog-title")
            yield Static("The entry has not been saved. Ctrl+S in the form saves it.", classes="muted")
            with Horizontal(id="discard-buttons"):
                yield Button("Keep editing", id="keep", variant="primary")
                yield Button("Discard", id="discard", variant="error")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()  # Enter keeps the input: the safe answer

    @on(Button.Pressed, "#discard")
    def action_discard(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        self.dismiss(False)


class EntryHistory(ModalScreen[None]):
    """Every version of one entry: when, who, why, what changed."""

    BINDINGS = [Binding("escape", "close", "Close")]
    DEFAULT_CSS = """
    EntryHistory { align: center middle; }
    EntryHistory #history-box { width: 100; max-width: 100%; height: 80%; border: round $primary; padding: 0 1; }
    EntryHistory DataTable { height: 1fr; }
    """

    def __init__(self, session: Any, entry_id: str) -> None:
        super().__init__()
        self.session = session
        self.entry_id = entry_id
        self.versions: list[Any] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box"):
            yield Static(f"History of {self.entry_id}", classes="dialog-title", id="history-title")
            yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            yield Button("Close", id="close")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#history", DataTable).add_columns("v", "saved", "by", "reason", "changes")
        self.load()

    @session_work("entry-history")
    def load(self) -> None:
        from archive.charts.entries import entry_history
        from archive.errors import ChartvaultError

        try:
            versions = entry_history(self.session, self.entry_id)
        except ChartvaultError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error", title="History")
            return
        self.app.call_from_thread(self._show, versions)

    def _show(self, versions: list[Any]) -> None:
        self.versions = versions
        table = self.query_one("#history", DataTable)
        previous: dict[str, Any] = {}
        for v in versions:
            fields = v.fields()
            if previous:
                changes = "; ".join(f"{k}: {previous.get(k)!r} → {val!r}" for k, val in fields.items()
                                    if previous.get(k) != val)
            else:
                changes = f"created: {v.summary()}"
            table.add_row(str(v.version), v.saved_at[:19], v.saved_by, v.correction_reason or "", changes)
            previous = fields

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


class OpenChart(ModalScreen[str | None]):
    """Ask for the MRN of the chart to open."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = "OpenChart { align: center middle; }"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Open a patient's chart", classes="dialog-title")
            yield Input(placeholder="MRN", id="open-mrn")
        yield KeyFooter()

    @on(Input.Submitted, "#open-mrn")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class RecordList(DataTable[str]):
    """The records filed to the patient, newest first (row key: the record id); Enter opens one."""

    BINDINGS = [Binding("enter", "select_cursor", "Open record")]


class ChartScreen(Screen[None]):
    """The timeline of one patient's chart (newest first), with add / correct / history, and the records filed
    to the patient (Enter opens one through OpenRecord: the app opens the record screen, which audits the view)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "add_entry", "Add entry"),
        Binding("c", "correct_entry", "Correct"),
        Binding("h", "entry_history", "History"),
        Binding("r", "toggle_records", "Records"),
        Binding("f5", "reload", "Refresh"),
    ]
    DEFAULT_CSS = """
    ChartScreen #chart-patient { height: auto; background: $panel; padding: 0 1; }
    ChartScreen #chart-body { height: 1fr; }
    ChartScreen #timeline { width: 3fr; height: 1fr; }
    ChartScreen #chart-detail { width: 2fr; height: 1fr; border: round $panel; padding: 0 1; }
    ChartScreen #records-title { height: 1; background: $panel; padding: 0 1; }
    ChartScreen #records { height: auto; max-height: 33%; }
    ChartScreen #chart-message { height: auto; padding: 0 1; }
    ChartScreen #chart-message.error { color: $error; text-style: bold; }
    """

    def __init__(self, session: Any, mrn: str) -> None:
        super().__init__(name="chart")
        self.session = session
        self.mrn = mrn
        self.chart: Any = None
        self.items: list[Any] = []  # timeline rows, in table order
        self.loads = 0  # completed loads (tests wait on it)

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session)
        yield Static(f"Loading the chart of {self.mrn}…", id="chart-patient")
        with Horizontal(id="chart-body"):
            yield DataTable(id="timeline", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="chart-detail"):
                yield Static("", id="detail")
        yield Static("Records", id="records-title")
        yield RecordList(id="records", cursor_type="row", zebra_stripes=True)
        yield Static("", id="chart-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#timeline", DataTable).add_columns("date", "what", "id", "text", "status")
        self.query_one("#records", DataTable).add_columns("date", "type", "title")
        self.load()

    def action_reload(self) -> None:
        self.load()

    def _may_edit(self) -> bool:
        """Only technicians edit charts (pure: no audit entry); physicians read them."""
        from archive.policy import Action, decide

        return bool(decide(self.session.user, Action.EDIT_CHART).allowed)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Add and correct only for those who may edit the chart (the footer leaves them out otherwise)."""
        if action in ("add_entry", "correct_entry"):
            return self._may_edit()
        return True

    @session_work("chart")
    def load(self) -> None:
        from archive.charts.entries import patient_chart
        from archive.errors import ChartvaultError

        try:
            chart = patient_chart(self.session, self.mrn)
        except ChartvaultError as exc:
            self.app.call_from_thread(self._failed, exc.message, exc.hint)
            return
        self.app.call_from_thread(self._show, chart)

    def _show(self, chart: Any) -> None:
        self.chart = chart
        self.mrn = chart.patient.mrn
        p = chart.patient
        head = Text()
        head.append(f"{p.name or '(no name)'}", style="bold")
        head.append(f"  MRN {p.mrn}  ·  born {p.dob or '?'}  ·  sex {p.sex or '?'}  ·  attending {p.attending or '-'}")
        stay = f"admitted {p.admitted}" + (f", discharged {p.discharged}" if p.discharged else ", still in") \
            if p.admitted else "no stay on file"
        head.append(f"\n{stay}  ·  {counted(len(chart.encounters), 'encounter')}, "
                    f"{counted(len(chart.entries), 'entry', 'entries')}, {counted(len(chart.records), 'record')}")
        self.query_one("#chart-patient", Static).update(head)
        table = self.query_one("#timeline", DataTable)
        table.clear()
        self.items = list(reversed(chart.timeline()))
        for item in self.items:
            what = f"{'▸ ' if item.type == 'encounter' else '  '}{item.kind}"
            date = item.date or "?"
            if item.type == "encounter":
                date = f"{item.date}…{item.end or 'now'}" if item.end != item.date else item.date
            table.add_row(date, what, item.id, item.text, item.status)
        if self.items:
            table.move_cursor(row=0)
            self._detail(0)
        self._show_records(chart.records)
        table.focus()
        self.loads += 1

    def _show_records(self, refs: list[Any]) -> None:
        records = self.query_one("#records", DataTable)
        records.clear()
        for ref in sorted(refs, key=lambda r: r.date or "", reverse=True):
            records.add_row(ref.date or "?", ref.type or "-", ref.title or "(no title)", key=ref.record_id)
        title = "Records filed to this patient: r to go to the list, Enter to open one" if refs \
            else "Records: none filed to this patient"
        self.query_one("#records-title", Static).update(title)
        records.display = bool(refs)

    @on(DataTable.RowSelected, "#records")
    def _open_record(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.post_message(OpenRecord(event.row_key.value))  # the app opens it

    def action_toggle_records(self) -> None:
        """r: to the records list, and back to the timeline."""
        records = self.query_one("#records", DataTable)
        if records.has_focus or not records.row_count:
            self.query_one("#timeline", DataTable).focus()
        else:
            records.focus()

    def _failed(self, message: str, hint: str) -> None:
        self.query_one("#chart-patient", Static).update(Text(f"{message} {hint}".strip(), style="bold red"))
        self.notify(message, severity="error", title="Cannot open chart")
        self.loads += 1

    @on(DataTable.RowHighlighted, "#timeline")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.cursor_row)

    def _detail(self, row: int) -> None:
        if not self.chart or not 0 <= row < len(self.items):
            return
        item = self.items[row]
        text = Text()
        if item.type == "encounter":
            enc = next(e for e in self.chart.encounters if e.id == item.id)
            text.append(f"{enc.id}  {enc.kind}\n", style="bold")
            text.append(f"{enc.start} to {enc.end or 'now'}\nattending {enc.attending or '-'}\n{enc.text}\n")
            if enc.source_record:
                text.append(f"from record {enc.source_record}{_purged(enc.source_purged)}\n")
        else:
            entry = next(e for e in self.chart.entries if e.id == item.id)
            text.append(f"{entry.id}  {entry.kind}  v{entry.version}\n", style="bold")
            for label, value in (("text", entry.text), ("date", entry.date), ("status", entry.status),
                                 ("dose", entry.dose), ("route", entry.route), ("frequency", entry.frequency),
                                 ("start", entry.start), ("stop", entry.stop),
                                 ("stop reason", entry.stop_reason), ("to", entry.referral_to),
                                 ("reason", entry.referral_reason), ("code", entry.code),
                                 ("encounter", entry.encounter_id),
                                 ("source", entry.source_record and entry.source_record + _purged(entry.source_purged)),
                                 ("author", entry.author), ("saved", f"{entry.saved_at[:19]} by {entry.saved_by}"),
                                 ("correction", entry.correction_reason)):
                if value:
                    text.append(f"{label}: ", style="bold")
                    text.append(f"{value}\n")
            text.append("\nc: correct   h: history" if self._may_edit() else "\nh: history", style="dim")
        self.query_one("#detail", Static).update(text)

    def _selected_entry(self) -> Any:
        table = self.query_one("#timeline", DataTable)
        row = table.cursor_row
        if not self.items or row is None or not 0 <= row < len(self.items) or self.items[row].type != "entry":
            self._say("Select an entry in the timeline first.", error=True)
            return None
        return next(e for e in self.chart.entries if e.id == self.items[row].id)

    def action_add_entry(self) -> None:
        if self.chart is not None:
            self.app.push_screen(EntryForm(self.session, self.mrn), self._saved)

    def action_correct_entry(self) -> None:
        entry = self._selected_entry()
        if entry is not None:
            self.app.push_screen(EntryForm(self.session, self.mrn, entry), self._saved)

    def action_entry_history(self) -> None:
        entry = self._selected_entry()
        if entry is not None:
            self.app.push_screen(EntryHistory(self.session, entry.id))

    def _saved(self, entry: Any) -> None:
        if entry is None:
            return
        self._say(f"Saved {entry.id} (version {entry.version}).")
        self.load()

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#chart-message", Static)
        msg.update(text)
        msg.set_class(error, "error")

    def action_back(self) -> None:
        self.app.pop_screen()


def _purged(purged: bool) -> str:
    return " (purged by retention; the id is kept as provenance)" if purged else ""
