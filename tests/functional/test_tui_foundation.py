"""Headless TUI flows: first-run create, unlock (wrong then right), lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.conftest import ADMIN_PASS, VaultTemplate
from tui.app import make_app
from tui.screens.create import CreateVaultScreen
from tui.screens.main import MainScreen
from tui.screens.unlock import UnlockScreen


async def _wait_for_screen(app, cls, pilot, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    """Wait (by polling the pilot, not sleeping blindly) until `cls` is the active screen."""
    steps = int(timeout / 0.05)
    for _ in range(steps):
        if isinstance(app.screen, cls) and app.screen.is_mounted and app.screen.children:  # composed
            return app.screen
        await pilot.pause(0.05)
    raise AssertionError(f"screen {cls.__name__} never appeared; at {type(app.screen).__name__}")


async def test_first_run_creates_vault_then_main_frame(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    app = make_app(vault_dir=root)
    async with app.run_test(size=(100, 32)) as pilot:
        await _wait_for_screen(app, CreateVaultScreen, pilot)
        assert app.focused is app.screen.query_one("#choose-empty")  # first run: empty vault or the demo
        await pilot.click("#choose-empty")
        await pilot.pause()  # the form is laid out once shown
        # a weak passphrase is refused inline
        app.screen.query_one("#passphrase", Input).value = "short"
        app.screen.query_one("#confirm", Input).value = "short"
        await pilot.click("#create")
        assert "too short" in str(app.screen.query_one("#message", Static).render())
        # mismatch is refused
        app.screen.query_one("#passphrase", Input).value = ADMIN_PASS
        app.screen.query_one("#confirm", Input).value = ADMIN_PASS + "x"
        app.screen.query_one("#confirm", Input).focus()
        await pilot.press("enter")  # submit from the keyboard, as a person would
        assert "differ" in str(app.screen.query_one("#message", Static).render())
        for _ in range(200):  # the live hint (its own line) agrees once the Changed message lands
            if "strength: ok" in str(app.screen.query_one("#strength", Static).render()):
                break
            await pilot.pause(0.05)
        assert "strength: ok" in str(app.screen.query_one("#strength", Static).render())
        app.screen.query_one("#confirm", Input).value = ADMIN_PASS
        await pilot.click("#create")
        main = await _wait_for_screen(app, MainScreen, pilot)
        assert "admin" in str(main.query_one("#role", Static).render())
        assert app.focused is main.query_one("#search", Input)
    assert (root / "vault.json").exists()


@pytest.fixture(scope="module")
def vault_root(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Path:
    root = tmp_path_factory.mktemp("tui") / "vault"
    admin_vault_template.copy(root).session.close()  # type: ignore[attr-defined]  # admin 'Ada Admin'
    return root


async def test_unlock_wrong_then_right_then_lock(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await _wait_for_screen(app, UnlockScreen, pilot)
        assert app.focused is app.screen.query_one("#passphrase", Input)
        await pilot.press(*"wrong words here", "enter")
        for _ in range(200):
            if "Wrong passphrase" in str(app.screen.query_one("#message", Static).render()):
                break
            await pilot.pause(0.05)
        assert "Wrong passphrase for user 'admin'" in str(app.screen.query_one("#message", Static).render())
        await pilot.press(*ADMIN_PASS, "enter")
        main = await _wait_for_screen(app, MainScreen, pilot)
        assert "Ada Admin" in str(main.query_one("#who", Static).render())
        await pilot.press("ctrl+l")
        await _wait_for_screen(app, UnlockScreen, pilot)
        assert app.session is None
