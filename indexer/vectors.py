"""Chunk vectors: their on-disk codec and exact, vectorised search over them.

Vectors live only in the encrypted index (table `chunks`), as int8 with one
float scale per vector (384 bytes instead of 1,536; cosine error ~1e-4).
Searching loads them once into a float32 matrix sorted by record, kept in
memory and refreshed when chunks are added (only the new rows are read) or
deleted (a trigger bumps `chunk_generation`, and the matrix is reloaded).
Scoring is one matrix-vector product and a segmented max per record
(`np.maximum.reduceat`): no Python loop over chunks or records.

Memory: the int8 codes as stored (384 bytes a chunk) and, while the archive
is searched exactly, their float32 rows beside them (1.5 KB a chunk; 100k
chunks: ~190 MB in all). With a graph the float rows are not kept: the graph
holds the codes too, candidates are scored from the codes (a few thousand
rows, multiplied as int8 and scaled after), and 1M chunks take ~0.4 GB
beside the graph instead of 1.5 GB.

From `ANN_FROM` chunks on, the matrix also keeps an approximate index
(`indexer.ann`, an HNSW graph) and `ranking` answers a query's top records
from the graph's nearest chunks, each candidate record then scored exactly
(its best chunk, from the matrix); below it, and whenever a filter leaves
fewer than `ANN_FROM` chunks to look at, the answer is exact. The graph is
updated with the matrix: chunks added are added, chunks deleted (tombstones,
`indexer.ann_store`) are removed; it is kept encrypted in the index between
sessions (`indexer.ann_store`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from indexer.ann import CHUNKS_PER_QUERY, AnnIndex

# Chunks from which the approximate index is kept and used. Exact search is linear (about 90 ms at 1M chunks on
# this machine idle, so ~9 ms at 100k: under the 20 ms target with room to spare), loads from the rows in about a
# second, and has no recall to lose; below this a graph would only add memory, minutes of building and a recall
# to check. bench/ann.py measures exact and approximate in the same run (bench/RESULTS.md, "issue 18 scale").
ANN_FROM = 100_000
# Chunks added since a frozen graph (read from the snapshot as a view of its bytes) are searched exactly beside
# it, up to this many; past it the graph is copied into one that changes and they are added (`thaw`). Exact over
# 4,096 int8 rows: ~0.5 ms a query.
SIDE_MAX = 4096
BLOCK_ROWS = 32_768  # rows converted from int8 at a time in a full scan without float rows


def encode(vector: np.ndarray) -> tuple[bytes, float]:
    """int8 bytes and scale of one vector (symmetric, per vector)."""
    v = np.asarray(vector, dtype=np.float32)
    peak = float(np.max(np.abs(v))) if v.size else 0.0
    scale = peak / 127.0 if peak > 0 else 1.0
    q = np.clip(np.rint(v / scale), -127, 127).astype(np.int8)
    return q.tobytes(), scale


def decode_many(blobs: Sequence[bytes], scales: Sequence[float], dim: int) -> np.ndarray:
    """Rows of float32 from int8 blobs and their scales."""
    return dequantize(codes_of(blobs, dim), scales)


def codes_of(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    """The int8 rows of stored vectors."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.int8)
    raw = np.frombuffer(b"".join(blobs), dtype=np.int8)
    if raw.size != len(blobs) * dim:
        raise ValueError("stored vectors do not have the expected dimension")
    return raw.reshape(len(blobs), dim)


def dequantize(codes: np.ndarray, scales: Sequence[float] | np.ndarray) -> np.ndarray:
    m = codes.astype(np.float32)
    m *= np.asarray(scales, dtype=np.float32)[:, None]
    return m


class VectorMatrix:
    """All chunk vectors of one model, grouped by record, ready for matrix products."""

    ann_from = ANN_FROM  # (tests lower it)
    build_threads = 1  # threads that build a graph from scratch (the benchmark uses both cores)
    build_in_background = True

    def __init__(self, model: str, dim: int) -> None:
        self.model = model
        self.dim = dim
        self._codes = np.zeros((0, dim), dtype=np.int8)  # the stored int8 vectors, one row per chunk (`codes`)
        # ... or, as read from a snapshot, not yet gathered: (tape, slot, extra), row r's codes being the graph's
        # vector slot[r] (tape: a view of the snapshot's bytes) or, from len(tape) on, a row of extra (added
        # since). One tuple, replaced whole: a search reading it meanwhile sees one consistent state.
        self._store: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.side = np.zeros(0, dtype=np.int64)  # chunk ids a frozen graph lacks (searched exactly beside it)
        # Their float32 rows (codes x scale), kept only while there is no graph (exact search's matrix product).
        self.matrix: np.ndarray | None = np.zeros((0, dim), dtype=np.float32)
        self.chunk_id = np.zeros(0, dtype=np.int64)  # chunks.id of each row
        self.chunk_record = np.zeros(0, dtype=np.int64)  # records.n of each row
        self.chunk_seq = np.zeros(0, dtype=np.int32)
        self.chunk_span = np.zeros((0, 2), dtype=np.int64)
        self.chunk_scale = np.zeros(0, dtype=np.float32)
        self.records = np.zeros(0, dtype=np.int64)  # sorted distinct records.n
        self.starts = np.zeros(0, dtype=np.int64)  # first row of each record
        self.max_id = 0
        self.tomb_seq = -1  # the last tombstone applied (-1: never loaded)
        self.ann: AnnIndex | None = None
        self._building = False  # a graph is being built in the background
        self._built: AnnIndex | None = None  # ... and is ready to be adopted
        self.builder: threading.Thread | None = None
        self.pages: threading.Thread | None = None  # moving a snapshot graph onto 2 MB pages (indexer.ann)
        self._row_of_id: np.ndarray | None = None
        self.unsaved = 0  # chunks added or deleted since the stored snapshot (see indexer.ann_store)
        self.lock = threading.Lock()

    @property
    def size(self) -> int:
        return int(self.chunk_id.shape[0])

    @property
    def codes(self) -> np.ndarray:
        """The int8 codes of every row, as stored (gathered from the snapshot's graph when first asked for)."""
        store = self._store
        if store is not None:
            self._codes = _gather(store, slice(None))
            self._store = None  # (after the codes: a search meanwhile finds one or the other)
        return self._codes

    @property
    def codes_gathered(self) -> bool:
        """False while the codes are read from a snapshot graph's own vectors (`_store`): no copy of them held."""
        return self._store is None

    def _code_rows(self, rows: np.ndarray | slice) -> np.ndarray:
        """The int8 codes of some rows, without gathering the others."""
        store = self._store
        return self._codes[rows] if store is None else _gather(store, rows)

    # -- loading -------------------------------------------------------------
    def refresh(self, db: Any) -> None:
        """Bring the matrix up to date with the `chunks` table (cheap when nothing changed).

        Deleted chunks are found through their tombstones; a session whose tombstones were
        pruned (a snapshot was written meanwhile) starts again from the snapshot.
        """
        from indexer import ann_store

        with self.lock:
            with _read_transaction(db):  # tombstones and rows of one moment (another process may write)
                tomb_top, tomb_first = ann_store.tombstone_range(db)
                top = int(db.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0])
                if self.tomb_seq < 0 or (tomb_first is not None and tomb_first > self.tomb_seq + 1):
                    self._reset()
                    if not ann_store.load_snapshot(db, self):
                        self._load(db, since=0, upto=top)
                        self.tomb_seq = tomb_top
                        self.unsaved = self.size
                if tomb_top > self.tomb_seq:
                    self._forget(ann_store.tombstones_since(db, self.model, self.tomb_seq, tomb_top))
                    self.tomb_seq = tomb_top
                if top > self.max_id:
                    self._load(db, since=self.max_id, upto=top)
            if len(self.side) > SIDE_MAX:
                self.thaw()
            if self.ann is None and self._built is not None:
                self._adopt(self._built)
            if self.ann is None and self.size >= self.ann_from and not self._building:
                self._build_ann()
            if self.ann is not None:
                ann_store.save_if_due(db, self)

    def _reset(self) -> None:
        """Empty, to be loaded again (the lock, held by the caller, stays)."""
        lock = self.lock
        self.__init__(self.model, self.dim)  # type: ignore[misc]
        self.lock = lock

    def _load(self, db: Any, since: int, upto: int) -> None:
        rows = db.execute(
            "SELECT id, record_n, seq, start, end, vector, scale FROM chunks"
            " WHERE model = ? AND id > ? AND id <= ? ORDER BY id",
            [self.model, since, upto],
        ).fetchall()
        codes = codes_of([r[5] for r in rows], self.dim)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        scales = np.fromiter((r[6] for r in rows), dtype=np.float32, count=len(rows))
        rec = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        seq = np.fromiter((r[2] for r in rows), dtype=np.int32, count=len(rows))
        span = np.array([(r[3], r[4]) for r in rows], dtype=np.int64).reshape(-1, 2)
        self.append(ids, codes, scales, rec, seq, span)
        self.max_id = max(self.max_id, upto)

    def append(
        self, ids: np.ndarray, codes: np.ndarray, scales: np.ndarray, rec: np.ndarray, seq: np.ndarray,
        span: np.ndarray,
    ) -> None:
        """Add chunks (their stored int8 codes and scales) to the matrix, and to the graph if there is one
        (beside it, searched exactly, if it is frozen: see `thaw`)."""
        if not len(ids):
            return
        codes = np.asarray(codes, dtype=np.int8).reshape(-1, self.dim)
        if self.ann is not None and self.ann.frozen:
            self.side = np.concatenate([self.side, np.asarray(ids, dtype=np.int64)])
        elif self.ann is not None:
            self.ann.add(ids, codes)
        self.unsaved += len(ids)
        store = self._store
        if store is not None:  # (codes not gathered yet: the new rows' codes are kept apart)
            tape, slot, extra = store
            new = len(tape) + len(extra) + np.arange(len(ids), dtype=np.int64)
            store = (tape, np.concatenate([slot, new]), np.concatenate([extra, codes]))
        self._set(
            None if store is not None else np.concatenate([self.codes, codes]),
            np.concatenate([self.chunk_id, ids]),
            np.concatenate([self.chunk_record, rec]),
            np.concatenate([self.chunk_seq, seq]),
            np.concatenate([self.chunk_span, span]),
            np.concatenate([self.chunk_scale, scales]),
            matrix=None if self.matrix is None else np.concatenate([self.matrix, dequantize(codes, scales)]),
            store=store,
        )

    def _forget(self, ids: np.ndarray) -> None:
        """Drop deleted chunks (their ids) from the matrix and the graph."""
        if not len(ids):
            return
        gone = np.isin(self.chunk_id, ids)
        if self.ann is not None and self.ann.frozen:  # (it keeps them until `thaw`; searches skip ids not here)
            self.side = self.side[~np.isin(self.side, ids)]
        elif self.ann is not None:
            self.ann.remove(self.chunk_id[gone])
        if gone.any():
            keep = ~gone
            self.unsaved += int(gone.sum())
            store = self._store
            if store is not None:
                store = (store[0], store[1][keep], store[2])
            self._set(None if store is not None else self.codes[keep], self.chunk_id[keep], self.chunk_record[keep],
                      self.chunk_seq[keep], self.chunk_span[keep], self.chunk_scale[keep],
                      matrix=None if self.matrix is None else self.matrix[keep], store=store)
            # SQLite gives a new row the largest id + 1, so a deleted last chunk's id comes back (re-embedding
            # the newest record): read again from the largest id still here.
            self.max_id = min(self.max_id, int(self.chunk_id.max()) if self.size else 0)

    def row_of_id(self) -> np.ndarray:
        """The matrix row of each chunk id (-1: none), indexed by the id (cached until the matrix changes).

        4 bytes per id up to the largest: one gather per query instead of a binary search over every
        chunk (the graph's 400 ids: ~1 ms at 1M chunks, with a sorter's scattered reads)."""
        if self._row_of_id is None:  # (`_set` drops it whenever the rows change)
            top = int(self.chunk_id.max()) + 1 if self.size else 0
            lut = np.full(top, -1, dtype=np.int32)
            lut[self.chunk_id] = np.arange(self.size, dtype=np.int32)
            self._row_of_id = lut
        return self._row_of_id

    def _build_ann(self) -> None:
        """Build the graph of every chunk: in a background thread (searches stay exact until the next
        refresh finds it done), or here when `build_in_background` is off (benchmarks, tests)."""
        ids, codes = self.chunk_id.copy(), self.stored_codes()

        def build() -> AnnIndex:
            ann = AnnIndex(self.dim)
            ann.add(ids, codes, threads=self.build_threads)
            return ann

        if not self.build_in_background:
            self._adopt(build())
            return

        def work() -> None:
            self._built = build()
            self._building = False

        self._building = True
        self.builder = threading.Thread(target=work, name="vector-graph-build", daemon=True)
        self.builder.start()

    def _adopt(self, ann: AnnIndex) -> None:
        """Use a graph built from an earlier state: add the chunks it lacks, remove those deleted since."""
        self._built = None
        keys = np.asarray(ann.index.keys, dtype=np.int64)
        ann.remove(keys[~np.isin(keys, self.chunk_id)])
        missing = ~np.isin(self.chunk_id, keys)
        if missing.any():
            ann.add(self.chunk_id[missing], self.stored_codes(missing))
        self.ann = ann
        self.matrix = None  # the graph is searched now; candidates are scored from the codes
        self.unsaved = self.size

    def thaw(self) -> None:
        """Make a frozen graph one that changes: a copy of it, with the chunks deleted since removed and those
        added since (`side`) added. Done when `side` outgrows SIDE_MAX and before a snapshot is written."""
        if self.ann is None or not self.ann.frozen:
            return
        codes = self.codes
        ann = self.ann.thawed()
        keys = np.asarray(ann.index.keys, dtype=np.int64)
        ann.remove(keys[~np.isin(keys, self.chunk_id)])
        ann.remove(self.side)  # (an id SQLite handed out again after a delete: its old vector goes first)
        rows = _rows_of(self, self.side)
        ann.add(self.chunk_id[rows], codes[rows])
        self.ann = ann
        self.side = np.zeros(0, dtype=np.int64)

    def stored_codes(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The int8 codes of the rows (all by default), as stored."""
        return self.codes if rows is None else self.codes[rows]

    def rows(self, rows: np.ndarray | slice) -> np.ndarray:
        """float32 vectors of the given matrix rows (indexes or a slice)."""
        if self.matrix is not None:
            return self.matrix[rows]
        out = self._code_rows(rows).astype(np.float32)
        out *= self.chunk_scale[rows][:, None]
        return out

    def dots(self, rows: np.ndarray | slice, queries: np.ndarray) -> np.ndarray:
        """Cosines of the given rows with a normalised query (1-d) or with each column of `queries` (2-d).

        Without float rows the int8 codes are multiplied as they are and each product scaled after
        (numpy widens them in its loop: no float copy of the rows is made)."""
        q = np.asarray(queries, dtype=np.float32)
        if self.matrix is not None:
            return self.matrix[rows] @ q
        if q.ndim == 1:
            # einsum's own loop, not BLAS: a few thousand candidate rows are too few to share, and OpenBLAS's
            # threads made this product 0.8 -> 17 ms wall on a busy machine (bench/RESULTS.md, session 9)
            out = np.einsum("ij,j->i", self._code_rows(rows), q, dtype=np.float32)
        else:
            out = (self._code_rows(rows) @ q).astype(np.float32, copy=False)
        scale = self.chunk_scale[rows]
        out *= scale if q.ndim == 1 else scale[:, None]
        return out

    def _set(
        self, codes: np.ndarray | None, ids: np.ndarray, rec: np.ndarray, seq: np.ndarray, span: np.ndarray,
        scale: np.ndarray, ordered: bool = False, matrix: np.ndarray | None = None,
        store: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Take these rows (sorted by record unless `ordered`); float rows are kept only without a graph
        (`matrix`, when given, is used for them as it is: tests and benchmarks hand in unquantised vectors).
        Without `codes`, each row's codes are where `store` (tape, slot, extra) says: see `_store`."""
        order = None if ordered else np.lexsort((seq, rec))
        if order is not None and np.array_equal(order, np.arange(len(order))):
            order = None  # already in (record, seq) order (new records come last): no copy
        pick = (lambda a: a) if order is None else (lambda a: a[order])
        self._row_of_id = None
        if codes is None:
            assert store is not None
            self._store = (store[0], pick(store[1]), store[2])
            self._codes = np.zeros((0, self.dim), dtype=np.int8)
        else:
            self._codes = np.ascontiguousarray(pick(codes))
            self._store = None
        if self.ann is not None:
            self.matrix = None
        elif matrix is not None:
            self.matrix = np.ascontiguousarray(pick(np.asarray(matrix, dtype=np.float32)))
        else:
            self.matrix = dequantize(self.codes, pick(scale))
        self.chunk_id = pick(ids)
        self.chunk_record = pick(rec)
        self.chunk_seq = pick(seq)
        self.chunk_span = pick(span)
        self.chunk_scale = pick(scale)
        if len(rec):
            first = np.concatenate([[True], self.chunk_record[1:] != self.chunk_record[:-1]])
            self.starts = np.flatnonzero(first)
            self.records = self.chunk_record[self.starts]
        else:
            self.starts = np.zeros(0, dtype=np.int64)
            self.records = np.zeros(0, dtype=np.int64)

    @classmethod
    def from_arrays(cls, model: str, matrix: np.ndarray, record_n: np.ndarray, seq: np.ndarray | None = None):
        """A matrix built in memory (benchmarks, tests); chunk ids are the row numbers from 1."""
        vm = cls(model, matrix.shape[1])
        n = matrix.shape[0]
        seqs = np.zeros(n, dtype=np.int32) if seq is None else np.asarray(seq, dtype=np.int32)
        m = np.asarray(matrix, dtype=np.float32)
        peak = np.abs(m).max(axis=1) if n else np.zeros(0, dtype=np.float32)
        scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
        codes = np.clip(np.rint(m / scale[:, None]), -127, 127).astype(np.int8)
        vm._set(codes, np.arange(1, n + 1, dtype=np.int64), np.asarray(record_n, dtype=np.int64), seqs,
                np.zeros((n, 2), dtype=np.int64), scale, matrix=m)
        return vm

    # -- scoring -------------------------------------------------------------
    def ranking(self, query: np.ndarray, exact: bool = False) -> Ranking:
        """A query's scores: exact (every chunk) below `ann_from` chunks or when asked, else from the graph."""
        if exact or self.ann is None:
            return ExactRanking(self, query)
        return ApproximateRanking(self, query)

    def recall_check(self, samples: int = 20, limit: int = 100, seed: int = 0) -> float | None:
        """Recall@`limit` of the approximate top records against exact search, for stored chunks used as
        queries (None without a graph): the check `chartvault verify` runs on a large archive."""
        if self.ann is None or not self.size:
            return None
        rng = np.random.default_rng(seed)
        picked = np.sort(rng.choice(self.size, size=min(samples, self.size), replace=False))
        queries = self.rows(picked)
        queries /= np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
        every = self.record_scores_many(queries)  # exact, every chunk, all samples in one pass
        found = []
        for q, scores in zip(queries, every.T, strict=True):
            exact = {n for n, _ in self.top(scores, limit)}
            approx = {n for n, _ in self.ranking(q).top(limit)}
            found.append(len(exact & approx) / max(1, len(exact)))
        return float(np.mean(found))

    def exact_scores_of(self, query: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Best-chunk cosine of the records at `positions` (indexes into `self.records`), exactly."""
        if not len(positions):
            return np.zeros(0, dtype=np.float32)
        rows, offsets = self._passage_rows(positions)
        return np.maximum.reduceat(self.dots(rows, query), offsets)

    def passages_of(self, record_ns: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(the records of `record_ns` that have vectors: records.n once each, ascending; the matrix rows of their
        passages, record after record; where each record's rows begin among them, for `ufunc.reduceat`). Only
        those records' rows are read, whatever the archive's size."""
        ns = np.asarray(sorted({int(n) for n in record_ns}), dtype=np.int64)
        if not len(ns) or not len(self.records):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        idx = np.searchsorted(self.records, ns)
        found = idx < len(self.records)
        found[found] = self.records[idx[found]] == ns[found]
        if not found.any():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        rows, offsets = self._passage_rows(idx[found])
        return ns[found], rows, offsets

    def _passage_rows(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The matrix rows of the records at `positions` (not empty), record after record (each record's chunks
        are consecutive rows), and where each record's rows begin among them."""
        a = self.starts[positions]
        lengths = np.append(self.starts, self.size)[positions + 1] - a  # (each at least 1: a record has a chunk)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        rows = np.repeat(a - offsets, lengths) + np.arange(int(lengths.sum()))
        return rows.astype(np.int64), offsets

    def chunk_scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine of `query` (normalised) with every chunk, in matrix row order."""
        return self.chunk_scores_many(np.asarray(query, dtype=np.float32)[:, None])[:, 0]

    def chunk_scores_many(self, queries: np.ndarray) -> np.ndarray:
        """(chunks, k): every chunk against k query vectors (the columns of `queries`).

        Without float rows (a graph is kept) the codes are read a block at a time: a full scan is then
        slower than the float matrix product (only `verify`'s check and similar records do one)."""
        queries = np.asarray(queries, dtype=np.float32)
        if self.matrix is not None:
            return self.matrix @ queries
        out = np.empty((self.size, queries.shape[1]), dtype=np.float32)
        one = queries.shape[1] == 1  # (one query: the same product as a candidate's, so the same score)
        for a in range(0, self.size, BLOCK_ROWS):
            if one:
                out[a : a + BLOCK_ROWS, 0] = self.dots(slice(a, a + BLOCK_ROWS), queries[:, 0])
            else:
                out[a : a + BLOCK_ROWS] = self.dots(slice(a, a + BLOCK_ROWS), queries)
        return out

    def record_scores_many(self, queries: np.ndarray) -> np.ndarray:
        """(records, k): best-chunk cosine per record for k query vectors (the rows of `queries`)."""
        if not self.size:
            return np.zeros((0, len(queries)), dtype=np.float32)
        return np.maximum.reduceat(self.chunk_scores_many(np.asarray(queries, dtype=np.float32).T), self.starts)

    def record_scores(self, query: np.ndarray) -> np.ndarray:
        """Best-chunk cosine per record, aligned with `self.records`."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        return np.maximum.reduceat(self.chunk_scores(query), self.starts)

    def mask_for(self, allowed: np.ndarray | None) -> np.ndarray | None:
        """Boolean mask over `self.records` for the allowed records.n (None: all)."""
        if allowed is None:
            return None
        return np.isin(self.records, np.asarray(allowed, dtype=np.int64))

    def top(
        self, scores: np.ndarray, limit: int, mask: np.ndarray | None = None, exclude: Sequence[int] = ()
    ) -> list[tuple[int, float]]:
        """The `limit` best (records.n, score) pairs from per-record `scores`."""
        if not len(scores) or limit <= 0:
            return []
        s = scores.astype(np.float32, copy=True)
        if mask is not None:
            s[~mask] = -np.inf
        if exclude:
            s[np.isin(self.records, np.asarray(list(exclude), dtype=np.int64))] = -np.inf
        k = min(limit, len(s))
        part = np.argpartition(-s, k - 1)[:k] if k < len(s) else np.arange(len(s))
        part = part[np.argsort(-s[part], kind="stable")]
        return [(int(self.records[i]), float(s[i])) for i in part if np.isfinite(s[i])]

    def scores_for(self, scores: np.ndarray, record_ns: Sequence[int]) -> dict[int, float]:
        """Per-record scores looked up for given records.n (missing ones are left out)."""
        if not len(record_ns) or not len(self.records):
            return {}
        wanted = np.asarray(list(record_ns), dtype=np.int64)
        idx = np.searchsorted(self.records, wanted)
        idx = np.clip(idx, 0, len(self.records) - 1)
        found = self.records[idx] == wanted
        return {int(n): float(scores[i]) for n, i, ok in zip(wanted, idx, found, strict=True) if ok}

    def best_chunk(self, query: np.ndarray, record_n: int) -> tuple[int, int, int, float] | None:
        """(seq, start, end, score) of the record's chunk closest to `query`."""
        i = int(np.searchsorted(self.records, record_n))
        if i >= len(self.records) or self.records[i] != record_n:
            return None
        a = int(self.starts[i])
        b = int(self.starts[i + 1]) if i + 1 < len(self.starts) else self.size
        sims = self.dots(slice(a, b), query)
        j = int(np.argmax(sims))
        return int(self.chunk_seq[a + j]), int(self.chunk_span[a + j, 0]), int(self.chunk_span[a + j, 1]), float(
            sims[j]
        )

    def record_vectors(self, record_n: int) -> np.ndarray:
        i = int(np.searchsorted(self.records, record_n))
        if i >= len(self.records) or self.records[i] != record_n:
            return np.zeros((0, self.dim), dtype=np.float32)
        a = int(self.starts[i])
        b = int(self.starts[i + 1]) if i + 1 < len(self.starts) else self.size
        return self.rows(slice(a, b))

    def similar_scores(self, record_n: int) -> np.ndarray:
        """Per-record similarity to one record: the mean over its chunks of the best match in each record."""
        mine = self.record_vectors(record_n)
        if not len(mine) or not self.size:
            return np.zeros(len(self.records), dtype=np.float32)
        sims = self.chunk_scores_many(mine.T)  # (chunks, my chunks)
        best = np.maximum.reduceat(sims, self.starts, axis=0)  # (records, my chunks)
        return best.mean(axis=1)


class _read_transaction:
    """One read transaction (a consistent view in WAL mode) unless the caller is already in one."""

    def __init__(self, db: Any) -> None:
        self.conn = db.conn
        self.mine = False

    def __enter__(self) -> None:
        self.mine = not self.conn.in_transaction
        if self.mine:
            self.conn.execute("BEGIN")

    def __exit__(self, *exc: object) -> None:
        if self.mine and self.conn.in_transaction:
            self.conn.execute("COMMIT")


class Ranking:
    """The per-record scores of one query, read as the top records or as given records' scores."""

    exact = True

    def __init__(self, vm: VectorMatrix, query: np.ndarray) -> None:
        self.vm = vm
        self.query = np.asarray(query, dtype=np.float32)

    def top(
        self, limit: int, mask: np.ndarray | None = None, exclude: Sequence[int] = ()
    ) -> list[tuple[int, float]]:
        raise NotImplementedError

    def scores_for(self, record_ns: Sequence[int]) -> dict[int, float]:
        """Exact best-chunk cosines of given records.n (records without vectors are left out)."""
        vm = self.vm
        if not len(record_ns) or not len(vm.records):
            return {}
        wanted = np.asarray(list(record_ns), dtype=np.int64)
        idx = np.clip(np.searchsorted(vm.records, wanted), 0, len(vm.records) - 1)
        found = vm.records[idx] == wanted
        scores = vm.exact_scores_of(self.query, idx[found])
        return {int(n): float(s) for n, s in zip(wanted[found], scores, strict=True)}


class ExactRanking(Ranking):
    """Every chunk scored (one matrix-vector product)."""

    def __init__(self, vm: VectorMatrix, query: np.ndarray) -> None:
        super().__init__(vm, query)
        self.scores = vm.record_scores(self.query)

    def top(
        self, limit: int, mask: np.ndarray | None = None, exclude: Sequence[int] = ()
    ) -> list[tuple[int, float]]:
        return self.vm.top(self.scores, limit, mask, exclude)

    def scores_for(self, record_ns: Sequence[int]) -> dict[int, float]:
        return self.vm.scores_for(self.scores, record_ns)


class ApproximateRanking(Ranking):
    """Candidate records from the graph's nearest chunks, each scored exactly by its best chunk.

    A filter that leaves few chunks (`ann_from`) is answered exactly over those
    records; a wider one asks the graph for more chunks, in proportion.
    """

    exact = False

    def top(
        self, limit: int, mask: np.ndarray | None = None, exclude: Sequence[int] = ()
    ) -> list[tuple[int, float]]:
        vm = self.vm
        if limit <= 0 or not vm.size:
            return []
        allowed = np.ones(len(vm.records), dtype=bool) if mask is None else mask.copy()
        if len(exclude):
            allowed &= ~np.isin(vm.records, np.asarray(list(exclude), dtype=np.int64))
        if mask is None and not len(exclude):
            allowed_chunks = vm.size  # (no filter: no per-record count to add up)
        else:
            allowed_chunks = int(np.diff(np.append(vm.starts, vm.size))[allowed].sum())
        if allowed_chunks == 0:
            return []
        if allowed_chunks < vm.ann_from:
            positions = np.flatnonzero(allowed)
        else:
            positions = self._candidates(limit, allowed, allowed_chunks)
        scores = vm.exact_scores_of(self.query, positions)
        order = np.lexsort((vm.records[positions], -scores))[:limit]
        return [(int(vm.records[positions[i]]), float(scores[i])) for i in order]

    def _candidates(self, limit: int, allowed: np.ndarray, allowed_chunks: int) -> np.ndarray:
        """Positions of allowed records with a chunk among the graph's nearest (at least 2 x limit of them)."""
        vm = self.vm
        assert vm.ann is not None
        qcodes = np.frombuffer(encode(self.query)[0], dtype=np.int8)
        want = max(CHUNKS_PER_QUERY, 4 * limit)
        count = int(min(vm.size, want * vm.size / allowed_chunks))
        side = _rows_of(vm, vm.side)  # (chunks a frozen graph lacks: scored exactly, the best kept)
        side_scores = vm.dots(side, self.query) if len(side) else np.zeros(0, dtype=np.float32)
        while True:
            ids = vm.ann.nearest(qcodes, count)
            rows = _rows_of(vm, ids)
            if len(side):
                k = min(count, len(side))
                rows = np.concatenate([rows, side[np.argpartition(-side_scores, k - 1)[:k]]])
            positions = np.unique(np.searchsorted(vm.records, vm.chunk_record[rows]))
            positions = positions[allowed[positions]]
            if len(positions) >= 2 * limit or count >= vm.size:
                return positions
            count = min(vm.size, count * 4)


def _gather(store: tuple[np.ndarray, np.ndarray, np.ndarray], rows: np.ndarray | slice) -> np.ndarray:
    """The codes of some rows from a snapshot's graph vectors and the rows added since (`VectorMatrix._store`)."""
    tape, slot, extra = store
    slots = slot[rows]
    top = len(tape)
    if not len(extra) or not len(slots) or int(slots.max()) < top:
        return tape[slots]
    out = np.empty((len(slots), tape.shape[1]), dtype=np.int8)
    old = slots < top
    out[old] = tape[slots[old]]
    out[~old] = extra[slots[~old] - top]
    return out


def _rows_of(vm: VectorMatrix, ids: np.ndarray) -> np.ndarray:
    """Matrix rows of chunk ids (ids the matrix no longer has are left out)."""
    lut = vm.row_of_id()
    ids = np.asarray(ids, dtype=np.int64)
    ids = ids[(ids >= 0) & (ids < len(lut))]
    rows = lut[ids]
    return rows[rows >= 0].astype(np.int64)
