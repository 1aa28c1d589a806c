"""The composition root: the `chartvault` console script (`python -m tui` too).

archive's click group is headless; this adds the terminal UI to it as the
`tui` command, also run when no command is given (as posting's __main__ adds
its app to its CLI). archive/ never imports tui/, so the entry sits here.
"""

from __future__ import annotations

import os
import sys

from archive.cli import cli, run
from archive.cli.base import REMOTE_ENV, CliState, pass_state
from archive.errors import UserError


@cli.command()
@pass_state
def tui(state: CliState) -> None:
    """Open the terminal UI (the default when no command is given)."""
    launch_tui(state)


cli.default_command = tui


def launch_tui(state: CliState) -> None:
    """Run the app for the CLI's vault and user (a terminal is needed, or a browser via `chartvault serve`)."""
    # Set by `chartvault serve` for the app process of one browser connection (its stdout is the server's pipe).
    served = os.environ.get(REMOTE_ENV) or None
    if served is None and not sys.stdout.isatty():
        raise UserError("The terminal UI needs a terminal.", "Run a command instead; see 'chartvault --help'.")
    from tui.app import make_app

    origin = served or ssh_origin()
    app = make_app(vault_dir=state.vault_dir, user=None if served else state.user, origin=origin)
    if served is None:  # a terminal (local or over SSH): ask it now what it can draw (scans), before Textual reads it
        from tui.widgets.scan_view import prepare_graphics

        prepare_graphics()
    app.run()


def ssh_origin() -> str | None:
    """'ssh HOST:PORT' of the client when this terminal is an SSH session (sshd sets SSH_CONNECTION).

    Every audit entry of the session then says where it came from, as a browser
    connection's does, and the server (no one's workstation) remembers no last user.
    """
    parts = os.environ.get("SSH_CONNECTION", "").split()
    if len(parts) != 4:
        return None
    host, port = parts[0], parts[1]
    return f"ssh [{host}]:{port}" if ":" in host else f"ssh {host}:{port}"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every command of archive's CLI, plus the terminal UI."""
    sys.exit(run(cli, argv))


__all__ = ["cli", "launch_tui", "main"]

if __name__ == "__main__":
    main()
