"""F1: what each screen is for and which keys work, generated from the bindings so it cannot go stale; a screen
whose rows carry marks ("[negated]", "(weak)") says what they mean in HELP_MARKS."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.navigation import DESTINATIONS, GLOBAL_KEYS, allowed
from tui.widgets.footer import KeyFooter


def key_label(key: str) -> str:
    """'f2' -> 'F2', 'ctrl+l' -> 'Ctrl+L', 'escape' -> 'Esc'."""
    names = {"escape": "Esc", "enter": "Enter", "tab": "Tab", "up": "Up", "down": "Down"}
    parts = key.split("+")
    out = []
    for part in parts:
        if part in names:
            out.append(names[part])
        elif part.startswith("f") and part[1:].isdigit():
            out.append(part.upper())
        elif part in ("ctrl", "shift", "alt"):
            out.append(part.capitalize())
        else:
            out.append(part.upper() if len(part) == 1 else part)
    return "+".join(out)


def screen_keys(screen: Screen[Any]) -> list[tuple[str, str]]:
    """The keys bound on `screen` itself (with a description), in binding order."""
    seen: set[str] = set()
    out = []
    for key, active in screen.active_bindings.items():
        binding: Binding = active.binding
        if not binding.description or active.node is not screen or not active.enabled:
            continue
        if binding.action in ("app.focus_next", "app.focus_previous", "focus_next", "focus_previous"):
            continue
        label = key_label(key)
        if label in seen:
            continue
        seen.add(label)
        out.append((label, binding.tooltip or binding.description))
    return out


SCREEN_NAMES = {
    "main": "search", "record": "a record", "queue": "work queues", "chart": "patient chart",
    "assistant": "assistant", "coding": "coding", "stats": "statistics", "audit": "audit log", "users": "users",
    "similar": "similar cases", "unlock": "unlock", "create": "first run",
}


class HelpScreen(ModalScreen[None]):
    """Keys of the screen below, every screen this user may open, and the keys that work everywhere."""

    BINDINGS = [Binding("escape,q", "close", "Close help"), Binding("f1", "help", "Close help", show=False)]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-box {
        width: 96;
        max-width: 100%;
        height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; height: 1; }
    """

    def __init__(self, below: Screen[Any] | None, user: Any | None) -> None:
        super().__init__(name="help")
        self.below = below
        self.user = user

    def plain_text(self, width: int = 90) -> str:
        """The help as plain text (what the screen shows, without styles)."""
        from rich.console import Console

        console = Console(width=width, record=True, file=io.StringIO())
        console.print(self._content())
        return console.export_text()

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static("chartvault help  (Esc closes)", id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(self._content(), id="help-text")
        yield KeyFooter()

    def _content(self) -> Group:
        parts: list[Any] = []

        def section(title: str, rows: list[tuple[str, Any]]) -> None:
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="bold", no_wrap=True, min_width=8)
            grid.add_column(ratio=1)
            for key, what in rows:
                grid.add_row(key, what)
            parts.extend([Text(title, style="bold underline"), grid, Text("")])

        below = self.below
        if below is not None:
            name = SCREEN_NAMES.get(below.name or "", below.name or type(below).__name__)
            keys = screen_keys(below)
            section(f"On this screen ({name})",
                    list(keys) or [("", "Type in the fields; Tab moves between them, Enter submits.")])
            marks = getattr(below, "HELP_MARKS", None)  # what the screen's own marks mean, where it has some
            if marks:
                section("Marks on this screen", list(marks))
        section("Everywhere", list(GLOBAL_KEYS))
        if self.user is None:
            section("After unlocking", [("", "Search, records, charts, queues, the assistant, coding, statistics "
                                             "and (for admins) the audit log and users, each a key away. Nothing "
                                             "about patients is shown before you unlock, and the app locks itself "
                                             "after a while without input.")])
            return Group(*parts)
        section("Screens you may open", [(d.key, Text.assemble((d.name, "bold"), f": {d.description}"))
                                         for d in DESTINATIONS if allowed(self.user, d)])
        others = [(d.key, Text.assemble((d.name, "bold"), f" ({d.who})"))
                  for d in DESTINATIONS if not allowed(self.user, d)]
        if others:
            section("For other roles", others)
        return Group(*parts)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        """F1 means help on every screen: here it closes the help it opened."""
        self.dismiss(None)
