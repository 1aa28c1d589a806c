"""A crafted backup, as an attacker would build it, never writes outside the restore target.

The manifest is not authenticated yet (that needs signing keys, issue 15), so an
attacker can list any name in it; these tests rewrite it along with the archive.
Each one checks the exit code (4), that the message names the bad member, and
that the would-be path outside the target was never written.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import TECH_PASS

PAYLOAD = b"written by a crafted backup\n"


def _cli(root: Path, *args: str):  # type: ignore[no-untyped-def]
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": "tess", "CHARTVAULT_PASSPHRASE": TECH_PASS}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture(scope="module")
def good_backups(shared_vault, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    from archive.intake import import_paths

    notes = tmp_path_factory.mktemp("notes")
    note = notes / "MRN1001__note.txt"
    note.write_text("MRN: MRN1001\nProgress note. Patient well.\n")
    import_paths(shared_vault.open("tess", TECH_PASS), [note])
    base = tmp_path_factory.mktemp("good")
    made = {"tar": base / "good.tar", "folder": base / "good"}
    for dest in made.values():
        result = _cli(shared_vault.root, "backup", str(dest))
        assert result.exit_code == 0, result.output
    return made


def _manifest_of_tar(path: Path) -> dict[str, Any]:
    with tarfile.open(path) as tar:
        fh = tar.extractfile([m for m in tar.getmembers() if m.name == "manifest.json"][-1])
        assert fh is not None
        return dict(json.loads(fh.read()))


def _crafted_tar(good: Path, where: Path, members: list[tarfile.TarInfo], listed: list[str]) -> Path:
    """A copy of `good` with `members` appended and a new manifest that also lists `listed`."""
    where.mkdir(parents=True, exist_ok=True)
    crafted = where / "crafted.tar"
    shutil.copyfile(good, crafted)
    manifest = _manifest_of_tar(good)
    for name in listed:
        manifest["files"][name] = {"size": len(PAYLOAD), "mtime_ns": 0}
    with tarfile.open(crafted, "a") as tar:
        for info in members:
            tar.addfile(info, io.BytesIO(PAYLOAD) if info.isfile() else None)
        raw = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return crafted


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(PAYLOAD)
    return info


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def _assert_refused(result, member: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 4, result.output
    assert member in result.output, result.output
    assert "Traceback" not in result.output
    assert "Do not use this backup" in result.output


def _verify_and_restore_refused(root: Path, crafted: Path, member: str, would_be: list[Path]) -> None:
    target = crafted.parent / "deep" / "restored"
    _assert_refused(_cli(root, "backup", "verify", str(crafted)), member)
    _assert_refused(_cli(root, "restore", str(crafted), "--to", str(target)), member)
    for path in would_be:
        assert not os.path.lexists(path), f"{path} was written"
    assert not target.exists(), "a refused restore created its target"
    assert not [p for p in crafted.parent.iterdir() if p.name.startswith(".chartvault-verify-")]


def test_dot_dot_member_is_refused(shared_vault, good_backups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # verify lays out in <dir>/.chartvault-verify-*/vault and restore in <dir>/deep/restored:
    # three '..' from either lands in tmp_path.
    name = "../../../pwned-dots"
    crafted = _crafted_tar(good_backups["tar"], tmp_path / "in", [_file(name)], [name])
    _verify_and_restore_refused(shared_vault.root, crafted, name, [tmp_path / "pwned-dots"])


def test_dot_dot_inside_a_vault_like_name_is_refused(shared_vault, good_backups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = "keys/../../../pwned-keys.pub"
    crafted = _crafted_tar(good_backups["tar"], tmp_path / "in", [_file(name)], [name])
    _verify_and_restore_refused(shared_vault.root, crafted, name, [tmp_path / "pwned-keys.pub"])


def test_absolute_member_is_refused(shared_vault, good_backups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = str(tmp_path / "pwned-abs")
    crafted = _crafted_tar(good_backups["tar"], tmp_path / "in", [_file(name)], [name])
    _verify_and_restore_refused(shared_vault.root, crafted, name, [tmp_path / "pwned-abs"])


def test_symlink_member_is_refused(shared_vault, good_backups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "outside"
    outside.mkdir()
    crafted = _crafted_tar(
        good_backups["tar"], tmp_path / "in",
        [_link("inbox", str(outside), tarfile.SYMTYPE), _file("inbox/pwned-link.age")], [],
    )
    _verify_and_restore_refused(shared_vault.root, crafted, "inbox", [outside / "pwned-link.age"])


def test_hardlink_member_is_refused(shared_vault, good_backups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    name = "keys/mallory.pub"
    crafted = _crafted_tar(good_backups["tar"], tmp_path / "in", [_link(name, str(victim), tarfile.LNKTYPE)], [])
    _verify_and_restore_refused(shared_vault.root, crafted, name, [])
    assert victim.read_text() == "keep me\n"


def test_unexpected_name_is_refused(shared_vault, good_backups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = "autorun.sh"
    crafted = _crafted_tar(good_backups["tar"], tmp_path / "in", [_file(name)], [])
    _verify_and_restore_refused(shared_vault.root, crafted, name, [])


def test_folder_backup_with_dot_dot_in_its_manifest_is_refused(shared_vault, good_backups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crafted = tmp_path / "in" / "crafted"
    shutil.copytree(good_backups["folder"], crafted, symlinks=True)
    (tmp_path / "in" / "payload.age").write_bytes(PAYLOAD)
    manifest = json.loads((crafted / "manifest.json").read_text())
    name = "../payload.age"
    manifest["files"][name] = {"size": len(PAYLOAD), "mtime_ns": 0}
    (crafted / "manifest.json").write_text(json.dumps(manifest))
    # restore lays out in in/deep/restored: '../payload.age' would land in in/deep/
    _verify_and_restore_refused(shared_vault.root, crafted, name, [tmp_path / "in" / "deep" / "payload.age"])


def test_folder_backup_with_a_symlinked_file_is_refused(shared_vault, good_backups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crafted = tmp_path / "in" / "crafted"
    shutil.copytree(good_backups["folder"], crafted, symlinks=True)
    pub = crafted / "keys" / "tess.pub"
    elsewhere = tmp_path / "elsewhere.pub"
    shutil.move(pub, elsewhere)
    pub.symlink_to(elsewhere)  # same bytes, read through a link: never followed
    _verify_and_restore_refused(shared_vault.root, crafted, "keys/tess.pub", [])


def test_manifest_naming_a_file_twice_is_refused(shared_vault, good_backups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    crafted = tmp_path / "in" / "crafted"
    shutil.copytree(good_backups["folder"], crafted, symlinks=True)
    text = (crafted / "manifest.json").read_text()
    entry = '"keys/tess.pub": {'
    assert entry in text
    text = text.replace(entry, '"keys/tess.pub": {"size": 1, "mtime_ns": 0}, ' + entry, 1)
    (crafted / "manifest.json").write_text(text)
    result = _cli(shared_vault.root, "backup", "verify", str(crafted))
    assert result.exit_code == 4, result.output
    assert "unreadable" in result.output


@pytest.mark.parametrize("kind", ["tar", "folder"])
def test_good_backup_still_verifies_and_restores(shared_vault, good_backups, tmp_path: Path, kind: str) -> None:  # type: ignore[no-untyped-def]
    result = _cli(shared_vault.root, "backup", "verify", str(good_backups[kind]))
    assert result.exit_code == 0, result.output
    result = _cli(shared_vault.root, "restore", str(good_backups[kind]), "--to", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "index.db").exists()


def test_restore_into_a_non_empty_folder_is_refused(shared_vault, good_backups, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "busy"
    target.mkdir()
    (target / "mine.txt").write_text("keep\n")
    result = _cli(shared_vault.root, "restore", str(good_backups["tar"]), "--to", str(target))
    assert result.exit_code == 2, result.output
    assert "not empty" in result.output
    assert sorted(p.name for p in target.iterdir()) == ["mine.txt"]
    assert "it holds mine.txt" in result.output and "nothing was written" in result.output
    # over a live vault: refused too, and the vault is untouched
    before = {p: p.stat().st_mtime_ns for p in shared_vault.root.rglob("*") if p.is_file()}
    result = _cli(shared_vault.root, "restore", str(good_backups["folder"]), "--to", str(shared_vault.root))
    assert result.exit_code == 2, result.output
    assert "it holds a chartvault vault" in result.output
    assert {p: p.stat().st_mtime_ns for p in before if p.exists()} == before
