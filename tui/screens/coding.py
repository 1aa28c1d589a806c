"""ICD-10-CM coding: a code search box with results, and the open record's suggestions to confirm or reject.

Opened with F9 from the main screen (for the highlighted search result's
record, or with no record: code search only). Every call is one archive
function in a thread worker; the screen holds no SQL and no crypto.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from archive.plural import counted
from tui.messages import CodingLoaded
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.status import StatusLine
from tui.workers import session_work

DEBOUNCE = 0.3
LIMIT = 30


class CodingScreen(Screen[None]):
    """Code search (left) and suggestions for one record (right); c confirms, r rejects the highlighted one."""

    DEFAULT_CSS = """
    #coding-panes { height: 1fr; }
    #code-search-pane, #suggestions-pane { width: 1fr; height: 1fr; }
    #code-results, #suggestions { height: 1fr; }
    #suggestion-passage { height: auto; max-height: 6; padding: 0 1; }
    #uncertain { height: auto; max-height: 10; padding: 0 1; color: $warning; }
    #code-search-status, #suggestions-title { padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "confirm", "Confirm"),
        Binding("r", "reject", "Reject"),
        Binding("f5", "reload", "Refresh"),
    ]

    def __init__(self, session: Any, record_id: str | None = None) -> None:
        super().__init__(name="coding")
        self.session = session
        self.record_id = record_id
        self.suggestions: list[Any] = []
        self.decided: dict[str, str] = {}
        self.hits: list[Any] = []
        self.searches = 0  # completed searches (tests wait on these counters)
        self.loads = 0
        self.decisions = 0
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session)
        with Horizontal(id="coding-panes"):
            with Vertical(id="code-search-pane"):
                yield Input(placeholder="ICD-10-CM: a code (E11.9) or words (type 2 diabetes, HTN)", id="code-search")
                yield Static("Type a code or words to search the code set.", id="code-search-status")
                yield OptionList(id="code-results")
            with Vertical(id="suggestions-pane"):
                title = f"Suggestions for {self.record_id}" if self.record_id else "No record open"
                yield Static(title, id="suggestions-title")
                yield OptionList(id="suggestions")
                yield Static("", id="suggestion-passage")
                # What the record only doubts: never a suggestion, shown apart (ICD-10-CM guidelines II.H/IV.H).
                yield Static("", id="uncertain")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#code-search", Input).focus()
        if self.record_id:
            self.query_one("#suggestions-title", Static).update(f"Suggestions for {self.record_id}: working…")
            self.load_suggestions()
        else:
            self.query_one("#suggestion-passage", Static).update(
                "Open this screen with F9 on a search result to see that record's suggestions."
            )

    # -- code search ---------------------------------------------------------
    @on(Input.Changed, "#code-search")
    def _typed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE, lambda: self.run_search(event.value))

    @on(Input.Submitted, "#code-search")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self.run_search(event.value)

    @session_work("code-search")
    def run_search(self, query: str) -> None:
        from archive.coding import search_codes
        from archive.errors import ChartvaultError

        if not query.strip():
            self.post_message(CodingLoaded("search", [], query=query))
            return
        try:
            hits = search_codes(self.session, query, limit=LIMIT)
        except ChartvaultError as exc:
            self.post_message(CodingLoaded("search", None, exc, query=query))
            return
        self.post_message(CodingLoaded("search", hits, query=query))

    def on_coding_loaded(self, message: CodingLoaded) -> None:
        if message.error is not None:
            title = {"search": "Code search", "suggestions": "Suggestions"}.get(message.kind, "Coding")
            self._failed(title, message.error.message, message.error.hint)
        elif message.kind == "search":
            self._show_hits(message.query, message.result)
        elif message.kind == "suggestions":
            self._show_suggestions(message.result)
        else:
            self._decided(message.result)

    def _show_hits(self, query: str, hits: list[Any]) -> None:
        self.hits = hits
        results = self.query_one("#code-results", OptionList)
        results.clear_options()
        for h in hits:
            tag = "" if h.billable else "  (heading)"
            results.add_option(Option(f"{h.code:<9} {h.description}{tag}", id=h.code))
        status = f"{counted(len(hits), 'code')} for '{query}'." if query.strip() else "Type a code or words."
        if query.strip() and not hits:
            status = f"No code matches '{query}'. Try fewer or other words."
        self.query_one("#code-search-status", Static).update(status)
        self.searches += 1

    # -- suggestions -----------------------------------------------------------
    @session_work("suggestions")
    def load_suggestions(self) -> None:
        from archive.coding import suggest_for_record
        from archive.errors import ChartvaultError

        try:
            result = suggest_for_record(self.session, self.record_id or "")
        except ChartvaultError as exc:
            self.post_message(CodingLoaded("suggestions", None, exc))
            return
        self.post_message(CodingLoaded("suggestions", result))

    def _show_suggestions(self, result: Any) -> None:
        self.suggestions = list(result.suggestions)
        self.decided = dict(result.decided)
        listing = self.query_one("#suggestions", OptionList)
        listing.clear_options()
        for s in self.suggestions:
            status = self.decided.get(s.code)
            mark = {"confirmed": "✓ ", "rejected": "✗ "}.get(status or "", "  ")
            listing.add_option(Option(f"{mark}{s.code:<9} {s.score:.2f}  {s.description}", id=s.code))
        n = len(self.suggestions)
        self.query_one("#suggestions-title", Static).update(
            f"Suggestions for {self.record_id}: {n} (c confirm, r reject)" if n
            else f"No diagnosis found to code in {self.record_id}."
        )
        if n:
            listing.highlighted = 0
        self.query_one("#uncertain", Static).update(uncertain_text(result.uncertain))
        self.loads += 1

    @on(OptionList.OptionHighlighted, "#suggestions")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        found = next((s for s in self.suggestions if s.code == event.option.id), None)
        if found is not None:
            passage = " ".join(found.passage.split())
            self.query_one("#suggestion-passage", Static).update(f"“{passage}”")

    def _target(self) -> tuple[str, Any] | None:
        """The code to decide on: the highlighted suggestion, else the highlighted search result."""
        focused = self.focused
        lists = [self.query_one("#suggestions", OptionList), self.query_one("#code-results", OptionList)]
        if isinstance(focused, OptionList) and focused in lists:
            lists.remove(focused)
            lists.insert(0, focused)
        for listing in lists:
            index = listing.highlighted
            if index is not None and index < listing.option_count:
                option = listing.get_option_at_index(index)
                if option.id:
                    return option.id, next((s for s in self.suggestions if s.code == option.id), None)
        return None

    def action_confirm(self) -> None:
        self._decide("confirmed")

    def action_reject(self) -> None:
        self._decide("rejected")

    def _decide(self, status: str) -> None:
        if not self.record_id:
            self.notify("Open a record first (F9 on a search result).", severity="warning", title="Coding")
            return
        target = self._target()
        if target is None:
            self.notify("Highlight a suggestion or a code first.", severity="warning", title="Coding")
            return
        self.decide(status, *target)

    @session_work("decide")
    def decide(self, status: str, code: str, suggestion: Any) -> None:
        from archive.coding import confirm_code, reject_code
        from archive.errors import ChartvaultError

        try:
            if status == "confirmed":
                passage = suggestion.passage if suggestion is not None else None
                score = suggestion.score if suggestion is not None else None
                start = suggestion.start if suggestion is not None else None
                decision = confirm_code(self.session, self.record_id or "", code, passage=passage, score=score,
                                        start=start)
            else:
                decision = reject_code(self.session, self.record_id or "", code)
        except ChartvaultError as exc:
            self.post_message(CodingLoaded("decide", None, exc))
            return
        self.post_message(CodingLoaded("decide", decision))

    def _decided(self, decision: Any) -> None:
        self.decisions += 1
        verb = "Confirmed" if decision.status == "confirmed" else "Rejected"
        self.notify(f"{verb} {decision.code} for {decision.record_id}.", title="Coding")
        self.load_suggestions()

    def action_reload(self) -> None:
        if self.record_id:
            self.load_suggestions()

    def _failed(self, title: str, message: str, hint: str) -> None:
        self.notify(f"{message} {hint}".strip(), severity="error", title=title)
        if title == "Suggestions":
            self.query_one("#suggestions-title", Static).update(message)
            self.loads += 1

    def action_back(self) -> None:
        self.app.pop_screen()


def uncertain_text(uncertain: list[Any]) -> str:
    """The uncertain codes, marked, for the pane under the suggestions (empty when there are none)."""
    if not uncertain:
        return ""
    lines = ["Uncertain: code only under the inpatient rule (ICD-10-CM II.H), never for an outpatient visit (IV.H)"]
    for s in uncertain:
        lines.append(f"? {s.code:<7} {s.description}  \u201c{' '.join(s.passage.split())[:80]}\u201d")
    return "\n".join(lines)
