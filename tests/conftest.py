"""Shared fixtures: temp vaults and sessions.

Unlocking costs over a second (age scrypt), so tests share an unlocked vault
per module (`shared_vault`) instead of paying it per test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
        from archive.session import open_session

        return open_session(self.root, user, passphrase)


def _make_vault(root: Path, with_users: bool) -> VaultFixture:
    from archive.session import create_vault
    from archive.users import add_user

    session = create_vault(root, "admin", ADMIN_PASS, full_name="Ada Admin")
    if with_users:
        add_user(session, "tess", "technician", TECH_PASS, full_name="Tess Tech")
        add_user(session, "drmaria", "physician", PHYS_PASS, full_name="Maria Lopez", licence="MD-12345")
    return VaultFixture(root=root, session=session)


@pytest.fixture(scope="module")
def shared_vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultFixture]:
    """A vault with admin, technician 'tess' and physician 'drmaria', shared by a module."""
    fx = _make_vault(tmp_path_factory.mktemp("vault") / "v", with_users=True)
    yield fx
    fx.session.close()  # type: ignore[attr-defined]


@pytest.fixture
def fresh_vault(tmp_path: Path) -> Iterator[VaultFixture]:
    """A new vault with only its admin (costs one keyslot)."""
    fx = _make_vault(tmp_path / "v", with_users=False)
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
