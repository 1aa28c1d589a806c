"""Unlock screen: user name and passphrase; the KDF runs in a worker thread."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static


class UnlockScreen(Screen[None]):
    """Shows no patient content: only the vault path and a login form."""

    AUTO_FOCUS = "#user"

    def __init__(self, vault_dir: Path, user: str | None = None) -> None:
        super().__init__(name="unlock")
        self.vault_dir = vault_dir
        self.initial_user = user or ""

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="login-box", classes="dialog"):
            yield Static("chartvault", classes="dialog-title")
            yield Label(f"Vault: {self.vault_dir}", classes="muted")
            yield Label("User")
            yield Input(value=self.initial_user, placeholder="user name", id="user")
            yield Label("Passphrase")
            yield Input(password=True, placeholder="passphrase", id="passphrase")
            yield Button("Unlock", variant="primary", id="unlock")
            yield Static("", id="message", classes="message")
        yield Footer()

    def on_mount(self) -> None:
        if self.initial_user:
            self.query_one("#passphrase", Input).focus()

    @on(Input.Submitted, "#user")
    def _next(self) -> None:
        self.query_one("#passphrase", Input).focus()

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock")
    def _submit(self) -> None:
        user = self.query_one("#user", Input).value.strip()
        passphrase = self.query_one("#passphrase", Input).value
        if not user:
            self._say("Type your user name.", error=True)
            self.query_one("#user", Input).focus()
            return
        if not passphrase:
            self._say("Type your passphrase.", error=True)
            return
        self._say("Unlocking…")
        self.query_one("#unlock", Button).disabled = True
        self.unlock(user, passphrase)

    @work(thread=True, exclusive=True, group="unlock")
    def unlock(self, user: str, passphrase: str) -> None:
        from archive.errors import ChartvaultError
        from archive.session import open_session

        try:
            session = open_session(self.vault_dir, user, passphrase)
        except ChartvaultError as exc:
            self.app.call_from_thread(self._failed, exc.message, exc.hint)
            return
        self.app.call_from_thread(self.app.unlocked, session)  # type: ignore[attr-defined]

    def _failed(self, message: str, hint: str) -> None:
        self._say(f"{message} {hint}".strip(), error=True)
        self.query_one("#unlock", Button).disabled = False
        pw = self.query_one("#passphrase", Input)
        pw.value = ""
        pw.focus()

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#message", Static)
        msg.update(text)
        msg.set_class(error, "error")
