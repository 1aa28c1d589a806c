"""Backup while importing, then restore: every record, bit-identical originals, same search, intact audit."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import TECH_PASS

CANARY = "CANARY-backup-7c1e0d"


def _notes(folder: Path, start: int, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        p = folder / f"MRN{1000 + i % 7}__note{i}.txt"
        p.write_text(f"MRN: MRN{1000 + i % 7}\nProgress note {i}. Patient reports zorbicillin{i} rash. {CANARY}\n")
        paths.append(p)
    return paths


def _records(session) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {r["id"]: r["blob_id"] for r in session.db.query("SELECT id, blob_id FROM records")}


def _search(session, q: str) -> list[str]:  # type: ignore[no-untyped-def]
    from archive.search import search_records

    return [h.record_id for h in search_records(session, q, limit=50)]


def _cli(root: Path, *args: str):  # type: ignore[no-untyped-def]
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": "tess", "CHARTVAULT_PASSPHRASE": TECH_PASS}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.mark.parametrize("kind", ["folder", "tar"])
def test_backup_during_import_then_restore(shared_vault, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    from archive.backup import backup_vault, restore_backup
    from archive.intake import import_paths
    from archive.login import open_session
    from archive.records import export_original

    importer = shared_vault.open("tess", TECH_PASS)
    backer = shared_vault.open("tess", TECH_PASS)
    import_paths(importer, _notes(tmp_path / "first", 0, 10))
    later = _notes(tmp_path / "later", 10, 40)
    dest = tmp_path / ("backup.tar" if kind == "tar" else "backup")

    def keep_importing() -> None:
        for path in later:
            import_paths(importer, [path])

    worker = threading.Thread(target=keep_importing)
    worker.start()
    first = backup_vault(backer, dest)  # while the import runs
    worker.join()
    assert first.files_total > 10
    second = backup_vault(backer, dest)  # incremental: only what changed
    assert second.files_copied < second.files_total
    always = 3 + len([p for p in (shared_vault.root / "keys").iterdir() if p.suffix in (".age", ".pub")])
    assert second.files_copied <= (second.files_total - first.files_total) + always  # only new blobs + keys

    # nothing in the clear in the backup
    found = subprocess.run(["grep", "-r", "-l", CANARY, str(dest)], capture_output=True, text=True)
    assert found.stdout == "", found.stdout

    result = _cli(shared_vault.root, "backup", "verify", str(dest))
    assert result.exit_code == 0, result.output

    restored = tmp_path / "restored"
    check = restore_backup(dest, restored, "tess", TECH_PASS)
    assert check.ok and check.audit_summary.startswith("intact")
    original_records = _records(backer)
    new = open_session(restored, "tess", TECH_PASS)
    try:
        assert _records(new) == original_records
        for rid in list(original_records)[:5]:
            a, b = tmp_path / f"{rid}.a", tmp_path / f"{rid}.b"
            export_original(backer, rid, a)
            export_original(new, rid, b)
            assert a.read_bytes() == b.read_bytes()
        for q in ("zorbicillin17", "rash", "progress note"):
            assert _search(new, q) == _search(backer, q)
        assert new.audit_log.verify().ok
        assert any(e.action == "restore" for e in new.audit_log.entries(action="restore"))
    finally:
        new.close()
    assert any(e.action == "backup" for e in backer.audit_log.entries(action="backup"))
    importer.close()
    backer.close()


def test_corrupt_backup_is_detected(shared_vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dest = tmp_path / "b"
    assert _cli(shared_vault.root, "backup", str(dest)).exit_code == 0
    blob = sorted((dest / "objects").glob("??/*.age"))[0]
    raw = bytearray(blob.read_bytes())
    raw[-5] ^= 0x55
    blob.write_bytes(bytes(raw))
    result = _cli(shared_vault.root, "backup", "verify", str(dest))
    assert result.exit_code == 4, result.output
    assert blob.stem in result.output
    result = _cli(shared_vault.root, "restore", str(dest), "--to", str(tmp_path / "r"))
    assert result.exit_code == 4
    assert "failed its checks" in result.output


def test_backup_refuses_a_non_backup_folder(shared_vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "holiday.jpg").write_bytes(b"x")
    result = _cli(shared_vault.root, "backup", str(tmp_path / "stuff"))
    assert result.exit_code == 2 and "not empty" in result.output
