"""The app header: Textual's Header, tolerant of a title change racing its own mount.

Textual's Header updates its title from a watcher that it starts on mount; when
the screen is switched (e.g. first run -> main frame) while that happens, the
title widget may not exist yet and Textual raises NoMatches from the callback,
which crashes the app. Here the update waits for the next refresh instead.
Textual calls the Mount handler of every class in the MRO, so this one stops
Header's from running too (it would start its own, crashing watcher).
"""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.events import Mount
from textual.widget import Widget
from textual.widgets import Header
from textual.widgets._header import HeaderTitle


class AppHeader(Header):
    def _on_mount(self, event: Mount) -> None:
        event.prevent_default()  # not Header._on_mount as well (Textual dispatches along the MRO)
        Widget._on_mount(self, event)  # the default that prevent_default also skips

        async def set_title() -> None:
            try:
                self.query_one(HeaderTitle).update(self.format_title())
            except NoMatches:  # not composed yet: try again after the next refresh
                self.call_after_refresh(self._retry_title)
            except NoScreen:  # the screen is going away
                pass

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)

    def _retry_title(self) -> None:
        for title in self.query(HeaderTitle):
            title.update(self.format_title())
