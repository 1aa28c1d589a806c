"""Patients (MRN, demographics).

Owns the SQL for: patients. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


class PatientsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    # ---- records room

    # ---- search and assistant room

    def name(self, mrn: str) -> str | None:
        row = self.db.execute("SELECT name FROM patients WHERE mrn = ?", [mrn]).fetchone()
        return row[0] if row else None

    def find_mrn(self, mrn: str) -> tuple[str, str | None, str | None] | None:
        """(mrn, name, dob) of the patient `mrn`, exactly or else ignoring case; None when there is none."""
        row = self.db.execute("SELECT mrn, name, dob FROM patients WHERE mrn = ?", [mrn]).fetchone()
        if row is None:
            row = self.db.execute("SELECT mrn, name, dob FROM patients WHERE lower(mrn) = lower(?)", [mrn]).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def named_like(self, word: str, limit: int = 200) -> list[tuple[str, str | None, str | None]]:
        """(mrn, name, dob) of patients whose name contains `word` (any case)."""
        rows = self.db.execute(
            "SELECT mrn, name, dob FROM patients WHERE name LIKE ? LIMIT ?", ["%" + word + "%", limit]
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
