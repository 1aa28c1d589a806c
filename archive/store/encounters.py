"""Encounters (visits) of a patient's chart.

Owns the SQL for: encounters. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


class EncountersRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    def end_dates(self) -> list[tuple[str, str | None]]:
        """(patient MRN, end date as stored) of every encounter."""
        return [(str(m), e) for m, e in self.db.execute("SELECT patient_mrn, end_date FROM encounters")]

    def patients_attended_by(self, users: list[str]) -> set[str]:
        """MRNs of the patients with an active encounter whose attending physician is one of `users`."""
        if not users:
            return set()
        marks = ",".join("?" * len(users))
        sql = f"SELECT patient_mrn FROM encounters WHERE attending IN ({marks}) AND status = 'active'"
        return {str(m) for (m,) in self.db.execute(sql, users)}

    # ---- cli and tui room

    # ---- end
