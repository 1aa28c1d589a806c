"""The app header: a title change while its title widget is missing must not crash the app."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets._header import HeaderTitle

from tui.widgets.header import AppHeader


class _HeaderApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AppHeader()


async def test_title_change_without_a_title_widget_is_retried_not_raised() -> None:
    app = _HeaderApp()
    async with app.run_test(size=(60, 5)) as pilot:
        header = app.query_one(AppHeader)
        await header.query_one(HeaderTitle).remove()  # as between a screen switch and the header's compose
        app.title = "Retitled"  # every title watcher runs now; Textual's own would raise NoMatches
        await pilot.pause()
        await header.mount(HeaderTitle())
        app.sub_title = "again"
        await pilot.pause()
        assert "Retitled" in str(header.query_one(HeaderTitle).render())
    assert app.return_code in (0, None), "the app crashed"
