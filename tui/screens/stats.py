"""Statistics: frequency of illnesses over time (bars, a sparkline per group, a table), recurrence of a code,
readmissions by physician.

Each tab loads with one archive.stats function in a worker (policy and audit happen there). The screen
shows counts only: no names, MRNs or records.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Sparkline, Static, TabbedContent, TabPane

from archive.plural import counted
from tui.messages import StatsLoaded
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.status import StatusLine
from tui.widgets.tabs import next_tab
from tui.workers import session_work

LEVELS = ("chapter", "category", "code")
PERIODS = ("year", "quarter", "month")
SPARKLINES = 8  # groups with a sparkline (the most encounters first)
BAR_WIDTH = 40


def cut_label(text: str, width: int = 30) -> str:
    """`text` in at most `width` characters; cut, it ends with "…" ("Diseases of the circulatory s…"), so that a
    reader sees it goes on rather than reading a word cut short as the whole of it."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def bar_lines(items: list[tuple[str, int]], width: int = BAR_WIDTH, room: int | None = None) -> Text:
    """Horizontal bars, one per (label, value), scaled to the largest value.

    With `room` (the columns available), the bars shrink so a line never wraps.
    """
    text = Text(no_wrap=True, overflow="ellipsis")
    top = max((v for _k, v in items), default=0)
    label_width = max((len(k) for k, _v in items), default=0)
    if room:
        width = max(4, min(width, room - label_width - len(str(top)) - 3))
    for key, value in items:
        size = 0.0 if top == 0 else width * value / top
        full = int(size)
        part = " ▏▎▍▌▋▊▉"[int((size - full) * 8)] if full < width else ""
        text.append(f"{key:>{label_width}} ", style="bold")
        text.append("█" * full + part.strip(), style="green")
        text.append(f" {value}\n")
    return text


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


class StatsScreen(Screen[None]):
    """Frequency, recurrence and readmissions, drawn in the terminal."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("b", "cycle_level", "Group by"),
        Binding("p", "cycle_period", "Period"),
        Binding("f5", "reload", "Refresh"),
        Binding("ctrl+n", "next_tab", "Next tab",
                tooltip="Next tab: Frequency, Recurrence, Readmissions (or Tab to the tabs, then ←/→)"),
    ]
    DEFAULT_CSS = """
    StatsScreen #freq-params { height: 1; padding: 0 1; background: $panel; }
    StatsScreen #freq-charts { height: auto; max-height: 14; }
    StatsScreen #freq-bars { width: 1fr; height: auto; padding: 0 1; }
    StatsScreen #freq-sparks { width: 1fr; height: auto; padding: 0 1; }
    StatsScreen .spark-row, StatsScreen .spark-heading { height: 1; }
    StatsScreen .spark-heading { color: $text-muted; }
    StatsScreen .spark-row Label { width: 10; }
    StatsScreen .spark-row Sparkline { width: 1fr; height: 1; }
    StatsScreen .spark-row .spark-total { width: 8; text-align: right; }
    StatsScreen #freq-table { height: 1fr; min-height: 6; }
    StatsScreen #stats-message { height: auto; padding: 0 1; }
    StatsScreen #stats-message.error { color: $error; text-style: bold; }
    StatsScreen #recur-result, StatsScreen #readmit-bars { height: auto; padding: 0 1; }
    StatsScreen #readmit-table { height: auto; max-height: 12; }
    """

    def __init__(self, session: Any) -> None:
        super().__init__(name="stats")
        self.session = session
        self.level = "chapter"
        self.period = "year"
        self.frequency: Any = None
        self.readmissions: Any = None
        self.recurrence: Any = None
        self.loads = 0  # completed loads of any tab (tests wait on it)

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session)
        with TabbedContent(id="stats-tabs"):
            with TabPane("Frequency", id="tab-frequency"):
                yield Static("", id="freq-params")
                with Horizontal(id="freq-charts"):
                    yield Static("Loading…", id="freq-bars")
                    yield Vertical(id="freq-sparks")
                yield DataTable(id="freq-table", zebra_stripes=True, cursor_type="row")
            with TabPane("Recurrence", id="tab-recurrence"):
                yield Input(placeholder="A code or category, e.g. N39.0, S72, W19, A04.7 (Enter)", id="recur-code")
                yield Static("A recurrence is a new episode (a diagnosis 30+ days after the last one resolved) within"
                             " 365 days after the first resolved.", id="recur-result")
            with TabPane("Readmissions", id="tab-readmissions"):
                with VerticalScroll():
                    yield DataTable(id="readmit-table", zebra_stripes=True, cursor_type="row")
                    yield Static("", id="readmit-bars")
        yield Static("", id="stats-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#readmit-table", DataTable).add_columns(
            "physician", "discharges", "counted", "readmitted", "rate", "95% CI")
        self.load_frequency()
        self.load_readmissions()

    # -- frequency ----------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.load_frequency()
        self.load_readmissions()

    def action_cycle_level(self) -> None:
        self.level = LEVELS[(LEVELS.index(self.level) + 1) % len(LEVELS)]
        self.load_frequency()

    def action_cycle_period(self) -> None:
        self.period = PERIODS[(PERIODS.index(self.period) + 1) % len(PERIODS)]
        self.load_frequency()

    @session_work("stats-frequency")
    def load_frequency(self) -> None:
        from archive.errors import ChartvaultError
        from archive.stats import frequency

        level, period = self.level, self.period
        self.app.call_from_thread(self._params, f"Loading by {level} per {period}…")
        try:
            result = frequency(self.session, by=level, period=period)
        except ChartvaultError as exc:
            self.post_message(StatsLoaded("frequency", None, exc))
            return
        self.post_message(StatsLoaded("frequency", result))

    async def on_stats_loaded(self, message: StatsLoaded) -> None:
        """A tab's result: shown (sparklines mounted) before `loads` counts it."""
        if message.error is not None:
            self._failed(message.error.message, message.error.hint)
        elif message.kind == "frequency":
            await self._show_frequency(message.result)
        elif message.kind == "recurrence":
            self._show_recurrence(message.result)
        else:
            self._show_readmissions(message.result)

    def _params(self, text: str) -> None:
        self.query_one("#freq-params", Static).update(text)

    async def _show_frequency(self, result: Any) -> None:
        if (result.by, result.period) != (self.level, self.period):
            return  # a newer choice is loading
        self.frequency = result
        periods = result.period_keys()
        self._params(f"Encounters by {result.by}, per {result.period}  ·  b: group by  p: period  F5: refresh"
                     + (f"  ·  {result.undated} undated left out" if result.undated else ""))
        bars = self.query_one("#freq-bars", Static)
        bars.update(bar_lines([(m.key, m.encounters) for m in result.periods], room=bars.content_size.width or 30)
                    if periods else "No dated diagnoses yet.")
        sparks = self.query_one("#freq-sparks", Vertical)
        await sparks.remove_children()
        by_cell = {(c.group, c.period): c for c in result.cells}
        top = result.busiest(SPARKLINES)
        rows: list[Widget] = []
        steps = result.calendar_keys()  # one step per calendar period, the empty ones too
        if top:
            first, last = (steps[0], steps[-1]) if steps else ("", "")
            rows.append(Static(f"Most encounters first; each line {first} to {last}, one step a {result.period}",
                               id="spark-heading", classes="spark-heading"))
        for g in top:
            data = [float(by_cell[(g.key, p)].encounters) if (g.key, p) in by_cell else 0.0 for p in steps]
            rows.append(Horizontal(Label(g.key[:10]), Sparkline(data, summary_function=max),
                                   Static(str(g.encounters), classes="spark-total"), classes="spark-row"))
        if rows:
            await sparks.mount_all(rows)
        table = self.query_one("#freq-table", DataTable)
        table.clear(columns=True)
        table.add_columns(result.by, "description", *periods, "patients", "encounters")
        for g in result.groups:
            cells = [by_cell.get((g.key, p)) for p in periods]
            counts = [f"{c.patients}/{c.encounters}" if c else "" for c in cells]
            label = cut_label(result.labels.get(g.key) or "")
            table.add_row(g.key, label, *counts, str(g.patients), str(g.encounters))
        self._say(f"{counted(len(result.groups), 'group')}, {counted(result.total.patients, 'patient')}, "
                  f"{counted(result.total.encounters, 'encounter')}; cells show patients/encounters.")
        self.loads += 1

    # -- recurrence ---------------------------------------------------------------------------------
    @on(Input.Submitted, "#recur-code")
    def _recur(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.load_recurrence(event.value.strip())

    @session_work("stats-recurrence")
    def load_recurrence(self, code: str) -> None:
        from archive.errors import ChartvaultError
        from archive.stats import recurrence

        try:
            result = recurrence(self.session, code)
        except ChartvaultError as exc:
            self.post_message(StatsLoaded("recurrence", None, exc))
            return
        self.post_message(StatsLoaded("recurrence", result))

    def _show_recurrence(self, r: Any) -> None:
        self.recurrence = r
        text = Text()
        text.append(f"{r.code}" + (f"  {r.label}" if r.label else "") + "\n", style="bold")
        text.append(f"new episode: {r.gap_days}+ days after the last resolved; window {r.window_days} days;"
                    f" as of {r.as_of}\n\n")
        for label, value in (("patients with a first episode", r.patients), ("first episode still open", r.unresolved),
                             ("follow-up not over (left out)", r.censored), ("patients counted", r.eligible),
                             ("recurred", r.recurred)):
            text.append(f"{label:<32}{value:>6}\n")
        ci = f"  (95% CI {pct(r.ci_low)} to {pct(r.ci_high)})" if r.ci_low is not None else ""
        text.append(f"{'rate':<32}{pct(r.rate):>6}{ci}\n", style="bold")
        if r.eligible:
            text.append("\n")
            box = self.query_one("#recur-result", Static)
            text.append_text(bar_lines([("recurred", r.recurred), ("did not", r.eligible - r.recurred)],
                                       room=box.content_size.width or 60))
        self.query_one("#recur-result", Static).update(text)
        self._say(f"Recurrence of {r.code}: {pct(r.rate)} of {counted(r.eligible, 'patient')}.")
        self.loads += 1

    # -- readmissions -------------------------------------------------------------------------------
    @session_work("stats-readmissions")
    def load_readmissions(self) -> None:
        from archive.errors import ChartvaultError
        from archive.stats import readmissions

        try:
            result = readmissions(self.session)
        except ChartvaultError as exc:
            self.post_message(StatsLoaded("readmissions", None, exc))
            return
        self.post_message(StatsLoaded("readmissions", result))

    def _show_readmissions(self, r: Any) -> None:
        self.readmissions = r
        table = self.query_one("#readmit-table", DataTable)
        table.clear()
        rows = [*r.by_physician, r.overall]
        for row in rows:
            name = "overall" if row is r.overall else (row.full_name or row.physician or "(no attending)")
            ci = f"{pct(row.ci_low)}–{pct(row.ci_high)}" if row.ci_low is not None else ""
            table.add_row(name, str(row.discharges), str(row.eligible), str(row.readmitted), pct(row.rate), ci)
        bars = [((row.full_name or row.physician or "(none)")[:20], row.readmitted) for row in r.by_physician]
        text = Text(f"Readmissions within {r.days} days of a discharge, by the discharging stay's attending\n",
                    style="bold")
        box = self.query_one("#readmit-bars", Static)
        text.append_text(bar_lines(bars, room=box.content_size.width or 60))
        box.update(text)
        self.loads += 1

    # -- shared -------------------------------------------------------------------------------------
    def _failed(self, message: str, hint: str) -> None:
        self._say(f"{message} {hint}".strip(), error=True)
        self.notify(message, severity="error", title="Statistics")
        self.loads += 1

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#stats-message", Static)
        msg.update(text)
        msg.set_class(error, "error")

    def action_next_tab(self) -> None:
        next_tab(self.query_one("#stats-tabs", TabbedContent))

    def action_back(self) -> None:
        self.app.pop_screen()
