"""The second embedder's vector of each chunk (indexer.embedder2), stored and read beside the first.

Table (created by `create_schema`, called from a migration in archive/store/schema.py):
    chunk_vectors2(chunk_id -> chunks.id ON DELETE CASCADE, model, vector, scale)
        one row per chunk of the first model that has its second vector; `vector` is int8 with one scale, as
        chunks.vector (indexer.vectors.encode). Dropping or re-embedding a record's chunks drops these with them.

A chunk gets its second vector when its record is embedded (indexer.semantic.embed_pending with `second`), and
the chunks of a vault embedded before, or while the model was missing, get theirs from `fill` (`chartvault
reindex`, the TUI's background service). Search uses the pair for a query only when every candidate passage has
both vectors (`PairView.of`), so a vault part-way through `fill` is searched by the first model alone, never by
a mix. Nothing here writes outside the index; knows nothing of users or policy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from indexer import fts
from indexer.reports import WorkReport
from indexer.vectors import decode_many, encode

# The second model's share of a pair's cosine: (1 - SECOND_WEIGHT) x MiniLM's + SECOND_WEIGHT x bge-small's. Chosen
# leave-one-set-out over every paraphrase and description set (0.2-0.8; every fold chose 0.6; the plain mean, 0.5,
# lost a description query): bench/RESULTS.md, "Session 12: a second embedder".
SECOND_WEIGHT = 0.6
FIRST_SHARE = np.float32(np.sqrt(1.0 - SECOND_WEIGHT))  # each unit vector scaled so that the pair is a unit vector
SECOND_SHARE = np.float32(np.sqrt(SECOND_WEIGHT))

log = logging.getLogger(__name__)


def create_schema(db: Any) -> None:
    db.execute(
        """CREATE TABLE IF NOT EXISTS chunk_vectors2 (
            chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            vector BLOB NOT NULL,
            scale REAL NOT NULL
        )"""
    )


def embed_or_none(embedder: Any, texts: list[str]) -> np.ndarray | None:
    """The second embedder's vectors of `texts`, or None when it fails on them (logged): the chunks then wait
    without one (the first model's vectors are written all the same) and search ranks them by the first alone."""
    try:
        return np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    except Exception as exc:  # noqa: BLE001 - onnxruntime's errors are its own classes; the first model goes on
        log.warning("The second embedder failed on %d chunks (%s: %s); they are left without its vector.",
                    len(texts), type(exc).__name__, exc)
        return None


def store(db: Any, chunk_ids: Sequence[int], model: str, vectors: np.ndarray) -> None:
    """Write the second vectors of `chunk_ids` (inside the caller's transaction)."""
    rows = []
    for cid, vec in zip(chunk_ids, vectors, strict=True):
        blob, scale = encode(vec)
        rows.append((int(cid), model, blob, scale))
    db.conn.executemany(
        "INSERT OR REPLACE INTO chunk_vectors2 (chunk_id, model, vector, scale) VALUES (?, ?, ?, ?)", rows
    )


def coverage(db: Any, first: str, model: str) -> tuple[int, int]:
    """(chunks of model `first` with a second vector of `model`, chunks of `first`)."""
    total = int(db.execute("SELECT count(*) FROM chunks WHERE model = ?", [first]).fetchone()[0])
    have = int(db.execute(
        "SELECT count(*) FROM chunk_vectors2 v JOIN chunks c ON c.id = v.chunk_id WHERE c.model = ? AND v.model = ?",
        [first, model]).fetchone()[0])
    return have, total


def any_of(db: Any, model: str) -> bool:
    """Whether any chunk has a second vector of `model` (the first row settles it: no count)."""
    return bool(db.execute("SELECT EXISTS (SELECT 1 FROM chunk_vectors2 WHERE model = ?)", [model]).fetchone()[0])


def missing(db: Any, first: str, model: str, after: int, limit: int) -> list[tuple[int, int, int, int]]:
    """(chunk id, records.n, start, end) of the next chunks of `first` after id `after` lacking a `model` vector."""
    rows = db.execute(
        "SELECT c.id, c.record_n, c.start, c.end FROM chunks c WHERE c.model = ? AND c.id > ? AND NOT EXISTS "
        "(SELECT 1 FROM chunk_vectors2 v WHERE v.chunk_id = c.id AND v.model = ?) ORDER BY c.id LIMIT ?",
        [first, after, model, limit]).fetchall()
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in rows]


def forget(db: Any, model: str | None = None) -> None:
    """Drop the second vectors (of one model, or all), inside the caller's transaction."""
    if model is None:
        db.execute("DELETE FROM chunk_vectors2")
    else:
        db.execute("DELETE FROM chunk_vectors2 WHERE model = ?", [model])


class FillReport(WorkReport):
    """What a run of `fill` did (chunks given their second vector)."""


def fill(
    db: Any,
    embedder: Any,
    first: str,
    *,
    batch: int = 64,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    limit: int | None = None,
) -> FillReport:
    """Give every chunk of model `first` that lacks one its second vector, `batch` chunks a transaction (an
    interruption keeps what was committed; the next run goes on from there)."""
    from vault.db import transaction

    report = FillReport()
    started = time.perf_counter()
    have, total = coverage(db, first, embedder.model_id) if progress else (0, 0)
    want = total - have
    if progress:
        progress(0, want)
    after = 0
    while limit is None or report.chunks < limit:
        if should_stop and should_stop():
            report.interrupted = True
            break
        size = batch if limit is None else min(batch, limit - report.chunks)
        todo = missing(db, first, embedder.model_id, after, size)
        if not todo:
            break
        after = todo[-1][0]
        ns = sorted({n for _, n, _, _ in todo})
        texts = fts.texts_of(db, ns)
        embedded = [texts.get(n, "")[s:e] for _, n, s, e in todo]
        vectors = embed_or_none(embedder, embedded)
        if vectors is None:
            report.interrupted = True
            break
        with transaction(db):
            # a chunk re-embedded or purged meanwhile (by another process: `reindex` beside the TUI) is skipped, and
            # so is a new chunk that took its id (chunks.id is reused after the highest rows are deleted): kept only
            # when its record, span and text are still the ones embedded
            marks = ", ".join("?" for _ in todo)
            now = {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in db.execute(
                f"SELECT id, record_n, start, end FROM chunks WHERE model = ? AND id IN ({marks})",
                [first, *(t[0] for t in todo)])}
            texts = fts.texts_of(db, ns)
            keep = [i for i, (cid, n, s, e) in enumerate(todo)
                    if now.get(cid) == (n, s, e) and texts.get(n, "")[s:e] == embedded[i]]
            store(db, [todo[i][0] for i in keep], embedder.model_id, vectors[keep])
        report.chunks += len(keep)
        if progress:
            progress(report.chunks, max(want, report.chunks))
    report.seconds = time.perf_counter() - started
    return report


def vectors_of(db: Any, chunk_ids: np.ndarray, model: str, dim: int) -> np.ndarray | None:
    """The second vectors (float32 rows, in the order of `chunk_ids`), or None when any of them has none."""
    ids = [int(c) for c in chunk_ids]
    if not ids:
        return np.zeros((0, dim), dtype=np.float32)
    found: dict[int, tuple[bytes, float]] = {}
    for at in range(0, len(ids), 500):
        part = ids[at : at + 500]
        marks = ", ".join("?" for _ in part)
        for cid, blob, scale in db.execute(
                f"SELECT chunk_id, vector, scale FROM chunk_vectors2 WHERE model = ? AND chunk_id IN ({marks})",
                [model, *part]).fetchall():
            found[int(cid)] = (bytes(blob), float(scale))
    if len(found) < len(set(ids)):
        return None
    try:
        return decode_many([found[c][0] for c in ids], [found[c][1] for c in ids], dim)
    except ValueError:  # a vector of another dimension (another model under the same name): not usable
        return None


class PairView:
    """The candidates' passages with both vectors, as one unit vector each (sqrt(1 - w) first ⊕ sqrt(w) second,
    w = SECOND_WEIGHT), so a cosine to a pair query (`pair_query`) is (1 - w) x the first model's + w x the
    second's. Shaped as much like
    indexer.vectors.VectorMatrix as indexer.hybrid.second_look and `scores_for` need (`passages_of`, `rows`), over
    the candidates' rows only: a few hundred rows whatever the archive's size, no second scan."""

    def __init__(self, vm: Any, rows: np.ndarray, pair: np.ndarray) -> None:
        self.vm = vm
        self._rows = rows  # ascending: the candidates' rows in the matrix
        self._pair = pair

    @classmethod
    def of(cls, db: Any, vm: Any, candidates: Sequence[int], model: str, dim: int) -> PairView | None:
        """The view of `candidates` (records.n), or None when a passage of theirs lacks its second vector."""
        rows = vm.passages_of(candidates)[1]  # (ascending: the records' rows, record after record)
        second = vectors_of(db, vm.chunk_id[rows], model, dim)
        if second is None:
            return None
        first = vm.rows(rows) if len(rows) else np.zeros((0, vm.dim), dtype=np.float32)
        return cls(vm, rows, np.hstack([first * FIRST_SHARE, second * SECOND_SHARE]))

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """The pair vectors of matrix rows (rows of the candidates' passages only)."""
        return self._pair[np.searchsorted(self._rows, np.asarray(rows, dtype=np.int64))]

    def passages_of(self, record_ns: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As the matrix's (`VectorMatrix.passages_of`): its rows, whose pair vectors `rows` gives."""
        return self.vm.passages_of(record_ns)  # type: ignore[no-any-return]

    def scores_for(self, query: np.ndarray) -> Callable[[list[int]], dict[int, float]]:
        """Each candidate record's best passage cosine to the pair `query`."""
        def scores(ns: list[int]) -> dict[int, float]:
            found, rows, offsets = self.passages_of(ns)
            if not len(found):
                return {}
            best = np.maximum.reduceat(self.rows(rows) @ query, offsets)
            return {int(n): float(b) for n, b in zip(found, best, strict=True)}
        return scores


def pair_query(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The pair's query vector: both unit vectors side by side, scaled as the passages' (itself a unit vector)."""
    return np.concatenate([np.asarray(first, np.float32) * FIRST_SHARE,
                           np.asarray(second, np.float32) * SECOND_SHARE]).astype(np.float32)
