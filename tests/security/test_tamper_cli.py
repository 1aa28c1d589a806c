"""`chartvault verify` names corrupt or swapped blobs and exits 4; index tampering is caught."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import ADMIN_PASS


def _verify(root: Path):  # type: ignore[no-untyped-def]
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": "admin", "CHARTVAULT_PASSPHRASE": ADMIN_PASS}
    return CliRunner().invoke(cli, ["verify"], env=env)


def test_verify_names_corrupt_and_swapped_blobs(fresh_vault) -> None:  # type: ignore[no-untyped-def]
    store = fresh_vault.session.blobs
    good = store.put_bytes(b"intact note")
    bad = store.put_bytes(b"note that will be corrupted" * 50)
    a = store.put_bytes(b"note A")
    b = store.put_bytes(b"note B")
    fresh_vault.session.close()
    assert _verify(fresh_vault.root).exit_code == 0

    path = store.path_of(bad.blob_id)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    pa, pb = store.path_of(a.blob_id), store.path_of(b.blob_id)
    tmp = pa.with_suffix(".swap")
    shutil.move(pa, tmp)
    shutil.move(pb, pa)
    shutil.move(tmp, pb)

    result = _verify(fresh_vault.root)
    assert result.exit_code == 4
    assert bad.blob_id in result.output and a.blob_id in result.output and b.blob_id in result.output
    assert good.blob_id not in result.output
    assert "Vault verification failed: 3 problems found." in result.output
    assert "Traceback" not in result.output


def test_replaced_index_is_an_integrity_error(fresh_vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fresh_vault.session.close()
    index = fresh_vault.root / "index.db"
    for extra in ("-wal", "-shm"):
        Path(str(index) + extra).unlink(missing_ok=True)
    index.write_bytes(b"\x00" * 4096)
    result = _verify(fresh_vault.root)
    assert result.exit_code == 4
    assert "index.db cannot be opened" in result.output


def test_a_broken_audit_chain_alone_is_named_with_what_to_do(fresh_vault) -> None:  # type: ignore[no-untyped-def]
    """Every blob intact, the audit head deleted: the error named '0 problems' and said to restore 'the named
    files', none being named."""
    fresh_vault.session.close()
    (fresh_vault.root / "audit.head.age").unlink()
    result = _verify(fresh_vault.root)
    assert result.exit_code == 4
    assert "0 problems found" not in result.output
    assert "Vault verification failed: the audit chain is broken." in result.output
    assert "Keep this copy of the vault folder as evidence" in result.output
    assert "Traceback" not in result.output
