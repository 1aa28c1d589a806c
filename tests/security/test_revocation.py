"""Real revocation (issue 15, finding 5): rotation re-keys the index; disabled users lose their grant.

The attacker is a technician who copied her keyslot, her grant and index.key.age
(all files she could read anyway) before she was disabled, or before a rotation.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import ADMIN_PASS, TECH_PASS


def _cli(root: Path, user: str, passphrase: str, *args: str):  # type: ignore[no-untyped-def]
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": user, "CHARTVAULT_PASSPHRASE": passphrase}
    return CliRunner().invoke(cli, list(args), env=env)


def _index_key_from_copies(keys: Path, user: str, passphrase: str, index_key_file: Path) -> bytes:
    """What the attacker does by hand: her passphrase -> her key -> the vault identity -> the index key."""
    from pyrage import decrypt, x25519
    from pyrage import passphrase as age_passphrase

    slot = (keys / f"{user}.age").read_bytes()
    # the slot's first line is the user's age key (the next one their signing key)
    user_key = x25519.Identity.from_str(age_passphrase.decrypt(slot, passphrase).decode().splitlines()[0])
    vault_key = x25519.Identity.from_str(decrypt((keys / f"{user}.grant.age").read_bytes(), [user_key]).decode())
    return decrypt(index_key_file.read_bytes(), [vault_key])[:32]


def _opens(db_path: Path, key: bytes) -> int | None:
    """The number of records the index at `db_path` shows with `key` (read-only copy), or None."""
    from sqlcipher3 import dbapi2 as sqlcipher

    conn = sqlcipher.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        return int(conn.execute("SELECT count(*) FROM users").fetchone()[0])
    except sqlcipher.DatabaseError:
        return None
    finally:
        conn.close()


@pytest.fixture
def vault(users_vault_template, tmp_path: Path):  # type: ignore[no-untyped-def]
    fx = users_vault_template.copy(tmp_path / "v")
    yield fx
    fx.session.close()


def test_old_keyslot_and_old_index_key_do_not_open_the_rotated_index(vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from archive.keys import rotate_key

    stolen = tmp_path / "stolen"
    shutil.copytree(vault.root / "keys", stolen / "keys")
    shutil.copy(vault.root / "index.key.age", stolen / "index.key.age")
    old_key = _index_key_from_copies(stolen / "keys", "tess", TECH_PASS, stolen / "index.key.age")
    assert _opens(vault.root / "index.db", old_key) == 3  # before: her copies read the live index

    report = rotate_key(vault.session)
    assert report.index_rekeyed and report.users_regranted == 3

    # the rotated index (with its log) no longer opens with what she kept
    assert _opens(vault.root / "index.db", old_key) is None
    # nor the main file alone: the rekey was checkpointed into it, so no page under the old key stays there
    alone = tmp_path / "alone" / "index.db"
    alone.parent.mkdir()
    shutil.copy(vault.root / "index.db", alone)
    assert _opens(alone, old_key) is None
    # and her old grant cannot open the new index.key.age either (the identity changed too)
    from pyrage import DecryptError

    with pytest.raises(DecryptError):
        _index_key_from_copies(stolen / "keys", "tess", TECH_PASS, vault.root / "index.key.age")
    # while every active user logs in as before
    result = _cli(vault.root, "tess", TECH_PASS, "status")
    assert result.exit_code == 0, result.output
    result = _cli(vault.root, "admin", ADMIN_PASS, "verify")
    assert result.exit_code == 0, result.output
    assert _cli(vault.root, "admin", ADMIN_PASS, "audit", "verify").exit_code == 0


def test_disable_deletes_the_grant_and_says_only_rotation_revokes_a_copy(vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keys = vault.root / "keys"
    copied_grant = (keys / "tess.grant.age").read_bytes()

    result = _cli(vault.root, "admin", ADMIN_PASS, "user", "disable", "tess")
    assert result.exit_code == 0, result.output
    assert "'chartvault key rotate'" in result.output and "copy of the keyslot" in result.output
    assert not (keys / "tess.grant.age").exists()

    refused = _cli(vault.root, "tess", TECH_PASS, "status")
    assert refused.exit_code == 3
    assert "holds no key grant" in refused.output

    # she puts her copied grant back: before a rotation it still leads to the vault key (that is what
    # the message says), and login still refuses her (disabled row)...
    (keys / "tess.grant.age").write_bytes(copied_grant)
    assert _cli(vault.root, "tess", TECH_PASS, "status").exit_code == 3
    # ...after the rotation her copy leads to a retired identity, and the rotation gave her no new grant
    (keys / "tess.grant.age").unlink()
    result = _cli(vault.root, "admin", ADMIN_PASS, "key", "rotate")
    assert result.exit_code == 0, result.output
    assert "1 disabled user left out" in result.output
    assert not (keys / "tess.grant.age").exists()
    (keys / "tess.grant.age").write_bytes(copied_grant)
    again = _cli(vault.root, "tess", TECH_PASS, "status")
    assert again.exit_code == 4, again.output
    assert "does not belong to this vault" in again.output


def test_rotation_gives_no_grant_to_a_user_disabled_before(vault) -> None:  # type: ignore[no-untyped-def]
    """A user disabled by an older chartvault (grant left in place) gets no new grant at rotation."""
    from archive.keys import rotate_key

    with vault.session.transaction():
        vault.session.store.users.disable("drmaria")  # as the old `user disable` did: the grant stays
    assert (vault.root / "keys" / "drmaria.grant.age").exists()
    report = rotate_key(vault.session)
    assert report.grants_dropped == 1 and report.users_regranted == 2
    assert not (vault.root / "keys" / "drmaria.grant.age").exists()
    assert (vault.root / "keys" / "tess.grant.age").exists()
