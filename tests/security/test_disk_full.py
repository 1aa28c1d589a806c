"""A full disk (issue 16, finding 6): a human message and exit 2, never "unexpected internal error";
reading commands keep working; nothing is lost.

The vault lives on a small tmpfs mounted for this test (root in a container may mount one; elsewhere the
test is skipped), filled to the last byte with a file of zeros: a real ENOSPC, no fault injection.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASS, TECH_PASS, VaultTemplate

FULL = "Error: The disk holding the vault is full"
AGAIN = "Free space and run the same command again; nothing was lost"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=80m", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip() or 'not permitted'})")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, name: str) -> None:
    """Write zeros until the file system says ENOSPC."""
    chunk = b"\0" * (1 << 20)
    with open(disk / name, "ab") as fh:
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with contextlib.suppress(OSError), open(disk / f"{name}.tail", "ab") as fh:
        while True:  # the last few kilobytes too
            fh.write(b"\0" * 512)
            fh.flush()


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """The CLI's real entry point (`archive.cli.base.run`, what `chartvault` calls), in this process."""
    from archive.cli import cli
    from archive.cli.base import run as cli_run

    monkeypatch.delenv("CHARTVAULT_DEBUG", raising=False)
    monkeypatch.setenv("CHARTVAULT_EMBEDDER", "fake")

    def invoke(root: Path, *args: str, user: str = "tess", passphrase: str = TECH_PASS) -> Ran:
        monkeypatch.setenv("CHARTVAULT_VAULT", str(root))
        monkeypatch.setenv("CHARTVAULT_USER", user)
        monkeypatch.setenv("CHARTVAULT_PASSPHRASE", passphrase)
        capsys.readouterr()
        code = cli_run(cli, list(args))
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return invoke


@pytest.mark.timeout(300)
def test_a_full_disk_says_so_and_reading_keeps_working(
    small_disk: Path, users_vault_template: VaultTemplate, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    root = small_disk / "v"
    users_vault_template.copy(root).session.close()  # type: ignore[attr-defined]
    note = tmp_path / "gout.txt"
    note.write_text("MRN: 4242\nAcute gouty arthritis of the left great toe.\n")
    imported = run(root, "import", "--json", "--no-embed", str(note))
    assert imported.returncode == 0, imported.stderr
    record_id = next(line.split('"')[3] for line in imported.stdout.splitlines() if '"record_id"' in line)

    fill(small_disk, "filler")
    assert os.statvfs(small_disk).f_bavail < 64

    # reading: status, search, show work on the full disk
    status = run(root, "status")
    assert status.returncode == 0, status.stderr
    found = run(root, "search", "gouty", "--mode", "fts")
    assert found.returncode == 0, found.stderr
    assert record_id in found.stdout
    shown = run(root, "show", record_id)
    assert shown.returncode == 0, shown.stderr
    assert "gouty arthritis" in shown.stdout

    # writing: refused with the human message and exit 2, nothing lost
    second = tmp_path / "anaemia.txt"
    second.write_text("Iron deficiency anaemia, ferritin low.\n")
    refused = run(root, "import", "--no-embed", str(second))
    assert refused.returncode == 2, refused.stderr
    assert FULL in refused.stderr and AGAIN in refused.stderr
    assert "unexpected internal error" not in refused.stderr
    assert second.exists()

    # whatever space is left filled too: any command now fails plainly, never as an internal error
    fill(small_disk, "filler2")
    for args, user, passphrase in (
        (("patient", "add", "--mrn", "D-1", "--name", "Dora Disk", "--dob", "1970-01-01", "--sex", "F"),
         "admin", ADMIN_PASS),
        (("status",), "tess", TECH_PASS),
    ):
        result = run(root, *args, user=user, passphrase=passphrase)
        assert "unexpected internal error" not in result.stderr, result.stderr
        if result.returncode != 0:
            assert result.returncode == 2 and FULL in result.stderr and AGAIN in result.stderr, result.stderr

    # space freed: the same commands work again, and nothing was lost
    (small_disk / "filler").unlink()
    (small_disk / "filler2").unlink()
    again = run(root, "import", "--json", "--no-embed", str(second))
    assert again.returncode == 0, again.stderr
    verify = run(root, "verify", user="admin", passphrase=ADMIN_PASS)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert run(root, "show", record_id).returncode == 0
