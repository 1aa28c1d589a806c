"""File modes (issue 15, finding 7): everything a vault or a backup holds is the owner's only.

Another account on the same machine (a shared workstation) reads whatever is 0644:
the attacker here is simply `stat`. Under the usual umask 022, every folder must
still be 0700 and every file 0600: the index and its -wal/-shm, vault.json,
keys, blobs, pending arrivals, failed-login notes, quarantine, backups (folder
and .tar) and a restored vault. `verify` warns about wider modes and says the fix.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import ADMIN_PASS

ENV = {"CHARTVAULT_USER": "admin", "CHARTVAULT_PASSPHRASE": ADMIN_PASS}


def _cli(root: Path, *args: str, passphrase: str = ADMIN_PASS):  # type: ignore[no-untyped-def]
    env = {**ENV, "CHARTVAULT_VAULT": str(root), "CHARTVAULT_PASSPHRASE": passphrase}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _loose(root: Path) -> list[str]:
    """Every path under `root` (and `root`) that group or others may use, with its mode."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root)} {mode:04o}")
    return found


def test_everything_a_vault_and_its_backups_hold_is_owner_only(umask_022, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from indexer.pending import write_pending
    from vault.vault import Vault

    root = tmp_path / "v"
    assert _cli(root, "init").exit_code == 0
    src = tmp_path / "in"
    src.mkdir()
    (src / "MRN7__note.txt").write_text("MRN: 7\nProgress note.\n")
    (src / "junk.txt").write_bytes(os.urandom(4096))  # quarantined
    result = _cli(root, "import", str(src), "--no-embed")
    assert result.exit_code == 0, result.output
    assert _cli(root, "status", passphrase="wrong passphrase here").exit_code != 0  # a failed-login note
    write_pending(root / "pending", Vault.open(root).recipient, {"name": "late.txt"}, b"MRN: 8\nlate arrival\n")
    (root / "inbox" / "dropped.txt").write_text("a user's own file")  # the user's: not ours to chmod
    assert list((root / "quarantine").rglob("*.age")) and list((root / "pending").rglob("*.age"))
    assert list((root / "pending" / "failed-logins").glob("*.age"))

    # while a session is open the index has its -wal and -shm: they too
    from archive.login import open_session

    session = open_session(root, "admin", ADMIN_PASS)
    try:
        assert (root / "index.db-wal").exists()
        loose = [p for p in _loose(root) if not p.startswith("inbox/")]
        assert loose == []
    finally:
        session.close()

    folder, tar, restored = tmp_path / "b", tmp_path / "bk" / "v.tar", tmp_path / "r"
    assert _cli(root, "backup", str(folder)).exit_code == 0
    assert _cli(root, "backup", str(tar)).exit_code == 0
    assert _cli(root, "backup", str(tar)).exit_code == 0  # incremental append keeps the mode
    result = _cli(root, "restore", str(folder), "--to", str(restored))
    assert result.exit_code == 0, result.output
    assert _loose(folder) == []
    assert _loose(tar.parent) == []
    assert _loose(restored) == []

    result = _cli(root, "verify")
    assert result.exit_code == 0 and "WARNING" not in result.output, result.output


def test_verify_warns_about_modes_others_may_read_and_says_the_fix(fresh_vault) -> None:  # type: ignore[no-untyped-def]
    root = fresh_vault.root
    os.chmod(root / "index.db", 0o644)  # as an older chartvault left it
    os.chmod(root / "vault.json", 0o644)
    os.chmod(root / "objects", 0o755)
    result = _cli(root, "verify")
    assert result.exit_code == 0, result.output  # a warning, not an integrity failure
    assert "WARNING index.db: mode 0644, others may read it (should be 0600)" in result.output
    assert "WARNING vault.json: mode 0644" in result.output
    assert "WARNING objects: mode 0755, others may read it (should be 0700)" in result.output
    assert f"fix: chmod -R go-rwx '{root}'" in result.output
    os.system(f"chmod -R go-rwx '{root}'")
    assert "WARNING" not in _cli(root, "verify").output
