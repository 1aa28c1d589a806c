"""The approximate vector index: recall against exact, the exact fallback, incremental add and delete,
and the encrypted snapshot (a round trip through the index; no plaintext file on the way)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer import ann_store, semantic
from indexer.vectors import ApproximateRanking, ExactRanking, VectorMatrix, encode
from tests.conftest import VaultTemplate

DIM = 384
MODEL = "test-ann"


@pytest.fixture(autouse=True)
def build_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Graphs are built in the refresh that needs them (the background build has its own test)."""
    monkeypatch.setattr(VectorMatrix, "build_in_background", False)


def clustered(rng: np.random.Generator, n: int, topics: int = 40) -> np.ndarray:
    """Unit vectors around a few topics in a low-dimensional subspace (as sentence embeddings are)."""
    latent = rng.standard_normal((topics, 32)).astype(np.float32)
    basis = rng.standard_normal((32, DIM)).astype(np.float32)
    x = (latent[rng.integers(0, topics, n)] + 0.7 * rng.standard_normal((n, 32)).astype(np.float32)) @ basis
    x += 0.5 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _matrix(n_chunks: int, per_record: int, seed: int = 0) -> tuple[VectorMatrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    vecs = clustered(rng, n_chunks)
    rec = np.arange(n_chunks) // per_record + 1
    vm = VectorMatrix.from_arrays(MODEL, vecs, rec, np.arange(n_chunks) % per_record)
    return vm, vecs


def test_graph_recall_against_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(VectorMatrix, "ann_from", 500)
    vm, vecs = _matrix(6000, per_record=3)
    vm._build_ann()
    rng = np.random.default_rng(1)
    recalls = []
    for i in rng.integers(0, len(vecs), 30):
        q = vecs[i] + 0.2 * rng.standard_normal(DIM).astype(np.float32)
        q /= np.linalg.norm(q)
        approx, exact = vm.ranking(q), vm.ranking(q, exact=True)
        assert isinstance(approx, ApproximateRanking) and isinstance(exact, ExactRanking)
        got, want = approx.top(50), exact.top(50)
        recalls.append(len({n for n, _ in got} & {n for n, _ in want}) / 50)
        # every record's score is its exact best-chunk cosine, whichever way it was found
        exact_of = dict(want)
        for n, s in got:
            if n in exact_of:
                assert s == pytest.approx(exact_of[n], abs=1e-5)
        assert approx.scores_for([n for n, _ in want[:5]]) == pytest.approx(dict(want[:5]), abs=1e-5)
    assert np.mean(recalls) >= 0.99
    assert vm.recall_check(samples=10, limit=50) >= 0.99  # what `verify` checks


def test_small_archive_is_searched_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    vm, vecs = _matrix(300, per_record=3)
    assert vm.size < VectorMatrix.ann_from
    assert vm.ann is None and isinstance(vm.ranking(vecs[0]), ExactRanking)
    assert vm.recall_check() is None
    assert vm.ranking(vecs[0]).top(1)[0][0] == 1


def test_a_narrow_filter_is_answered_exactly_and_a_wide_one_stays_inside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(VectorMatrix, "ann_from", 200)
    vm, vecs = _matrix(3000, per_record=3)
    vm._build_ann()
    q = vecs[1500]
    narrow = vm.mask_for(np.arange(10, 40))  # 90 chunks: fewer than ann_from
    assert vm.ranking(q).top(10, narrow) == vm.ranking(q, exact=True).top(10, narrow)
    wide = vm.mask_for(np.arange(1, 1001, 2))  # half of the records
    got = vm.ranking(q).top(20, wide, exclude=[1])
    assert len(got) == 20 and all(n % 2 == 1 and n != 1 for n, _ in got)
    assert vm.ranking(q).top(10, vm.mask_for(np.array([], dtype=np.int64))) == []


# ---------------------------------------------------------------- in the encrypted index


@dataclass
class Chunk:
    seq: int
    start: int = 0
    end: int = 1


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Any]:
    from archive.intake import import_paths

    fx = admin_vault_template.copy(tmp_path_factory.mktemp("vault") / "v")
    session: Any = fx.session
    src = tmp_path_factory.mktemp("notes")
    for i in range(4):
        (src / f"11{i}__note{i}.txt").write_text(f"Note number {i} about something.")
    import_paths(session, [src])
    yield fx
    session.close()


def _records(db: Any) -> list[int]:
    return [int(r[0]) for r in db.execute("SELECT n FROM records ORDER BY n").fetchall()]


def _fill(db: Any, vecs: np.ndarray, records: list[int]) -> None:
    """Spread the vectors over the records as their chunks (what the embedder stores)."""
    for i, n in enumerate(records):
        mine = vecs[i :: len(records)]
        semantic.store_chunks(db, n, MODEL, [Chunk(k) for k in range(len(mine))], mine)


def _fresh(db: Any) -> VectorMatrix:
    """A matrix as a new session loads it (no cache)."""
    vm = VectorMatrix(MODEL, DIM)
    vm.refresh(db)
    return vm


def test_incremental_add_delete_and_snapshot_round_trip(vault: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(VectorMatrix, "ann_from", 100)
    monkeypatch.setattr(ann_store, "SAVE_EVERY", 50)
    db = vault.session.db
    ns = _records(db)
    rng = np.random.default_rng(3)
    _fill(db, clustered(rng, 400), ns[:3])
    vm = _fresh(db)
    assert vm.ann is not None and len(vm.ann) == vm.size == 400
    assert ann_store.has_snapshot(db, MODEL)  # written when the graph was built

    # incremental add: a new record's chunks go into the graph, and a query finds them first
    new = clustered(np.random.default_rng(4), 30)
    semantic.store_chunks(db, ns[3], MODEL, [Chunk(k) for k in range(30)], new)
    vm.refresh(db)
    assert len(vm.ann) == vm.size == 430
    assert vm.ranking(new[7]).top(1)[0][0] == ns[3]

    # delete: re-embedding a record replaces its chunks (tombstones), the graph forgets the old ones
    old_ids = vm.chunk_id[vm.chunk_record == ns[0]].copy()
    semantic.store_chunks(db, ns[0], MODEL, [Chunk(0)], new[:1])
    vm.refresh(db)
    assert len(vm.ann) == vm.size == 430 - len(old_ids) + 1
    assert not np.isin(old_ids, vm.chunk_id).any()
    assert not np.asarray(vm.ann.index.contains(old_ids.astype(np.uint64))).any()

    # the newest chunks' record (ns[0], just above) re-embedded: SQLite hands the deleted largest id out again
    before = vm.size
    last_ids = vm.chunk_id[vm.chunk_record == ns[0]].copy()
    assert last_ids.max() == vm.chunk_id.max()
    again_vecs = clustered(np.random.default_rng(9), 5)
    semantic.store_chunks(db, ns[0], MODEL, [Chunk(k) for k in range(5)], again_vecs)
    vm.refresh(db)
    assert np.isin(last_ids, vm.chunk_id[vm.chunk_record == ns[0]]).all()  # (the same id came back)
    assert vm.size == len(vm.ann) == before - len(last_ids) + 5
    assert vm.ranking(again_vecs[2]).top(1)[0][0] == ns[0]

    # persistence: a new session loads the snapshot (not the rows) and catches up to the same matrix
    loaded: list[bool] = []
    real = ann_store.load_snapshot
    monkeypatch.setattr(ann_store, "load_snapshot", lambda db, m: loaded.append(real(db, m)) or loaded[-1])
    again = _fresh(db)
    assert loaded == [True]
    assert np.array_equal(again.chunk_id, vm.chunk_id) and np.array_equal(again.records, vm.records)
    assert np.array_equal(again.codes, vm.codes) and np.array_equal(again.chunk_scale, vm.chunk_scale)
    assert again.matrix is None and vm.matrix is None  # with a graph, no float rows beside it
    q = new[3]
    assert again.ranking(q).top(5) == vm.ranking(q).top(5) == vm.ranking(q, exact=True).top(5)

    # the check `chartvault verify` runs: recall of the graph against exact search
    from archive.status import verify_vault

    report = verify_vault(vault.session)
    assert report.vector_recall[MODEL] >= 0.95 and report.to_json()["vector_index_recall"] == report.vector_recall
    assert not [w for w in report.warnings if "vector index" in w]


def test_the_snapshot_never_lands_on_disk_in_the_clear(
    vault: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Canary: a distinctive vector's int8 codes are in the snapshot in memory, in no file of the vault or
    the temporary folder; usearch is never given a path."""
    import tempfile

    from usearch.index import Index

    def no_path(real: Any) -> Any:
        def guard(self: Any, path_or_buffer: Any = None, *args: Any, **kwargs: Any) -> Any:
            assert path_or_buffer is None or isinstance(path_or_buffer, bytes | bytearray | memoryview), (
                "usearch given a path: the index would be written in the clear"
            )
            return real(self, path_or_buffer, *args, **kwargs)

        return guard

    for name in ("save", "load", "view"):
        monkeypatch.setattr(Index, name, no_path(getattr(Index, name)))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(VectorMatrix, "ann_from", 100)
    db = vault.session.db
    canary = np.tile(np.array([0.9, -0.9, 0.5, -0.2, 0.7, -0.6], dtype=np.float32), DIM // 6)
    canary /= np.linalg.norm(canary)
    vecs = clustered(np.random.default_rng(5), 300)
    vecs[123] = canary
    _fill(db, vecs, _records(db))
    vm = _fresh(db)
    ann_store.save_snapshot(db, vm)
    codes = encode(canary)[0]
    assert codes in vm.ann.to_bytes()  # the test can fail: the plaintext snapshot does hold them
    db.execute("PRAGMA wal_checkpoint(FULL)")
    for folder in (vault.root, tmp_path):
        for dirpath, _, files in os.walk(folder):
            for f in files:
                assert codes not in Path(dirpath, f).read_bytes(), f"vector codes in the clear in {f}"
    assert _fresh(db).ranking(canary).top(1)[0][0] in _records(db)


def test_deleting_a_record_drops_the_snapshot(vault: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(VectorMatrix, "ann_from", 100)
    db = vault.session.db
    _fill(db, clustered(np.random.default_rng(6), 200), _records(db))
    _fresh(db)
    assert ann_store.has_snapshot(db, MODEL)
    from vault.db import transaction

    n = _records(db)[-1]
    with transaction(db):  # what a retention purge does (archive.store.records.erase), in short
        db.execute("DELETE FROM chunks WHERE record_n = ?", [n])
        db.execute("DELETE FROM records WHERE n = ?", [n])
    assert not ann_store.has_snapshot(db, MODEL)
    assert db.execute("SELECT count(*) FROM vector_snapshot_parts").fetchone()[0] == 0
    vm = _fresh(db)  # rebuilt from the rows, without the purged record, and stored again
    assert n not in set(vm.records.tolist()) and ann_store.has_snapshot(db, MODEL)


def test_a_graph_built_in_the_background_catches_up_when_adopted(vault: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(VectorMatrix, "build_in_background", True)
    monkeypatch.setattr(VectorMatrix, "ann_from", 100)
    db = vault.session.db
    db.execute("DELETE FROM vector_snapshots")
    ns = _records(db)
    _fill(db, clustered(np.random.default_rng(7), 300), ns)
    vm = _fresh(db)
    assert vm.ann is None and vm.builder is not None  # searches stay exact meanwhile
    assert isinstance(vm.ranking(vm.matrix[0]), ExactRanking)
    vm.builder.join(timeout=60)
    assert not vm.builder.is_alive()
    # changes while it was built: one record re-embedded (its old chunks deleted, new ones added)
    extra = clustered(np.random.default_rng(8), 20)
    semantic.store_chunks(db, ns[1], MODEL, [Chunk(k) for k in range(20)], extra)
    vm.refresh(db)
    assert vm.ann is not None and len(vm.ann) == vm.size
    keys = np.asarray(vm.ann.index.keys, dtype=np.int64)
    assert set(keys.tolist()) == set(vm.chunk_id.tolist())
    assert vm.ranking(extra[4]).top(1)[0][0] == ns[1]


def test_the_embedder_runtime_still_loads_after_the_index() -> None:
    """onnxruntime crashed (SIGSEGV) on import once usearch was loaded: indexer.ann loads it first."""
    import subprocess
    import sys

    code = "from indexer.ann import AnnIndex; AnnIndex(8); import onnxruntime; print('loaded')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0 and run.stdout.strip() == "loaded", run.stderr[-2000:]


def test_the_snapshot_keeps_the_vectors_once_and_finds_each_chunks_row_in_the_graph() -> None:
    """The graph's serialised vectors stand for the codes (no second copy); slots freed by removals
    keep stale rows, which are never chosen; a snapshot whose rows disagree with the graph is refused."""
    from indexer.ann import AnnIndex

    rng = np.random.default_rng(11)
    codes = np.clip(np.rint(clustered(rng, 900) * 300), -127, 127).astype(np.int8)
    ids = np.arange(1, 901, dtype=np.int64)
    ann = AnnIndex(DIM)
    ann.add(ids[:800], codes[:800])
    ann.remove(ids[100:200])
    ann.add(ids[800:], codes[800:])
    live = np.concatenate([ids[:100], ids[200:]])
    ours = codes[live - 1]
    graph = ann.to_bytes()
    tape = ann_store._vectors_in(graph, DIM)
    assert tape is not None and len(tape) >= len(live)
    slot = ann_store._slots_of(ours, tape)
    assert slot is not None and np.array_equal(tape[slot], ours)
    # a graph written differently is not read as vectors
    assert ann_store._vectors_in(graph[4:], DIM) is None
    assert ann_store._slots_of(ours[::-1][:5] + 1, tape[:3]) is None


def test_a_snapshot_is_stored_without_a_second_copy_of_the_codes(vault: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(VectorMatrix, "ann_from", 100)
    db = vault.session.db
    _fill(db, clustered(np.random.default_rng(12), 300), _records(db))
    vm = _fresh(db)
    ann_store.save_snapshot(db, vm)
    data = ann_store._read_parts(db, MODEL, ann_store.snapshot_parts(db, MODEL))
    assert data is not None
    arrays, graph = ann_store._unpack(data)
    assert "codes" not in arrays and len(arrays["slot"]) == vm.size
    assert len(data) < len(graph) + vm.size * 64  # ids, records, offsets, scales, slots: ~40 bytes a chunk

    # the graph's rows must be the chunks' own: a snapshot that disagrees is refused, the rows are read
    monkeypatch.setattr(ann_store, "_vectors_in", lambda g, dim: np.zeros((vm.size, dim), dtype=np.int8))
    loaded: list[bool] = []
    real = ann_store.load_snapshot
    monkeypatch.setattr(ann_store, "load_snapshot", lambda db, m: loaded.append(real(db, m)) or loaded[-1])
    again = _fresh(db)
    assert loaded == [False] and np.array_equal(again.codes[np.argsort(again.chunk_id)],
                                                vm.codes[np.argsort(vm.chunk_id)])


def test_a_snapshot_of_the_previous_format_is_still_read(vault: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Format 2 stored the codes as an array of their own (session 6's vaults): read as it is."""
    monkeypatch.setattr(VectorMatrix, "ann_from", 100)
    db = vault.session.db
    _fill(db, clustered(np.random.default_rng(13), 300), _records(db))
    vm = _fresh(db)
    monkeypatch.setattr(ann_store, "FORMAT", 2)
    monkeypatch.setattr(ann_store, "_slots_of", lambda codes, tape: None)  # (format 2: the codes apart)
    ann_store.save_snapshot(db, vm)
    arrays, _ = ann_store._unpack(ann_store._read_parts(db, MODEL, ann_store.snapshot_parts(db, MODEL)) or b"")
    assert "codes" in arrays
    loaded: list[bool] = []
    real = ann_store.load_snapshot
    monkeypatch.setattr(ann_store, "load_snapshot", lambda db, m: loaded.append(real(db, m)) or loaded[-1])
    again = _fresh(db)
    assert loaded == [True] and np.array_equal(again.codes, vm.codes)
    q = vm.rows(np.array([7]))[0]
    assert again.ranking(q).top(5) == vm.ranking(q).top(5)


def test_a_large_snapshot_is_read_on_two_connections(vault: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many parts: a second connection reads beside the session's (two threads); the bytes are the ones one
    connection reads, the matrix loaded from them answers as the saved one; when another writer changes the
    snapshot between the two connections' reads, one connection reads it alone."""
    import threading

    from sqlcipher3 import dbapi2

    from vault import db as vault_db

    monkeypatch.setattr(VectorMatrix, "ann_from", 100)
    monkeypatch.setattr(ann_store, "PART_BYTES", 4096)  # ~40 parts
    db = vault.session.db
    _fill(db, clustered(np.random.default_rng(14), 300), _records(db))
    vm = _fresh(db)
    ann_store.save_snapshot(db, vm)
    parts = ann_store.snapshot_parts(db, MODEL)
    assert parts >= 4 * ann_store.TWO_READERS_FROM

    monkeypatch.setattr(ann_store, "TWO_READERS_FROM", 10**9)
    opened: list[int] = []
    real_open = vault_db.open_reader
    monkeypatch.setattr(vault_db, "open_reader", lambda d: opened.append(1) or real_open(db))
    alone = bytes(ann_store._read_parts(db, MODEL, parts) or b"")
    assert opened == [] and len(alone) > 3 * 4096
    monkeypatch.setattr(ann_store, "TWO_READERS_FROM", 4)

    # The second connection's part reads are traced. Each connection's first read waits until the other has
    # taken a part too, so both read whatever the scheduler does (each part once: the bytes are whole).
    by_second: list[str] = []
    second_read, caller_took = threading.Event(), threading.Event()
    real_connect = dbapi2.connect

    def traced(sql: str) -> None:
        if "AND part" in sql:
            by_second.append(sql)
            second_read.set()
            assert caller_took.wait(30), "the caller's connection took no part"

    def connect(*a: Any, **k: Any) -> Any:
        conn = real_connect(*a, **k)
        conn.set_trace_callback(traced)
        return conn

    monkeypatch.setattr(dbapi2, "connect", connect)

    class Waits:
        def __init__(self, conn: Any) -> None:
            self.conn = conn

        def execute(self, sql: str, params: Any = ()) -> Any:
            if "AND part" in sql:
                caller_took.set()
                assert second_read.wait(30), "the second connection read nothing"
            return self.conn.execute(sql, params)

    class Caller:
        conn = Waits(db.conn)

        def execute(self, sql: str, params: Any = ()) -> Any:
            return db.execute(sql, params)

    two = ann_store._read_parts(Caller(), MODEL, parts)
    assert two is not None and bytes(two) == alone
    read_by_second = {sql.rsplit("=", 1)[1].strip() for sql in by_second}  # (a statement may be traced twice)
    assert opened == [1] and 0 < len(read_by_second) < parts, (opened, sorted(read_by_second), parts)

    again = _fresh(db)  # through the two connections
    assert again.size == vm.size and np.array_equal(again.codes, vm.codes)
    q = vm.rows(np.array([11]))[0]
    assert again.ranking(q).top(5) == vm.ranking(q).top(5)

    # another writer's snapshot seen by the second connection only: the caller's connection reads alone
    monkeypatch.setattr(ann_store, "_SNAPSHOT_ROW", ann_store._SNAPSHOT_ROW.replace("at FROM", "random() FROM"))
    opened.clear()
    by_second.clear()
    assert bytes(ann_store._read_parts(db, MODEL, parts) or b"") == alone
    assert len(opened) == 1 and by_second == []

    # the second connection failing while it reads: the caller's connection reads it all again
    monkeypatch.setattr(ann_store, "_SNAPSHOT_ROW", ann_store._SNAPSHOT_ROW.replace("random() FROM", "at FROM"))

    class Failing:
        def __init__(self, conn: Any) -> None:
            self.conn = conn
            self.in_transaction = False

        def execute(self, sql: str, params: Any = ()) -> Any:
            if "AND part" in sql:
                raise dbapi2.OperationalError("disk I/O error")
            out = self.conn.execute(sql, params)
            self.in_transaction = self.conn.in_transaction
            return out

        def close(self) -> None:
            self.conn.close()

    monkeypatch.setattr(vault_db, "open_reader", lambda d: Failing(real_open(db)))
    assert bytes(ann_store._read_parts(db, MODEL, parts) or b"") == alone


def test_a_snapshot_is_searched_as_read_and_chunks_changed_since_beside_it(
    vault: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new session searches the snapshot's graph as a view of the bytes read (no copy, codes not gathered);
    chunks added since are scored exactly beside it and chunks deleted since are never answered; past
    SIDE_MAX added chunks, or before a snapshot is written, the graph is copied and brought up to date."""
    from indexer import vectors

    monkeypatch.setattr(VectorMatrix, "ann_from", 100)
    db = vault.session.db
    ns = _records(db)[:3]  # (an earlier test of this module deleted a record)
    _fill(db, clustered(np.random.default_rng(21), 400), ns[:2])
    vm = _fresh(db)
    ann_store.save_snapshot(db, vm)

    again = _fresh(db)
    assert again.ann is not None and again.ann.frozen and not vm.ann.frozen
    assert again._store is not None  # the codes are read from the graph's vectors, not gathered at load
    q = vm.rows(np.array([17]))[0]
    assert again.ranking(q).top(10) == vm.ranking(q).top(10) == vm.ranking(q, exact=True).top(10)

    # added since: not in the frozen graph, found beside it
    graph_size = len(again.ann)
    new = clustered(np.random.default_rng(22), 30)
    semantic.store_chunks(db, ns[2], MODEL, [Chunk(k) for k in range(30)], new)
    again.refresh(db)
    assert again.ann.frozen and len(again.ann) == graph_size and len(again.side) == 30
    assert again.ranking(new[7]).top(1)[0][0] == ns[2]
    # deleted since: still in the frozen graph, never answered (ns[0] re-embedded with 2 chunks)
    old = again.chunk_id[again.chunk_record == ns[0]].copy()
    semantic.store_chunks(db, ns[0], MODEL, [Chunk(0), Chunk(1)], new[:2])
    again.refresh(db)
    assert not np.isin(old, again.chunk_id).any() and len(again.side) == 32
    for probe in (again.rows(np.array([5]))[0], new[3], new[0]):
        assert again.ranking(probe).top(10) == again.ranking(probe, exact=True).top(10)
    assert np.array_equal(again.codes[-30:], semantic.matrix_for(db, MODEL, DIM).codes[-30:])  # gathered on demand

    # past SIDE_MAX: the graph is copied and catches up (deleted chunks out, added ones in)
    again = _fresh(db)
    monkeypatch.setattr(vectors, "SIDE_MAX", 10)
    more = clustered(np.random.default_rng(23), 20)
    semantic.store_chunks(db, ns[1], MODEL, [Chunk(k) for k in range(20)], more)
    again.refresh(db)
    assert not again.ann.frozen and len(again.side) == 0 and len(again.ann) == again.size
    keys = np.sort(np.asarray(again.ann.index.keys, dtype=np.int64))
    assert np.array_equal(keys, np.sort(again.chunk_id))
    assert again.ranking(more[4]).top(1)[0][0] == ns[1]

    # a frozen graph with chunks beside it is brought up to date before a snapshot is written
    monkeypatch.setattr(vectors, "SIDE_MAX", 4096)
    third = _fresh(db)
    semantic.store_chunks(db, ns[0], MODEL, [Chunk(k) for k in range(3)], more[:3])
    third.refresh(db)
    assert third.ann.frozen and np.isin(third.chunk_id[third.chunk_record == ns[0]], third.side).all()
    ann_store.save_snapshot(db, third)
    assert not third.ann.frozen and len(third.ann) == third.size
    fourth = _fresh(db)
    assert fourth.size == third.size and len(fourth.ann) == fourth.size and not len(fourth.side)
    assert fourth.ranking(more[1]).top(5) == third.ranking(more[1]).top(5) == third.ranking(more[1], exact=True).top(5)


def test_a_snapshot_graph_is_moved_to_large_pages_in_place_and_searches_the_same(
    vault: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot is read into private anonymous memory (no file behind it); a low-priority thread then asks the
    kernel for 2 MB pages in place (where it cannot, nothing changes): searches before, during and after answer
    the same, and the graph still reads the bytes it was read from."""
    import mmap

    from indexer import ann

    monkeypatch.setattr(VectorMatrix, "ann_from", 100)
    monkeypatch.setattr(ann, "HUGE_STEP", 1 << 21)  # several steps even for this small graph
    db = vault.session.db
    _fill(db, clustered(np.random.default_rng(31), 300), _records(db)[:3])
    vm = _fresh(db)
    ann_store.save_snapshot(db, vm)
    probes = [vm.rows(np.array([k]))[0] for k in (3, 77, 150)]
    expected = [vm.ranking(q, exact=True).top(10) for q in probes]

    again = _fresh(db)
    assert again.ann is not None and again.ann.frozen
    held = again.ann._held
    assert isinstance(memoryview(held).obj, mmap.mmap)
    assert again.pages is not None  # started at load
    during = [again.ranking(q).top(10) for q in probes]
    again.pages.join(timeout=60)
    assert not again.pages.is_alive()
    assert again.ann._held is held
    assert during == [again.ranking(q).top(10) for q in probes] == expected
    # a graph not read from a snapshot buffer is left alone
    assert ann.settle_in_huge_pages(b"not a snapshot buffer") is None and ann.settle_in_huge_pages(None) is None


def test_moving_a_graph_to_large_pages_leaves_the_other_threads_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page move runs beside searches and the TUI: while the kernel collapses pages (a few hundred ms per
    step on a loaded machine) the other threads keep running. Python 3.11's mmap.madvise held the GIL for the whole
    call: every thread stood still for as long as the step took."""
    import mmap
    import time

    from indexer import ann

    size = 128 << 20
    buffer = ann.snapshot_buffer(size)
    with contextlib.suppress(OSError):
        buffer.madvise(mmap.MADV_NOHUGEPAGE)  # first touched on small pages: the collapse has work to do
    for at in range(0, size, 4096):
        buffer[at] = 1
    monkeypatch.setattr(ann, "HUGE_STEP", size)  # one step, one long call
    began = last = time.perf_counter()
    thread = ann.settle_in_huge_pages(memoryview(buffer)[:1000])  # (its start is timed too)
    assert thread is not None
    gap, turns = 0.0, 0
    while thread.is_alive():
        now = time.perf_counter()
        gap, last = max(gap, now - last), now
        turns += 1
        time.sleep(0.002)  # (another thread's work: the move's thread gets the core it needs)
    took = time.perf_counter() - began
    if took < 0.05:
        pytest.skip("the kernel does not collapse pages here: nothing to run beside")
    # Holding the GIL for the call, this thread ran only before and after it: a turn or two. On a loaded machine
    # the scheduler may still hold it back a while (a gap of half the call was seen at load 5), but it keeps
    # taking turns through the call.
    assert turns >= 10 and gap < took * 0.8, f"{turns} turns; stood still {gap:.3f} s of {took:.3f} s"
