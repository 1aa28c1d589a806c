"""Saved searches and patient lists (F11 on the search screen): run a saved search, search within a list,
build lists (new list, the current search's patients, an MRN), delete. Each change is one archive call
(audited there) in a worker; the screen hands its choice back to the search screen when it closes."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from archive.plural import counted
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.status import StatusLine
from tui.workers import session_work


class AskName(ModalScreen[str | None]):
    """One line of input (a name, an MRN): Enter gives it, Esc gives nothing."""

    BINDINGS = [Binding("escape", "close", "Cancel")]
    DEFAULT_CSS = """
    AskName { align: center middle; }
    AskName > Vertical { width: 60; height: auto; border: round $accent; padding: 0 1; background: $panel; }
    """

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.prompt)
            yield Input(id="ask-name")
            yield KeyFooter()

    @on(Input.Submitted, "#ask-name")
    def _given(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_close(self) -> None:
        self.dismiss(None)


class SavedScreen(Screen[Any]):
    """Saved searches (Enter runs one) and patient lists (Enter searches within one)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "create_list", "New list"),
        Binding("a", "add_results", "Add results"),
        Binding("m", "add_mrn", "Add MRN"),
        Binding("d", "delete", "Delete"),
        Binding("x", "leave_list", "All records"),
    ]
    DEFAULT_CSS = """
    SavedScreen OptionList { height: 1fr; border: round $panel; }
    SavedScreen .heading { padding: 0 1; text-style: bold; }
    SavedScreen #saved-status { padding: 0 1; height: auto; }
    """

    def __init__(self, session: Any, query: str = "", mode: str | None = None) -> None:
        super().__init__(name="saved")
        self.session = session
        self.search_query = query  # the search shown on the search screen ('a' adds its patients to a list)
        self.mode = mode
        self.searches: list[Any] = []
        self.lists: list[Any] = []
        self.loads = 0  # completed loads (tests wait on it)

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session)
        yield Static("Saved searches (Enter runs one)", classes="heading")
        yield OptionList(id="saved-searches")
        yield Static("Patient lists (Enter searches within one)", classes="heading")
        yield OptionList(id="patient-lists")
        yield Static("", id="saved-status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load()

    @session_work("saved")
    def load(self, note: str = "") -> None:
        from archive.errors import ChartvaultError
        from archive.saved import patient_lists, saved_searches

        try:
            searches, lists = saved_searches(self.session), patient_lists(self.session)
        except ChartvaultError as exc:
            self.app.call_from_thread(self._status, f"{exc.message} {exc.hint}")
            return
        self.app.call_from_thread(self._loaded, searches, lists, note)

    def _loaded(self, searches: list[Any], lists: list[Any], note: str) -> None:
        me = self.session.user.name
        self.searches, self.lists = searches, lists
        box = self.query_one("#saved-searches", OptionList)
        box.clear_options()
        box.add_options([
            Option(Text(f"{s.name if s.owner == me else s.ref}: {s.query}  ({s.mode or 'auto'})"), id=f"s{i}")
            for i, s in enumerate(searches)
        ])
        plists = self.query_one("#patient-lists", OptionList)
        plists.clear_options()
        plists.add_options([
            Option(Text(f"{p.name if p.owner == me else p.owner + '/' + p.name}: {counted(p.size, 'patient')}"
                        + (f"  ({p.note})" if p.note else "")), id=f"l{i}")
            for i, p in enumerate(lists)
        ])
        if searches:
            box.highlighted = 0
        if lists:
            plists.highlighted = 0
        (box if searches or not lists else plists).focus()
        self._status(note or ("Nothing saved yet: Ctrl+S on the search screen saves a search; c makes a list."
                              if not searches and not lists else ""))
        self.loads += 1

    def _status(self, text: str) -> None:
        self.query_one("#saved-status", Static).update(text)

    @on(OptionList.OptionSelected, "#saved-searches")
    def _run(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(("search", self.searches[int((event.option.id or "s0")[1:])]))

    @on(OptionList.OptionSelected, "#patient-lists")
    def _within(self, event: OptionList.OptionSelected) -> None:
        plist = self.lists[int((event.option.id or "l0")[1:])]
        me = self.session.user.name
        self.dismiss(("list", plist.name if plist.owner == me else f"{plist.owner}/{plist.name}"))

    def _highlighted_list(self) -> Any:
        plists = self.query_one("#patient-lists", OptionList)
        if plists.highlighted is None or not self.lists:
            return None
        return self.lists[plists.highlighted]

    # -- building lists -------------------------------------------------------
    def action_create_list(self) -> None:
        self.app.push_screen(AskName("Name of the new patient list"), self._create)

    def _create(self, name: str | None) -> None:
        if name:
            self.change("create", name)

    def action_add_results(self) -> None:
        """Add the patients of the search shown on the search screen to the highlighted list."""
        plist = self._highlighted_list()
        if plist is None or not self.search_query:
            self._status("Highlight a list of yours, with a search shown on the search screen.")
            return
        self.change("add_search", plist.name, self.search_query)

    def action_add_mrn(self) -> None:
        plist = self._highlighted_list()
        if plist is None:
            self._status("Highlight a list of yours first (c makes one).")
            return
        self.app.push_screen(AskName(f"MRN to add to '{plist.name}'"), lambda mrn: self._add_mrn(plist.name, mrn))

    def _add_mrn(self, name: str, mrn: str | None) -> None:
        if mrn:
            self.change("add_mrn", name, mrn)

    def action_delete(self) -> None:
        """Delete the highlighted saved search or list (the focused one; yours only)."""
        focused = self.focused
        if focused is self.query_one("#saved-searches", OptionList) and self.searches:
            index = focused.highlighted  # type: ignore[union-attr]
            if index is not None:
                self.change("delete_search", self.searches[index].name)
        elif self._highlighted_list() is not None:
            self.change("delete_list", self._highlighted_list().name)

    def action_leave_list(self) -> None:
        self.dismiss(("list", None))

    @session_work("saved-change")
    def change(self, what: str, name: str, value: str = "") -> None:
        from archive import saved
        from archive.errors import ChartvaultError

        try:
            if what == "create":
                made = saved.create_list(self.session, name)
                note = f"Created patient list '{made.name}'."
            elif what == "add_search":
                change = saved.add_from_search(self.session, name, value, mode=self.mode, wait_for_model=False)
                note = f"Added {counted(len(change.added), 'patient')} from the search to '{name}'."
            elif what == "add_mrn":
                change = saved.add_patients(self.session, name, [value], source="hand")
                note = f"Added {counted(len(change.added), 'patient')} to '{name}'."
            elif what == "delete_search":
                saved.delete_saved(self.session, name)
                note = f"Deleted saved search '{name}'."
            else:
                saved.delete_list(self.session, name)
                note = f"Deleted patient list '{name}'."
        except ChartvaultError as exc:
            self.app.call_from_thread(self._status, f"{exc.message} {exc.hint}".strip())
            self.app.call_from_thread(self.notify, exc.hint, title=exc.message, severity="error")
            return
        self.app.call_from_thread(self.load, note)

    def action_back(self) -> None:
        self.dismiss(None)
