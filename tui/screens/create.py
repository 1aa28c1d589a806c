"""First run: create the vault (admin name, passphrase twice, strength checked)."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static


class CreateVaultScreen(Screen[None]):
    AUTO_FOCUS = "#admin"

    def __init__(self, vault_dir: Path) -> None:
        super().__init__(name="create")
        self.vault_dir = vault_dir

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="create-box", classes="dialog"):
            yield Static("Create a new vault", classes="dialog-title")
            yield Label(f"No vault yet at {self.vault_dir}. Its first user is an admin.", classes="muted")
            yield Label("Admin user name")
            yield Input(value="admin", id="admin")
            yield Label("Passphrase (at least 10 characters; a few unrelated words work well)")
            yield Input(password=True, id="passphrase")
            yield Label("Passphrase again")
            yield Input(password=True, id="confirm")
            yield Button("Create vault", variant="primary", id="create")
            yield Static("", id="message", classes="message")
        yield Footer()

    @on(Input.Changed, "#passphrase")
    def _strength(self, event: Input.Changed) -> None:
        from archive.errors import WeakPassphrase
        from archive.users import check_passphrase_strength

        if not event.value:
            self._say("")
            return
        try:
            check_passphrase_strength(event.value, self.query_one("#admin", Input).value.strip())
        except WeakPassphrase as exc:
            self._say(exc.message, error=True)
        else:
            self._say("Passphrase strength: ok")

    @on(Input.Submitted, "#admin")
    def _to_passphrase(self) -> None:
        self.query_one("#passphrase", Input).focus()

    @on(Input.Submitted, "#passphrase")
    def _to_confirm(self) -> None:
        self.query_one("#confirm", Input).focus()

    @on(Input.Submitted, "#confirm")
    @on(Button.Pressed, "#create")
    def _submit(self) -> None:
        from archive.errors import ChartvaultError
        from archive.users import check_passphrase_strength, validate_new_user

        admin = self.query_one("#admin", Input).value.strip()
        passphrase = self.query_one("#passphrase", Input).value
        confirm = self.query_one("#confirm", Input).value
        try:
            validate_new_user(admin, "admin", None)
            check_passphrase_strength(passphrase, admin)
        except ChartvaultError as exc:
            self._say(f"{exc.message} {exc.hint}".strip(), error=True)
            return
        if passphrase != confirm:
            self._say("The two passphrases differ. Type them again.", error=True)
            self.query_one("#confirm", Input).value = ""
            self.query_one("#confirm", Input).focus()
            return
        self._say("Creating the vault…")
        self.query_one("#create", Button).disabled = True
        self.create(admin, passphrase)

    @work(thread=True, exclusive=True, group="create")
    def create(self, admin: str, passphrase: str) -> None:
        from archive.errors import ChartvaultError
        from archive.session import create_vault

        try:
            session = create_vault(self.vault_dir, admin, passphrase)
        except ChartvaultError as exc:
            self.app.call_from_thread(self._failed, f"{exc.message} {exc.hint}".strip())
            return
        self.app.call_from_thread(self.app.unlocked, session)  # type: ignore[attr-defined]

    def _failed(self, text: str) -> None:
        self._say(text, error=True)
        self.query_one("#create", Button).disabled = False

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#message", Static)
        msg.update(text)
        msg.set_class(error, "error")
