"""Issue 16, finding 8: the unlock screen remembers the last user per workstation (never the passphrase),
focuses the passphrase field, and keeps whatever was typed before the form was ready masked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from tests.conftest import TECH_PASS, VaultTemplate
from tests.tui_helpers import wait_until
from tui.app import make_app
from tui.screens.main import MainScreen
from tui.screens.unlock import UnlockScreen


@pytest.fixture
def vault_root(tmp_path: Path, users_vault_template: VaultTemplate) -> Path:
    fx = users_vault_template.copy(tmp_path / "vault")
    fx.session.close()  # type: ignore[attr-defined]
    return fx.root


def _state_bytes() -> bytes:
    folder = Path(os.environ["CHARTVAULT_STATE_DIR"])
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


async def test_the_last_user_is_remembered_and_the_passphrase_field_has_the_focus(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root)  # no --user: first launch on this workstation
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, UnlockScreen), "unlock screen")
        screen = app.screen
        user = screen.query_one("#user", Input)
        await wait_until(pilot, lambda: screen.form_ready, "the form ready")
        assert user.value == "" and app.focused is user and not user.password
        await pilot.press(*"tess")
        screen.query_one("#passphrase", Input).value = TECH_PASS
        await pilot.press("enter")  # Enter in the User field moves on to the passphrase
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "main screen")
    state = _state_bytes()
    assert b"tess" in state
    assert TECH_PASS.encode() not in state and TECH_PASS.split()[0].encode() not in state
    # Relaunch: the name is filled in, the passphrase field has the focus, and typing goes there, masked.
    app = make_app(vault_dir=vault_root)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, UnlockScreen), "unlock screen")
        screen = app.screen
        passphrase = screen.query_one("#passphrase", Input)
        assert screen.query_one("#user", Input).value == "tess"
        await wait_until(pilot, lambda: app.focused is passphrase, "the passphrase field focused")
        await pilot.press(*"velvet")
        assert passphrase.value == "velvet" and passphrase.password
        assert screen.query_one("#user", Input).value == "tess"


async def test_what_is_typed_before_the_form_is_ready_stays_masked(
    vault_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys that arrive before the first frame (a slow start) land in the User field masked, and stay so."""
    held: list[Any] = []
    real = UnlockScreen.call_after_refresh

    def hold_ready(self: Any, callback: Any, *args: Any) -> Any:
        if getattr(callback, "__name__", "") == "_form_ready":
            held.append(callback)
            return True
        return real(self, callback, *args)

    monkeypatch.setattr(UnlockScreen, "call_after_refresh", hold_ready)
    app = make_app(vault_dir=vault_root)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, UnlockScreen) and bool(held), "unlock screen")
        screen = app.screen
        user = screen.query_one("#user", Input)
        assert user.password and not screen.form_ready
        await pilot.press(*"velvet")  # a passphrase typed straight away
        assert user.value == "velvet" and user.password
        held[0]()  # now the form is ready
        await pilot.pause()
        assert screen.form_ready and user.password  # what was typed before stays hidden
        assert "stays hidden" in str(screen.query_one("#message", Static).render())
        await pilot.press("ctrl+u")  # cleared: the name typed next is shown
        await wait_until(pilot, lambda: user.value == "" and not user.password, "the User field unmasked")
        await pilot.press(*"tess")
        assert user.value == "tess" and not user.password


@pytest.mark.parametrize("between", ["tab", "enter"])
async def test_a_burst_of_keys_fills_each_field(vault_root: Path, between: str) -> None:
    """A password manager's auto-type sends "name Tab passphrase Enter" in one burst: every key reaches the app
    before the first is handled. Each field gets its own part, and the passphrase never lands in the User field
    (which shows its text in clear)."""
    from textual import events

    app = make_app(vault_dir=vault_root)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, UnlockScreen), "unlock screen")
        screen = app.screen
        await wait_until(pilot, lambda: screen.form_ready, "the form ready")
        seen: list[str] = []
        user = screen.query_one("#user", Input)
        user.watch(user, "value", lambda value: seen.append(value))
        for key in [*"tess", between, *TECH_PASS, "enter"]:
            character = {"tab": "\t", "enter": "\r", "space": " "}.get(key, key)
            app.post_message(events.Key(key if key != " " else "space", character))
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "main screen")
        assert app.session is not None and app.session.user.name == "tess"
    assert all(TECH_PASS[:3] not in value for value in seen), seen
