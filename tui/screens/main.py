"""The main frame after unlock: who is logged in, their role, and the search area."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static


class MainScreen(Screen[None]):
    AUTO_FOCUS = "#search"

    def __init__(self, session: Any) -> None:
        super().__init__(name="main")
        self.session = session

    def compose(self) -> ComposeResult:
        user = self.session.user
        yield Header()
        with Horizontal(id="status-line"):
            yield Static(f"{user.full_name or user.name} ({user.name})", id="who")
            yield Static(user.role, id="role")
            yield Static(str(self.session.vault.root), id="vault-path")
            yield Static("", id="autolock")
        with Vertical(id="search-area"):
            yield Input(placeholder="Search records…", id="search")
            yield Static("No results yet.", id="results", classes="muted")
        yield Footer()
