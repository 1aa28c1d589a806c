"""Filed records (one row per stored original) and their transcriptions.

Owns the SQL for: records, transcriptions. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


class RecordsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    def patient_of(self, record: str) -> tuple[bool, str | None]:
        """(exists, patient MRN) of a record."""
        row = self.db.execute("SELECT patient_mrn FROM records WHERE id = ?", [record]).fetchone()
        if row is None:
            return False, None
        return True, (str(row[0]) if row[0] is not None else None)

    # ---- charts room

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
