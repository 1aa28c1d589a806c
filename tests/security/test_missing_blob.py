"""A deleted blob is found: `verify` and `backup verify` check every blob a record references exists.

Decrypting what is on disk cannot notice a file that is gone; an attacker with
file access deletes one original (and, in a backup, its manifest line too).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import TECH_PASS


def _cli(root: Path, *args: str):  # type: ignore[no-untyped-def]
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": "tess", "CHARTVAULT_PASSPHRASE": TECH_PASS}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def vault_with_a_record(users_vault_template, tmp_path: Path):  # type: ignore[no-untyped-def]
    from archive.intake import import_paths

    fx = users_vault_template.copy(tmp_path / "v")
    note = tmp_path / "MRN1001__note.txt"
    note.write_text("MRN: MRN1001\nProgress note. Patient well.\n")
    session = fx.open("tess", TECH_PASS)
    import_paths(session, [note])
    record_id, blob_id = next((r["id"], r["blob_id"]) for r in session.db.query("SELECT id, blob_id FROM records"))
    session.close()
    yield fx, record_id, blob_id
    fx.session.close()


def _blob(root: Path, blob_id: str) -> Path:
    return root / "objects" / blob_id[:2] / f"{blob_id}.age"


def test_verify_finds_a_deleted_original(vault_with_a_record) -> None:  # type: ignore[no-untyped-def]
    fx, record_id, blob_id = vault_with_a_record
    assert _cli(fx.root, "verify").exit_code == 0
    _blob(fx.root, blob_id).unlink()
    result = _cli(fx.root, "verify")
    assert result.exit_code == 4, result.output
    assert f"record {record_id}: its original objects/{blob_id[:2]}/{blob_id}.age is missing" in result.output
    assert "Restore the named files from a backup." in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("kind", ["folder", "tar"])
def test_backup_verify_and_restore_find_a_blob_removed_with_its_manifest_line(  # type: ignore[no-untyped-def]
    vault_with_a_record, tmp_path: Path, kind: str
) -> None:
    import shutil
    import tarfile

    fx, record_id, blob_id = vault_with_a_record
    rel = f"objects/{blob_id[:2]}/{blob_id}.age"
    good = tmp_path / "good"
    assert _cli(fx.root, "backup", str(good)).exit_code == 0
    manifest = json.loads((good / "manifest.json").read_text())
    del manifest["files"][rel]
    (good / rel).unlink()
    (good / "manifest.json").write_text(json.dumps(manifest))
    src = good
    if kind == "tar":  # the same backup as one archive an attacker rebuilt
        src = tmp_path / "crafted.tar"
        with tarfile.open(src, "w") as tar:
            for path in sorted(p for p in good.rglob("*") if p.is_file()):
                tar.add(path, arcname=path.relative_to(good).as_posix(), recursive=False)
        shutil.rmtree(good)
    result = _cli(fx.root, "backup", "verify", str(src))
    assert result.exit_code == 4, result.output
    assert f"record {record_id}: its original {rel} is missing" in result.output
    result = _cli(fx.root, "restore", str(src), "--to", str(tmp_path / "r"))
    assert result.exit_code == 4, result.output
    assert "failed its checks" in result.output and record_id in result.output


def test_show_of_a_record_whose_blob_was_deleted_is_an_integrity_failure(vault_with_a_record) -> None:  # type: ignore[no-untyped-def]
    fx, record_id, _ = vault_with_a_record
    session = fx.open("tess", TECH_PASS)
    text_blob = next(r[0] for r in session.db.execute("SELECT text_blob_id FROM records WHERE id = ?", [record_id]))
    session.close()
    assert _cli(fx.root, "show", record_id).exit_code == 0
    _blob(fx.root, text_blob).unlink()
    result = _cli(fx.root, "show", record_id)
    assert result.exit_code == 4, result.output  # not 2 ("you typed something wrong"): the vault lost a file
    assert f"objects/{text_blob[:2]}/{text_blob}.age is missing from the vault" in result.output
    assert "Traceback" not in result.output


def test_verify_and_backup_verify_find_a_deleted_quarantined_file(vault_with_a_record, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os

    fx, _, _ = vault_with_a_record
    junk = tmp_path / "in" / "junk.txt"
    junk.parent.mkdir()
    junk.write_bytes(os.urandom(2048))
    assert _cli(fx.root, "import", str(junk.parent), "--no-embed").exit_code == 0
    held = [p for p in (fx.root / "quarantine").rglob("*.age")]
    assert len(held) == 1
    assert _cli(fx.root, "verify").exit_code == 0
    good = tmp_path / "good"
    assert _cli(fx.root, "backup", str(good)).exit_code == 0

    held[0].unlink()
    result = _cli(fx.root, "verify")
    assert result.exit_code == 4, result.output
    assert f"quarantine/{held[0].parent.name}/{held[0].name} is missing" in result.output

    rel = held[0].relative_to(fx.root).as_posix()
    manifest = json.loads((good / "manifest.json").read_text())
    del manifest["files"][rel]
    (good / rel).unlink()
    (good / "manifest.json").write_text(json.dumps(manifest))
    result = _cli(fx.root, "backup", "verify", str(good))
    assert result.exit_code == 4, result.output
    assert f"{rel} is missing" in result.output
