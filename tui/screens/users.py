"""The users screen (admins, F10): list users, add one, disable one.

Each action is one `archive.users` call in a worker (policy and audit happen
there). Adding a user costs a second or two (the new keyslot's passphrase
KDF), so the form says so and stays responsive meanwhile.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from tui.messages import Done, UsersLoaded
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.status import StatusLine
from tui.workers import session_work

ROLES = ("technician", "physician", "admin")
COLUMNS = ("user", "full name", "role", "licence", "active", "registered", "created")


class AddUserForm(ModalScreen[Any]):
    """Name, role, full name, licence (physicians), passphrase twice; dismissed with the new User."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Add user")]
    DEFAULT_CSS = """
    AddUserForm { align: center middle; }
    AddUserForm #user-form { width: 72; max-width: 100%; height: auto; max-height: 100%;
                             border: round $primary; padding: 0 1; background: $surface; }
    AddUserForm .row { height: auto; }
    AddUserForm .row Label { width: 14; padding-top: 0; }
    AddUserForm .row Input, AddUserForm .row Select { width: 1fr; margin-bottom: 0; }
    AddUserForm #user-form-message { height: auto; }
    AddUserForm #user-form-message.error { color: $text-error; text-style: bold; }
    AddUserForm #user-form-buttons { height: auto; }
    """

    def __init__(self, session: Any) -> None:
        super().__init__(name="add-user")
        self.session = session

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="user-form"):
            yield Static("Add a user", classes="dialog-title")
            for field, label, placeholder, password in (
                ("name", "User name", "e.g. jdoe", False),
                ("full-name", "Full name", "e.g. Jane Doe", False),
                ("licence", "Licence", "physicians: licence number", False),
                ("passphrase", "Passphrase", "at least 10 characters", True),
                ("confirm", "Again", "the passphrase again", True),
            ):
                with Horizontal(classes="row"):
                    yield Label(label)
                    yield Input(placeholder=placeholder, password=password, id=f"u-{field}", compact=True)
                if field == "name":
                    with Horizontal(classes="row"):
                        yield Label("Role")
                        yield Select([(r, r) for r in ROLES], value="technician", allow_blank=False, id="u-role",
                                     compact=True)
            yield Static("", id="user-form-message")
            with Horizontal(id="user-form-buttons"):
                yield Button("Add user", id="u-save", variant="primary", compact=True)
                yield Button("Cancel", id="u-cancel", compact=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#u-name", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#u-{field}", Input).value.strip()

    @on(Button.Pressed, "#u-save")
    def action_save(self) -> None:
        passphrase = self.query_one("#u-passphrase", Input).value
        if passphrase != self.query_one("#u-confirm", Input).value:
            self._say("The two passphrases differ. Type them again.", error=True)
            return
        role = str(self.query_one("#u-role", Select).value)
        self._say("Adding the user (the passphrase KDF takes a second or two)…")
        self.query_one("#u-save", Button).disabled = True
        self.save(self._value("name"), role, passphrase, self._value("full-name"), self._value("licence") or None)

    @session_work("users")
    def save(self, name: str, role: str, passphrase: str, full_name: str, licence: str | None) -> None:
        from archive.errors import ChartvaultError
        from archive.users import add_user

        try:
            user = add_user(self.session, name, role, passphrase, full_name=full_name, licence=licence)
        except ChartvaultError as exc:
            self.app.call_from_thread(self._failed, f"{exc.message} {exc.hint}".strip())
            return
        self.app.call_from_thread(self.dismiss, user)

    def _failed(self, text: str) -> None:
        self._say(text, error=True)
        self.query_one("#u-save", Button).disabled = False

    def _say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#user-form-message", Static)
        message.update(text)
        message.set_class(error, "error")

    @on(Button.Pressed, "#u-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class UsersScreen(Screen[None]):
    """Who may open this vault, with which role. Admins only (the archive calls refuse anyone else)."""

    AUTO_FOCUS = "#users"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "add_user", "Add user"),
        Binding("d", "disable_user", "Disable"),
        Binding("f5", "reload", "Refresh"),
    ]
    DEFAULT_CSS = """
    UsersScreen #users-area { padding: 0 1; }
    UsersScreen #users-message { height: auto; }
    UsersScreen #users-message.error { color: $text-error; text-style: bold; }
    UsersScreen #users { height: 1fr; }
    """

    def __init__(self, session: Any) -> None:
        super().__init__(name="users")
        self.session = session
        self.names: list[str] = []

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session, label="Users")
        with Vertical(id="users-area"):
            yield Static("A: add a user · D: disable the selected one · physicians need a licence number.",
                         id="users-message", classes="muted")
            yield DataTable(id="users", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#users", DataTable).add_columns(*COLUMNS)
        self.load()

    @session_work("users")
    def load(self) -> None:
        from archive.errors import ChartvaultError
        from archive.users import list_users

        try:
            users = list_users(self.session)
        except ChartvaultError as exc:
            self.post_message(UsersLoaded([], exc))
            return
        self.post_message(UsersLoaded(users))

    def on_users_loaded(self, message: UsersLoaded) -> None:
        if message.error is not None:
            self._say(f"{message.error.message} {message.error.hint}".strip(), True)
        else:
            self._show(message.users)

    def _show(self, users: list[Any]) -> None:
        table = self.query_one("#users", DataTable)
        table.clear()
        self.names = []
        for u in users:
            table.add_row(u.name, u.full_name or "-", "+".join(u.roles), u.licence or "-",
                          "yes" if u.active else "no", "yes" if u.registered else "-", (u.created_at or "")[:10])
            self.names.append(u.name)

    def _say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#users-message", Static)
        message.update(text)
        message.set_class(error, "error")

    def action_reload(self) -> None:
        self.load()

    def action_add_user(self) -> None:
        def added(user: Any) -> None:
            if user is not None:
                self._say(f"Added {user.name} ({user.role}).")
                self.load()

        self.app.push_screen(AddUserForm(self.session), added)

    def action_disable_user(self) -> None:
        table = self.query_one("#users", DataTable)
        if not self.names or table.cursor_row is None or table.cursor_row >= len(self.names):
            return
        self.disable(self.names[table.cursor_row])

    @session_work("users")
    def disable(self, name: str) -> None:
        from archive.errors import ChartvaultError
        from archive.users import disable_user

        try:
            disable_user(self.session, name)
        except ChartvaultError as exc:
            self.post_message(Done("", exc))
            return
        self.post_message(
            Done(f"Disabled {name}: they can no longer unlock the vault. Run 'chartvault key rotate' to also "
                 "revoke a copy of their keyslot taken earlier.")
        )

    def on_done(self, message: Done) -> None:
        if message.error is not None:
            self._say(f"{message.error.message} {message.error.hint}".strip(), True)
            return
        self._say(message.text)
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()
