"""Similar cases: the records closest in meaning to one record, each with its similarity; archive cuts those
below the model's relevance floor, so the list may be short or say "no close cases". One archive call in a worker."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import OptionList, Static

from archive.plural import counted
from tui.messages import OpenRecord, SimilarLoaded
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.results import MARK_CLOSE, MARK_OPEN, SearchResults
from tui.widgets.status import StatusLine
from tui.workers import session_work

LIMIT = 20


class SimilarScreen(Screen[None]):
    """Lists what `archive.search.similar_cases` returns (audited there); Enter opens a record."""

    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, session: Any, record_id: str) -> None:
        super().__init__(name="similar")
        self.session = session
        self.record_id = record_id
        self.loaded = False  # tests wait on it
        self.waiting = 0  # records not embedded yet when the cases were found

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session)
        yield Static(f"Cases similar to {self.record_id}: finding them (may load the model)…", id="similar-status")
        yield SearchResults(id="similar-results")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()

    @session_work("similar")
    def load(self) -> None:
        from archive.embedding import backlog
        from archive.errors import ChartvaultError
        from archive.search import similar_cases

        try:
            result = similar_cases(self.session, self.record_id, limit=LIMIT, mark=(MARK_OPEN, MARK_CLOSE))
            self.waiting = backlog(self.session)  # records with no vectors yet: not compared
        except ChartvaultError as exc:
            self.post_message(SimilarLoaded(self.record_id, None, exc))
            return
        self.post_message(SimilarLoaded(self.record_id, result))

    def on_similar_loaded(self, message: SimilarLoaded) -> None:
        if message.error is not None:
            self._failed(message.error.message, message.error.hint)
        else:
            self._show(message.result)

    def _show(self, result: Any) -> None:
        results = self.query_one("#similar-results", SearchResults)
        results.show_hits(result.hits, score_label="similarity")
        n = len(result.hits)
        # Scores are shown per case, so the order needs no words; the floor does (why the list is short).
        close = f"at least {result.floor:.2f} similar" if result.floor is not None else "similar"
        found = f"{counted(n, 'case')} {close} to {self.record_id}. Enter opens one."
        none = f"No close cases: no other record is {close} to {self.record_id}."
        text = result.note or (found if n else none)
        if self.waiting and not result.note:
            were = "is" if self.waiting == 1 else "are"
            text += (f" {counted(self.waiting, 'record')} {were} not embedded yet and not compared: the background "
                     "embedder catches up while a technician has the app open; look again then.")
        self.query_one("#similar-status", Static).update(text)
        if n:
            results.focus()
        self.loaded = True

    def _failed(self, message: str, hint: str) -> None:
        self.query_one("#similar-status", Static).update(f"{message} {hint}".strip())
        self.notify(message, severity="error", title="Similar cases")
        self.loaded = True

    @on(OptionList.OptionSelected, "#similar-results")
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.post_message(OpenRecord(event.option.id))  # the app opens it

    def action_back(self) -> None:
        self.app.pop_screen()
