"""Patients (MRN, demographics).

Owns the SQL for: patients. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

    from indexer.extract import PatientInfo


class PatientsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    def attending(self, mrn: str) -> str | None:
        """The user name of the patient's attending physician (None when none is set or no such patient)."""
        row = self.db.execute("SELECT attending FROM patients WHERE mrn = ?", [mrn]).fetchone()
        return str(row[0]) if row and row[0] else None

    # ---- charts room

    # ---- records room

    def exists(self, mrn: str) -> bool:
        return self.db.execute("SELECT 1 FROM patients WHERE mrn = ?", [mrn]).fetchone() is not None

    def name_of(self, mrn: str) -> str | None:
        """The patient's name (None when unknown, or no such patient)."""
        row = self.db.execute("SELECT name FROM patients WHERE mrn = ?", [mrn]).fetchone()
        return row[0] if row else None

    def upsert(self, info: PatientInfo, source: str) -> None:
        """Create the patient, or fill in what the existing row lacks (as the ingest pipeline does)."""
        from indexer.pipeline import upsert_patient

        upsert_patient(self.db, info, source)

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

    def mrn_known(self, mrn: str) -> bool:
        return self.db.execute("SELECT 1 FROM patients WHERE mrn = ?", [mrn]).fetchone() is not None

    def birth_dates(self) -> dict[str, str | None]:
        """MRN -> date of birth as stored (None when unknown), for every patient."""
        return {str(mrn): dob for mrn, dob in self.db.execute("SELECT mrn, dob FROM patients")}

    def discharge_dates(self) -> list[tuple[str, str | None]]:
        """(MRN, discharge date as stored) of every patient."""
        return [(str(mrn), d) for mrn, d in self.db.execute("SELECT mrn, discharged FROM patients")]

    def birth_dates_and_sex(self) -> dict[str, tuple[str | None, str | None]]:
        """MRN -> (date of birth, sex) as stored, for every patient."""
        return {str(r[0]): (r[1], r[2]) for r in self.db.execute("SELECT mrn, dob, sex FROM patients").fetchall()}

    def attended_by(self, users: list[str]) -> set[str]:
        """MRNs of the patients whose attending physician is one of `users`."""
        if not users:
            return set()
        marks = ",".join("?" * len(users))
        return {str(m) for (m,) in self.db.execute(f"SELECT mrn FROM patients WHERE attending IN ({marks})", users)}

    # ---- cli and tui room

    # ---- end
