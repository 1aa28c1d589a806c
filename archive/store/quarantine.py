"""Rejected inputs kept encrypted with their reason.

Owns the SQL for: quarantine. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database


class QuarantineRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    # ---- records room

    def entries(self, include_released: bool = False) -> list[dict[str, Any]]:
        """Quarantine rows (every column), oldest first; released ones only with `include_released`."""
        sql = "SELECT * FROM quarantine"
        if not include_released:
            sql += " WHERE released_at IS NULL"
        return list(self.db.query(sql + " ORDER BY at, id"))

    def get(self, quarantine_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM quarantine WHERE id = ?", [quarantine_id]))
        return rows[0] if rows else None

    def released(self, quarantine_id: str, at: str, by: str, to: str) -> None:
        """The entry was written back out to `to`."""
        self.db.execute(
            "UPDATE quarantine SET released_at = ?, released_by = ?, released_to = ? WHERE id = ?",
            [at, by, to, quarantine_id],
        )

    def held_blobs(self) -> list[tuple[str, str]]:
        """(entry id, blob id) of every entry not yet released that keeps an encrypted blob in quarantine/."""
        sql = "SELECT id, blob_id FROM quarantine WHERE released_at IS NULL AND blob_id IS NOT NULL ORDER BY id"
        return [(str(r[0]), str(r[1])) for r in self.db.execute(sql)]

    def blob_still_held(self, blob_id: str) -> bool:
        """Whether an entry not yet released still keeps this encrypted blob."""
        row = self.db.execute(
            "SELECT 1 FROM quarantine WHERE blob_id = ? AND released_at IS NULL", [blob_id]
        ).fetchone()
        return row is not None

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
