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


REKEY_KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {repo!r})
    import vault.db
    from archive.login import open_session
    from archive.keys import rotate_key
    phase = {phase!r}
    real_rekey, real_empty = vault.db.rekey_index, vault.db.empty_log
    def die():
        print("killed", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    def rekey(db, key):
        if phase == "before_rekey":
            die()
        real_rekey(db, key)
        if phase == "after_checkpoint":  # rekeyed and checkpointed; index.key.age still the old key
            die()
    def empty(db):
        if phase == "before_checkpoint":  # the rekey committed, its pages only in the WAL
            die()
        real_empty(db)
    vault.db.rekey_index, vault.db.empty_log = rekey, empty
    s = open_session({root!r}, "admin", {pw!r})
    rotate_key(s)
    print("finished", flush=True)
    """
)


@pytest.mark.parametrize("phase", ["before_rekey", "before_checkpoint", "after_checkpoint"])
def test_kill_9_around_the_index_rekey_then_rerun(fresh_vault, phase: str) -> None:  # type: ignore[no-untyped-def]
    """A rotation killed just before, during or just after `PRAGMA rekey`: the vault opens, the rerun finishes,
    and then only the new index key opens the index."""
    from sqlcipher3 import dbapi2 as sqlcipher

    from archive.backup import backup_vault
    from archive.keys import rotate_key
    from archive.login import open_session
    from vault.errors import BadInput

    session = fresh_vault.session
    blobs = _fill(session, 5)
    old_key = session.unlocked.index_key
    users_before = session.store.users.all()
    session.close()

    script = REKEY_KILL_SCRIPT.format(repo=str(REPO), root=str(fresh_vault.root), pw=ADMIN_PASS, phase=phase)
    proc = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, timeout=120)
    assert proc.stdout.strip() == "killed" and proc.returncode == -signal.SIGKILL

    mid = open_session(fresh_vault.root, "admin", ADMIN_PASS)  # opens with whichever key the index has
    assert mid.store.users.all() == users_before
    with pytest.raises(BadInput, match="rotation is unfinished"):  # it could not carry the new index key
        backup_vault(mid, fresh_vault.root.parent / "backup")
    report = rotate_key(mid)
    assert report.resumed
    assert report.index_rekeyed == (phase in ("before_rekey",))
    new_key = mid.unlocked.index_key
    assert new_key != old_key
    for blob_id, data in blobs.items():
        assert mid.blobs.get_bytes(blob_id) == data
    assert mid.audit_log.verify().ok
    mid.close()

    def opens(key: bytes) -> bool:
        conn = sqlcipher.connect(str(fresh_vault.root / "index.db"))
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return True
        except sqlcipher.DatabaseError:
            return False
        finally:
            conn.close()

    assert opens(new_key) and not opens(old_key)
    again = open_session(fresh_vault.root, "admin", ADMIN_PASS)
    assert again.unlocked.index_key == new_key
    assert not (fresh_vault.root / "rotation").exists()
    again.close()
