"""The Textual app: first-run creation, unlock, then the main frame.

Thin by design: screens call `archive`'s API in thread workers and show the
results. No SQL and no crypto here. Importing this module does no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from tui.messages import BacklogCounted, OpenRecord, Unlocked
from tui.navigation import by_action
from tui.screens.unlock import UnlockScreen

if TYPE_CHECKING:
    from archive.session import Session

BACKLOG_SECONDS = 5.0  # how often the status line recounts the embedding backlog


def _commands_provider() -> Any:
    """Imported when the palette first opens, not at launch (time to the unlock screen)."""
    from tui.commands import ChartvaultCommands

    return ChartvaultCommands


class ChartvaultApp(App[None]):
    """chartvault's terminal UI."""

    CSS_PATH = "app.tcss"
    TITLE = "chartvault"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),  # in F1 help and the palette
        # priority: Ctrl+L locks from every screen, modal forms and dialogs included (a modal screen
        # otherwise hides the app's own bindings)
        Binding("ctrl+l", "lock", "Lock", show=True, priority=True),
        Binding("f8", "open_audit", "Audit", show=True),  # admins only (see check_action)
        Binding("f10", "open_users", "Users", show=True),  # admins only
    ]
    # Ctrl+P: Textual's palette with our provider only (screens and actions this user may open, theme,
    # quit); Textual's system commands would offer "Screenshot", which writes the screen to disk.
    COMMANDS = {_commands_provider}

    def __init__(
        self, vault_dir: Path, user: str | None = None, idle_timeout: float | None = None, origin: str | None = None
    ) -> None:
        super().__init__()
        self.vault_dir = Path(vault_dir)
        self.initial_user = user
        # Served to a browser (`chartvault serve`): the connection's remote address, written into every
        # audit entry of its sessions. The server is no one's workstation, so no last user is remembered.
        self.origin = origin
        self.session: Session | None = None  # once unlocked
        # Automatic logoff: None reads the vault's setting (session.idle_timeout_seconds) at unlock.
        self.idle_timeout_override = idle_timeout
        self.idle_timeout = float(idle_timeout or 600)
        self._last_input = time.monotonic()
        self._idle_timer: Any = None
        self._backlog: int | None = None  # records waiting for embedding (refreshed in a worker)
        self._status_session: Any = None  # a fork of the session for that count (own connection)
        self._backlog_at = 0.0  # when it was last counted

    def on_mount(self) -> None:
        from archive.login import vault_exists
        from tui.widgets.status import short_path

        self.sub_title = short_path(self.vault_dir)
        if vault_exists(self.vault_dir):
            from tui.workstation_prefs import last_user

            # The last user of this vault on this workstation: the passphrase field has the focus.
            remembered = None if self.origin else last_user(self.vault_dir)
            self.push_screen(UnlockScreen(self.vault_dir, self.initial_user or remembered, origin=self.origin))
        else:
            from tui.screens.create import CreateVaultScreen

            self.push_screen(CreateVaultScreen(self.vault_dir))

    def on_unlocked(self, message: Unlocked) -> None:
        """Posted by the unlock/create screens' workers with a fresh session."""
        self.unlocked(message.session)

    def on_open_record(self, message: OpenRecord) -> None:
        """Any screen listing records asks here, so screens need not import one another."""
        from tui.screens.record import RecordScreen

        if self.session is not None:
            self.push_screen(RecordScreen(self.session, message.record_id, message.terms))

    def unlocked(self, session: Session) -> None:
        """Show the main screen for a fresh session (from an `Unlocked` message)."""
        from archive.settings import idle_timeout_seconds
        from tui.workstation_prefs import remember_user

        self.session = session
        if self.origin is None:
            remember_user(self.vault_dir, session.user.name)  # the name only, never the passphrase
        self.idle_timeout = float(self.idle_timeout_override or idle_timeout_seconds(session))
        self._last_input = time.monotonic()
        self._start_idle_timer()
        from tui.screens.main import MainScreen

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
        lock = self.session.lock
        if all(worker.is_finished for worker in self.workers) and lock.acquire(blocking=False):
            # Idle moment, no worker using the session's connection: seal pending audit entries.
            try:
                self.session.sync_audit()
            finally:
                lock.release()
        secs = int(remaining + 0.999)
        text = f"Auto-lock in {secs // 60}:{secs % 60:02d}"
        for screen in self.screen_stack:  # the screen under a modal (help, a form) keeps counting too
            for widget in screen.query("#autolock").results(Static):
                widget.update(text)

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
        self._close_status_session()
        # The session owns its operations in flight: one still running finishes and the session closes
        # after it; later ones get VaultLocked. Never wait here: a worker may wait for this thread, and the
        # logout entry may wait for another connection's commit (background: the screen is cleared meanwhile).
        session.logout(reason, wait=0, background=True)
        from archive.search import forget_cached_text

        forget_cached_text()  # record text kept in memory for search labels
        self.clear_notifications()  # toasts may quote patient content
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(UnlockScreen(self.vault_dir, user, notice=notice, origin=self.origin))
        self.refresh_bindings()

    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """As Textual's, except for a worker whose session was locked meanwhile: its result is dropped
        (its screens are gone; waiting on them could block the worker thread, and so the exit, for good)."""
        from tui.workers import worker_session

        session = worker_session()
        if session is not None and session.closed:
            return None
        return super().call_from_thread(callback, *args, **kwargs)

    # -- help, the palette, destinations ----------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_audit", "open_users"):
            return self.session is not None and "admin" in self.session.user.roles
        if action == "lock":
            return self.session is not None
        return True

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # No "Screenshot": it would write the screen, patient content included, to disk in the clear.
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command

    def deliver_screenshot(self, *args: Any, **kwargs: Any) -> str | None:
        """Refused: a screenshot file would hold patient content in the clear."""
        self.notify("Screenshots are disabled: they would write patient content to disk unencrypted.",
                    severity="warning", title="Screenshot")
        return None

    def run_action_soon(self, action: str) -> None:
        """Run an app action after the current message (the command palette's commands)."""
        self.call_next(self.run_action, action)

    def action_help(self) -> None:
        """F1: the keys of the current screen and the screens this user may open."""
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        user = self.session.user if self.session is not None else None
        self.push_screen(HelpScreen(self.screen, user))

    def _main(self) -> Any:
        from tui.screens.main import MainScreen

        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    def _from_main(self, action: str) -> None:
        """Open a destination the main screen owns (from the palette, wherever the user is)."""
        from tui.navigation import allowed

        main = self._main()
        dest = by_action(action)
        if main is None or self.session is None or dest is None:
            return
        if not allowed(self.session.user, dest):
            self.notify(f"{dest.name} is for {dest.who}.", severity="error", title=dest.name)
            return
        method = getattr(main, f"action_{action}", None)
        if method is not None:
            method()

    def action_open_search(self) -> None:
        main = self._main()
        if main is None:
            return
        while self.screen is not main and len(self.screen_stack) > 1:
            self.pop_screen()
        main.action_focus_search()

    def action_open_queues(self) -> None:
        self._from_main("open_queues")

    def action_open_chart(self) -> None:
        self._from_main("open_chart")

    def action_open_assistant(self) -> None:
        self._from_main("open_assistant")

    def action_open_stats(self) -> None:
        self._from_main("open_stats")

    def action_open_coding(self) -> None:
        self._from_main("open_coding")

    def action_open_users(self) -> None:
        from tui.screens.users import UsersScreen

        if self.session is None or "admin" not in self.session.user.roles:
            return
        if not isinstance(self.screen, UsersScreen):
            self.push_screen(UsersScreen(self.session))

    # -- background work, for the status line --------------------------------------
    def background_summary(self) -> str:
        """Inbox watcher and embedding state in a few words (no patient content)."""
        from archive.policy import Action, decide

        main = self._main()
        if main is None or self.session is None:
            return ""
        parts = []
        if getattr(main, "inbox", None) is not None:
            # once per vault: another session (a served connection, an SSH session) may be the one watching
            parts.append("inbox watched by another session" if main.inbox.elsewhere else "inbox watched")
        elif decide(self.session.user, Action.IMPORT).allowed:
            parts.append("inbox not watched")
        state = main.model_state()
        if state == "unavailable":
            parts.append("full text only")
        elif state == "failed":
            parts.append("model failed")
        elif state == "loading":
            parts.append("model loading")
        elif self._backlog:
            parts.append(f"{self._backlog} to embed")
        else:
            parts.append("model ready")
        now = time.monotonic()
        if now - self._backlog_at >= BACKLOG_SECONDS and all(w.is_finished for w in self.workers):
            self._backlog_at = now
            self._count_backlog()
        return " · ".join(parts)

    @work(thread=True, exclusive=True, group="status", exit_on_error=False)
    def _count_backlog(self) -> None:
        from archive.embedding import semantic_status
        from archive.intake import fork_session

        session = self.session
        if session is None:
            return
        backlog: int | None = None
        try:
            # Its own connection: never a read inside the UI's transactions.
            status = self._status_session
            if status is None or status.user.name != session.user.name:
                status = self._status_session = fork_session(session)
            with status.operation():
                backlog = semantic_status(status).backlog
        except Exception:  # noqa: BLE001 - a status figure; locking closes its session (VaultLocked)
            backlog = None
        if self.session is not session:  # locked meanwhile: keep no connection or key around
            self._close_status_session()
            return
        self._backlog = backlog
        self.post_message(BacklogCounted(backlog))

    def on_backlog_counted(self, message: BacklogCounted) -> None:
        """The main screen's semantic-mode notice follows the backlog (and searches again once it drains)."""
        main = self._main()
        if main is not None:
            main.backlog_counted(message.backlog)

    def _close_status_session(self) -> None:
        if self._status_session is not None:
            status, self._status_session = self._status_session, None
            status.close(wait=0, background=True)  # its worker may still count: then it closes after it

    def action_open_audit(self) -> None:
        from tui.screens.audit import AuditScreen

        if self.session is None or "admin" not in self.session.user.roles:
            return
        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen(self.session))

    def on_unmount(self) -> None:
        self._close_status_session()
        if self.session is not None:
            self.session.logout("quit")
            self.session = None


def make_app(
    vault_dir: Path, user: str | None = None, idle_timeout: float | None = None, origin: str | None = None
) -> ChartvaultApp:
    """The one app factory, used by the CLI and by tests (`idle_timeout` in seconds overrides the setting;
    `origin` is a served connection's remote address)."""
    return ChartvaultApp(vault_dir=vault_dir, user=user, idle_timeout=idle_timeout, origin=origin)
