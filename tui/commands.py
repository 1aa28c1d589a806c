"""The command palette's own provider (Ctrl+P): every screen and action the current user may open.

Before unlock it offers only help, unlock and quit; after, the destinations of
`tui.navigation` that `archive.policy.decide` allows this user, plus lock.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.navigation import DESTINATIONS, allowed


class ChartvaultCommands(Provider):
    """Screens and actions by name."""

    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: Any = self.app
        run = app.run_action_soon
        out: list[tuple[str, str, Callable[[], Any]]] = [("Help", "F1: screens and keys", partial(run, "help"))]
        session = getattr(app, "session", None)
        if session is not None:
            for dest in DESTINATIONS:
                if allowed(session.user, dest):
                    out.append((dest.name, f"{dest.key}: {dest.description}", partial(run, dest.action)))
            out.append(("Lock", "Ctrl+L: lock now; patient content leaves the screen", partial(run, "lock")))
        out.append(("Theme", "Change the colour theme", partial(run, "change_theme")))
        out.append(("Quit", "Ctrl+Q: quit (locks the vault)", partial(run, "quit")))
        return out

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = max(matcher.match(name), matcher.match(help_text) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
