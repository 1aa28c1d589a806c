"""Opens the SQLCipher index as a `sqlite_utils.Database`, and runs migrations.

The index holds extracted text, embeddings, users and the audit log, so the
whole file is encrypted with SQLCipher under a random 256-bit raw key. Temp
storage is kept in memory so that sorting or large queries never spill
plaintext pages to a temp file.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vault.errors import DiskFull, StoreError, TamperDetected

Migration = Callable[["object"], None]

# Where each open index is and its key, so that a second connection can read beside the first
# (`open_reader`); forgotten with the Database object (a weak key), updated by a rekey.
_READERS: weakref.WeakKeyDictionary[Any, tuple[Path, bytes]] = weakref.WeakKeyDictionary()


def _keyed_connection(path: Path, raw_key: bytes, *before_read: str):  # type: ignore[no-untyped-def]
    """A connection to the index at `path` under `raw_key` (SQLCipher kept quiet on stderr; a wrong key is reported
    by the caller, once), with the `before_read` pragmas set before its first read; None when the key does not open
    it (the connection closed)."""
    from sqlcipher3 import dbapi2 as sqlcipher

    conn = sqlcipher.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{raw_key.hex()}'\"")
        for pragma in before_read:
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError:
        conn.close()
        return None
    return conn


def open_index(path: Path, raw_key: bytes, create: bool = False):  # type: ignore[no-untyped-def]
    """Open (or with `create`, make) the encrypted index; return a sqlite_utils Database."""
    import sqlite_utils

    if len(raw_key) != 32:
        raise ValueError("index key must be 32 bytes")
    if not create and not path.exists():
        raise TamperDetected(
            f"The index {path} is missing.",
            "Restore index.db from a backup; the encrypted blobs under objects/ are intact.",
        )
    if create and not path.exists():
        # Made 0600 before SQLite sees it: SQLite gives -wal and -shm the mode of the database file.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    conn = _keyed_connection(path, raw_key)
    if conn is None:
        if not create and no_space_left(path.parent):
            # WAL's shared-memory index (index.db-shm) could not be sized on a full disk; a full disk is
            # not a corrupt index: open it without that file, so that reading keeps working.
            return _open_without_shm(path, raw_key)
        raise TamperDetected(
            f"The index {path.name} cannot be opened with this vault's key: it is corrupt or was replaced.",
            "Restore index.db from a backup.",
        )
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA busy_timeout = 30000")
    # Every page read from disk is decrypted; keep 32 MiB of decrypted pages (in memory only) so that
    # searches joining FTS matches with their records do not decrypt the same pages again and again.
    conn.execute("PRAGMA cache_size = -32768")
    db = sqlite_utils.Database(conn)
    _READERS[db] = (path, raw_key)
    return db


def open_reader(db):  # type: ignore[no-untyped-def]
    """A second connection to `db`'s index, for reading only (`query_only`), or None when there cannot be one
    (the index was opened without a -shm file, on a full disk, or not by `open_index`).

    SQLCipher decrypts a page at a time on the thread that reads it, and a connection reads on one thread at a
    time: a large read (the vector snapshot, `indexer.ann_store`) is split over this connection and `db`'s own,
    on two threads (both release the GIL while SQLite works). The caller closes it. Raw key: no KDF to run.
    """
    known = _READERS.get(db)
    if known is None:
        return None
    path, raw_key = known
    # temp_store as the first connection's: a large sort never spills plaintext to a file
    return _keyed_connection(path, raw_key, "query_only = ON", "temp_store = MEMORY", "busy_timeout = 30000")


def forget_reader(db) -> None:  # type: ignore[no-untyped-def]
    """Drop what `open_reader` keeps of `db` (its path and key): called when the index is closed."""
    _READERS.pop(db, None)


def no_space_left(folder: Path, margin: int = 1 << 20) -> bool:
    """Whether the file system holding `folder` has (almost) no space left for us."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < margin


def _open_without_shm(path: Path, raw_key: bytes):  # type: ignore[no-untyped-def]
    """The index on a full disk: WAL with exclusive locking keeps its index in this process's memory
    (no -shm file). Reads work; a write that needs new space fails with SQLITE_FULL (DiskFull)."""
    import sqlite_utils

    conn = _keyed_connection(path, raw_key, "locking_mode = EXCLUSIVE")
    if conn is None:
        raise DiskFull()
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA cache_size = -32768")
    return sqlite_utils.Database(conn)


def rekey_index(db, new_key: bytes) -> None:  # type: ignore[no-untyped-def]
    """Re-encrypt every page of the open index under `new_key` (`PRAGMA rekey`), then empty the WAL.

    In WAL mode the rekey is one transaction: a crash leaves the file opening with
    either the old key or the new one, never a mix. The checkpoint then copies every
    page into the main file and truncates the WAL, so no page readable with the old
    key stays behind in either file.
    """
    if len(new_key) != 32:
        raise ValueError("index key must be 32 bytes")
    db.conn.execute(f"PRAGMA rekey = \"x'{new_key.hex()}'\"")
    if db in _READERS:
        _READERS[db] = (_READERS[db][0], new_key)
    empty_log(db)


def empty_log(db) -> None:  # type: ignore[no-untyped-def]
    """Copy every page of the WAL into the index file and truncate the WAL to nothing."""
    busy, _, _ = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        raise StoreError(
            "The index was re-keyed, but another program still reads it, so its log could not be emptied.",
            "Close every other chartvault window and the watcher, then rerun 'chartvault key rotate'.",
        )


def schema_version(db) -> int:  # type: ignore[no-untyped-def]
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = db.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db, migrations: Sequence[Callable[..., None]]) -> int:  # type: ignore[no-untyped-def]
    """Apply `migrations[n:]` where n is the stored version, each in its own transaction.

    Migration k (1-based) brings the schema to version k. Returns the new version.
    """
    current = schema_version(db)
    for version, step in enumerate(migrations, start=1):
        if version <= current:
            continue
        with transaction(db):
            step(db)
            db.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
    return max(current, len(migrations))


BUSY_RETRIES = 8  # on top of the connection's busy timeout (30 s): a user never sees "database is locked"


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means another connection holds the lock (retrying will do)."""
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


def retry_busy(step: Callable[[], Any], retries: int = BUSY_RETRIES) -> Any:
    """Run `step`; while it fails because the database is busy, wait a little longer each time and retry.

    SQLite's busy handler covers most waits; a few lock states return SQLITE_BUSY
    at once (a WAL checkpoint or recovery by another process, a snapshot that
    went stale), and those are retried here.
    """
    import random
    import time

    from sqlcipher3 import dbapi2 as sqlcipher

    for attempt in range(retries + 1):
        try:
            return step()
        except sqlcipher.OperationalError as exc:
            if attempt == retries or not is_busy(exc):
                raise
            time.sleep(min(2.0, 0.02 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


class transaction:
    """`BEGIN IMMEDIATE` ... `COMMIT`, or `ROLLBACK` on error. Nests as a no-op.

    BEGIN IMMEDIATE takes the database's write lock at once (never a read that
    must later upgrade, which another writer could make fail); it and COMMIT
    are retried while another process holds the lock (`retry_busy`).
    """

    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        self.conn = db.conn
        self.outer = False

    def __enter__(self) -> None:
        self.outer = not self.conn.in_transaction
        if self.outer:
            retry_busy(lambda: self.conn.execute("BEGIN IMMEDIATE"))

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if not self.outer:
            return
        if exc_type is None:
            try:
                retry_busy(lambda: self.conn.execute("COMMIT"))
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        else:
            self.conn.execute("ROLLBACK")
