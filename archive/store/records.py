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

    # ---- charts room

    def patient_and_date(self, record_id: str) -> tuple[str | None, str | None] | None:
        """(patient MRN, date) of a record, or None when there is no such record."""
        row = self.db.execute("SELECT patient_mrn, date FROM records WHERE id = ?", [record_id]).fetchone()
        return (row[0], row[1]) if row is not None else None

    def filed_to(self, mrn: str) -> list[tuple[str, str | None, str | None, str | None]]:
        """(id, date, title, doc_type) of the records filed to a patient, by date."""
        rows = self.db.execute(
            "SELECT id, date, title, doc_type FROM records WHERE patient_mrn = ? ORDER BY date, n", [mrn]
        ).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def chart_source(self, record_id: str) -> tuple[str, str | None, str | None, str | None, str | None] | None:
        """(id, patient MRN, date, author, facts as JSON) of a record whose facts may land on a chart."""
        row = self.db.execute(
            "SELECT id, patient_mrn, date, author, facts FROM records WHERE id = ?", [record_id]
        ).fetchone()
        return (row[0], row[1], row[2], row[3], row[4]) if row is not None else None

    def facts_json(self, record_id: str) -> str | None:
        """A record's facts as stored (JSON), or None when there is no such record."""
        row = self.db.execute("SELECT facts FROM records WHERE id = ?", [record_id]).fetchone()
        return (row[0] or "[]") if row is not None else None

    def with_facts(self) -> list[str]:
        """Ids of the records that have facts, in import order."""
        return [r[0] for r in self.db.execute("SELECT id FROM records WHERE facts != '[]' ORDER BY n").fetchall()]

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
