"""Crash leftovers (issue 16, finding 7): kill -9 `backup` and `user add` at the moment they leave files behind.

A first `backup` killed while its index snapshot (`.index.db.*.tmp`) is in the destination must not block
the next run; a `user add` killed after its grant and public key were written must leave nothing that
`verify` does not name, and the same `user add` run again must work.
The kill is timed on the event (the file appearing), never on a guessed sleep. These run the real program
(slow); the quick versions below build the same leftovers by hand and run in CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASS, REPO, VaultFixture, VaultTemplate

NEW_PASS = "saffron glacier tumbler"


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Iterator[VaultFixture]:
    fx = users_vault_template.copy(tmp_path_factory.mktemp("vault") / "v")
    from archive.intake import import_paths

    src = tmp_path_factory.mktemp("notes")
    for i in range(60):
        (src / f"n{i:03d}.txt").write_text(f"Visit {i}: review of chronic cough, plan {i}.\n" * 40)
    import_paths(fx.session, [src], settle=0.0)  # type: ignore[arg-type]
    yield fx
    fx.session.close()  # type: ignore[attr-defined]


def _env(root: Path, user: str = "admin", passphrase: str = ADMIN_PASS) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": user,
            "CHARTVAULT_PASSPHRASE": passphrase, "CHARTVAULT_NEW_PASSPHRASE": NEW_PASS,
            "CHARTVAULT_EMBEDDER": "fake", "HF_HUB_OFFLINE": "1"}


def _cli(root: Path, *args: str, **kw: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], env=_env(root, **kw), capture_output=True,
                          text=True, timeout=300)


def _kill_when(cmd: list[str], env: dict[str, str], appeared: object, timeout: float = 120.0) -> bool:
    """Start `cmd`, kill -9 it as soon as `appeared()` is true; False if it finished first."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if appeared():  # type: ignore[operator]
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            if proc.poll() is not None:
                return False
            time.sleep(0.0005)  # polling for the file: the kill follows the event, not a guessed delay
        raise AssertionError("the command neither finished nor reached the moment to kill it")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_first_backup_killed_midway_does_not_block_the_next(vault: VaultFixture, tmp_path: Path) -> None:
    for attempt in range(5):
        dest = tmp_path / f"backup-{attempt}"
        killed = _kill_when(
            [sys.executable, "-m", "tui", "backup", str(dest)], _env(vault.root),
            lambda dest=dest: dest.is_dir() and any(dest.glob(".index.db.*.tmp")),
        )
        if killed:
            break
    else:
        pytest.fail("the backup always finished before its index snapshot could be seen: cannot test the kill")
    assert any(dest.glob(".index.db.*.tmp")) and not (dest / "manifest.json").exists()  # the state of the report
    again = _cli(vault.root, "backup", str(dest))
    assert again.returncode == 0, again.stdout + again.stderr
    assert not list(dest.rglob("*.tmp")), "the killed run's temp files are still there"
    checked = _cli(vault.root, "backup", "verify", str(dest))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    restored = _cli(vault.root, "restore", str(dest), "--to", str(tmp_path / "restored"))
    assert restored.returncode == 0, restored.stdout + restored.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_killed_user_add_leaves_no_unreported_orphans(vault: VaultFixture) -> None:
    keys = vault.root / "keys"
    killed = _kill_when(
        [sys.executable, "-m", "tui", "user", "add", "kim", "--role", "technician"], _env(vault.root),
        lambda: (keys / "kim.grant.age").exists(),
    )
    assert killed, "user add finished before its grant could be seen"
    leftovers = sorted(p.name for p in keys.glob("kim.*"))
    assert "kim.grant.age" in leftovers  # what the kill left
    report = _cli(vault.root, "verify")
    assert "Orphan key files of no user 'kim'" in report.stdout, report.stdout + report.stderr
    assert "keys/kim.grant.age" in report.stdout
    added = _cli(vault.root, "user", "add", "kim", "--role", "technician")
    assert added.returncode == 0, added.stdout + added.stderr
    status = _cli(vault.root, "status", user="kim", passphrase=NEW_PASS)
    assert status.returncode == 0, status.stdout + status.stderr
    clean = _cli(vault.root, "verify")
    assert clean.returncode == 0 and "Orphan" not in clean.stdout, clean.stdout + clean.stderr


def test_quick_backup_resumes_over_a_killed_first_run(vault: VaultFixture, tmp_path: Path) -> None:
    """What a first backup killed during its snapshot leaves: its temp index and journal, a few blobs copied."""
    from archive.backup import backup_vault, verify_backup

    dest = tmp_path / "b"
    (dest / "objects").mkdir(parents=True)
    (dest / ".index.db.0123456789ab.tmp").write_bytes(b"half a snapshot")
    (dest / ".index.db.0123456789ab.tmp-journal").write_bytes(b"journal")
    blob = next((vault.root / "objects").rglob("*.age"))
    (dest / "objects" / blob.parent.name).mkdir()
    (dest / "objects" / blob.parent.name / blob.name).write_bytes(blob.read_bytes())
    (dest / "objects" / blob.parent.name / f".{blob.name}.abcdefabcdef.tmp").write_bytes(b"partial copy")
    backup_vault(vault.session, dest)  # type: ignore[arg-type]
    assert not [p for p in dest.rglob(".*") if p.is_file()], "a killed run's temp files are still there"
    assert verify_backup(dest, "admin", ADMIN_PASS).ok


def test_quick_a_folder_of_other_things_is_still_refused(vault: VaultFixture, tmp_path: Path) -> None:
    from archive.backup import backup_vault
    from archive.errors import VaultExists

    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "index.db").write_bytes(b"someone else's database")
    with pytest.raises(VaultExists):
        backup_vault(vault.session, dest)  # type: ignore[arg-type]
    assert (dest / "index.db").read_bytes() == b"someone else's database"


def test_quick_orphan_keyslot_is_reported_and_replaced(vault: VaultFixture) -> None:
    """What `user add` killed after its grant and public key leaves: verify names them; a new add replaces them."""
    from archive.status import verify_vault
    from archive.users import add_user

    keys = vault.root / "keys"
    (keys / "lee.grant.age").write_bytes(b"age-encryption.org/v1 (a grant for a key never kept)")
    (keys / "lee.pub").write_text("age1xyz\n")
    report = verify_vault(vault.session)  # type: ignore[arg-type]
    assert report.orphans == {"lee": ["keys/lee.grant.age", "keys/lee.pub"]}
    assert report.to_json()["orphan_keyslots"] == {"lee": ["keys/lee.grant.age", "keys/lee.pub"]}
    add_user(vault.session, "lee", "technician", NEW_PASS)  # type: ignore[arg-type]
    assert verify_vault(vault.session).orphans == {}  # type: ignore[arg-type]
    assert (keys / "lee.pub").read_text().startswith("age1") and (keys / "lee.pub").read_text() != "age1xyz\n"
