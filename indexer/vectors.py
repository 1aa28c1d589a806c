"""Chunk vectors: their on-disk codec and exact, vectorised search over them.

Vectors live only in the encrypted index (table `chunks`), as int8 with one
float scale per vector (384 bytes instead of 1,536; cosine error ~1e-4).
Searching loads them once into a float32 matrix sorted by record, kept in
memory and refreshed when chunks are added (only the new rows are read) or
deleted (a trigger bumps `chunk_generation`, and the matrix is reloaded).
Scoring is one matrix-vector product and a segmented max per record
(`np.maximum.reduceat`): no Python loop over chunks or records.

Memory: 1.5 KB per chunk (100k chunks: ~150 MB).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np


def encode(vector: np.ndarray) -> tuple[bytes, float]:
    """int8 bytes and scale of one vector (symmetric, per vector)."""
    v = np.asarray(vector, dtype=np.float32)
    peak = float(np.max(np.abs(v))) if v.size else 0.0
    scale = peak / 127.0 if peak > 0 else 1.0
    q = np.clip(np.rint(v / scale), -127, 127).astype(np.int8)
    return q.tobytes(), scale


def decode_many(blobs: Sequence[bytes], scales: Sequence[float], dim: int) -> np.ndarray:
    """Rows of float32 from int8 blobs and their scales."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    raw = np.frombuffer(b"".join(blobs), dtype=np.int8)
    if raw.size != len(blobs) * dim:
        raise ValueError("stored vectors do not have the expected dimension")
    m = raw.reshape(len(blobs), dim).astype(np.float32)
    m *= np.asarray(scales, dtype=np.float32)[:, None]
    return m


class VectorMatrix:
    """All chunk vectors of one model, grouped by record, ready for matrix products."""

    def __init__(self, model: str, dim: int) -> None:
        self.model = model
        self.dim = dim
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self.chunk_record = np.zeros(0, dtype=np.int64)  # records.n of each row
        self.chunk_seq = np.zeros(0, dtype=np.int32)
        self.chunk_span = np.zeros((0, 2), dtype=np.int64)
        self.records = np.zeros(0, dtype=np.int64)  # sorted distinct records.n
        self.starts = np.zeros(0, dtype=np.int64)  # first row of each record
        self.max_id = 0
        self.generation = -1
        self.lock = threading.Lock()

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])

    # -- loading -------------------------------------------------------------
    def refresh(self, db: Any) -> None:
        """Bring the matrix up to date with the `chunks` table (cheap when nothing changed)."""
        with self.lock:
            gen = int(db.execute("SELECT gen FROM chunk_generation").fetchone()[0])
            top = int(db.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0])
            if gen != self.generation:
                self._load(db, since=0, upto=top, replace=True)
                self.generation = gen
            elif top > self.max_id:
                self._load(db, since=self.max_id, upto=top, replace=False)

    def _load(self, db: Any, since: int, upto: int, replace: bool) -> None:
        rows = db.execute(
            "SELECT id, record_n, seq, start, end, vector, scale FROM chunks"
            " WHERE model = ? AND id > ? AND id <= ? ORDER BY id",
            [self.model, since, upto],
        ).fetchall()
        new = decode_many([r[5] for r in rows], [r[6] for r in rows], self.dim)
        rec = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        seq = np.fromiter((r[2] for r in rows), dtype=np.int32, count=len(rows))
        span = np.array([(r[3], r[4]) for r in rows], dtype=np.int64).reshape(-1, 2)
        if not replace:
            new = np.concatenate([self.matrix, new])
            rec = np.concatenate([self.chunk_record, rec])
            seq = np.concatenate([self.chunk_seq, seq])
            span = np.concatenate([self.chunk_span, span])
        self._set(new, rec, seq, span)
        self.max_id = upto

    def _set(self, matrix: np.ndarray, rec: np.ndarray, seq: np.ndarray, span: np.ndarray) -> None:
        order = np.lexsort((seq, rec))
        self.matrix = np.ascontiguousarray(matrix[order])
        self.chunk_record = rec[order]
        self.chunk_seq = seq[order]
        self.chunk_span = span[order]
        if len(rec):
            first = np.concatenate([[True], self.chunk_record[1:] != self.chunk_record[:-1]])
            self.starts = np.flatnonzero(first)
            self.records = self.chunk_record[self.starts]
        else:
            self.starts = np.zeros(0, dtype=np.int64)
            self.records = np.zeros(0, dtype=np.int64)

    @classmethod
    def from_arrays(cls, model: str, matrix: np.ndarray, record_n: np.ndarray, seq: np.ndarray | None = None):
        """A matrix built in memory (benchmarks, tests)."""
        vm = cls(model, matrix.shape[1])
        n = matrix.shape[0]
        seqs = np.zeros(n, dtype=np.int32) if seq is None else np.asarray(seq, dtype=np.int32)
        vm._set(np.asarray(matrix, dtype=np.float32), np.asarray(record_n, dtype=np.int64), seqs,
                np.zeros((n, 2), dtype=np.int64))
        return vm

    # -- scoring -------------------------------------------------------------
    def chunk_scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine of `query` (normalised) with every chunk, in matrix row order."""
        return self.matrix @ np.asarray(query, dtype=np.float32)

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
        sims = self.matrix[a:b] @ np.asarray(query, dtype=np.float32)
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
        return self.matrix[a:b]

    def similar_scores(self, record_n: int) -> np.ndarray:
        """Per-record similarity to one record: the mean over its chunks of the best match in each record."""
        mine = self.record_vectors(record_n)
        if not len(mine) or not self.size:
            return np.zeros(len(self.records), dtype=np.float32)
        sims = self.matrix @ mine.T  # (chunks, my chunks)
        best = np.maximum.reduceat(sims, self.starts, axis=0)  # (records, my chunks)
        return best.mean(axis=1)
