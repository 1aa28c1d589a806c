"""Issue 16, finding 1: locking while a search, an assistant answer and a chart save are in flight.

`tui/app.py` used to cancel the workers and close the session at once; a worker already running SQL
kept using the connection being closed (a segfault in _sqlite3 after a few locks). Now the Session
owns its operations: the lock returns at once, the operation that runs finishes on an open
connection, the ones that had not started get VaultLocked (quietly: their screens are gone), and
the session closes after the last one with its logout entry last in a chain that verifies.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from archive.demo import DEMO_USERS
from tests.functional.conftest import session_on
from tests.tui_helpers import unlock, wait_until
from tui.app import make_app
from tui.screens.assistant import AssistantScreen
from tui.screens.chart import EntryForm
from tui.screens.main import MainScreen
from tui.screens.unlock import UnlockScreen

TESS = next(u for u in DEMO_USERS if u.name == "tess")


async def _unlock(pilot: Any, app: Any) -> MainScreen:
    await unlock(pilot, TESS.passphrase)
    assert isinstance(app.screen, MainScreen)
    return app.screen


async def test_lock_while_a_search_an_answer_and_a_chart_save_are_in_flight(
    demo_vault: Path, demo_sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import archive.search

    inside, release = threading.Event(), threading.Event()
    real = archive.search.search

    def held(session: Any, query: str, **kw: Any) -> Any:
        if query == "held":
            session.refresh_user()  # SQL on the session's connection before and after the hold
            inside.set()
            release.wait(30)
        return real(session, query, **kw)

    monkeypatch.setattr(archive.search, "search", held)
    app = make_app(vault_dir=demo_vault, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        main = await _unlock(pilot, app)
        session = main.session
        main.search("held")  # holds the session's lock inside its SQL work
        await wait_until(pilot, inside.is_set, "the search running")
        assistant = AssistantScreen(session)
        await app.push_screen(assistant)
        assistant.ask("What medications is DEMO-1001 on?")
        form = EntryForm(session, "DEMO-1001")
        await app.push_screen(form)
        form.save({"kind": "diagnosis", "text": "Saved while locking", "date": "2024-02-05"}, "")
        await wait_until(pilot, lambda: session.in_flight == 3, "three operations in flight")
        app.action_lock()  # Ctrl+L's action (the entry form's text field has the focus)
        # The lock does not wait for them: the unlock screen is up, patient screens are gone.
        await wait_until(pilot, lambda: isinstance(app.screen, UnlockScreen), "the unlock screen")
        assert app.session is None and session.closed and not session.released
        release.set()
        await wait_until(pilot, lambda: session.released, "the session closed after its last operation")
        assert session.in_flight == 0
        # The app is alive and works: unlock again and search.
        main = await _unlock(pilot, app)
        assert main.session is not session
    reader = session_on(demo_vault, demo_sessions["admin"])
    try:
        assert reader.audit_log.verify().ok
        mine = [e for e in reader.audit_log.entries(user="tess")]
        logouts = [i for i, e in enumerate(mine) if e.action == "logout" and e.reason == "locked"]
        assert logouts, [e.action for e in mine[-6:]]
        before = [e.action for e in mine[: logouts[-1]]]
        # The search that was running finished on an open connection and was audited before the logout;
        # nothing of this session was written after it.
        assert "search" in before[-3:], before[-6:]
        after_lock = mine[logouts[-1] + 1:]
        assert [e.action for e in after_lock][:1] in (["login"], []), [e.action for e in after_lock]
        # The save that had not started when the lock came was refused whole: no entry, no audit.
        saved = [e for e in mine if e.action == "chart_add" and e.patient == "DEMO-1001"]
        assert not any("Saved while locking" in str(e.details) for e in saved)
    finally:
        reader.close()


async def test_lock_is_immediate_while_another_connection_holds_the_index(
    demo_vault: Path, demo_sessions: dict[str, Any]
) -> None:
    """Ctrl+L while the inbox watcher commits a long note (another connection holding the index's write lock):
    the logout entry waited for that lock on the UI thread, and the app froze (over a minute for a 3 MB note)
    with the patient's screen still up. Now the screen is cleared at once and the entry follows the commit."""
    app = make_app(vault_dir=demo_vault, user="tess")
    holding, release = threading.Event(), threading.Event()
    other = session_on(demo_vault, demo_sessions["tess"])

    def hold() -> None:
        with other.transaction():  # BEGIN IMMEDIATE: the write lock, as an import's commit takes it
            holding.set()
            release.wait(20)
        holding.clear()

    holder = threading.Thread(target=hold, name="holder")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            main = await _unlock(pilot, app)
            session = main.session
            holder.start()
            await wait_until(pilot, holding.is_set, "the write lock held")
            await pilot.press("ctrl+l")
            await wait_until(pilot, lambda: isinstance(app.screen, UnlockScreen), "the unlock screen")
            assert holding.is_set(), "the lock waited for the other connection's commit"
            assert app.session is None and session.closed
            release.set()
            await wait_until(pilot, lambda: session.released, "the session closed once the index was free")
    finally:
        release.set()
        holder.join(30)
        other.close()
    reader = session_on(demo_vault, demo_sessions["admin"])
    try:
        assert reader.audit_log.verify().ok
        mine = reader.audit_log.entries(user="tess")
        assert mine and mine[-1].action == "logout" and mine[-1].reason == "locked", [e.action for e in mine[-3:]]
    finally:
        reader.close()
