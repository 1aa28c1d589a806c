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
