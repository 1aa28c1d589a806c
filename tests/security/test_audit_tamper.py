"""Tampering with the audit log through SQLCipher directly, then `chartvault audit verify`:
exit 4 naming the first bad entry, for edit, delete, insert, reorder and tail truncation.

Each test tampers a copy of one prepared vault (opened with the vault identity,
so only the CLI pays for an unlock).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import ADMIN_PASS, VaultTemplate


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("tamper") / "vault"
    session: Any = admin_vault_template.copy(root).session
    for i in range(6):
        session.audit("view_record", record=f"r{i}", patient="MRN-1")
    session.audit_log.write_head()
    session.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield session
    session.close()


def _copy(prepared: Any, tmp_path: Path) -> tuple[Path, Any]:
    """A copy of the prepared vault and an open SQLCipher connection to its index."""
    from vault.vault import Vault

    root = tmp_path / "vault"
    shutil.copytree(prepared.vault.root, root)
    unlocked = Vault.open(root).unlock_with_identity(prepared.unlocked.identity)
    return root, unlocked


def _verify(root: Path, *args: str) -> Any:
    from archive.cli import cli

    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": "admin", "CHARTVAULT_PASSPHRASE": ADMIN_PASS}
    return CliRunner().invoke(cli, ["audit", "verify", *args], env=env, catch_exceptions=False)


def _rows(db: Any, where: str = "1") -> list[dict[str, Any]]:
    cur = db.execute(f"SELECT * FROM audit WHERE {where} ORDER BY seq")
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _insert(db: Any, row: dict[str, Any]) -> None:
    cols = ", ".join(row)
    db.execute(f"INSERT INTO audit ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))


def test_intact_log_verifies(prepared: Any, tmp_path: Path) -> None:
    root, unlocked = _copy(prepared, tmp_path)
    unlocked.close()
    result = _verify(root)
    assert result.exit_code == 0, result.output
    assert "Audit chain intact:" in result.output


def test_edit_exit_4_names_entry(prepared: Any, tmp_path: Path) -> None:
    root, unlocked = _copy(prepared, tmp_path)
    unlocked.db.execute("UPDATE audit SET patient = 'MRN-2' WHERE seq = 4")
    unlocked.close()
    result = _verify(root)
    assert result.exit_code == 4
    assert "Audit chain broken at entry 4: entry 4 was altered" in result.output
    assert "Traceback" not in result.output


def test_delete_exit_4_names_entry(prepared: Any, tmp_path: Path) -> None:
    root, unlocked = _copy(prepared, tmp_path)
    unlocked.db.execute("DELETE FROM audit WHERE seq = 3")
    unlocked.close()
    result = _verify(root)
    assert result.exit_code == 4
    assert "Audit chain broken at entry 4: entry 4 is out of place: expected entry 3" in result.output


def test_insert_exit_4_names_entry(prepared: Any, tmp_path: Path) -> None:
    root, unlocked = _copy(prepared, tmp_path)
    db = unlocked.db
    later = _rows(db, "seq >= 3")
    db.execute("DELETE FROM audit WHERE seq >= 3")
    forged = dict(later[0], record="forged", mac="ab" * 32)  # without the key, no valid mac
    for row in [forged] + [dict(r, seq=r["seq"] + 1) for r in later]:
        _insert(db, row)
    unlocked.close()
    result = _verify(root, "--json")
    assert result.exit_code == 4
    report = json.loads(result.output[: result.output.rindex("}") + 1])
    assert report["ok"] is False and report["first_bad_seq"] == 3
    assert "Audit chain broken at entry 3: entry 3 was altered" in result.output


def test_reorder_exit_4_names_entry(prepared: Any, tmp_path: Path) -> None:
    root, unlocked = _copy(prepared, tmp_path)
    db = unlocked.db
    db.execute("UPDATE audit SET seq = -1 WHERE seq = 3")
    db.execute("UPDATE audit SET seq = 3 WHERE seq = 4")
    db.execute("UPDATE audit SET seq = 4 WHERE seq = -1")
    unlocked.close()
    result = _verify(root)
    assert result.exit_code == 4
    assert "Audit chain broken at entry 3: entry 3 does not follow entry 2" in result.output


def test_tail_truncation_exit_4_even_after_new_entries(prepared: Any, tmp_path: Path) -> None:
    root, unlocked = _copy(prepared, tmp_path)
    last = int(unlocked.db.execute("SELECT max(seq) FROM audit").fetchone()[0])
    unlocked.db.execute("DELETE FROM audit WHERE seq >= ?", [last - 1])
    unlocked.close()
    # The CLI's own login appends entries after the cut; the unlock saw the
    # head file ahead of the table and recorded that first, so it stays visible.
    result = _verify(root)
    assert result.exit_code == 4, result.output
    assert f"Audit chain broken at entry {last - 1}: entries {last - 1}..{last} were removed from the end" in (
        result.output
    )


def test_truncation_stays_reported_until_an_admin_acknowledges(prepared: Any, tmp_path: Path) -> None:
    from archive.audit_review import acknowledge, verify_audit
    from archive.login import _start
    from archive.status import verify_vault
    from vault.vault import Vault

    root, unlocked = _copy(prepared, tmp_path)
    unlocked.db.execute("DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)")
    unlocked.close()
    unlocked = Vault.open(root).unlock_with_identity(prepared.unlocked.identity, slot=prepared.unlocked.slot)
    session = _start(unlocked, "admin")
    try:
        session.audit("login")
        first = verify_audit(session)
        assert not first.ok and "removed from the end" in first.problem
        tamper = session.audit_log.entries(action="audit_tamper")
        assert len(tamper) == 1 and tamper[0].flagged
        assert not verify_audit(session).ok  # appending more does not hide it
        assert not verify_vault(session).audit_ok  # nor does the whole-vault check
        acknowledge(session, tamper[0].seq, note="restored from backup; investigated")
        assert verify_audit(session).ok and verify_vault(session).audit_ok
        failures = [e for e in session.audit_log.entries(action="audit_verify") if e.outcome == "failed"]
        assert len(failures) == 2 and all(e.flagged for e in failures)
    finally:
        session.close()


def test_missing_head_file_is_reported(prepared: Any, tmp_path: Path) -> None:
    from archive.audit import HEAD_FILE

    root, unlocked = _copy(prepared, tmp_path)
    unlocked.close()
    (root / HEAD_FILE).unlink()
    result = _verify(root)
    assert result.exit_code == 4
    assert "the saved head (audit.head.age) is missing" in result.output
