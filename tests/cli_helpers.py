"""The CLI as the functional tests call it in process: as a user of the vault, with the JSON it prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from archive.cli import cli
from tests.conftest import TECH_PASS


def invoke(root: Path, *args: str, user: str = "tess", passphrase: str = TECH_PASS, stdin: str | None = None
           ) -> Result:
    """`chartvault ARGS` on the vault at `root`, logged in as `user` (the technician by default), `stdin` typed in."""
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": user, "CHARTVAULT_PASSPHRASE": passphrase}
    return CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)


def ok(result: Result) -> Result:
    """The result of a command that must have succeeded (its output shown when it did not)."""
    assert result.exit_code == 0, result.output
    return result


def ok_json(result: Result) -> Any:
    """The JSON a command printed; the command must have succeeded."""
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def import_notes(root: Path, folder: Path, notes: dict[str, str]) -> dict[str, str]:
    """Write `notes` (file name -> text) into `folder`, import it, and give each file name's record id."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in notes.items():
        (folder / name).write_text(text)
    report = ok_json(invoke(root, "import", str(folder), "--json"))
    assert report["imported"] == len(notes)
    return {o["input"].rsplit("/", 1)[-1]: o["record_id"] for o in report["outcomes"]}
