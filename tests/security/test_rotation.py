"""Key rotation: every file re-encrypted, old identity and removed users locked out, crash-safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASS, REPO, TECH_PASS
from vault.errors import NotFound, TamperDetected
from vault.keys import Identity
from vault.store import BlobStore


def _decrypts_with(path: Path, identity: Identity) -> bool:
    from pyrage import DecryptError, decrypt

    try:
        decrypt(path.read_bytes(), [identity.age_identity()])
        return True
    except DecryptError:
        return False


def _age_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.age") if "keys" not in p.parts and "rotation" not in p.parts]


def _fill(session, n: int, size: int = 2000) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    blobs = {}
    for i in range(n):
        data = f"note {i} ".encode() * (size // 8)
        blobs[session.blobs.put_bytes(data).blob_id] = data
    return blobs


def test_rotate_and_remove_user(fresh_vault) -> None:  # type: ignore[no-untyped-def]
    from archive.keys import remove_user
    from archive.login import open_session
    from archive.users import add_user

    session = fresh_vault.session
    add_user(session, "tess", "technician", TECH_PASS)
    tess_slot = (fresh_vault.root / "keys" / "tess.age").read_bytes()
    tess_grant = (fresh_vault.root / "keys" / "tess.grant.age").read_bytes()
    blobs = _fill(session, 20)
    old = session.unlocked.identity

    report = remove_user(session, "tess", rotate=True)
    assert report is not None and report.files_reencrypted >= 21  # blobs + index key + audit head
    new = session.unlocked.identity
    assert new.recipient != old.recipient
    for path in _age_files(fresh_vault.root):
        assert _decrypts_with(path, new), path
        assert not _decrypts_with(path, old), path
    for blob_id, data in blobs.items():
        assert session.blobs.get_bytes(blob_id) == data
    assert not (fresh_vault.root / "rotation").exists()
    assert session.audit_log.verify().ok

    # tess kept copies of her slot and grant: they yield only the retired identity
    (fresh_vault.root / "keys" / "tess.age").write_bytes(tess_slot)
    (fresh_vault.root / "keys" / "tess.grant.age").write_bytes(tess_grant)
    with pytest.raises((TamperDetected, NotFound)):
        open_session(fresh_vault.root, "tess", TECH_PASS)
    for name in ("tess.age", "tess.grant.age"):
        (fresh_vault.root / "keys" / name).unlink()

    # the admin (re-granted without their passphrase being asked) still gets in
    again = open_session(fresh_vault.root, "admin", ADMIN_PASS)
    try:
        assert again.unlocked.identity == new
        assert again.audit_log.verify().ok
    finally:
        again.close()


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from archive.login import open_session
    from archive.keys import rotate_key
    s = open_session({root!r}, "admin", {pw!r})
    def progress(done, total):
        if done == total // 3:
            print("started", flush=True)
    rotate_key(s, progress)
    print("finished", flush=True)
    """
)


def test_kill_9_during_rotation_then_rerun(fresh_vault) -> None:  # type: ignore[no-untyped-def]
    from archive.keys import rotate_key
    from archive.login import open_session

    session = fresh_vault.session
    blobs = _fill(session, 150, size=20000)
    old = session.unlocked.identity
    session.close()

    script = KILL_SCRIPT.format(repo=str(REPO), root=str(fresh_vault.root), pw=ADMIN_PASS)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (fresh_vault.root / "rotation" / "state.json").exists(), "killed too late to test a resume"

    # mid-rotation the vault is readable: a new session reads every blob
    mid = open_session(fresh_vault.root, "admin", ADMIN_PASS)
    for blob_id, data in list(blobs.items())[:10]:
        assert mid.blobs.get_bytes(blob_id) == data
    report = rotate_key(mid)
    assert report.resumed
    new = mid.unlocked.identity
    store = BlobStore(mid.blobs.root, new, mid.blobs._id_key)
    for blob_id, data in blobs.items():
        assert store.get_bytes(blob_id) == data
    for path in _age_files(fresh_vault.root):
        assert _decrypts_with(path, new), path
        assert not _decrypts_with(path, old), path
    assert not any(p.name.endswith(".tmp") for p in fresh_vault.root.rglob("*"))
    assert mid.audit_log.verify().ok
    mid.close()
