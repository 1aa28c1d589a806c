"""vault.backup.is_backup_name: every name a real vault's backup carries, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from vault.backup import _vault_files, is_backup_name

BLOB = "ab" + "0" * 62


def test_every_file_a_vault_backs_up_has_an_accepted_name(shared_vault) -> None:  # type: ignore[no-untyped-def]
    from archive.login import open_session
    from vault.errors import WrongPassphrase

    with pytest.raises(WrongPassphrase):  # leaves pending/failed-logins/<id>.age behind
        open_session(shared_vault.root, "tess", "not the passphrase at all")
    names = [rel for rel, _ in _vault_files(Path(shared_vault.root))]
    assert any(n.startswith("pending/failed-logins/") for n in names)
    assert any(n.startswith("keys/") and n.endswith(".grant.age") for n in names)
    assert [n for n in names if not is_backup_name(n)] == []


@pytest.mark.parametrize(
    "name",
    ["vault.json", "index.key.age", "audit.head.age", "index.db", "manifest.json",
     f"objects/ab/{BLOB}.age", f"quarantine/ab/{BLOB}.age", "pending/" + "c" * 32 + ".age",
     "keys/tess.age", "keys/tess.grant.age", "keys/dr.maria.pub"],
)
def test_vault_names_are_accepted(name: str) -> None:
    assert is_backup_name(name)


@pytest.mark.parametrize(
    "name",
    ["../x", "/etc/passwd", "keys/../vault.json", "./vault.json", "objects/ab/../../x.age",
     f"objects/cd/{BLOB}.age", f"objects/ab/{BLOB}.age/x", f"/objects/ab/{BLOB}.age", "objects/ab/AB.age",
     "keys/Tess.pub", "keys/.hidden.age", "keys/a/b.pub", "keys/tess.json", "keys/attempts.json",
     "pending/x.age", "inbox/note.txt", "index.db-wal", "", "vault.json/", "objects\\ab\\x.age"],
)
def test_other_names_are_refused(name: str) -> None:
    assert not is_backup_name(name)
