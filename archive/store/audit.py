"""The audit chain's rows (appending, reading, verifying).

Owns the SQL for: audit. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault.db import transaction

if TYPE_CHECKING:
    from sqlite_utils import Database


class AuditRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # The columns an entry's MAC covers, in order (archive.audit.FIELDS names the same ones).
    _ENTRY = "seq, ts, user, role, action, patient, record, reason, outcome, flagged, details"

    @property
    def in_transaction(self) -> bool:
        return bool(self.db.conn.in_transaction)

    def writing(self) -> transaction:
        """A write transaction (BEGIN IMMEDIATE: the database's write lock from the start, retried while busy)."""
        return transaction(self.db)

    def last(self) -> tuple[int, str] | None:
        """(seq, mac) of the latest entry, or None for an empty log."""
        row = self.db.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def insert(self, row: dict[str, Any]) -> None:
        """Append one entry's row (its columns as computed by archive.audit)."""
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.db.execute(f"INSERT INTO audit ({cols}) VALUES ({marks})", list(row.values()))

    def chain(self) -> Iterator[tuple[Any, ...]]:
        """Every entry in storage order: its columns (as `_ENTRY`), then prev_mac, mac, signer, sig."""
        yield from self.db.execute(f"SELECT {self._ENTRY}, prev_mac, mac, signer, sig FROM audit ORDER BY rowid")

    def filing_statements(self, actions: tuple[str, ...]) -> dict[str, str | None]:
        """{record id: patient} as the latest ok entry of `actions` about the record says."""
        marks = ", ".join("?" for _ in actions)
        rows = self.db.execute(
            f"SELECT record, patient FROM audit WHERE action IN ({marks}) AND outcome = 'ok'"
            " AND record IS NOT NULL ORDER BY seq",
            list(actions),
        )
        return {str(record): patient for record, patient in rows}

    def count_from(self, seq: int) -> int:
        """How many entries have seq >= `seq` (the signed part of the log, to size its verification)."""
        return int(self.db.execute("SELECT count(*) FROM audit WHERE seq >= ?", [seq]).fetchone()[0])

    def mac_at(self, seq: int) -> str | None:
        row = self.db.execute("SELECT mac FROM audit WHERE seq = ?", [seq]).fetchone()
        return None if row is None else str(row[0])

    def select(
        self,
        *,
        seq: int | None = None,
        user: str | None = None,
        patient: str | None = None,
        record: str | None = None,
        action: str | None = None,
        since: str | None = None,
        flagged: bool | None = None,
        limit: int | None = None,
    ) -> list[tuple[Any, ...]]:
        """Entries (their columns as `_ENTRY`) matching every filter given, by seq."""
        where: list[str] = []
        params: list[str | int] = []
        if seq is not None:
            where.append("seq = ?")
            params.append(int(seq))
        for col, val in (("user", user), ("patient", patient), ("record", record), ("action", action)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if since:
            where.append("ts >= ?")
            params.append(since)
        if flagged is not None:
            where.append("flagged = ?")
            params.append(1 if flagged else 0)
        sql = f"SELECT {self._ENTRY} FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return list(self.db.execute(sql, params))

    def details_of(self, action: str) -> list[tuple[int, str | None]]:
        """(seq, details) of every entry of `action`, by seq."""
        rows = self.db.execute("SELECT seq, details FROM audit WHERE action = ? ORDER BY seq", [action])
        return [(int(seq), details) for seq, details in rows]

    def break_glass_details(self) -> list[str | None]:
        """The details of the entries that mention break-glass (accesses under a grant, the grants)."""
        rows = self.db.execute("SELECT details FROM audit WHERE details LIKE '%break_glass%'")
        return [details for (details,) in rows]

    # Group commit (Session.transaction): commit with synchronous=NORMAL, then fsync the WAL when needed.

    def set_synchronous(self, mode: str) -> None:
        """PRAGMA synchronous (NORMAL or FULL); only outside a transaction."""
        if mode not in ("NORMAL", "FULL"):
            raise ValueError(mode)
        self.db.conn.execute(f"PRAGMA synchronous = {mode}")

    @property
    def total_changes(self) -> int:
        """Rows changed on this connection since it opened."""
        return int(self.db.conn.total_changes)

    def wal_path(self) -> Path | None:
        """The index's write-ahead log file."""
        row = self.db.execute("PRAGMA database_list").fetchone()
        return Path(str(row[2]) + "-wal") if row and row[2] else None

    # ---- charts room

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
