"""The demo vault for functional tests: built once per test session, copied per module.

Building it costs tens of seconds (passphrase KDFs, OCR, the ICD-10-CM code
set), so one synthetic build is shared: each module that needs a demo vault
gets its own copy (a copy is a working vault: same keys, same records). The
build runs with the audit clock frozen, so access histories shown on screen
are the same on every run (snapshot tests).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from indexer.embedder import FakeEmbedder
from tests.conftest import VaultFixture, session_for

FROZEN_TS = "2024-05-06T09:30:00.000000+00:00"
# What the shared demo build reported to its progress callback: (done, total, what), in order.
DEMO_PROGRESS: list[tuple[int, int, str]] = []


def freeze_audit_clock(mp: pytest.MonkeyPatch) -> None:
    import archive.audit

    mp.setattr(archive.audit, "now_iso", lambda: FROZEN_TS)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(path, DemoReport) of the one synthetic demo vault built for this test session."""
    from archive.demo import build_demo

    root = tmp_path_factory.mktemp("demo-template") / "vault"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHARTVAULT_EMBEDDER", "fake")
        freeze_audit_clock(mp)
        report = build_demo(root, source="synthetic", embed=True,
                            progress=lambda done, total, what: DEMO_PROGRESS.append((done, total, what)))
    return root, report


def copy_demo(template: Path, dest: Path) -> Path:
    """A private copy of the demo vault (the template stays untouched)."""
    shutil.copytree(template, dest, symlinks=False)
    return dest


def session_on(root: Path, like: Any) -> Any:
    """`like`'s user on another copy of the same vault (same identity): no passphrase KDF."""
    return session_for(root, like.user.name, like.unlocked.identity)


@pytest.fixture(scope="session")
def demo_identity(demo_build: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo vault's identity, unlocked once (one KDF) on a throwaway copy."""
    from archive.demo import DEMO_USERS
    from archive.login import open_session

    template, _report = demo_build
    scratch = copy_demo(template, tmp_path_factory.mktemp("demo-identity") / "vault")
    admin = next(u for u in DEMO_USERS if u.role == "admin")
    session = open_session(scratch, admin.name, admin.passphrase)
    identity = session.unlocked.identity
    session.close()
    return identity


@pytest.fixture(scope="module")
def demo_sessions(demo_vault: Path, demo_identity: Any) -> Iterator[dict[str, Any]]:
    """A session per demo user on this module's copy (no KDF each)."""
    from archive.demo import DEMO_USERS

    opened = {u.name: session_for(demo_vault, u.name, demo_identity) for u in DEMO_USERS}
    yield opened
    for session in opened.values():
        session.close()


@pytest.fixture(scope="module")
def sessions(demo_sessions: dict[str, Any]) -> dict[str, Any]:
    """The demo sessions by user name, under the short name the demo and TUI modules use."""
    return demo_sessions


@pytest.fixture(scope="module")
def demo_vault(demo_build: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This module's copy of the demo vault."""
    template, _report = demo_build
    yield copy_demo(template, tmp_path_factory.mktemp("demo") / "vault")


class KeptSession:
    """A session the CLI may 'close' after each command but that stays open for the module."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def cli_sessions_kept(shared_vault: VaultFixture) -> Iterator[None]:
    """Each user signs in once for the module; later CLI commands as that user reuse the session.

    Every CLI command would open a session (unlock, login entry) and close it again. These modules
    test the commands; signing in is tested by test_cli_foundation and through the real binary.
    Another passphrase or vault goes through `open_session` as usual (a wrong passphrase fails).
    Use it with `pytestmark = pytest.mark.usefixtures("cli_sessions_kept")`.
    """
    import archive.login

    real = archive.login.open_session
    kept: dict[tuple[Path, str, str], KeptSession] = {}

    def open_once(root: Path, user: str, passphrase: str) -> Any:
        key = (Path(root).resolve(), user, passphrase)
        if key not in kept:
            kept[key] = KeptSession(real(root, user, passphrase))
        return kept[key]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(archive.login, "open_session", open_once)
        yield
    for session in kept.values():
        session._session.close()


class HeldModel(FakeEmbedder):
    """A fake embedder whose loading finishes only when the test says so (`loaded.set()`)."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded = threading.Event()
        self.ready = False

    def wait(self, timeout: float | None = None) -> bool:
        self.ready = self.loaded.wait(timeout)
        return self.ready


@pytest.fixture
def held_model() -> Iterator[HeldModel]:
    """The process's embedder for one test: a HeldModel, still loading until the test sets `loaded`."""
    from archive.embedding import use_embedder

    model = HeldModel()
    use_embedder(model)
    yield model
    model.loaded.set()
    use_embedder(None)
