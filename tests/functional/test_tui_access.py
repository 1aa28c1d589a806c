"""TUI access flows: automatic logoff, back-off shown while unlocking, the admin audit screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, DataTable, Input, Static

from tests.conftest import ADMIN_PASS, TECH_PASS, VaultTemplate
from tests.tui_helpers import keys_handled, wait_until
from tui.app import make_app
from tui.screens.audit import AuditScreen
from tui.screens.main import MainScreen
from tui.screens.unlock import UnlockScreen

_wait_for = wait_until


def _text(screen, selector: str) -> str:  # type: ignore[no-untyped-def]
    from textual.css.query import NoMatches

    try:
        return str(screen.query_one(selector, Static).render())
    except NoMatches:  # not composed yet
        return ""


RECORD: dict[str, str] = {}


@pytest.fixture(scope="module")
def vault_root(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Path:
    from archive.intake import import_paths

    root = tmp_path_factory.mktemp("tui-access") / "vault"
    session: Any = users_vault_template.copy(root).session  # admin 'Ada Admin', 'tess', 'drmaria'
    notes = tmp_path_factory.mktemp("tui-notes")
    (notes / "MRN-77__visit.txt").write_text("Visit note. Ankle sprain after a fall; RICE advised.\n")
    report = import_paths(session, [notes], settle=0)  # encrypting arrivals shows the admin nothing
    RECORD["id"] = next(o.record_id for o in report.outcomes if o.status == "imported")  # type: ignore[assignment]
    session.close()
    return root


async def _unlock(app, pilot, passphrase: str) -> MainScreen:  # type: ignore[no-untyped-def]
    await _wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen), what="unlock screen")
    app.screen.query_one("#passphrase", Input).value = passphrase
    await pilot.click("#unlock")
    try:
        await _wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="main screen")
    except AssertionError as exc:  # say what the unlock screen says (a CI run once timed out here)
        shown = _text(app.screen, "#message") if isinstance(app.screen, UnlockScreen) else ""
        raise AssertionError(f"{exc}; the unlock screen says: {shown!r}") from exc
    await _wait_for(pilot, lambda: bool(app.screen.query("#autolock")), what="main screen composed")
    main = app.screen
    await _wait_for(pilot, lambda: app.focused is main.query_one("#search", Input), what="search box focused")
    return main  # type: ignore[no-any-return]


async def test_idle_timeout_locks_and_clears_patient_screens(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="admin", idle_timeout=4.0)
    async with app.run_test(size=(100, 32)) as pilot:
        main = await _unlock(app, pilot, ADMIN_PASS)
        # the status line counts down
        await _wait_for(pilot, lambda: "Auto-lock in 0:0" in _text(main, "#autolock"), what="countdown")
        # input keeps the session alive: the countdown starts again
        await _wait_for(pilot, lambda: app.idle_remaining() < app.idle_timeout - 0.3, what="0.3 s without input")
        before = app.idle_remaining()
        await pilot.press("x")
        assert app.idle_remaining() > before and app.session is not None
        # a screen stacked on top (as a record view would be) must go too
        app.action_open_audit()
        await _wait_for(pilot, lambda: isinstance(app.screen, AuditScreen), what="audit screen")
        await _wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen), timeout=20, what="auto-lock")
        assert app.session is None
        assert not any(isinstance(s, (MainScreen, AuditScreen)) for s in app.screen_stack)
        await _wait_for(pilot, lambda: "Locked after 4 s without input" in _text(app.screen, "#message"),
                        what="lock notice")
        # resuming needs the passphrase
        main = await _unlock(app, pilot, ADMIN_PASS)
        assert app.session is not None
        entries = app.session.audit_log.entries(action="logout")
        assert entries and entries[-1].reason == "idle timeout" and entries[-1].user == "admin"


async def test_backoff_wait_is_shown_and_form_disabled(tmp_path: Path, admin_vault_template: VaultTemplate) -> None:
    root = tmp_path / "vault"
    admin_vault_template.copy(root).session.close()  # type: ignore[attr-defined]
    app = make_app(vault_dir=root, user="admin")
    async with app.run_test(size=(100, 32)) as pilot:
        await _wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen), what="unlock screen")
        screen = app.screen
        for attempt in range(3):  # the third failure starts the back-off
            screen.query_one("#passphrase", Input).value = f"wrong guess number {attempt}"
            await pilot.click("#unlock")
            await _wait_for(pilot, lambda: "Wrong passphrase" in _text(screen, "#message"), what="failure")
            if attempt < 2:
                await _wait_for(pilot, lambda: not screen.query_one("#unlock", Button).disabled, what="enabled")
                screen.query_one("#message", Static).update("")
        message = _text(screen, "#message")
        assert "Too many wrong passphrases: wait" in message and " s before trying again" in message
        assert screen.query_one("#unlock", Button).disabled and screen.query_one("#passphrase", Input).disabled
        await _wait_for(pilot, lambda: "You may try again now." in _text(screen, "#message"), timeout=10,
                        what="end of back-off")
        assert not screen.query_one("#passphrase", Input).disabled
        main = await _unlock(app, pilot, ADMIN_PASS)
        assert main is app.screen
        failed = app.session.audit_log.entries(action="login_failed")
        assert len(failed) == 3 and all(e.user == "admin" and e.outcome == "denied" for e in failed)


async def test_audit_screen_for_admins_only(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 36)) as pilot:
        await _unlock(app, pilot, TECH_PASS)
        assert app.check_action("open_audit", ()) is False  # hidden from the footer
        assert await keys_handled(pilot, "f8") == ["MainScreen"]  # F8 was handled and opened nothing
        assert isinstance(app.screen, MainScreen)

    app = make_app(vault_dir=vault_root, user="admin")
    async with app.run_test(size=(120, 36)) as pilot:
        await _unlock(app, pilot, ADMIN_PASS)
        assert app.check_action("open_audit", ()) is True
        await pilot.press("f8")
        await _wait_for(pilot, lambda: isinstance(app.screen, AuditScreen), what="audit screen")
        screen = app.screen
        table = screen.query_one("#entries", DataTable)
        await _wait_for(pilot, lambda: table.row_count > 0, what="entries")
        actions = {str(table.get_row_at(i)[4]) for i in range(table.row_count)}
        assert {"login", "user_add"} <= actions
        # filter by user
        screen.query_one("#filter-user", Input).value = "tess"
        await pilot.click("#apply")
        await _wait_for(pilot, lambda: "entries" in _text(screen, "#audit-message") and all(
            str(table.get_row_at(i)[2]) == "tess" for i in range(table.row_count)), what="filtered")
        assert table.row_count >= 1
        await pilot.click("#verify")
        await _wait_for(pilot, lambda: "Audit chain intact" in _text(screen, "#audit-message"), what="verify")
        await pilot.press("escape")
        await _wait_for(pilot, lambda: isinstance(app.screen, MainScreen), what="back to main")


async def test_record_view_denied_then_break_glass_and_who_has_seen_it(vault_root: Path) -> None:
    from tui.screens.record import RecordScreen

    app = make_app(vault_dir=vault_root, user="admin")
    async with app.run_test(size=(120, 36)) as pilot:
        await _unlock(app, pilot, ADMIN_PASS)
        app.push_screen(RecordScreen(app.session, RECORD["id"]))
        await _wait_for(pilot, lambda: isinstance(app.screen, RecordScreen), what="record screen")
        screen = app.screen
        await _wait_for(pilot, lambda: bool(screen.query("#break-glass")), what="record screen composed")
        reason = screen.query_one("#break-glass", Input)
        await _wait_for(pilot, lambda: reason.display and "may not view record" in _text(screen, "#record-meta"),
                        what="denial with break-glass offer")
        assert "Ankle" not in _text(screen, "#record-body")
        reason.value = "patient fell again, ED needs the history"
        await pilot.press("enter")
        await _wait_for(pilot, lambda: "Ankle sprain" in _text(screen, "#record-body"), what="record after break-glass")
        await _wait_for(pilot, lambda: "BREAK-GLASS" in _text(screen, "#record-access"), what="access panel")
        assert "admin (admin)" in _text(screen, "#record-access")
        flagged = app.session.audit_log.entries(action="break_glass")
        assert flagged and flagged[-1].flagged and flagged[-1].record == RECORD["id"]
