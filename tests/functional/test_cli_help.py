"""Every command has help text (sqlite-utils' test_docs habit)."""

import click
import pytest
from click.testing import CliRunner

from tui.__main__ import cli  # the whole `chartvault`: archive's commands and the terminal UI


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        out.append(prefix + (name,))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, prefix + (name,)))
    return out


@pytest.mark.parametrize("path", _commands(cli), ids=lambda p: " ".join(p))
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    cmd: click.Command = cli
    for part in path:
        assert isinstance(cmd, click.Group)
        cmd = cmd.commands[part]
    assert cmd.help and len(cmd.help.strip()) > 10, f"{' '.join(path)} lacks help"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.output
