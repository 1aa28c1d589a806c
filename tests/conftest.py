"""Shared fixtures: temp vaults and sessions.

A passphrase KDF (age scrypt) costs over a second, each way. So: the two
kinds of test vault are built once per test session and copied (`shared_vault`
per module, `fresh_vault` per test; a copy is a working vault with the same
keys), their admin sessions are opened with the vault identity, and a keyslot
that has been opened once with its passphrase is not run through scrypt again
in this process (`_scrypt_once_per_keyslot`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ADMIN_PASS = "copper lantern harbour"
TECH_PASS = "velvet thunder meadow"
PHYS_PASS = "granite orchid compass"

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@dataclass
class VaultFixture:
    root: Path
    session: object  # archive.session.Session of the admin

    def open(self, user: str, passphrase: str):  # type: ignore[no-untyped-def]
        """Log in as the CLI and the TUI do: open the session, then index what waits in pending/."""
        from archive.intake import ingest_pending_on_unlock
        from archive.login import open_session

        session = open_session(self.root, user, passphrase)
        ingest_pending_on_unlock(session)
        return session


def _make_vault(root: Path, with_users: bool) -> VaultFixture:
    from archive.login import create_vault
    from archive.users import add_user

    session = create_vault(root, "admin", ADMIN_PASS, full_name="Ada Admin")
    if with_users:
        add_user(session, "tess", "technician", TECH_PASS, full_name="Tess Tech")
        add_user(session, "drmaria", "physician", PHYS_PASS, full_name="Maria Lopez", licence="MD-12345")
    return VaultFixture(root=root, session=session)


@pytest.fixture(scope="session", autouse=True)
def _client_state_in_a_temp_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each client's own state (vault/attempts.py) goes to a temp folder, never the tester's home;
    set in os.environ so the CLI's subprocesses (the real binary) use it too."""
    old = os.environ.get("CHARTVAULT_STATE_DIR")
    os.environ["CHARTVAULT_STATE_DIR"] = str(tmp_path_factory.mktemp("client-state"))
    yield
    if old is None:
        os.environ.pop("CHARTVAULT_STATE_DIR", None)
    else:
        os.environ["CHARTVAULT_STATE_DIR"] = old


@pytest.fixture(scope="session", autouse=True)
def _scrypt_once_per_keyslot() -> Iterator[None]:
    """Run age's passphrase KDF once per (keyslot, passphrase) in this test process.

    `pyrage.passphrase.decrypt` is a pure function of the keyslot's bytes and
    the passphrase, so its result for a pair it has already opened is reused:
    a user who signs in again (every CLI command does) gets the same secret
    without a second scrypt. Everything around it (grant, back-off, audit,
    session start) runs as usual. A changed keyslot (new passphrase, rotation,
    tampering) is new bytes, and a failure is never remembered, so both always
    run the real KDF; so does every test of the real binary (its own process).
    """
    from pyrage import passphrase as age_passphrase

    real = age_passphrase.decrypt
    opened: dict[tuple[bytes, str], bytes] = {}

    def decrypt_once(data: bytes, passphrase: str) -> bytes:
        key = (bytes(data), passphrase)
        if key not in opened:
            opened[key] = real(data, passphrase)  # raises on a wrong passphrase: nothing stored
        return opened[key]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(age_passphrase, "decrypt", decrypt_once)
        yield


def session_for(root: Path, user: str, identity: Any) -> Any:
    """A session of `user` on a vault (or a copy of it) opened with the vault identity: no passphrase
    KDF, no login entry. Test scaffolding: unlocking itself is tested through the CLI, the UI and the
    real binary."""
    from archive.audit import AuditLog
    from archive.session import Session
    from archive.store import Store
    from archive.users import get_user
    from vault.vault import Vault

    vault = Vault.open(root)
    slot = None
    passphrase = known_passphrase(user, demo=bool(vault.metadata.get("demo")))
    if passphrase is not None and vault.keyslots.exists(user):
        slot = vault.keyslots.open(user, passphrase)[1]  # scrypt once per keyslot (see above)
    unlocked = vault.unlock_with_identity(identity, slot=slot)
    audit_log = AuditLog.of(unlocked)
    if slot is not None and slot.signing is not None:
        audit_log.signer = (user, slot.signing)  # the user's entries are signed as a login's are
    return Session(unlocked=unlocked, user=get_user(Store.of(unlocked), user), audit_log=audit_log)


def session_beside(admin: Any, name: str) -> Any:
    """User `name`'s session over `admin`'s unlocked vault and audit log: a user row to act as, no keyslot, no
    KDF (test scaffolding: the entries it writes are the admin's audit log's)."""
    from archive.session import Session
    from archive.users import get_user

    return Session(unlocked=admin.unlocked, user=get_user(admin.store, name), audit_log=admin.audit_log)


def known_passphrase(user: str, demo: bool = False) -> str | None:
    """The passphrase of a test or demo user (test scaffolding: their keyslot holds their signing key)."""
    from archive.demo import DEMO_USERS

    if demo:
        return {u.name: u.passphrase for u in DEMO_USERS}.get(user)
    return {"admin": ADMIN_PASS, "tess": TECH_PASS, "drmaria": PHYS_PASS}.get(user)


@dataclass(frozen=True)
class VaultTemplate:
    """A closed vault built once per test session, and its identity."""

    root: Path
    identity: Any  # vault.keys.Identity

    def copy(self, dest: Path) -> VaultFixture:
        """A private, working copy (same keys and users) with the admin's session open on it."""
        shutil.copytree(self.root, dest, symlinks=False)
        session = session_for(dest, "admin", self.identity)
        session.audit_log.write_head()  # as in the session create_vault returns: its head just written
        return VaultFixture(root=dest, session=session)

    def with_notes(self, dest: Path, src: Path, notes: dict[str, str], embed: bool = False) -> Path:
        """A copy at `dest` with `notes` (file name -> text, written under `src`) imported by the admin, and
        embedded (by whatever embedder the test set up) when `embed`; closed again: returns its root."""
        from archive.embedding import embed_backlog
        from archive.intake import import_paths

        admin: Any = self.copy(dest).session
        for name, text in notes.items():
            (src / name).write_text(text)
        assert import_paths(admin, [src]).counts["imported"] == len(notes)
        if embed:
            embed_backlog(admin)
        admin.close()
        return dest

    def technician(self, dest: Path) -> Iterator[Any]:
        """A technician 'tess' as a user row beside the admin of a copy at `dest`, sharing its unlocked vault
        (no keyslot to derive): yields tess's Session, then closes the admin's."""
        from archive.users import User, insert_user
        from vault.db import transaction

        admin: Any = self.copy(dest).session
        with transaction(admin.db):
            insert_user(admin.store, User("tess", "technician", "Tess Tech", created_by="admin"), sign_as=admin)
        yield session_beside(admin, "tess")
        admin.close()


def _template(tmp_path_factory: pytest.TempPathFactory, with_users: bool) -> VaultTemplate:
    fx = _make_vault(tmp_path_factory.mktemp("vault-template") / "v", with_users=with_users)
    identity = fx.session.unlocked.identity  # type: ignore[attr-defined]
    fx.session.close()  # type: ignore[attr-defined]
    return VaultTemplate(root=fx.root, identity=identity)


@pytest.fixture(scope="session")
def users_vault_template(tmp_path_factory: pytest.TempPathFactory) -> VaultTemplate:
    """The vault of `shared_vault` (admin, 'tess', 'drmaria'), built once: three keyslots cost three KDFs."""
    return _template(tmp_path_factory, with_users=True)


@pytest.fixture(scope="session")
def admin_vault_template(tmp_path_factory: pytest.TempPathFactory) -> VaultTemplate:
    """The vault of `fresh_vault` (its admin only), built once."""
    return _template(tmp_path_factory, with_users=False)


@pytest.fixture(scope="module")
def shared_vault(
    tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate
) -> Iterator[VaultFixture]:
    """A vault with admin, technician 'tess' and physician 'drmaria', shared by a module (its own copy)."""
    fx = users_vault_template.copy(tmp_path_factory.mktemp("vault") / "v")
    yield fx
    fx.session.close()  # type: ignore[attr-defined]


@pytest.fixture
def fresh_vault(tmp_path: Path, admin_vault_template: VaultTemplate) -> Iterator[VaultFixture]:
    """A new vault with only its admin, this test's own copy."""
    fx = admin_vault_template.copy(tmp_path / "v")
    yield fx
    fx.session.close()  # type: ignore[attr-defined]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CHARTVAULT_VAULT", "CHARTVAULT_USER", "CHARTVAULT_PASSPHRASE", "CHARTVAULT_NEW_PASSPHRASE"):
        monkeypatch.delenv(var, raising=False)


def shared_data(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.exists():
        pytest.skip(f"shared test data {path} is not present")
    return path


def chartvault_bin() -> str:
    exe = REPO / ".venv" / "bin" / "chartvault"
    if exe.exists():
        return str(exe)
    import shutil

    found = shutil.which("chartvault")
    if not found:
        pytest.skip("the chartvault console script is not installed (run make setup)")
    return found


os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Tests embed with a fast deterministic fake (indexer.embedder.FakeEmbedder) unless they
# install the real model themselves (tests/integration); `import` embeds by default.
os.environ.setdefault("CHARTVAULT_EMBEDDER", "fake")
# ... and choose sentences without the reader model (archive/assistant/joint.py) unless they install one
# (tests/unit/test_assistant_joint.py: a fake; tests/integration/test_reader_model.py: the real one).
os.environ.setdefault("CHARTVAULT_READER", "off")
# ... and rank by the first model alone: the second embedder (bge-small, indexer.embedder2) is real only in
# tests/integration/test_second_embedder.py; tests/unit/test_second_vectors.py installs a fake.
os.environ.setdefault("CHARTVAULT_EMBEDDER2", "off")


@pytest.fixture(autouse=True)
def _workstation_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own client state folder (the unlock screen's last user): never the real home's,
    and no test sees the user another test unlocked with (subprocesses inherit it)."""
    monkeypatch.setenv("CHARTVAULT_STATE_DIR", str(tmp_path_factory.mktemp("client-state")))
