import secrets
from pathlib import Path

import pytest

from vault.db import migrate, open_index, schema_version, transaction
from vault.errors import TamperDetected


def test_index_is_encrypted_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    key = secrets.token_bytes(32)
    db = open_index(path, key, create=True)
    db["notes"].insert({"text": "CANARY-7f3a9 patient note"})
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    raw = path.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    assert b"CANARY-7f3a9" not in raw
    again = open_index(path, key)
    assert [r["text"] for r in again["notes"].rows] == ["CANARY-7f3a9 patient note"]
    again.conn.close()


def test_wrong_key_is_reported_not_crashed(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "index.db"
    db = open_index(path, secrets.token_bytes(32), create=True)
    db["t"].insert({"a": 1})
    db.conn.close()
    with pytest.raises(TamperDetected, match="cannot be opened with this vault's key"):
        open_index(path, secrets.token_bytes(32))
    assert "ERROR CORE" not in capfd.readouterr().err  # SQLCipher's own log stays quiet


def test_migrations_run_once_and_in_order(tmp_path: Path) -> None:
    db = open_index(tmp_path / "i.db", secrets.token_bytes(32), create=True)
    calls: list[int] = []
    steps = [lambda d: calls.append(1), lambda d: calls.append(2)]
    assert migrate(db, steps) == 2
    assert migrate(db, steps) == 2
    assert calls == [1, 2]
    assert schema_version(db) == 2


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = open_index(tmp_path / "i.db", secrets.token_bytes(32), create=True)
    db.execute("CREATE TABLE t (a)")
    with pytest.raises(RuntimeError), transaction(db):
        db.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 0


def test_a_busy_database_is_retried_and_other_errors_are_not() -> None:
    """README, many sessions at once: a write that finds the database locked by another process is retried (a
    user never sees "database is locked"); any other database error is raised at once, and a lock that outlasts
    every retry is raised too."""
    from sqlcipher3 import dbapi2 as sqlcipher

    from vault.db import retry_busy

    calls: list[str] = []

    def locked_twice() -> str:
        calls.append("locked_twice")
        if len(calls) < 3:
            raise sqlcipher.OperationalError("database is locked")
        return "written"

    assert retry_busy(locked_twice) == "written" and len(calls) == 3

    def broken() -> None:
        calls.append("broken")
        raise sqlcipher.OperationalError("no such table: t")

    with pytest.raises(sqlcipher.OperationalError, match="no such table"):
        retry_busy(broken)
    assert calls.count("broken") == 1

    def always_locked() -> None:
        calls.append("always_locked")
        raise sqlcipher.OperationalError("database is locked")

    with pytest.raises(sqlcipher.OperationalError, match="database is locked"):
        retry_busy(always_locked, retries=2)
    assert calls.count("always_locked") == 3


def test_a_second_connection_reads_the_index_and_follows_a_rekey(tmp_path: Path) -> None:
    """open_reader: the same rows on another connection, which cannot write; after a rekey it opens with the new
    key; once the index is forgotten (closed) there is none."""
    import sqlcipher3

    from vault.db import forget_reader, open_reader, rekey_index

    db = open_index(tmp_path / "index.db", secrets.token_bytes(32), create=True)
    db.execute("CREATE TABLE t (x INTEGER)")
    db.execute("INSERT INTO t VALUES (7)")
    reader = open_reader(db)
    assert reader is not None and reader.execute("SELECT x FROM t").fetchall() == [(7,)]
    with pytest.raises(sqlcipher3.dbapi2.OperationalError):
        reader.execute("INSERT INTO t VALUES (8)")
    reader.close()
    rekey_index(db, secrets.token_bytes(32))
    db.execute("INSERT INTO t VALUES (9)")
    reader = open_reader(db)
    assert reader is not None and reader.execute("SELECT x FROM t ORDER BY x").fetchall() == [(7,), (9,)]
    reader.close()
    forget_reader(db)
    assert open_reader(db) is None
    db.conn.close()
