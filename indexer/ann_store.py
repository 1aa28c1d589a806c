"""The vector matrix and its approximate index, kept in the encrypted index between sessions.

Loading a million chunk rows one by one takes about ten seconds and building
their graph minutes, so a large archive keeps a snapshot: the graph
(`indexer.ann`) and the rows' ids, records, offsets, scales and int8 vectors,
serialised in memory and stored as blobs in the SQLCipher index.
At unlock the snapshot is read back (a few large blobs), then brought up to
date: chunks added since are read from `chunks`, chunks deleted since from
their tombstones.

Tables (created by `create_schema`, from a migration in archive/store/schema.py):
    chunk_tombstones(seq, chunk_id, model)
        one row per deleted chunk (a trigger), so a matrix in memory and a
        snapshot learn what was deleted without reloading everything;
        pruned once every snapshot is past them
    vector_snapshots(model, dim, chunks, max_id, tomb_seq, parts, at)
    vector_snapshot_parts(model, part, data)
        the snapshot of one model, in parts of PART_BYTES

A record deleted (a retention purge) drops every snapshot in the same
transaction (a trigger), so no vector of a purged record stays in one; the
next session that holds the matrix writes a new one.

Never writes a file: the snapshot exists as bytes in memory and as rows of the
encrypted index only. Knows nothing of records' content, users or policy.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.ann import AnnIndex

if TYPE_CHECKING:
    from indexer.vectors import VectorMatrix

PART_BYTES = 16 << 20
# A snapshot is written again once this many chunks were added or deleted since the stored one
# (or this share of the archive): at unlock, what the snapshot lacks is read from the rows and added
# to the graph (about 2 s per 20k chunks on a busy machine).
SAVE_EVERY = 20_000
SAVE_SHARE = 0.05
FORMAT = 2  # 2: the int8 codes are an array of their own


def create_schema(db: Any) -> None:
    db.execute(
        "CREATE TABLE chunk_tombstones (seq INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id INTEGER NOT NULL,"
        " model TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TRIGGER chunks_tombstone AFTER DELETE ON chunks BEGIN"
        " INSERT INTO chunk_tombstones (chunk_id, model) VALUES (OLD.id, OLD.model); END"
    )
    db.execute(
        """CREATE TABLE vector_snapshots (
            model TEXT PRIMARY KEY,
            dim INTEGER NOT NULL,
            chunks INTEGER NOT NULL,
            max_id INTEGER NOT NULL,
            tomb_seq INTEGER NOT NULL,
            parts INTEGER NOT NULL,
            at TEXT NOT NULL
        )"""
    )
    db.execute(
        "CREATE TABLE vector_snapshot_parts (model TEXT NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL,"
        " PRIMARY KEY (model, part))"
    )
    db.execute(
        "CREATE TRIGGER records_deleted_drop_snapshots AFTER DELETE ON records BEGIN"
        " DELETE FROM vector_snapshot_parts; DELETE FROM vector_snapshots; END"
    )


# ---------------------------------------------------------------- tombstones


def tombstone_range(db: Any) -> tuple[int, int | None]:
    """(the last tombstone ever written, 0 if none; the first still kept, None if none)."""
    row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'chunk_tombstones'").fetchone()
    first = db.execute("SELECT min(seq) FROM chunk_tombstones").fetchone()[0]
    return (int(row[0]) if row else 0), (None if first is None else int(first))


def tombstones_since(db: Any, model: str, seq: int, upto: int) -> np.ndarray:
    """Chunk ids of `model` deleted after tombstone `seq`, up to `upto`."""
    rows = db.execute(
        "SELECT chunk_id FROM chunk_tombstones WHERE seq > ? AND seq <= ? AND model = ?", [seq, upto, model]
    ).fetchall()
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


# ---------------------------------------------------------------- snapshot


def snapshot_models(db: Any) -> list[tuple[str, int]]:
    """(model, dim) of every stored snapshot: the models whose archive is large enough for a graph."""
    return [(str(r[0]), int(r[1])) for r in db.execute("SELECT model, dim FROM vector_snapshots ORDER BY model")]


def has_snapshot(db: Any, model: str) -> bool:
    return db.execute("SELECT 1 FROM vector_snapshots WHERE model = ?", [model]).fetchone() is not None


def save_if_due(db: Any, vm: VectorMatrix) -> bool:
    """Write the snapshot when none is stored or enough changed since (see SAVE_EVERY)."""
    if vm.unsaved < max(SAVE_EVERY, SAVE_SHARE * vm.size) and has_snapshot(db, vm.model):
        return False
    save_snapshot(db, vm)
    return True


def save_snapshot(db: Any, vm: VectorMatrix) -> None:
    """Serialise the matrix's rows and graph in memory and store them (one transaction)."""
    from vault.db import transaction

    assert vm.ann is not None
    arrays: dict[str, np.ndarray] = {
        "chunk_id": vm.chunk_id.astype(np.int64),
        "record": vm.chunk_record.astype(np.int64),
        "seq": vm.chunk_seq.astype(np.int32),
        "span": vm.chunk_span.astype(np.int64),
        "scale": vm.chunk_scale.astype(np.float32),
        # The graph holds these too, but reading them back from it is one Python object per vector (usearch's
        # `get`: ~5 s per million); as one array they cost 384 bytes a chunk more to decrypt, ~0.1 s per 100 MB.
        "codes": vm.stored_codes(),
    }
    payload = _pack(arrays, vm.ann.to_bytes())
    parts = [payload[i : i + PART_BYTES] for i in range(0, len(payload), PART_BYTES)]
    with transaction(db):
        db.execute("DELETE FROM vector_snapshot_parts WHERE model = ?", [vm.model])
        db.conn.executemany(
            "INSERT INTO vector_snapshot_parts (model, part, data) VALUES (?, ?, ?)",
            [(vm.model, i, part) for i, part in enumerate(parts)],
        )
        db.execute(
            "INSERT OR REPLACE INTO vector_snapshots (model, dim, chunks, max_id, tomb_seq, parts, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [vm.model, vm.dim, vm.size, vm.max_id, vm.tomb_seq, len(parts),
             datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        )
        # Tombstones every snapshot is past are no longer needed.
        oldest = db.execute("SELECT min(tomb_seq) FROM vector_snapshots").fetchone()[0]
        db.execute("DELETE FROM chunk_tombstones WHERE seq <= ?", [int(oldest)])
    vm.unsaved = 0


def load_snapshot(db: Any, vm: VectorMatrix) -> bool:
    """Fill an empty matrix (and its graph) from the stored snapshot; False if none is usable.

    The caller then applies the tombstones after `vm.tomb_seq` and the rows after `vm.max_id`.
    """
    row = db.execute(
        "SELECT dim, chunks, max_id, tomb_seq, parts FROM vector_snapshots WHERE model = ?", [vm.model]
    ).fetchone()
    if row is None or int(row[0]) != vm.dim:
        return False
    _, first = tombstone_range(db)
    if first is not None and first > int(row[3]) + 1:
        return False  # tombstones it would need were pruned
    blobs = db.execute(
        "SELECT data FROM vector_snapshot_parts WHERE model = ? ORDER BY part", [vm.model]
    ).fetchall()
    if len(blobs) != int(row[4]):
        return False
    arrays, graph = _unpack(b"".join(r[0] for r in blobs))
    blobs = []
    ann = AnnIndex.from_bytes(graph, vm.dim)
    del graph
    ids = arrays["chunk_id"]
    if len(ann) != len(ids) or len(ids) != int(row[1]):
        return False
    matrix = arrays.pop("codes").astype(np.float32)
    matrix *= arrays["scale"][:, None]
    vm.ann = ann
    vm._set(matrix, ids, arrays["record"], arrays["seq"], arrays["span"],
            arrays["scale"], ordered=True)
    vm.max_id = int(row[2])
    vm.tomb_seq = int(row[3])
    vm.unsaved = 0
    return True


def _pack(arrays: dict[str, np.ndarray], graph: bytes) -> bytes:
    """A JSON header (names, dtypes, shapes, lengths), then the arrays' bytes, then the graph's."""
    head = {
        "format": FORMAT,
        "arrays": [[name, a.dtype.str, list(a.shape)] for name, a in arrays.items()],
        "graph": len(graph),
    }
    header = json.dumps(head).encode()
    return b"".join([len(header).to_bytes(8, "little"), header, *(a.tobytes() for a in arrays.values()), graph])


def _unpack(data: bytes) -> tuple[dict[str, np.ndarray], memoryview]:
    view = memoryview(data)
    size = int.from_bytes(view[:8], "little")
    head = json.loads(bytes(view[8 : 8 + size]))
    if head.get("format") != FORMAT:
        raise ValueError("unknown vector snapshot format")
    at = 8 + size
    arrays = {}
    for name, dtype, shape in head["arrays"]:
        dt = np.dtype(dtype)
        count = int(np.prod(shape)) if shape else 1
        arrays[name] = np.frombuffer(view[at : at + count * dt.itemsize], dtype=dt).reshape(shape).copy()
        at += count * dt.itemsize
    return arrays, view[at : at + int(head["graph"])]
