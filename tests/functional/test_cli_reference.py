"""docs/CLI.md is the `--help` of every command; this fails when the committed file is stale."""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "docs" / "cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_cli_reference_matches_help() -> None:
    gen = _generator()
    expected = gen.reference()
    committed = (ROOT / "docs" / "CLI.md").read_text(encoding="utf-8")
    if committed != expected:
        diff = "\n".join(list(difflib.unified_diff(committed.splitlines(), expected.splitlines(),
                                                   "docs/CLI.md (committed)", "--help (now)", lineterm=""))[:40])
        raise AssertionError(f"docs/CLI.md is stale; run .venv/bin/python docs/cli_reference.py\n{diff}")


def test_reference_covers_every_command() -> None:
    import click

    from tui.__main__ import cli

    text = _generator().reference()

    def walk(group: click.Group, prefix: tuple[str, ...]) -> list[str]:
        names = []
        for name, cmd in group.commands.items():
            names.append(" ".join(("chartvault", *prefix, name)))
            if isinstance(cmd, click.Group):
                names += walk(cmd, (*prefix, name))
        return names

    commands = walk(cli, ())
    assert len(commands) > 40
    for name in commands:
        assert f"\n## {name}\n" in text, name
    assert "Usage: chartvault demo [OPTIONS]" in text
