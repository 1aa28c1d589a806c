"""The Textual app: first-run creation, unlock, then the main frame.

Thin by design: screens call `archive`'s API in thread workers and show the
results. No SQL and no crypto here. Importing this module does no I/O.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

from tui.screens.create import CreateVaultScreen
from tui.screens.main import MainScreen
from tui.screens.unlock import UnlockScreen


class ChartvaultApp(App[None]):
    """chartvault's terminal UI."""

    CSS_PATH = "app.tcss"
    TITLE = "chartvault"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+l", "lock", "Lock", show=True),
    ]

    def __init__(self, vault_dir: Path, user: str | None = None) -> None:
        super().__init__()
        self.vault_dir = Path(vault_dir)
        self.initial_user = user
        self.session: Any = None  # archive.session.Session once unlocked

    def on_mount(self) -> None:
        from archive.session import vault_exists

        self.sub_title = str(self.vault_dir)
        if vault_exists(self.vault_dir):
            self.push_screen(UnlockScreen(self.vault_dir, self.initial_user))
        else:
            self.push_screen(CreateVaultScreen(self.vault_dir))

    def unlocked(self, session: Any) -> None:
        """Called by the unlock/create screens with a fresh session."""
        self.session = session
        self.switch_screen(MainScreen(session))

    def action_lock(self) -> None:
        """Forget the session and clear patient content from the screen."""
        if self.session is None:
            return
        user = self.session.user.name
        self.session.close()
        self.session = None
        self.switch_screen(UnlockScreen(self.vault_dir, user))

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


def make_app(vault_dir: Path, user: str | None = None) -> ChartvaultApp:
    """The one app factory, used by the CLI and by tests."""
    return ChartvaultApp(vault_dir=vault_dir, user=user)
