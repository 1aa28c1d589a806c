"""The Textual app: first-run creation, unlock, then the main frame.

Thin by design: screens call `archive`'s API in thread workers and show the
results. No SQL and no crypto here. Importing this module does no I/O.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual import events
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
        Binding("f8", "open_audit", "Audit", show=True),  # admins only (see check_action)
    ]

    def __init__(self, vault_dir: Path, user: str | None = None, idle_timeout: float | None = None) -> None:
        super().__init__()
        self.vault_dir = Path(vault_dir)
        self.initial_user = user
        self.session: Any = None  # archive.session.Session once unlocked
        # Automatic logoff: None reads the vault's setting (session.idle_timeout_seconds) at unlock.
        self.idle_timeout_override = idle_timeout
        self.idle_timeout = float(idle_timeout or 600)
        self._last_input = time.monotonic()
        self._idle_timer: Any = None

    def on_mount(self) -> None:
        from archive.session import vault_exists

        self.sub_title = str(self.vault_dir)
        if vault_exists(self.vault_dir):
            self.push_screen(UnlockScreen(self.vault_dir, self.initial_user))
        else:
            self.push_screen(CreateVaultScreen(self.vault_dir))

    def unlocked(self, session: Any) -> None:
        """Called by the unlock/create screens with a fresh session."""
        from archive.settings import idle_timeout_seconds

        self.session = session
        self.idle_timeout = float(self.idle_timeout_override or idle_timeout_seconds(session))
        self._last_input = time.monotonic()
        self._start_idle_timer()
        self.switch_screen(MainScreen(session))
        self.refresh_bindings()

    # -- automatic logoff --------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def _start_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.stop()
        self._idle_timer = self.set_interval(min(1.0, self.idle_timeout / 4), self._idle_tick)

    def idle_remaining(self) -> float:
        return self.idle_timeout - (time.monotonic() - self._last_input)

    def _idle_tick(self) -> None:
        if self.session is None:
            return
        remaining = self.idle_remaining()
        if remaining <= 0:
            minutes = self.idle_timeout / 60
            idle = f"{minutes:g} min" if minutes >= 1 else f"{self.idle_timeout:g} s"
            notice = f"Locked after {idle} without input. Type your passphrase to resume."
            self.lock(reason="idle timeout", notice=notice)
            return
        if all(worker.is_finished for worker in self.workers):
            # Idle moment, no worker using the session's connection: seal pending audit entries.
            self.session.sync_audit()
        secs = int(remaining + 0.999)
        text = f"Auto-lock in {secs // 60}:{secs % 60:02d}"
        for widget in self.screen.query("#autolock"):
            widget.update(text)  # type: ignore[attr-defined]

    # -- locking -------------------------------------------------------------
    def action_lock(self) -> None:
        """Forget the session and clear patient content from the screen."""
        self.lock(reason="locked")

    def lock(self, reason: str = "locked", notice: str = "") -> None:
        """Log out (audited), drop every screen that may show patient content, show the unlock screen."""
        if self.session is None:
            return
        session, self.session = self.session, None
        if self._idle_timer is not None:
            self._idle_timer.stop()
            self._idle_timer = None
        user = session.user.name
        # Workers of the screens about to go must not report back into them (a
        # cancelled worker's late result or error is dropped, not raised).
        self.workers.cancel_all()
        session.logout(reason)
        self.clear_notifications()  # toasts may quote patient content
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(UnlockScreen(self.vault_dir, user, notice=notice))
        self.refresh_bindings()

    # -- audit screen (admins) --------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_audit":
            return self.session is not None and "admin" in self.session.user.roles
        return True

    def action_open_audit(self) -> None:
        from tui.screens.audit import AuditScreen

        if self.session is None or "admin" not in self.session.user.roles:
            return
        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen(self.session))

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.logout("quit")
            self.session = None


def make_app(vault_dir: Path, user: str | None = None, idle_timeout: float | None = None) -> ChartvaultApp:
    """The one app factory, used by the CLI and by tests (`idle_timeout` in seconds overrides the setting)."""
    return ChartvaultApp(vault_dir=vault_dir, user=user, idle_timeout=idle_timeout)
