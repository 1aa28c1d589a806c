"""Unlock screen: user name and passphrase; the KDF runs in a worker thread.

The app passes the last user of this vault on this workstation
(`tui.workstation_prefs`), so the passphrase field has the focus. Whatever is
typed into the User field before the form is ready (the first frame drawn)
stays masked: someone who types their passphrase straight away never sees it
in the clear.

After repeated wrong passphrases unlocking backs off exponentially; the screen
says how long to wait and counts down, with the form disabled meanwhile.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from tui.messages import Unlocked
from tui.widgets.footer import KeyFooter


class UnlockScreen(Screen[None]):
    """Shows no patient content: only the vault path and a login form (and, for a demo vault, the
    demo users' public passphrases)."""

    AUTO_FOCUS = "#user"
    # Tab and Enter move between the fields as priority bindings: the focus moves before the next key is
    # delivered. A password manager's auto-type sends "name Tab passphrase Enter" in one burst; handled by the
    # field itself, the move came only after the passphrase had been typed into the User field, in clear.
    BINDINGS = [
        Binding("tab", "next_field", "Next field", show=False, priority=True),
        Binding("shift+tab", "previous_field", "Previous field", show=False, priority=True),
        Binding("enter", "enter", "Unlock", show=False, priority=True),
    ]
    DEFAULT_CSS = """
    UnlockScreen .form-row { height: auto; }
    UnlockScreen .form-row Label { width: 12; }
    UnlockScreen .form-row Input { width: 1fr; }
    UnlockScreen #demo-hint { margin-top: 1; height: auto; color: $text-muted; }
    """

    def __init__(self, vault_dir: Path, user: str | None = None, notice: str = "", origin: str | None = None) -> None:
        super().__init__(name="unlock")
        self.vault_dir = vault_dir
        self.origin = origin  # a served connection's remote address, for the audit log
        self.initial_user = user or ""
        self.notice = notice  # e.g. why the app locked itself
        self._wait_until = 0.0
        self._wait_timer: Any = None
        self.form_ready = False  # the first frame is drawn (until then the User field is masked)
        self._unlocking = False  # an attempt is running in the worker

    def compose(self) -> ComposeResult:
        from archive.demo import DEMO_USERS, is_demo_vault
        from tui.widgets.status import short_path

        with Center(), Vertical(id="login-box", classes="dialog"):
            yield Static("chartvault", classes="dialog-title")
            yield Label(f"Vault: {short_path(self.vault_dir)}", classes="muted")
            with Horizontal(classes="form-row"):
                yield Label("User")
                # Masked until the form is ready (`_form_ready`): keys typed before it may be a passphrase.
                yield Input(value=self.initial_user, placeholder="user name", id="user", compact=True,
                            password=not self.initial_user)
            with Horizontal(classes="form-row"):
                yield Label("Passphrase")
                yield Input(password=True, placeholder="passphrase", id="passphrase", compact=True)
            yield Button("Unlock", variant="primary", id="unlock", compact=True)
            yield Static("", id="message", classes="message")
            if is_demo_vault(self.vault_dir):
                users = "\n".join(f"  {u.name:<8} {u.role:<11} {u.passphrase}" for u in DEMO_USERS)
                yield Static(f"Demo vault (fictional records). Demo-only users and passphrases:\n{users}",
                             id="demo-hint")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.notice:
            self._say(self.notice)
        if self.initial_user:
            self.query_one("#passphrase", Input).focus()
        self.call_after_refresh(self._form_ready)

    def _form_ready(self) -> None:
        """The form is on screen: an empty User field shows what is typed from now on."""
        self.form_ready = True
        user = self.query_one("#user", Input)
        if not user.value:
            user.password = False
        elif user.password:
            self._say("What was typed before the form appeared stays hidden. If it was not your user name, "
                      "clear it (Ctrl+U) and type the name.")

    @on(Input.Changed, "#user")
    def _user_changed(self, event: Input.Changed) -> None:
        if self.form_ready and not event.value:
            event.input.password = False  # cleared: the name typed next is shown

    def action_next_field(self) -> None:
        self.focus_next()

    def action_previous_field(self) -> None:
        self.focus_previous()

    def action_enter(self) -> None:
        """Enter in the User field moves on to the passphrase; anywhere else it unlocks.

        The keys before it may still wait in the fields' own queues (a burst), so the form is read only once
        each field has taken them: a callback queued behind them, the User field's first."""
        user, passphrase = self.query_one("#user", Input), self.query_one("#passphrase", Input)
        if self.focused is user:
            self.set_focus(passphrase)  # at once: `Input.focus()` would wait behind the burst's next keys
        else:
            user.call_later(passphrase.call_later, self._submit)

    @on(Button.Pressed, "#unlock")
    def _submit(self) -> None:
        if self._unlocking:
            return  # one attempt at a time; the message says it is under way
        user = self.query_one("#user", Input).value.strip()
        passphrase = self.query_one("#passphrase", Input).value
        if not user:
            self._say("Type your user name.", error=True)
            self.query_one("#user", Input).focus()
            return
        if not passphrase:
            self._say("Type your passphrase.", error=True)
            return
        if self._wait_until > time.monotonic():
            return  # still backing off; the countdown says how long
        self._say("Unlocking…")
        self._unlocking = True
        self.query_one("#unlock", Button).disabled = True
        self.unlock(user, passphrase)

    @work(thread=True, exclusive=True, group="unlock")
    def unlock(self, user: str, passphrase: str) -> None:
        from archive.errors import ChartvaultError
        from archive.intake import ingest_pending_on_unlock
        from archive.login import open_session, unlock_wait_seconds

        try:
            session = open_session(self.vault_dir, user, passphrase, origin=self.origin)
        except ChartvaultError as exc:
            wait = unlock_wait_seconds(self.vault_dir, user)
            self.app.call_from_thread(self._failed, exc.message, exc.hint, wait)
            return
        ingest_pending_on_unlock(session)  # what a locked watcher encrypted into pending/ meanwhile
        for warning in session.warnings:  # e.g. the vault is behind what this computer saw (a rollback)
            self.app.call_from_thread(
                self.app.notify, warning, title="Integrity warning", severity="error", timeout=30
            )
        self.post_message(Unlocked(session))  # the app shows the main screen

    def _failed(self, message: str, hint: str, wait: float = 0.0) -> None:
        self._unlocking = False
        pw = self.query_one("#passphrase", Input)
        pw.value = ""
        if wait > 0:
            # Say plainly how long to wait, and keep the form closed until then.
            self._failure = message
            self._wait_until = time.monotonic() + wait
            pw.disabled = True
            self.query_one("#unlock", Button).disabled = True
            self._countdown()
            if self._wait_timer is not None:
                self._wait_timer.stop()
            self._wait_timer = self.set_interval(0.25, self._countdown)
            return
        self._say(f"{message} {hint}".strip(), error=True)
        self.query_one("#unlock", Button).disabled = False
        pw.focus()

    def _countdown(self) -> None:
        left = self._wait_until - time.monotonic()
        if left > 0:
            self._say(
                f"{self._failure} Too many wrong passphrases: wait {int(left + 0.999)} s before trying again.",
                error=True,
            )
            return
        if self._wait_timer is not None:
            self._wait_timer.stop()
            self._wait_timer = None
        pw = self.query_one("#passphrase", Input)
        pw.disabled = False
        self.query_one("#unlock", Button).disabled = False
        self._say("You may try again now.")
        pw.focus()

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#message", Static)
        msg.update(text)
        msg.set_class(error, "error")
