"""Session: group commit of audit-only transactions, durability of real writes, settings, logout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import VaultTemplate


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Any]:
    s: Any = admin_vault_template.copy(tmp_path_factory.mktemp("session") / "vault").session
    yield s
    s.close()


@pytest.fixture
def syncs(session: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every fsync of the WAL (and still do it)."""
    calls: list[str] = []
    real = session.audit_log.sync_wal

    def spy() -> None:
        calls.append("sync")
        real()

    monkeypatch.setattr(session.audit_log, "sync_wal", spy)
    session.audit_log.flush()
    calls.clear()
    return calls


def test_audit_only_transaction_is_group_committed(session: Any, syncs: list[str]) -> None:
    session.audit_log.head_interval = 3600.0
    try:
        with session.transaction():
            session.audit("view_record", record="r1", patient="M1")
        assert syncs == [] and session.audit_log.wal_unsynced  # in the WAL, not yet fsynced
        assert session.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again outside
        session.sync_audit()  # the next head write makes it durable first
        assert syncs == ["sync"] and not session.audit_log.wal_unsynced
        seq, mac = session.audit_log.read_head()
        assert seq == session.audit_log.entries(action="view_record")[-1].seq
    finally:
        session.audit_log.head_interval = 1.0


def test_transaction_with_real_writes_is_durable_before_returning(session: Any, syncs: list[str]) -> None:
    with session.transaction():
        session.db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('test.marker', '1')")
        session.audit("setting_change", details={"key": "test.marker"})
    assert syncs[:1] == ["sync"]
    assert not session.audit_log.wal_unsynced


def test_full_read_commit_setting_fsyncs_every_entry(session: Any, syncs: list[str]) -> None:
    from archive.settings import set_setting

    set_setting(session, "audit.read_commit", "full")
    try:
        syncs.clear()
        with session.transaction():
            session.audit("view_record", record="r2", patient="M1")
        assert syncs == ["sync"]
    finally:
        set_setting(session, "audit.read_commit", "group")


def test_rolled_back_transaction_syncs_nothing_and_restores_full(session: Any, syncs: list[str]) -> None:
    with pytest.raises(RuntimeError), session.transaction():
        session.audit("view_record", record="r3")
        raise RuntimeError("boom")
    assert syncs == []
    assert session.db.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert not session.audit_log.entries(record="r3")


def test_settings_are_typed_and_admin_only(session: Any) -> None:
    from archive.errors import BadInput
    from archive.settings import get_setting, set_setting

    assert get_setting(session.store, "session.idle_timeout_seconds") == 600
    assert set_setting(session, "session.idle_timeout_seconds", "120") == 120
    assert get_setting(session.store, "session.idle_timeout_seconds") == 120
    for key, bad in (("session.idle_timeout_seconds", "soon"), ("session.idle_timeout_seconds", "0"),
                     ("policy.physician_scope", "some"), ("no.such.key", "1")):
        with pytest.raises(BadInput):
            set_setting(session, key, bad)
    change = session.audit_log.entries(action="setting_change")[-1]
    assert change.details == {"key": "session.idle_timeout_seconds", "before": 600, "after": 120}
    set_setting(session, "session.idle_timeout_seconds", "600")


# ---- issue 16, finding 1: the session owns its operations in flight; closing never cuts one


def test_logout_waits_for_an_operation_in_flight_and_refuses_later_ones(
    tmp_path: Any, admin_vault_template: VaultTemplate
) -> None:
    import threading

    from archive.errors import VaultLocked

    s: Any = admin_vault_template.copy(tmp_path / "vault").session
    inside, release, done = threading.Event(), threading.Event(), threading.Event()
    seen: list[int] = []

    def work() -> None:
        with s.operation():
            inside.set()
            release.wait(10)
            seen.append(s.store.audit.last()[0])  # SQL after the lock was asked for: the connection is still open
            s.audit("search", details={"query": "held"})
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    assert inside.wait(10)
    s.logout("locked", wait=0)  # as the TUI does: never block the UI thread
    assert s.closed and not s.released and s.in_flight == 1
    with pytest.raises(VaultLocked):
        with s.operation():
            pass
    release.set()
    worker.join(10)
    assert done.is_set() and seen
    assert s.released and s.in_flight == 0
    # The entry of the operation in flight is in the log, before the logout entry, and the chain verifies.
    from tests.conftest import session_for

    reader = session_for(tmp_path / "vault", "admin", admin_vault_template.identity)
    try:
        actions = [e.action for e in reader.audit_log.entries()]
        assert actions[-2:] == ["search", "logout"], actions[-4:]
        assert reader.audit_log.verify().ok
    finally:
        reader.close()


def test_an_operation_cut_by_closing_surfaces_as_vault_locked(
    tmp_path: Any, admin_vault_template: VaultTemplate
) -> None:
    """A statement interrupted because the session closed is reported as VaultLocked, not a database error."""
    from archive.errors import VaultLocked

    s: Any = admin_vault_template.copy(tmp_path / "vault").session
    with pytest.raises(VaultLocked):
        with s.operation():
            s._closing = True  # as if logout happened while this operation ran
            raise RuntimeError("interrupted")
    s._closing = False
    s.close()
    assert s.released
