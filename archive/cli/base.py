"""Shared plumbing of the CLI: global options, session opening, errors, output."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from archive.errors import ChartvaultError, DiskFull, UserError, is_disk_full

if TYPE_CHECKING:
    from archive.session import Session

EXIT_OK, EXIT_USER, EXIT_DENIED, EXIT_INTEGRITY = 0, 2, 3, 4


# How `chartvault serve` tells one browser connection's app process its remote address (archive/cli/facility_server.py).
REMOTE_ENV = "CHARTVAULT_REMOTE_ADDRESS"


def default_vault_dir() -> Path:
    """The platform's user data folder, e.g. ~/.local/share/chartvault/vault."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("chartvault", appauthor=False)) / "vault"


@dataclass
class CliState:
    vault_dir: Path
    user: str | None
    _session: Session | None = field(default=None, repr=False)

    def passphrase(self, user: str) -> str:
        env = os.environ.get("CHARTVAULT_PASSPHRASE")
        if env is not None:
            return env
        if not sys.stdin.isatty():
            raise UserError(
                f"No passphrase for '{user}'.",
                "Set CHARTVAULT_PASSPHRASE for non-interactive use, or run in a terminal.",
            )
        return str(click.prompt(f"Passphrase for {user}", hide_input=True, err=True))

    def user_name(self) -> str:
        if self.user:
            return self.user
        from vault.vault import Vault

        users = Vault.open(self.vault_dir).keyslots.users()
        if len(users) == 1:
            return users[0]
        if sys.stdin.isatty():
            return str(click.prompt("User", err=True))
        raise UserError("Which user?", "Give --user NAME or set CHARTVAULT_USER.")

    def user_name_for(self, backup: Path) -> str:
        """The user for an operation on a backup (no live vault needed)."""
        if self.user:
            return self.user
        if sys.stdin.isatty():
            return str(click.prompt("User", err=True))
        raise UserError("Which user?", "Give --user NAME or set CHARTVAULT_USER.")

    def session(self) -> Session:
        """Open (once) the session for this command."""
        if self._session is None:
            from archive.intake import ingest_pending_on_unlock
            from archive.login import open_session

            user = self.user_name()
            self._session = open_session(self.vault_dir, user, self.passphrase(user))
            for warning in self._session.warnings:  # e.g. the vault is behind what this computer saw
                click.echo(warning, err=True)
            # What an unattended (locked) watcher encrypted into pending/ is indexed after login.
            ingest_pending_on_unlock(self._session)
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


pass_state = click.make_pass_decorator(CliState)


class ChartvaultGroup(click.Group):
    """A click group that turns domain errors into a message and an exit code.

    `default_command` runs when no command is given (the composition root in
    tui/ sets the terminal UI there); without one the group prints its help.
    """

    default_command: click.Command | None = None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ChartvaultError as exc:
            print_error(exc)
            ctx.exit(exc.exit_code)


@click.group(
    cls=ChartvaultGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--vault",
    "vault_dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="CHARTVAULT_VAULT",
    help="Vault folder (env CHARTVAULT_VAULT; default: the platform's user data folder).",
)
@click.option("--user", envvar="CHARTVAULT_USER", help="User name (env CHARTVAULT_USER).")
@click.version_option(package_name="chartvault")
@click.pass_context
def cli(ctx: click.Context, vault_dir: Path | None, user: str | None) -> None:
    """chartvault: an offline, encrypted medical-records archive.

    With no command, opens the terminal UI. The passphrase is prompted without
    echo, or read from CHARTVAULT_PASSPHRASE for automation.
    """
    state = CliState(vault_dir=(vault_dir or default_vault_dir()).expanduser(), user=user)
    ctx.obj = state
    ctx.call_on_close(state.close)
    if ctx.invoked_subcommand is None:
        group = ctx.command
        if isinstance(group, ChartvaultGroup) and group.default_command is not None:
            ctx.invoke(group.default_command)
        else:
            click.echo(ctx.get_help())


def run(group: click.Group, argv: list[str] | None = None) -> int:
    """Run the CLI; turn domain errors into a message and an exit code."""
    try:
        code = group.main(args=argv, prog_name="chartvault", standalone_mode=False)
        if isinstance(code, int):  # ctx.exit(n) inside a command comes back as n here
            return code
    except ChartvaultError as exc:
        print_error(exc)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return EXIT_USER if exc.exit_code == 1 else exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so plainly, keep content out of the message
        if is_disk_full(exc):  # not a bug: an OSError(ENOSPC) or SQLITE_FULL from below the domain
            print_error(DiskFull())
            return DiskFull.exit_code
        if os.environ.get("CHARTVAULT_DEBUG"):
            raise
        click.echo(
            f"chartvault hit an unexpected internal error ({type(exc).__name__}). "
            "Nothing was changed by the failed step. Set CHARTVAULT_DEBUG=1 to see details.",
            err=True,
        )
        return 1
    return EXIT_OK


def print_error(exc: ChartvaultError) -> None:
    click.echo(f"Error: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"  {exc.hint}", err=True)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def new_passphrase(user: str, env: str = "CHARTVAULT_NEW_PASSPHRASE") -> str:
    """A new passphrase from `env`, or typed twice without echo."""
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise UserError(f"No passphrase for new user '{user}'.", f"Set {env}, or run in a terminal.")
    return str(click.prompt(f"New passphrase for {user}", hide_input=True, confirmation_prompt=True, err=True))


class ProgressBar:
    """A rich bar on stderr, fed by a domain `progress(done, total, ...)` callback.

    It appears on the first call and goes when `done` reaches `total` (a total
    that grows meanwhile, as an import's does, is followed) or on `stop()`.
    """

    def __init__(self, label: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.label = label
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task: Any = None
        self._shown = False

    def __call__(self, done: int, total: int, outcome: Any = None) -> None:  # outcome: what just finished; unused
        if not self._shown:
            self._progress.start()
            self._shown = True
        if self._task is None:
            self._task = self._progress.add_task(self.label, total=total)
        self._progress.update(self._task, completed=done, total=max(total, done))
        if done >= total:
            self.stop()

    def stop(self) -> None:
        if self._shown:
            self._progress.stop()
            self._shown = False


def progress_bar(label: str, quiet: bool = False) -> ProgressBar | None:
    """A progress bar for a long command, or None when quiet (--json) or stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    return ProgressBar(label)
