"""Ctrl+L locks from a modal form too (issue 16: the lock always works). Textual hides the app's bindings
behind a modal screen unless they are priority bindings; found with the entry form's text field focused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from archive.demo import DEMO_USERS
from tests.tui_helpers import unlock, wait_until
from tui.app import make_app
from tui.screens.chart import EntryForm
from tui.screens.unlock import UnlockScreen

TESS = next(u for u in DEMO_USERS if u.name == "tess")


async def test_ctrl_l_locks_from_the_chart_entry_form_with_its_text_field_focused(
        demo_vault: Path, demo_sessions: dict[str, Any]) -> None:
    app = make_app(vault_dir=demo_vault, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, TESS.passphrase)
        form = EntryForm(app.session, "DEMO-1001")
        await app.push_screen(form)
        await wait_until(pilot, lambda: isinstance(app.focused, Input), "the form's text field focused")
        session = app.session
        import archive.search

        archive.search._labelled("Denies chest pain.", ())  # record text a search left in memory
        assert archive.search._labelled.cache_info().currsize >= 1
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, UnlockScreen), "the unlock screen", timeout=20)
        assert app.session is None and session is not None and session.closed
        assert not any(isinstance(s, EntryForm) for s in app.screen_stack)
        assert archive.search._labelled.cache_info().currsize == 0  # locking forgets it
