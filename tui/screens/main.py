"""The main frame after unlock: who is logged in, their role, and search-as-you-type.

Typing in the search box searches (debounced) in a worker; Enter or Down moves
to the results, Enter on a result opens the record. F2 opens the work queues,
F3 the chart of the highlighted result's patient (or of an MRN asked for),
F4 switches the search mode (auto, fts, semantic, hybrid); Ctrl+F keeps only records that affirm the
query (not those that only deny it, doubt it, plan for it or say it of a relative); each hit shows a badge
when its mention is not affirmed, and negated hits are muted. The embedding model
loads in a background thread after unlock; until it is ready searches answer
with full text, and for users who may import the backlog is embedded meanwhile.
The line over the results says which mode produced them; when full text stood
in for the mode chosen, a notice says why and what to do, follows the backlog
the app recounts (`BacklogCounted`), and the search runs again once it can.
While this screen is up the inbox is watched in a background thread (for
users who may import), and new arrivals are announced.
Opening a result opens the record at its first hit. A result under the relevance
floor (archive.search: SearchHit.weak) is muted and marked (weak), and the line over
the results counts them; when no record passes, it says the results are only the
closest (weak matches). With
results shown, Ctrl+S saves the search and Ctrl+B shows them by patient; F11
lists saved searches and patient lists (run one, search within a list).
"""

from __future__ import annotations

import threading
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static

from archive.plural import counted
from tui.messages import OpenRecord, SearchDone
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.results import MARK_CLOSE, MARK_OPEN, SearchResults
from tui.widgets.status import StatusLine
from tui.workers import session_work

DEBOUNCE = 0.25  # seconds of no typing before a search runs
LIMIT = 50
MODE_LABEL = {"fts": "Full text", "semantic": "Semantic", "hybrid": "Hybrid"}  # the mode that produced the hits


class MainScreen(Screen[None]):
    AUTO_FOCUS = "#search"
    BINDINGS = [
        Binding("f2", "open_queues", "Queues"),
        Binding("f3", "open_chart", "Chart"),
        Binding("f6", "open_assistant", "Ask"),
        Binding("f9", "open_coding", "Coding"),
        Binding("f7", "open_stats", "Stats"),
        Binding("f4", "cycle_mode", "Mode"),
        Binding("ctrl+f", "toggle_positive", "Affirm"),
        Binding("escape", "focus_search", "Search", show=False),
        Binding("ctrl+s", "save", "Save"),  # with results shown (see check_action)
        Binding("ctrl+b", "toggle_patients", "Patients"),  # with results shown
        Binding("f11", "open_saved", "Saved"),
    ]
    # What the marks on a result mean (F1; tui.widgets.results draws them).
    HELP_MARKS = [
        ("[negated]", "The record denies what you searched for where it mentions it (the row is muted); "
                      "[possible], [hypothetical], [historical] and [family] say how else it is mentioned. "
                      "Ctrl+F keeps only records that affirm it."),
        ("~near spelling", "Found by a near spelling of a word you typed (a scan's misread text), listed after "
                           "the records that hold the word exactly."),
        ("(weak)", "Searches by meaning list the closest records: a muted row marked (weak) is one of those, "
                   "not a good match. When every row is weak, the line above the results says so."),
    ]

    def __init__(self, session: Any) -> None:
        super().__init__(name="main")
        self.session = session
        self._debounce: Timer | None = None
        self.last_query = ""
        self.searches = 0  # completed searches (tests wait on it)
        self.inbox: Any = None  # archive.intake.InboxService while watching
        self.mode: str | None = None  # search mode: None = auto (hybrid once the model is ready), fts, semantic, hybrid
        self.positive = False  # only records with an affirmed (or historical) mention of the query
        self.embedding: Any = None  # archive.embedding.EmbeddingService (model load + backlog) while open
        self.embedding_started = False  # start_embedding has run: until then the model counts as loading
        self.fallback: Any = None  # archive.search.Fallback of the results shown (full text stood in), or None
        self.waiting: int | None = None  # the backlog as last counted since those results (BacklogCounted)
        self.result: Any = None  # archive.search.SearchResult of the results shown
        self.by_patient = False  # the results shown one row per patient (Ctrl+B)
        self.within: str | None = None  # search only the patients of this patient list (F11)
        self.saved: Any = None  # archive.saved.SavedSearch run from F11: its filters apply while its query is

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session)
        with Vertical(id="search-area"):
            yield Input(placeholder="Search records…  (words, \"a phrase\", cardi*, OR, -word)", id="search")
            yield Static("", id="search-mode", classes="muted")
            yield Static("", id="search-notice")
            yield Static("Type to search.", id="results-status", classes="muted")
            yield SearchResults(id="results")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys for screens this user may not open are left out of the footer (F1 says who may)."""
        from tui.navigation import allowed, by_action

        if action in ("save", "toggle_patients"):  # about the results shown: only with results
            return self.result is not None and bool(self.result.hits)
        if action == "toggle_positive":  # with results, or while on (so it can be turned off); room for Lock
            return self.positive or (self.result is not None and bool(self.result.hits))
        dest = by_action(action)
        return dest is None or allowed(self.session.user, dest)

    def on_mount(self) -> None:
        self.start_inbox_watch()
        self._show_notice()
        self._show_mode()
        # After the first refresh: the search box has the focus and the screen is drawn before
        # the model starts loading in its thread.
        self.call_after_refresh(self.start_embedding)
        self.set_interval(1.0, self._show_mode)

    def on_unmount(self) -> None:
        self.stop_inbox_watch()
        self.stop_embedding()

    # -- search as you type -------------------------------------------------
    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE, lambda: self._run_search(event.value))

    @on(Input.Submitted, "#search")
    def _submitted(self, event: Input.Submitted) -> None:
        results = self.query_one("#results", SearchResults)
        if results.option_count:
            results.focus()
        else:
            self._run_search(event.value)

    def _run_search(self, query: str) -> None:
        query = query.strip()
        self.last_query = query
        if not query:
            self.query_one("#results", SearchResults).clear_options()
            self._status("Type to search.")
            return
        self.search(query)

    @session_work("search")
    def search(self, query: str) -> None:
        from archive.errors import ChartvaultError
        from archive.search import search

        try:
            patients = None
            if self.within is not None:
                from archive.saved import list_patients

                patients = list_patients(self.session, self.within)[1]
            saved = self.saved
            filters = dict(saved.filters) if saved is not None and saved.query == query.strip() else {}
            result = search(
                self.session,
                query,
                mode=self.mode,
                limit=LIMIT,
                mark=(MARK_OPEN, MARK_CLOSE),
                wait_for_model=False,  # full text answers while the model loads
                as_you_type=not filters,  # a saved search runs as saved
                patients=patients,
                positive=self.positive,
                **filters,
            )
        except ChartvaultError as exc:
            self.post_message(SearchDone(query, [], exc))
            return
        self.post_message(SearchDone(query, result.hits, result=result))

    def on_search_done(self, message: SearchDone) -> None:
        if message.error is not None:
            self._search_failed(message.query, message.error.message, message.error.hint)
        else:
            self._show_hits(message.query, message.hits, message.result)

    def _show_hits(self, query: str, hits: list[Any], result: Any = None) -> None:
        if query != self.last_query:
            return  # the person kept typing; a newer search is on its way
        self.result = result
        self._show_results()
        n = len(hits)
        more = f" (first {LIMIT})" if n >= LIMIT else ""
        label = MODE_LABEL.get(result.mode, "") if result is not None else ""
        nothing = "No record affirms it." if self.positive else "No records match."
        found = f"{counted(n, 'record')}{more}. Enter opens one." if n else nothing
        if weak := sum(bool(getattr(h, "weak", False)) for h in hits):  # after a good match: say what muted means
            found = (f"{counted(n, 'record')}{more}, {weak} weak (muted: among the closest, not matches). "
                     "Enter opens one.")
        if result is not None and result.weak:
            found = f"No record matches well; the closest {counted(n, 'record')} (weak matches). Enter opens one."
        if self.within is not None:
            found = f"Within list '{self.within}': {found}"
        if result is not None and result.note and n:  # near spellings: how many, or where semantic mode left them
            found = f"{found} {result.note}"
        self._status(f"{label}: {found}" if label else found)
        self.refresh_bindings()
        self.fallback = result.fallback if result is not None else None
        self.waiting = None
        self._show_notice()
        self.searches += 1

    def _search_failed(self, query: str, message: str, hint: str) -> None:
        if query != self.last_query:
            return
        self._status(f"{message} {hint}".strip(), error=True)
        self.fallback = None
        self._show_notice()
        self.searches += 1

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#results-status", Static)
        status.update(text)
        status.set_class(error, "error")

    def on_key(self, event: Any) -> None:
        if event.key == "down" and self.focused is self.query_one("#search", Input):
            results = self.query_one("#results", SearchResults)
            if results.option_count:
                results.focus()
                event.stop()

    @on(OptionList.OptionSelected, "#results")
    def _open(self, event: OptionList.OptionSelected) -> None:
        from archive.hits import hit_terms

        if not event.option.id:
            return
        if event.option.id.startswith("patient:"):  # the patients view: back to that patient's records
            self._patient_records(event.option.id.split(":", 1)[1])
            return
        mode = self.result.mode if self.result is not None else None
        terms = hit_terms(self.last_query, mode) if self.last_query else None
        self.post_message(OpenRecord(event.option.id, terms))  # the app opens it, at the first hit

    # -- the results: records, or one row per patient (Ctrl+B) ----------------
    def _show_results(self) -> None:
        from archive.patient_view import by_patient

        results = self.query_one("#results", SearchResults)
        hits = self.result.hits if self.result is not None else []
        if self.by_patient and hits:
            rows, unfiled = by_patient(self.session, hits)
            results.show_patients(rows, unfiled)
        else:
            results.show_hits(hits)

    def action_toggle_patients(self) -> None:
        """The results one row per patient (records matched, first and last dates, types), or back."""
        self.by_patient = not self.by_patient
        self._show_results()
        if self.by_patient and self.result is not None:
            self._status(f"Patients view of {counted(len(self.result.hits), 'record')}: Enter lists a patient's "
                         "records; Ctrl+B goes back.")

    def _patient_records(self, mrn: str) -> None:
        self.by_patient = False
        results = self.query_one("#results", SearchResults)
        hits = [h for h in self.result.hits if h.patient == mrn] if self.result is not None else []
        results.show_hits(hits)
        self._status(f"{counted(len(hits), 'record')} of patient {mrn}. Enter opens one; Ctrl+B: all patients.")

    # -- saved searches and patient lists ------------------------------------
    def action_save(self) -> None:
        """Ask for a name, then save the search shown (its query, mode and any list it is within)."""
        from tui.screens.saved import AskName

        if not self.last_query:
            return
        self.app.push_screen(AskName("Save this search as"), self._save_as)

    def _save_as(self, name: str | None) -> None:
        if name:
            self.save_search(name, self.last_query, self.mode)

    @session_work("saved")
    def save_search(self, name: str, query: str, mode: str | None) -> None:
        from archive.errors import ChartvaultError
        from archive.saved import save_search

        try:
            saved, replaced = save_search(self.session, name, query, mode=mode)
        except ChartvaultError as exc:
            self.app.call_from_thread(self.notify, exc.hint, title=exc.message, severity="error")
            return
        self.app.call_from_thread(self.notify, f"{'Replaced' if replaced else 'Saved'} search '{saved.name}'.",
                                  title="Saved searches")

    def action_open_saved(self) -> None:
        from tui.screens.saved import SavedScreen

        self.app.push_screen(SavedScreen(self.session, self.last_query, self.mode), self._picked)

    def _picked(self, choice: Any) -> None:
        """What the saved screen chose: ("search", SavedSearch) runs it; ("list", name) searches within it."""
        if not choice:
            return
        kind, value = choice
        box = self.query_one("#search", Input)
        if kind == "search":
            self.within = None
            self.saved = value
            self.mode = value.mode
            self._show_mode()
            box.value = value.query
        else:
            self.within = value
            self._status(f"Searching within list '{value}'. Type to search; F11 to leave the list.")
        self.last_query = box.value.strip()
        if self.last_query:
            self.search(self.last_query)
        box.focus()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_open_chart(self) -> None:
        """The chart of the highlighted result's patient, or of an MRN typed in a prompt."""
        from tui.screens.chart import ChartScreen, OpenChart

        results = self.query_one("#results", SearchResults)
        hit = results.highlighted_hit()
        if hit is not None and hit.patient:
            self.app.push_screen(ChartScreen(self.session, hit.patient))
            return
        self.app.push_screen(OpenChart(), lambda mrn: mrn and self.app.push_screen(ChartScreen(self.session, mrn)))

    def action_open_queues(self) -> None:
        from tui.screens.queue import QueueScreen

        self.app.push_screen(QueueScreen(self.session))

    def action_open_stats(self) -> None:
        """Statistics (technicians and physicians): frequency, recurrence, readmissions."""
        from archive.policy import Action, decide
        from tui.screens.stats import StatsScreen

        decision = decide(self.session.user, Action.STATS)
        if not decision.allowed:  # say so here rather than audit a denial per chart
            self.notify(decision.reason or "Statistics are for technicians and physicians.", severity="error",
                        title="Statistics")
            return
        self.app.push_screen(StatsScreen(self.session))

    def action_open_coding(self) -> None:
        """ICD-10-CM coding for the highlighted result's record (code search only when none)."""
        from tui.screens.coding import CodingScreen

        hit = self.query_one("#results", SearchResults).highlighted_hit()
        self.app.push_screen(CodingScreen(self.session, hit.record_id if hit is not None else None))

    def action_open_assistant(self) -> None:
        from tui.screens.assistant import AssistantScreen

        self.app.push_screen(AssistantScreen(self.session))

    # -- the inbox, watched while the app is open ----------------------------
    def start_inbox_watch(self) -> None:
        from archive.intake import InboxService, may_import

        if not may_import(self.session):
            return
        try:
            self.inbox = InboxService(
                self.session,
                once_per_vault=True,  # one watcher per vault: other connections and SSH sessions defer
                on_outcomes=lambda outs: self.app.call_from_thread(self._arrived, outs),
                on_error=lambda exc: self.app.call_from_thread(self._inbox_error, exc),
            ).start()
        except Exception as exc:  # noqa: BLE001 - the app works without the watcher; say so
            self.notify(f"The inbox is not being watched ({type(exc).__name__}).", severity="warning")
            self.inbox = None

    def stop_inbox_watch(self) -> None:
        if self.inbox is not None:
            inbox, self.inbox = self.inbox, None
            # Stopping waits for a file being imported (a long note: seconds): never on the UI thread, so a
            # lock clears the screen at once. Not a daemon: the import finishes before the process exits.
            threading.Thread(target=inbox.stop, name="inbox-stop").start()

    def _arrived(self, outcomes: list[Any]) -> None:
        imported = sum(o.status == "imported" for o in outcomes)
        quarantined = sum(o.status == "quarantined" for o in outcomes)
        parts = []
        if imported:
            parts.append(f"{counted(imported, 'new record')}")
        if quarantined:
            parts.append(f"{quarantined} quarantined (see F2)")
        if parts:
            self.notify(", ".join(parts) + ".", title="Inbox")
        for out in outcomes:  # left in the inbox on purpose: say which and why (e.g. the size setting)
            if out.status == "skipped":
                self.notify(f"{out.input}: {out.reason}", title="Inbox: left in place", severity="warning")
        if imported and self.embedding is not None:
            self.embedding.wake()
        if imported and self.last_query:
            self.search(self.last_query)

    def _inbox_error(self, exc: BaseException) -> None:
        message = getattr(exc, "message", type(exc).__name__)
        self.notify(f"Inbox: {message}", severity="error", title="Inbox")

    # -- search modes and the embedding model (loaded in the background) -----
    def action_cycle_mode(self) -> None:
        """auto -> fts -> semantic -> hybrid -> auto; the current query runs again in the new mode."""
        order: list[str | None] = [None, "fts", "semantic", "hybrid"]
        self.mode = order[(order.index(self.mode) + 1) % len(order)]
        self._show_mode()
        if self.last_query:
            self.search(self.last_query)

    def action_toggle_positive(self) -> None:
        """Only records that affirm the query, or all that mention it; the current query runs again."""
        self.positive = not self.positive
        self.refresh_bindings()
        self._show_mode()
        if self.last_query:
            self.search(self.last_query)

    def start_embedding(self) -> None:
        """Load the model in the background (full text works meanwhile) and embed the backlog."""
        from archive.embedding import EmbeddingService
        from archive.errors import ChartvaultError

        self.embedding_started = True
        try:
            self.embedding = EmbeddingService(
                self.session,
                on_error=lambda exc: self.app.call_from_thread(self._embedding_error, exc),
            ).start()
        except ChartvaultError as exc:
            self.embedding = None
            self.notify(f"Semantic search is unavailable: {exc.message}", severity="warning")

    def stop_embedding(self) -> None:
        if self.embedding is not None:
            service, self.embedding = self.embedding, None
            service.stop(timeout=2.0)

    def model_state(self) -> str:
        """The embedding model: "loading", "ready", "failed" or "unavailable" (for the mode and status lines).

        Before the service starts (just after the first frame) it is loading, not unavailable.
        """
        service = self.embedding
        if service is None:
            return "unavailable" if self.embedding_started else "loading"
        if getattr(service.embedder, "error", None) is not None:
            return "failed"
        return "ready" if service.ready else "loading"

    def _show_mode(self) -> None:
        service = self.embedding
        state = self.model_state()
        if state == "unavailable":
            model = "model unavailable"
        elif state == "failed":
            model = "model failed to load"
        elif state == "loading" or service is None:
            model = "model loading (full text meanwhile)"
        else:
            model = "model ready" + (f", {counted(service.embedded, 'record')} embedded" if service.embedded else "")
        mode = self.mode or "auto"
        only = "  ·  affirmed only (Ctrl+F)" if self.positive else ""
        self.query_one("#search-mode", Static).update(f"Mode: {mode} ({self._mode_key()}){only}  ·  {model}")
        from archive.search import MODEL_LOADING

        fallback = self.fallback
        if fallback is not None and fallback.reason == MODEL_LOADING and service is not None and service.ready:
            self._search_again()  # the model is ready now: the mode chosen can answer
        else:
            self._show_notice()  # the model may have failed meanwhile

    def _mode_key(self) -> str:
        """The key that switches the search mode, as the footer shows it."""
        key = next((b.key for b in self.BINDINGS if isinstance(b, Binding) and b.action == "cycle_mode"), "f4")
        return key.upper() if len(key) <= 3 else key

    # -- why full text stood in for the mode chosen --------------------------
    def backlog_counted(self, backlog: int | None) -> None:
        """The app recounted the backlog (BacklogCounted): say the new count, or search again once records
        were embedded (semantic search can answer now)."""
        from archive.search import NOT_EMBEDDED

        fallback = self.fallback
        if fallback is None or fallback.reason != NOT_EMBEDDED or backlog is None:
            return
        if backlog < fallback.backlog:
            self._search_again()
        else:
            self.waiting = backlog
            self._show_notice()

    def _search_again(self) -> None:
        self.fallback = None
        self._show_notice()
        if self.last_query:
            self.search(self.last_query)

    def _show_notice(self) -> None:
        """Why the results are full text when the mode chosen was another, and what this user can do."""
        notice = self.query_one("#search-notice", Static)
        text = self._notice_text(self.fallback, self.waiting)
        notice.update(text)
        notice.display = bool(text)

    def _notice_text(self, fallback: Any, backlog: int | None) -> str:
        from archive.policy import Action, decide
        from archive.search import MODEL_LOADING

        if fallback is None or not fallback.chosen:
            return ""  # auto mode: the label over the results and the mode line say enough
        wanted = MODE_LABEL.get(fallback.wanted, fallback.wanted)
        switch = f"{self._mode_key()} switches the mode."
        service = self.embedding
        if service is None:
            return f"{wanted} search is not available now: full-text results. {switch}"
        if getattr(service.embedder, "error", None) is not None:
            return f"{wanted} search is unavailable (the model could not be loaded): full-text results. {switch}"
        if fallback.reason == MODEL_LOADING:
            return f"{wanted} search waits for the model, which is loading: full-text results until it is ready. " \
                   + switch
        n = fallback.backlog if backlog is None else backlog
        waiting = f"{counted(n, 'record')} waiting"
        if not n:  # nothing embedded and nothing waiting: no embedder will catch up with anything
            return f"{wanted} search has nothing to rank: the vault holds no record yet. {switch}"
        if decide(self.session.user, Action.IMPORT).allowed:
            why = f"the background embedder is catching up ({waiting})"
        else:
            why = f"no record is embedded yet ({waiting}; a technician's session embeds them)"
        return f"{wanted} search is not ready: {why}. Full-text results meanwhile. {switch}"

    def _embedding_error(self, exc: BaseException) -> None:
        message = getattr(exc, "message", type(exc).__name__)
        self.notify(f"Embedding stopped: {message}", severity="warning", title="Semantic search")
