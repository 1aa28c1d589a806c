"""One inbox watcher and one background embedder per vault, however many sessions are open (issue 21).

Every browser connection of `chartvault serve` and every SSH session runs its
own TUI process; each would otherwise watch the inbox and embed the backlog.
Lock files in the vault folder (`vault.locks.try_hold`) make the first one the
only one; the others take over when its process ends. `chartvault serve`
itself holds the inbox: it encrypts arrivals into pending/ with nobody logged in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from watchdog.observers.polling import PollingObserver

from archive.intake import INBOX_LOCK, PENDING_LOCK, InboxService, ServerWatcher
from tests.conftest import TECH_PASS, VaultFixture, VaultTemplate
from tests.serve_helpers import held_elsewhere, served
from vault.locks import try_hold


@pytest.fixture(scope="module")
def tess(shared_vault: VaultFixture) -> Iterator[Any]:
    session = shared_vault.open("tess", TECH_PASS)
    yield session
    session.close()


def polling() -> PollingObserver:
    return PollingObserver(timeout=0.05)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_try_hold_refuses_a_second_holder_until_the_first_releases(tmp_path: Path) -> None:
    first = try_hold(tmp_path, "thing")
    assert first is not None
    assert try_hold(tmp_path, "thing") is None  # this process too: each service holds its own
    first.release()
    second = try_hold(tmp_path, "thing")
    assert second is not None
    second.release()


def test_a_second_session_s_inbox_service_waits_and_takes_over_when_the_first_stops(tess: Any) -> None:
    first = InboxService(tess, quiet=0.1, observer_factory=polling, once_per_vault=True, retry_seconds=0.1).start()
    second = InboxService(tess, quiet=0.1, observer_factory=polling, once_per_vault=True, retry_seconds=0.1)
    try:
        assert first.watcher is not None and first.watches_inbox and not first.elsewhere
        second.start()
        assert second.elsewhere and second.watcher is None  # nothing watched twice
        first.stop()
        wait_for(lambda: second.watcher is not None, "the second service never took over")
        assert second.watches_inbox and not second.elsewhere
    finally:
        first.stop()
        second.stop()
    for name in (INBOX_LOCK, PENDING_LOCK):  # stopped: the locks are free again
        assert not held_elsewhere(tess.vault.root, name)


def test_with_the_server_watching_the_inbox_a_session_drains_pending_only_and_the_arrival_is_indexed(
    tess: Any,
) -> None:
    from archive.search import search_records

    root = tess.vault.root
    stashed = threading.Event()
    server = ServerWatcher(root, quiet=0.1, observer_factory=polling, on_stashed=lambda n: stashed.set()).start()
    arrived: list[Any] = []
    got = threading.Event()

    def outcomes(outs: list[Any]) -> None:
        arrived.extend(outs)
        got.set()

    service = InboxService(tess, quiet=0.1, observer_factory=polling, once_per_vault=True, retry_seconds=0.1,
                           on_outcomes=outcomes)
    try:
        assert server.started.is_set() and not server.elsewhere
        service.start()
        assert service.watcher is not None and not service.watches_inbox  # the server has the inbox
        assert service.watcher.folders == [root / "pending"]
        (root / "inbox" / "once.txt").write_text("MRN: 7001\nOnce-per-vault note: zorblax seen.\n")
        assert stashed.wait(30), "the server's watcher never encrypted the arrival"
        assert got.wait(30), "the session never indexed what the server stashed"
        assert [o.status for o in arrived] == ["imported"]
        assert [h.record_id for h in search_records(tess, "zorblax")] == [arrived[0].record_id]
        assert not (root / "inbox" / "once.txt").exists()
    finally:
        service.stop()
        server.stop()


def test_a_second_server_watcher_waits_for_the_inbox(tmp_path: Path, shared_vault: VaultFixture) -> None:
    first = ServerWatcher(shared_vault.root, observer_factory=polling, retry_seconds=0.1).start()
    second = ServerWatcher(shared_vault.root, observer_factory=polling, retry_seconds=0.1).start()
    try:
        assert first.started.is_set() and second.elsewhere and not second.started.is_set()
        first.stop()
        assert second.started.wait(30), "the second watcher never took over"
    finally:
        first.stop()
        second.stop()


def test_one_background_embedder_per_vault(tess: Any) -> None:
    from archive.embedding import EmbeddingService, use_embedder
    from indexer.embedder import FakeEmbedder

    use_embedder(FakeEmbedder())
    first = EmbeddingService(tess, poll_seconds=0.1).start()
    second = None
    try:
        assert first.holding.wait(30), "the first service never started embedding"
        second = EmbeddingService(tess, poll_seconds=0.1).start()
        wait_for(lambda: second.elsewhere, "the second service did not see the first")  # type: ignore[union-attr]
        assert not second.holding.is_set()
        first.stop()
        assert second.holding.wait(30), "the second service never took over"
        assert not second.elsewhere
    finally:
        first.stop()
        if second is not None:
            second.stop()
        use_embedder(None)


def test_the_server_watches_the_inbox_with_nobody_logged_in_and_logs_no_file_name(
    tmp_path: Path, users_vault_template: VaultTemplate
) -> None:
    fx = users_vault_template.copy(tmp_path / "v")
    try:
        with served(fx.root) as (_port, proc):
            wait_for(lambda: held_elsewhere(fx.root, INBOX_LOCK), "the server never took the inbox")
            (fx.root / "inbox" / "NAMECANARY-once.txt").write_text("MRN: 7002\nArrived while nobody was in.\n")
            wait_for(lambda: list((fx.root / "pending").glob("*.age")) != [], "nothing was encrypted into pending/")
            wait_for(lambda: not (fx.root / "inbox" / "NAMECANARY-once.txt").exists(), "the plaintext stayed")
        out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        assert "Watching" in out and "inbox: 1 arrival encrypted into pending/" in out
        assert "NAMECANARY" not in out
        assert not held_elsewhere(fx.root, INBOX_LOCK)  # the server has stopped: the lock is free
    finally:
        fx.session.close()  # type: ignore[attr-defined]


def test_the_background_service_rebuilds_maps_older_assertion_rules_made(tess: Any, tmp_path: Path) -> None:
    """After an upgrade (the migration only bumps the rules' VERSION), the service holding the vault's embedder
    lock rebuilds the maps once the embedding backlog is empty, a batch per transaction."""
    from archive.embedding import EmbeddingService, use_embedder
    from archive.intake import import_paths
    from indexer import assertion_map
    from indexer.embedder import FakeEmbedder

    (tmp_path / "relabel.txt").write_text("MRN: 7003\nDenies chest pain. Family history of gout in her father.\n")
    import_paths(tess, [tmp_path / "relabel.txt"])
    records = tess.store.records
    with tess.transaction():
        tess.db.execute(f"UPDATE {assertion_map.TABLE} SET version = ?", [assertion_map.VERSION - 1])
    assert records.stale_assertion_maps() > 0
    use_embedder(FakeEmbedder())
    service = EmbeddingService(tess, poll_seconds=0.1).start()
    try:
        wait_for(lambda: records.stale_assertion_maps() == 0, "the service never rebuilt the stale maps")
    finally:
        service.stop()
        use_embedder(None)


def test_the_background_service_fills_the_second_vectors_after_an_arrival_stops_it(
    tess: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New records arriving just as the service starts giving old chunks their second vector stop that step
    before it did anything: the service must come back to it (it is done only when there was nothing to do)."""
    from archive import embedding
    from archive.embedding import EmbeddingService, embed_backlog, second_status, use_embedder
    from archive.intake import import_paths
    from indexer import second_vectors
    from indexer.embedder import FakeEmbedder
    from indexer.embedder2 import FakeSecondEmbedder, use_second_embedder

    (tmp_path / "second.txt").write_text("MRN: 7004\nChronic tinnitus; hearing assessed.\n")
    import_paths(tess, [tmp_path / "second.txt"])
    use_embedder(FakeEmbedder())
    embed_backlog(tess)  # by the first model alone (a vault embedded before the second embedder)
    use_second_embedder(FakeSecondEmbedder())
    with tess.transaction():
        second_vectors.forget(tess.db)
    service = EmbeddingService(tess, poll_seconds=0.1)
    real, calls = embedding.fill_second, []

    def arrival_first(session: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            service.wake()  # an import wakes the service as this step starts
        return real(session, **kwargs)

    monkeypatch.setattr(embedding, "fill_second", arrival_first)
    service.start()
    try:
        def filled() -> bool:
            status = second_status(tess)
            return status is not None and status.of > 0 and status.chunks == status.of

        wait_for(filled, "the service never came back to the second vectors", timeout=15)
        assert len(calls) >= 2
    finally:
        service.stop()
        use_second_embedder(None)
        use_embedder(None)
