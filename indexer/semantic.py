"""Semantic index: chunk vectors in the encrypted index, the embedding backlog, vector search.

Tables (created by `create_schema`, called from a migration in archive/schema.py):
    chunks(id, record_n -> records.n ON DELETE CASCADE, seq, start, end, model, vector, scale)
        one row per chunk of a record's text; `vector` is int8 (see indexer.vectors)
    embedded(record_n, model, chunks, at)
        which records are done for which model (a record with no text is done with 0 chunks);
        records without a row here for the current model are the backlog
    semantic_state(key, value)
        e.g. a rebuild in progress (so an interrupted rebuild resumes instead of restarting)
    chunk_generation(gen)
        bumped by a trigger when chunks are deleted, so cached matrices reload

The text embedded is the record's full-text column (extracted text plus any
transcription); a new transcription puts the record back in the backlog.
Nothing here writes outside the index. Knows nothing of users or policy.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer import fts
from indexer.chunking import chunk_text
from indexer.embedder import Embedder
from indexer.reports import WorkReport
from indexer.vectors import VectorMatrix, encode


def create_schema(db: Any) -> None:
    db.execute(
        """CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            record_n INTEGER NOT NULL REFERENCES records(n) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            model TEXT NOT NULL,
            vector BLOB NOT NULL,
            scale REAL NOT NULL,
            UNIQUE (record_n, model, seq)
        )"""
    )
    db.execute(
        """CREATE TABLE embedded (
            record_n INTEGER NOT NULL REFERENCES records(n) ON DELETE CASCADE,
            model TEXT NOT NULL,
            chunks INTEGER NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (record_n, model)
        )"""
    )
    db.execute("CREATE TABLE semantic_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE chunk_generation (gen INTEGER NOT NULL)")
    db.execute("INSERT INTO chunk_generation (gen) VALUES (0)")
    db.execute(
        "CREATE TRIGGER chunks_deleted AFTER DELETE ON chunks BEGIN UPDATE chunk_generation SET gen = gen + 1; END"
    )
    # A new transcription changes the searchable text: embed the record again.
    db.execute(
        """CREATE TRIGGER transcription_reembeds AFTER INSERT ON transcriptions BEGIN
            DELETE FROM embedded WHERE record_n = (SELECT n FROM records WHERE id = NEW.record_id);
        END"""
    )


# ---------------------------------------------------------------- backlog


def backlog_count(db: Any, model: str) -> int:
    """Records not yet embedded with `model`."""
    row = db.execute(
        "SELECT count(*) FROM records r WHERE NOT EXISTS "
        "(SELECT 1 FROM embedded e WHERE e.record_n = r.n AND e.model = ?)",
        [model],
    ).fetchone()
    return int(row[0])


def embedded_count(db: Any, model: str) -> int:
    return int(db.execute("SELECT count(*) FROM embedded WHERE model = ?", [model]).fetchone()[0])


def pending_records(db: Any, model: str, limit: int = 64, only: Sequence[int] | None = None) -> list[int]:
    """The next records (records.n, oldest first) waiting to be embedded with `model` (among `only`)."""
    sql = (
        "SELECT r.n FROM records r WHERE NOT EXISTS "
        "(SELECT 1 FROM embedded e WHERE e.record_n = r.n AND e.model = ?)"
    )
    if only is None:
        rows = db.execute(sql + " ORDER BY r.n LIMIT ?", [model, limit]).fetchall()
        return [int(r[0]) for r in rows]
    out: list[int] = []
    ids = sorted(set(only))
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" for _ in part)
        rows = db.execute(sql + f" AND r.n IN ({marks}) ORDER BY r.n", [model, *part]).fetchall()
        out += [int(r[0]) for r in rows]
        if len(out) >= limit:
            break
    return out[:limit]


def record_text(db: Any, n: int) -> str:
    row = db.execute(f"SELECT text FROM {fts.TABLE} WHERE rowid = ?", [n]).fetchone()
    return str(row[0] or "") if row else ""


def forget(db: Any, model: str | None = None) -> None:
    """Drop all vectors (of one model, or all): every record returns to the backlog."""
    from vault.db import transaction

    with transaction(db):
        if model is None:
            db.execute("DELETE FROM chunks")
            db.execute("DELETE FROM embedded")
        else:
            db.execute("DELETE FROM chunks WHERE model = ?", [model])
            db.execute("DELETE FROM embedded WHERE model = ?", [model])


@dataclass
class EmbedReport(WorkReport):
    records: int = 0


EmbedProgress = Callable[[int, int], None]  # (records done, records total)


def embed_pending(
    db: Any,
    embedder: Embedder,
    *,
    limit: int | None = None,
    only: Sequence[int] | None = None,
    progress: EmbedProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
    batch_chunks: int = 64,
    second: Any = None,
) -> EmbedReport:
    """Embed records from the backlog until it is empty (or `limit`, or `should_stop()`).

    `only` restricts the work to some records (records.n), e.g. those just imported. With `second` (the
    second embedder, indexer.embedder2), each chunk gets its second vector in the same transaction.

    Each record's chunks are committed in one transaction with its `embedded`
    row, so an interruption loses at most the batch being computed, and the
    next run resumes where this one stopped.
    """
    report = EmbedReport()
    if only is not None:
        total = len(pending_records(db, embedder.model_id, limit=len(only) + 1, only=only))
    else:
        total = backlog_count(db, embedder.model_id)
    if limit is not None:
        total = min(total, limit)
    started = time.perf_counter()
    if progress:
        progress(0, total)
    while report.records < total:
        if should_stop and should_stop():
            report.interrupted = True
            break
        ns = pending_records(db, embedder.model_id, limit=min(32, total - report.records), only=only)
        if not ns:
            break
        for _n, n_chunks in _embed_batch(db, embedder, ns, batch_chunks, should_stop, second):
            report.records += 1
            report.chunks += n_chunks
            if progress:
                progress(report.records, total)
        if should_stop and should_stop():
            report.interrupted = report.records < total
            break
    report.seconds = time.perf_counter() - started
    return report


def _embed_batch(
    db: Any, embedder: Embedder, ns: Sequence[int], batch_chunks: int, should_stop: Callable[[], bool] | None,
    second: Any = None,
) -> Iterable[tuple[int, int]]:
    """Chunk and embed the records `ns`; commit each as soon as its vectors exist."""
    queue: list[tuple[int, list[Any], str]] = []
    for n in ns:
        text = record_text(db, n)
        queue.append((n, chunk_text(text, embedder.tokenizer, max_tokens=embedder.max_tokens), text))
    # Embed the chunks of several records together (the model is faster on full batches).
    pending: list[tuple[int, list[Any], str]] = []
    texts: list[str] = []
    for item in queue:
        pending.append(item)
        texts.extend(c.text_of(item[2]) for c in item[1])
        if len(texts) >= batch_chunks or item is queue[-1]:
            if should_stop and should_stop():
                return
            vectors = embedder.embed_documents(texts) if texts else np.zeros((0, embedder.dim), np.float32)
            seconds = None
            if second is not None and texts:
                from indexer.second_vectors import embed_or_none

                seconds = embed_or_none(second, texts)
            offset = 0
            for n, chunks, _text in pending:
                mine = vectors[offset : offset + len(chunks)]
                also = (second.model_id, seconds[offset : offset + len(chunks)]) if seconds is not None else None
                offset += len(chunks)
                store_chunks(db, n, embedder.model_id, chunks, mine, also)
                yield n, len(chunks)
            pending, texts = [], []


def store_chunks(db: Any, n: int, model: str, chunks: Sequence[Any], vectors: np.ndarray,
                 second: tuple[str, np.ndarray] | None = None) -> None:
    """Replace one record's chunks for `model` and mark it embedded (one transaction); with `second` (a model and
    its vectors, one a chunk), each chunk's second vector too (indexer.second_vectors)."""
    from datetime import UTC, datetime

    from vault.db import transaction

    rows = []
    for chunk, vec in zip(chunks, vectors, strict=True):
        blob, scale = encode(vec)
        rows.append((n, chunk.seq, chunk.start, chunk.end, model, blob, scale))
    with transaction(db):
        exists = db.execute("SELECT 1 FROM records WHERE n = ?", [n]).fetchone()
        if exists is None:  # deleted meanwhile (purge): nothing to keep
            return
        db.execute("DELETE FROM chunks WHERE record_n = ? AND model = ?", [n, model])
        db.conn.executemany(
            "INSERT INTO chunks (record_n, seq, start, end, model, vector, scale) VALUES (?, ?, ?, ?, ?, ?, ?)", rows
        )
        if second is not None and rows:
            from indexer import second_vectors

            ids = [int(r[0]) for r in db.execute(
                "SELECT id FROM chunks WHERE record_n = ? AND model = ? ORDER BY seq", [n, model]).fetchall()]
            second_vectors.store(db, ids, second[0], second[1])
        db.execute(
            "INSERT OR REPLACE INTO embedded (record_n, model, chunks, at) VALUES (?, ?, ?, ?)",
            [n, model, len(rows), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        )


# ---------------------------------------------------------------- the cached matrix

# Held as long as the database object is: once a session is closed its vectors go with it, and the next
# connection (another vault) is never mistaken for it (keyed by id(), a new connection could reuse the id
# of a closed one and be served the old vault's vectors).
_MATRICES: weakref.WeakKeyDictionary[Any, dict[str, VectorMatrix]] = weakref.WeakKeyDictionary()
_MATRICES_LOCK = threading.Lock()


def matrix_for(db: Any, model: str, dim: int) -> VectorMatrix:
    """The up-to-date vector matrix of `model` for this database (cached while `db` lives)."""
    with _MATRICES_LOCK:
        mine = _MATRICES.setdefault(db, {})
        vm = mine.get(model)
        if vm is None or vm.dim != dim:
            vm = VectorMatrix(model, dim)
            mine[model] = vm
    vm.refresh(db)
    return vm


def approximate_recall(db: Any, samples: int = 20) -> dict[str, float]:
    """Recall@100 of the approximate index against exact search, per model that has one (see recall_check)."""
    from indexer.ann_store import snapshot_models

    out = {}
    for model, dim in snapshot_models(db):
        recall = matrix_for(db, model, dim).recall_check(samples)
        if recall is not None:
            out[model] = recall
    return out


def allowed_records(db: Any, filters: fts.Filters | None) -> np.ndarray | None:
    """records.n allowed by the filters (None: no filter, all records)."""
    if filters is None or not filters.narrows():
        return None  # (an empty patient list, patients=(), or within=(), allows nothing: it is a filter)
    return np.asarray(fts.passing(db, filters), dtype=np.int64)  # records with vectors have a full-text row
