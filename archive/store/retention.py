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

    # ---- cli and tui room

    # ---- end
