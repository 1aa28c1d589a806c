"""First run: create an empty vault (admin name, passphrase twice, strength checked) or build the demo vault.

The demo is built by `archive.demo.build_demo` in a worker thread, with a
progress bar; afterwards the screen lists the demo users and their (public,
demo-only) passphrases and moves on to the unlock screen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Label, ProgressBar, Static

from tui.messages import DemoBuilt, DemoProgress, Unlocked
from tui.widgets.footer import KeyFooter
from tui.widgets.status import short_path


class CreateVaultScreen(Screen[None]):
    AUTO_FOCUS = "#choose-empty"
    BINDINGS = [
        Binding("e", "choose_empty", "Empty vault"),
        Binding("d", "choose_demo", "Demo vault"),
        Binding("escape", "back_to_choice", "Back"),
    ]
    DEFAULT_CSS = """
    CreateVaultScreen #create-box { height: auto; max-height: 100%; }
    CreateVaultScreen .choice-row { height: auto; margin-bottom: 1; }
    CreateVaultScreen .choice-row Button { width: 26; margin-right: 2; }
    CreateVaultScreen .choice-row Static { width: 1fr; }
    CreateVaultScreen .form-row { height: auto; }
    CreateVaultScreen .form-row Label { width: 14; }
    CreateVaultScreen .form-row Input { width: 1fr; }
    CreateVaultScreen #empty-form, CreateVaultScreen #demo-progress, CreateVaultScreen #demo-done {
        display: none;
        height: auto;
    }
    CreateVaultScreen #demo-bar { margin: 1 0; }
    """

    def __init__(self, vault_dir: Path) -> None:
        super().__init__(name="create")
        self.vault_dir = vault_dir
        self.stage = "choice"  # choice | empty | building | built
        self.demo_report: Any = None

    def compose(self) -> ComposeResult:
        with Center(), VerticalScroll(id="create-box", classes="dialog"):
            yield Static("Welcome to chartvault", classes="dialog-title")
            yield Label(self._where("choice"), classes="muted", id="create-where")
            with Vertical(id="choice"):
                with Horizontal(classes="choice-row"):
                    yield Button("Create an empty vault", variant="primary", id="choose-empty")
                    yield Static("Your own vault, for real records. You become its admin.", classes="muted")
                with Horizontal(classes="choice-row"):
                    yield Button("Build the demo vault", id="choose-demo")
                    yield Static("Fictional patients and records in every format, four demo users with "
                                 "printed passphrases. For looking around; never for real records.",
                                 classes="muted")
            with Vertical(id="empty-form"):
                yield Static("The first user is an admin. Passphrase: at least 10 characters; "
                            "a few unrelated words work well.", classes="muted")
                for field, label, value, password in (
                    ("admin", "Admin name", "admin", False),
                    ("passphrase", "Passphrase", "", True),
                    ("confirm", "Again", "", True),
                ):
                    with Horizontal(classes="form-row"):
                        yield Label(label)
                        yield Input(value=value, password=password, id=field, compact=True)
                # The live strength hint has its own line: it must never overwrite a submit error.
                yield Static("", id="strength", classes="message")
                yield Button("Create vault", variant="primary", id="create")
            with Vertical(id="demo-progress"):
                yield Static("Building the demo vault…", id="demo-step")
                yield ProgressBar(total=10, show_eta=False, id="demo-bar")
            with Vertical(id="demo-done"):
                yield Static("", id="demo-users")
                yield Button("Continue to unlock", variant="primary", id="demo-continue")
            yield Static("", id="message", classes="message")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("choose_empty", "choose_demo"):
            return self.stage == "choice"
        if action == "back_to_choice":
            return self.stage == "empty"
        return True

    def _where(self, stage: str) -> str:
        """The line under the title: what is at the vault folder now."""
        where = short_path(self.vault_dir)
        if stage == "building":
            return f"Building the demo vault at {where}…"
        if stage == "built":
            return f"The demo vault is ready at {where}."
        return f"No vault yet at {where}."

    def _show_stage(self, stage: str) -> None:
        self.stage = stage
        self.query_one("#create-where", Label).update(self._where(stage))
        self.query_one("#choice").display = stage == "choice"
        self.query_one("#empty-form").display = stage == "empty"
        self.query_one("#demo-progress").display = stage == "building"
        self.query_one("#demo-done").display = stage == "built"
        self.refresh_bindings()

    # -- the choice ------------------------------------------------------------
    @on(Button.Pressed, "#choose-empty")
    def action_choose_empty(self) -> None:
        self._show_stage("empty")
        self._say("")
        self.query_one("#passphrase", Input).focus()

    def action_back_to_choice(self) -> None:
        self._show_stage("choice")
        self._say("")
        self.query_one("#choose-empty", Button).focus()

    # -- an empty vault ---------------------------------------------------------
    @on(Input.Changed, "#passphrase")
    def _strength(self, event: Input.Changed) -> None:
        from archive.errors import WeakPassphrase
        from archive.users import check_passphrase_strength

        hint = self.query_one("#strength", Static)
        if not event.value:
            hint.update("")
            return
        try:
            check_passphrase_strength(event.value, self.query_one("#admin", Input).value.strip())
        except WeakPassphrase as exc:
            hint.update(exc.message)
            hint.set_class(True, "error")
        else:
            hint.update("Passphrase strength: ok")
            hint.set_class(False, "error")

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
        from archive.login import create_vault

        try:
            session = create_vault(self.vault_dir, admin, passphrase)
        except ChartvaultError as exc:
            self.app.call_from_thread(self._failed, f"{exc.message} {exc.hint}".strip())
            return
        self.post_message(Unlocked(session))  # the app shows the main screen

    def _failed(self, text: str) -> None:
        self._say(text, error=True)
        self.query_one("#create", Button).disabled = False

    # -- the demo vault -----------------------------------------------------------
    @on(Button.Pressed, "#choose-demo")
    def action_choose_demo(self) -> None:
        self._show_stage("building")
        self._say("This takes a little while (passphrase KDFs, OCR, the ICD-10-CM code set). You may keep "
                  "the app open; nothing is shown until you unlock.")
        self.build_demo()

    @work(thread=True, exclusive=True, group="create")
    def build_demo(self) -> None:
        from archive.demo import build_demo
        from archive.errors import ChartvaultError

        def progress(done: int, total: int, what: str) -> None:
            self.post_message(DemoProgress(done, total, what))

        try:
            report = build_demo(self.vault_dir, progress=progress)
        except ChartvaultError as exc:
            self.post_message(DemoBuilt(None, exc))
            return
        self.post_message(DemoBuilt(report))

    def on_demo_progress(self, message: DemoProgress) -> None:
        self._progress(message.done, message.total, message.what)

    def on_demo_built(self, message: DemoBuilt) -> None:
        if message.error is not None:
            self._demo_failed(f"{message.error.message} {message.error.hint}".strip())
        else:
            self._demo_built(message.report)

    def _progress(self, done: int, total: int, what: str) -> None:
        bar = self.query_one("#demo-bar", ProgressBar)
        bar.update(total=total, progress=done)
        self.query_one("#demo-step", Static).update(f"{what}…" if done < total else "Done.")

    def _demo_failed(self, text: str) -> None:
        self._show_stage("choice")
        self._say(text, error=True)

    def _demo_built(self, report: Any) -> None:
        from archive.demo import DEMO_WARNING

        self.demo_report = report
        lines = [f"It holds {report.counts.get('records', 0)} records of {report.counts.get('patients', 0)} "
                 "patients. Demo users:"]
        lines += [f"  {u.name:<8} {u.role:<11} {u.passphrase}" for u in report.users]
        lines.append("Next: Continue to unlock, and sign in as drmaria (or any user above).")
        self.query_one("#demo-users", Static).update("\n".join(lines))
        self._show_stage("built")
        self._say(DEMO_WARNING, error=True)
        self.query_one("#demo-continue", Button).focus()

    @on(Button.Pressed, "#demo-continue")
    def _continue(self) -> None:
        from tui.screens.unlock import UnlockScreen

        self.app.switch_screen(UnlockScreen(self.vault_dir, "drmaria"))

    def _say(self, text: str, error: bool = False) -> None:
        msg = self.query_one("#message", Static)
        msg.update(text)
        msg.set_class(error, "error")
