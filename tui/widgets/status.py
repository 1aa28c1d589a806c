"""The status line under the header of every screen after unlock.

Who is signed in and as what, which vault, background work (the inbox watcher
and the embedding backlog) and the auto-lock countdown (`#autolock`, written
by the app's idle timer). It shows no patient content. The background text
comes from `ChartvaultApp.background_summary()`, refreshed every few seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

REFRESH_SECONDS = 1.0
NARROW = 100  # columns below which the vault path is left to the header


def short_path(path: Path | str) -> str:
    """A path for people: the home folder as '~'."""
    text = str(path)
    try:
        home = str(Path.home())
    except RuntimeError:
        return text
    if home not in ("", "/") and (text == home or text.startswith(home + "/")):
        return "~" + text[len(home):]
    return text


class StatusLine(Horizontal):
    """user (full name) · role · vault · background work · auto-lock countdown."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    StatusLine #who { width: auto; text-style: bold; margin-right: 2; }
    StatusLine #role { width: auto; color: $text-accent; margin-right: 2; }
    StatusLine #vault-path {
        width: auto; max-width: 50%; color: $text-muted; text-overflow: ellipsis; text-wrap: nowrap;
    }
    StatusLine #background {
        width: 1fr; color: $text; margin-left: 2; text-align: right; text-overflow: ellipsis; text-wrap: nowrap;
    }
    StatusLine #autolock { width: auto; min-width: 17; color: $text-warning; margin-left: 2; }
    """

    def __init__(self, session: Any, label: str | None = None) -> None:
        super().__init__(id="status-line")
        self.session = session
        self.label = label  # replaces the vault path (e.g. "Audit log")

    def compose(self) -> ComposeResult:
        user = self.session.user
        yield Static(f"{user.full_name or user.name} ({user.name})", id="who")
        yield Static(user.role, id="role")
        yield Static(self.label or short_path(self.session.vault.root), id="vault-path")
        yield Static("", id="background")
        yield Static("", id="autolock")

    def on_mount(self) -> None:
        self.refresh_background()
        self.set_interval(REFRESH_SECONDS, self.refresh_background)

    def on_resize(self) -> None:
        # Narrow terminals: the header already shows the vault; keep room for the countdown.
        self.query_one("#vault-path").display = self.label is not None or self.size.width >= NARROW

    def refresh_background(self) -> None:
        summary = getattr(self.app, "background_summary", None)
        text = summary() if callable(summary) else ""
        self.query_one("#background", Static).update(text)
