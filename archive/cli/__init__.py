"""The `chartvault` command line: a thin click layer over `archive`'s API.

Headless: nothing here imports tui/ or textual. The console script lives one
layer up (tui/__main__.py), which adds the terminal UI to this group.
Each command opens a Session, calls one domain function and prints the result
(text, or JSON with --json). Domain errors become one or two lines on stderr
and an exit code: 2 user error, 3 access denied, 4 integrity failure.
"""

from __future__ import annotations

# Importing the command modules registers their commands on `cli`.
from archive.cli import assistant_cmds as _assistant_cmds  # noqa: F401
from archive.cli import audit_cmds as _audit_cmds  # noqa: F401
from archive.cli import backup_cmds as _backup_cmds  # noqa: F401
from archive.cli import charts as _charts  # noqa: F401
from archive.cli import coding as _coding  # noqa: F401
from archive.cli import demo_cmds as _demo_cmds  # noqa: F401
from archive.cli import lists_cmds as _lists_cmds  # noqa: F401
from archive.cli import records as _records  # noqa: F401
from archive.cli import retention_cmds as _retention_cmds  # noqa: F401
from archive.cli import review_cmds as _review_cmds  # noqa: F401
from archive.cli import semantic_cmds as _semantic_cmds  # noqa: F401
from archive.cli import serve_cmds as _serve_cmds  # noqa: F401
from archive.cli import stats_cmds as _stats_cmds  # noqa: F401
from archive.cli import users as _users  # noqa: F401
from archive.cli import vault_cmds as _vault_cmds  # noqa: F401
from archive.cli.base import cli, run

__all__ = ["cli", "run"]
