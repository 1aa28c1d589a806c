"""Session 9 review: a medication's stop reason against an insider with SQL, and against an old copy.

A technician (tess) unlocks with her own passphrase, takes the index key and her signing key, and runs
SQL on index.db; or she holds a copy of the vault taken before a correction. Each test is one attack on
the stop reason of a signed chart entry (add, change, remove it; put the entry back to the version
without it; renumber or move a version) and shows `chartvault verify` exit 4 naming what was changed.

Before this session, putting an entry back to an older version it really had was not detected
(`current_version` is not signed), nor a version re-signed or written with SQL by its own writer; the
audit log now vouches for each version (archive.signed_rows.chart_problems).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import ADMIN_PASS, TECH_PASS

PASS = {"admin": ADMIN_PASS, "tess": TECH_PASS}
REASON = "lactic acidosis"


def _cli(root: Path, user: str, *args: str) -> Any:
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": user, "CHARTVAULT_PASSPHRASE": PASS[user]}
    return CliRunner().invoke(cli, list(args), env=env)


def _insider(root: Path) -> Any:
    """What tess holds after unlocking with her passphrase: index.db (writable) and her signing key."""
    from vault.vault import Vault

    return Vault.open(root).unlock("tess", TECH_PASS)


@pytest.fixture(scope="module")
def charted(users_vault_template: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(vault, old copy, entry id): tess charted metformin for MRN1001, the old copy was taken then, and she
    then corrected it (version 2) with a stop date and the stop reason; the vault verifies."""
    from archive.charts.entries import add_entry, correct_entry
    from archive.charts.patients import add_patient

    base = tmp_path_factory.mktemp("stop-reason")
    fx = users_vault_template.copy(base / "v")
    fx.session.close()
    session = fx.open("tess", TECH_PASS)
    add_patient(session, "MRN1001", "Ada Example", "1950-02-03", "F")
    entry = add_entry(session, "MRN1001", "medication", "Metformin 500 mg tablet", "2024-01-10")
    session.close()
    old = base / "old"
    shutil.copytree(fx.root, old)
    session = fx.open("tess", TECH_PASS)
    correct_entry(session, entry.id, "stopped at the March visit", stop="2024-03-01", status="stopped",
                  stop_reason=REASON)
    session.close()
    assert _cli(fx.root, "admin", "verify").exit_code == 0
    return fx.root, old, entry.id


@pytest.fixture
def vault(charted: tuple[Path, Path, str], tmp_path: Path) -> tuple[Path, Path, str]:
    root, old, entry_id = charted
    return shutil.copytree(root, tmp_path / "v"), old, entry_id


def _sql(root: Path, *statements: tuple[str, list[Any]]) -> None:
    unlocked = _insider(root)
    for sql, args in statements:
        unlocked.db.execute(sql, args)
    unlocked.db.conn.commit()
    unlocked.close()


def _verify_fails(root: Path, *expected: str) -> str:
    result = _cli(root, "admin", "verify")
    assert result.exit_code == 4, result.output
    for text in expected:
        assert text in result.output, result.output
    return str(result.output)


def _version_row(db: Any, entry_id: str, version: int) -> dict[str, Any]:
    rows = list(db.query("SELECT e.patient_mrn AS entry_patient, v.* FROM chart_entry_versions v"
                         " JOIN chart_entries e ON e.id = v.entry_id WHERE v.entry_id = ? AND v.version = ?",
                         [entry_id, version]))
    return rows[0]


def _resign(unlocked: Any, entry_id: str, version: int) -> None:
    """tess signs the row as it now stands with her own key (she wrote it: signer = created_by holds)."""
    from archive.signed_rows import version_message

    row = _version_row(unlocked.db, entry_id, version)
    unlocked.db.execute("UPDATE chart_entry_versions SET signer = 'tess', sig = ? WHERE entry_id = ? AND version = ?",
                        [unlocked.slot.signing.sign(version_message(row)), entry_id, version])


@pytest.mark.parametrize(("what", "version", "value"), [
    ("changed", 2, "patient request"),
    ("removed", 2, None),
    ("emptied", 2, ""),
    ("added to the version without one", 1, "patient request"),
])
def test_stop_reason_edited_with_sql_fails_verify(vault: tuple[Path, Path, str], what: str, version: int,
                                                   value: str | None) -> None:
    root, _old, entry_id = vault
    _sql(root, ("UPDATE chart_entry_versions SET stop_reason = ? WHERE entry_id = ? AND version = ?",
                [value, entry_id, version]))
    _verify_fails(root, f"chart entry {entry_id} version {version} (patient MRN1001): changed after tess signed it")


def test_entry_put_back_to_the_version_without_the_stop_reason_fails_verify(vault: tuple[Path, Path, str]) -> None:
    """current_version is not signed: set back to 1, the chart shows metformin as never stopped."""
    root, _old, entry_id = vault
    _sql(root, ("UPDATE chart_entries SET current_version = 1 WHERE id = ?", [entry_id]))
    _verify_fails(root, f"chart entry {entry_id}: version 1 is current but version 2 exists")


def test_newest_version_deleted_and_entry_put_back_fails_verify(vault: tuple[Path, Path, str]) -> None:
    """No trace left in the chart tables: the audit log's chart_correct entry still names version 2."""
    root, _old, entry_id = vault
    _sql(root, ("DELETE FROM chart_entry_versions WHERE entry_id = ? AND version = 2", [entry_id]),
         ("UPDATE chart_entries SET current_version = 1 WHERE id = ?", [entry_id]))
    _verify_fails(root, f"chart entry {entry_id}: version 2 is missing (the audit log records its saving")


def test_chart_tables_put_back_from_an_old_copy_fail_verify(vault: tuple[Path, Path, str]) -> None:
    """tess holds a copy of the vault from before the correction and puts its chart rows back, signatures and all."""
    from vault.vault import Vault

    root, old, entry_id = vault
    before = Vault.open(old).unlock("tess", TECH_PASS)
    entry = dict(next(iter(before.db.query("SELECT * FROM chart_entries WHERE id = ?", [entry_id]))))
    versions = [dict(r) for r in before.db.query("SELECT * FROM chart_entry_versions WHERE entry_id = ?", [entry_id])]
    before.close()
    assert [v["version"] for v in versions] == [1] and entry["current_version"] == 1
    unlocked = _insider(root)
    db = unlocked.db
    db.execute("DELETE FROM chart_entry_versions WHERE entry_id = ?", [entry_id])
    db.execute("DELETE FROM chart_entries WHERE id = ?", [entry_id])
    db["chart_entries"].insert(entry)
    db["chart_entry_versions"].insert_all(versions)
    db.conn.commit()
    unlocked.close()
    _verify_fails(root, f"chart entry {entry_id}: version 2 is missing")


def test_version_renumbered_or_moved_to_another_entry_fails_verify(vault: tuple[Path, Path, str]) -> None:
    root, _old, entry_id = vault
    _sql(root, ("UPDATE chart_entry_versions SET version = 3 WHERE entry_id = ? AND version = 2", [entry_id]),
         ("UPDATE chart_entries SET current_version = 3 WHERE id = ?", [entry_id]))
    _verify_fails(root, f"chart entry {entry_id} version 3 (patient MRN1001): changed after tess signed it")

    root2 = shutil.copytree(vault[1], root.parent / "moved")  # the old copy: the entry at version 1
    other = json.loads(_cli(root2, "tess", "chart", "add", "MRN1001", "--kind", "medication", "--text",
                            "Lisinopril 10 mg tablet", "--date", "2024-01-11", "--json").output)["id"]
    _sql(root2, ("UPDATE chart_entry_versions SET entry_id = ?, version = 2 WHERE entry_id = ? AND version = 1",
                 [other, entry_id]),
         ("UPDATE chart_entries SET current_version = 2 WHERE id = ?", [other]))
    _verify_fails(root2, f"chart entry {other} version 2 (patient MRN1001): changed after tess signed it")


def test_her_own_version_re_signed_with_another_stop_reason_fails_verify(vault: tuple[Path, Path, str]) -> None:
    """tess wrote version 2: she changes its stop reason and signs the row again with her own key."""
    root, _old, entry_id = vault
    unlocked = _insider(root)
    unlocked.db.execute("UPDATE chart_entry_versions SET stop_reason = 'patient request' WHERE entry_id = ?"
                        " AND version = 2", [entry_id])
    _resign(unlocked, entry_id, 2)
    unlocked.db.conn.commit()
    unlocked.close()
    _verify_fails(root, f"chart entry {entry_id} version 2 (patient MRN1001): not what tess saved")


@pytest.mark.parametrize("reason", [None, "patient request"])
def test_a_version_she_writes_and_signs_with_sql_fails_verify(vault: tuple[Path, Path, str],
                                                               reason: str | None) -> None:
    """A third version, signed by tess with her own key, that removes or changes the stop reason, never audited."""
    root, _old, entry_id = vault
    unlocked = _insider(root)
    row = _version_row(unlocked.db, entry_id, 2)
    del row["entry_patient"]
    row.update(version=3, stop_reason=reason, correction_reason="tidy up", signer=None, sig=None)
    unlocked.db["chart_entry_versions"].insert(row)
    unlocked.db.execute("UPDATE chart_entries SET current_version = 3 WHERE id = ?", [entry_id])
    _resign(unlocked, entry_id, 3)
    unlocked.db.conn.commit()
    unlocked.close()
    _verify_fails(root, f"chart entry {entry_id} version 3 (patient MRN1001): no audit entry records saving it")
