"""archive's CLI runs headless: importing it loads neither tui/ nor textual (harlequin's import-hygiene test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_archive_cli_loads_no_tui_and_no_textual() -> None:
    proc = _run(
        "import sys\n"
        "from archive.cli import cli\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tui', 'textual'))\n"
        "assert not loaded, loaded\n"
        "assert 'tui' not in cli.commands\n"
    )
    assert proc.returncode == 0, proc.stderr


def test_the_entry_adds_the_terminal_ui_as_default_command() -> None:
    proc = _run(
        "import sys\n"
        "from tui.__main__ import cli, tui\n"
        "assert cli.commands['tui'] is tui and cli.default_command is tui\n"
        "assert 'textual' not in sys.modules  # the app loads when the TUI starts, not with the CLI\n"
    )
    assert proc.returncode == 0, proc.stderr


def test_headless_group_without_command_prints_help(tmp_path: Path) -> None:
    proc = _run(f"from archive.cli import cli, run\nraise SystemExit(run(cli, ['--vault', {str(tmp_path)!r}]))")
    assert proc.returncode == 0, proc.stderr
    assert "Usage: chartvault [OPTIONS] [COMMAND] [ARGS]..." in proc.stdout


def test_python_m_tui_runs_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "tui", "--help"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "tui " in proc.stdout and "Open the terminal UI" in proc.stdout
