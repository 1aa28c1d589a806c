"""Retention rules, legal holds and the blobs a purge still has to delete.

Owns the SQL for: retention_rules, legal_holds, purge_pending. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


class RetentionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    def on_hold(self, mrn: str) -> bool:
        """Whether a patient's records are under a legal hold not yet released."""
        return self.db.execute(
            "SELECT 1 FROM legal_holds WHERE mrn = ? AND released_at IS NULL", [mrn]
        ).fetchone() is not None

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    def rules(self) -> list[tuple[str, int, int, str]]:
        """The facility rules: (pattern, adult_years, minor_years, note), by pattern."""
        rows = self.db.execute("SELECT pattern, adult_years, minor_years, note FROM retention_rules ORDER BY pattern")
        return [(str(p), int(a), int(m), str(n)) for p, a, m, n in rows]

    def set_rule(self, pattern: str, adult_years: int, minor_years: int, note: str, by: str, at: str) -> None:
        self.db.execute(
            "INSERT INTO retention_rules (pattern, adult_years, minor_years, note, set_by, set_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(pattern) DO UPDATE SET adult_years = excluded.adult_years, "
            "minor_years = excluded.minor_years, note = excluded.note, set_by = excluded.set_by, "
            "set_at = excluded.set_at",
            [pattern, adult_years, minor_years, note, by, at],
        )

    def place_hold(self, mrn: str, reason: str, by: str, at: str) -> None:
        self.db.execute(
            "INSERT INTO legal_holds (mrn, reason, placed_by, placed_at) VALUES (?, ?, ?, ?)", [mrn, reason, by, at]
        )

    def release_hold(self, mrn: str, by: str, at: str) -> None:
        self.db.execute(
            "UPDATE legal_holds SET released_by = ?, released_at = ? WHERE mrn = ? AND released_at IS NULL",
            [by, at, mrn],
        )

    def is_held(self, mrn: str) -> bool:
        sql = "SELECT 1 FROM legal_holds WHERE mrn = ? AND released_at IS NULL"
        return self.db.execute(sql, [mrn]).fetchone() is not None

    def held_patients(self) -> set[str]:
        """MRNs on a legal hold not released."""
        return {str(row[0]) for row in self.db.execute("SELECT mrn FROM legal_holds WHERE released_at IS NULL")}

    def add_pending_blobs(self, blob_ids: list[str]) -> None:
        for blob in blob_ids:
            self.db.execute("INSERT OR IGNORE INTO purge_pending (blob_id) VALUES (?)", [blob])

    def pending_blobs(self) -> list[str]:
        return [str(r[0]) for r in self.db.execute("SELECT blob_id FROM purge_pending")]

    def drop_pending_blob(self, blob_id: str) -> None:
        self.db.execute("DELETE FROM purge_pending WHERE blob_id = ?", [blob_id])

    def secure_delete_on(self) -> None:
        """Freed pages are zeroed from now on in this connection, not left with old text."""
        self.db.execute("PRAGMA secure_delete = ON")

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and truncate it (no old pages left in the log)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # ---- cli and tui room

    # ---- end
