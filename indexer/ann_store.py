"""The vector matrix and its approximate index, kept in the encrypted index between sessions.

Loading a million chunk rows one by one takes about ten seconds and building
their graph minutes, so a large archive keeps a snapshot: the graph
(`indexer.ann`) and the rows' ids, records, offsets, scales and int8 vectors,
serialised in memory and stored as blobs in the SQLCipher index.
At unlock the snapshot is read back (a few large blobs), then brought up to
date: chunks added since are read from `chunks`, chunks deleted since from
their tombstones.

The int8 vectors are in the snapshot once: inside the serialised graph
(usearch writes them first, one row per graph slot), with each chunk's row
there kept beside the ids (`slot`). 1M chunks: ~0.65 GB instead of 1.03 GB
when the codes were stored a second time; reading is what unlock waits for.

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

from indexer.ann import AnnIndex, settle_in_huge_pages, snapshot_buffer

if TYPE_CHECKING:
    from indexer.vectors import VectorMatrix

PART_BYTES = 16 << 20
# A snapshot is written again once this many chunks were added or deleted since the stored one
# (or this share of the archive): at unlock, what the snapshot lacks is read from the rows and added
# to the graph (about 2 s per 20k chunks on a busy machine).
SAVE_EVERY = 20_000
SAVE_SHARE = 0.05
FORMAT = 3  # 3: the int8 codes are read from the graph's own vectors (2: an array of their own; 1: from `get`)
READABLE = (2, 3)  # a format-2 snapshot (codes stored apart) is read as it is and replaced when next written
VERIFY_ROWS = 64  # chunks whose codes are checked against the graph's when a snapshot is read


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


def snapshot_parts(db: Any, model: str) -> int:
    row = db.execute("SELECT parts FROM vector_snapshots WHERE model = ?", [model]).fetchone()
    return int(row[0]) if row else 0


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

    vm.thaw()  # (a frozen graph lacks the chunks added since it was read, and still holds those deleted)
    assert vm.ann is not None
    arrays: dict[str, np.ndarray] = {
        "chunk_id": vm.chunk_id.astype(np.int64),
        "record": vm.chunk_record.astype(np.int64),
        "seq": vm.chunk_seq.astype(np.int32),
        "span": vm.chunk_span.astype(np.int64),
        "scale": vm.chunk_scale.astype(np.float32),
    }
    graph = vm.ann.to_bytes()
    slot = _slots_of(vm.codes, _vectors_in(graph, vm.dim))
    if slot is None:  # (not seen: a graph whose vectors cannot be told apart) the codes are stored as they are
        arrays["codes"] = vm.codes
    else:
        arrays["slot"] = slot
    payload = _pack(arrays, graph)
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
    data = _read_parts(db, vm.model, int(row[4]))
    if data is None:
        return False
    try:
        arrays, graph = _unpack(data)
    except ValueError:
        return False  # a format this version does not read: the rows are read and a new snapshot written
    # The graph is a view of the bytes just read (no copy of its nodes), and each chunk's codes are read from
    # the graph's own vectors when needed (no gather of them all): it is copied into a graph that changes, and
    # the codes gathered, only once chunks are added or deleted beyond what is searched beside it
    # (`VectorMatrix.thaw`). 1M chunks: ~1.2 s less to wait at unlock, and ~1 GB less held.
    ann = AnnIndex.from_bytes(graph, vm.dim, view=True)
    ids = arrays["chunk_id"]
    if len(ann) != len(ids) or len(ids) != int(row[1]):
        return False
    codes: np.ndarray | None = None
    store: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    if "codes" in arrays:
        codes = arrays.pop("codes")
    else:
        tape = _vectors_in(graph, vm.dim)
        slot = arrays.pop("slot")
        if tape is None or (len(slot) and int(slot.max()) >= len(tape)):
            return False
        store = (tape, slot, np.zeros((0, vm.dim), dtype=np.int8))
    del graph, data  # (kept alive by the graph)
    if len(ids):  # the graph's vectors are the chunks' own: a sample checked through usearch
        sample = np.random.default_rng().choice(len(ids), size=min(VERIFY_ROWS, len(ids)), replace=False)
        mine = codes[sample] if codes is not None else store[0][store[1][sample]]  # type: ignore[index]
        if not np.array_equal(ann.codes(ids[sample]), mine):
            return False
    vm.ann = ann
    vm._set(codes, ids, arrays["record"], arrays["seq"], arrays["span"], arrays["scale"], ordered=True, store=store)
    vm.pages = settle_in_huge_pages(ann._held)  # searched meanwhile, ~22% quicker once done (indexer.ann)
    vm.max_id = int(row[2])
    vm.tomb_seq = int(row[3])
    vm.unsaved = 0
    return True


def _read_parts(db: Any, model: str, parts: int) -> memoryview | None:
    """The snapshot's parts, in order, copied once into one buffer (None if some are missing).

    From `TWO_READERS_FROM` parts on they are read on two connections at once (`vault.db.open_reader`): SQLCipher
    decrypts on the reading thread, one page at a time, so one connection reads at one core's pace (1M chunks:
    ~0.8 GB, most of unlock's wait for the vectors)."""
    if parts >= TWO_READERS_FROM:
        try:
            return _read_parts_on_two(db, model, parts)
        except _OneReader:
            pass
    out = snapshot_buffer(parts * PART_BYTES)
    at = count = 0
    for (part,) in db.execute("SELECT data FROM vector_snapshot_parts WHERE model = ? ORDER BY part", [model]):
        if at + len(part) > len(out):
            return None
        out[at : at + len(part)] = part
        at += len(part)
        count += 1
    return memoryview(out)[:at] if count == parts else None


TWO_READERS_FROM = 4  # parts (of PART_BYTES) from which a second connection reads beside the first
_SNAPSHOT_ROW = "SELECT dim, chunks, max_id, tomb_seq, parts, at FROM vector_snapshots WHERE model = ?"


class _OneReader(Exception):
    """The parts cannot be read on two connections (no second one, or another process wrote a new snapshot
    between the two connections' reads): they are read on the caller's connection alone."""


def _read_parts_on_two(db: Any, model: str, parts: int) -> memoryview | None:
    """`_read_parts` on `db`'s connection and a second one, each taking the next part not yet taken. Each part
    but the last is PART_BYTES long (`save_snapshot`), so each is copied straight to its place."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from vault.db import open_reader

    twin = open_reader(db)
    if twin is None:
        raise _OneReader
    try:
        twin.execute("BEGIN")  # its own read transaction: it must see the snapshot the caller's sees
        mine = db.execute(_SNAPSHOT_ROW, [model]).fetchone()
        theirs = twin.execute(_SNAPSHOT_ROW, [model]).fetchone()
        if mine is None or theirs is None or tuple(mine) != tuple(theirs):
            raise _OneReader
        out = snapshot_buffer(parts * PART_BYTES)
        sizes = [-1] * parts  # -1: not read (missing)
        todo = iter(range(parts))
        taking = threading.Lock()

        def read(conn: Any) -> None:
            while True:
                with taking:
                    part = next(todo, None)
                if part is None:
                    return
                row = conn.execute(
                    "SELECT data FROM vector_snapshot_parts WHERE model = ? AND part = ?", [model, part]
                ).fetchone()
                if row is None or len(row[0]) > PART_BYTES:
                    return  # (left at -1: the snapshot is not usable)
                out[part * PART_BYTES : part * PART_BYTES + len(row[0])] = row[0]
                sizes[part] = len(row[0])

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapshot-reader") as pool:
            beside = pool.submit(read, twin)
            read(db.conn)
            try:
                beside.result()
            except Exception as e:  # noqa: BLE001 - the second connection failed: one connection reads it all
                raise _OneReader from e
    finally:
        if twin.in_transaction:
            twin.execute("ROLLBACK")
        twin.close()
    if min(sizes) < 0 or any(size != PART_BYTES for size in sizes[:-1]):
        return None
    return memoryview(out)[: (parts - 1) * PART_BYTES + sizes[-1]]


def _vectors_in(graph: bytes | memoryview, dim: int) -> np.ndarray | None:
    """The int8 vectors a serialised usearch graph starts with: (slots, dim), a view, in slot order.

    usearch's format (2.x): two uint32 (rows, bytes per row), then the rows; a graph slot of a removed
    chunk keeps a row. None if the bytes do not start that way (the caller then does without)."""
    view = memoryview(graph)
    if len(view) < 8:
        return None
    rows, width = (int(x) for x in np.frombuffer(view[:8], dtype=np.uint32))
    if width != dim or 8 + rows * width > len(view):
        return None
    return np.frombuffer(view[8 : 8 + rows * width], dtype=np.int8).reshape(rows, dim)


def _slots_of(codes: np.ndarray, tape: np.ndarray | None) -> np.ndarray | None:
    """For each of our rows, a row of the graph's vectors equal to it (int32); None if one has none.

    Rows are matched by a 64-bit hash of their bytes, then compared in full: equal vectors may share a slot
    (they are the same codes), a removed chunk's stale slot is simply never chosen."""
    if tape is None or tape.shape[1] != codes.shape[1] or codes.shape[1] % 8:
        return None
    ours, theirs = _row_hashes(codes), _row_hashes(tape)
    order = np.argsort(theirs, kind="stable")
    at = np.clip(np.searchsorted(theirs, ours, sorter=order), 0, max(len(order) - 1, 0))
    if not len(order):
        return None if len(codes) else np.zeros(0, dtype=np.int32)
    slot = order[at].astype(np.int32)
    for a in range(0, len(codes), 65_536):
        if not np.array_equal(tape[slot[a : a + 65_536]], codes[a : a + 65_536]):
            return None
    return slot


def _row_hashes(rows: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each int8 row (fixed odd multipliers; wraps as uint64 arithmetic does)."""
    words = np.ascontiguousarray(rows).view(np.uint64)
    weights = np.random.default_rng(0x5EED).integers(1, 2**63, size=words.shape[1], dtype=np.uint64) | np.uint64(1)
    out = np.empty(len(words), dtype=np.uint64)
    for a in range(0, len(words), 65_536):
        block = words[a : a + 65_536] * weights
        out[a : a + 65_536] = block.sum(axis=1, dtype=np.uint64) ^ (block[:, 0] >> np.uint64(29))
    return out


def _pack(arrays: dict[str, np.ndarray], graph: bytes) -> bytes:
    """A JSON header (names, dtypes, shapes, lengths), then the arrays' bytes, then the graph's."""
    head = {
        "format": FORMAT,
        "arrays": [[name, a.dtype.str, list(a.shape)] for name, a in arrays.items()],
        "graph": len(graph),
    }
    header = json.dumps(head).encode()
    return b"".join([len(header).to_bytes(8, "little"), header, *(a.tobytes() for a in arrays.values()), graph])


def _unpack(data: bytes | memoryview) -> tuple[dict[str, np.ndarray], memoryview]:
    view = memoryview(data)
    size = int.from_bytes(view[:8], "little")
    head = json.loads(bytes(view[8 : 8 + size]))
    if head.get("format") not in READABLE:
        raise ValueError("unknown vector snapshot format")
    at = 8 + size
    arrays = {}
    for name, dtype, shape in head["arrays"]:
        dt = np.dtype(dtype)
        count = int(np.prod(shape)) if shape else 1
        arrays[name] = np.frombuffer(view[at : at + count * dt.itemsize], dtype=dt).reshape(shape).copy()
        at += count * dt.itemsize
    return arrays, view[at : at + int(head["graph"])]
