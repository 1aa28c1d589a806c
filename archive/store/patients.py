"""Patients (MRN, demographics).

Owns the SQL for: patients. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database


class PatientsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    def row(self, mrn: str) -> dict[str, Any] | None:
        """One patient's row, or None."""
        rows = list(self.db.query("SELECT * FROM patients WHERE mrn = ?", [mrn]))
        return rows[0] if rows else None

    def rows(self, limit: int) -> list[dict[str, Any]]:
        """Patients' rows by MRN."""
        return list(self.db.query("SELECT * FROM patients ORDER BY mrn LIMIT ?", [int(limit)]))

    def born_on(self, dob: str, exclude: str | None = None) -> list[tuple[str, str | None, str | None]]:
        """(mrn, name, dob) of the patients born on `dob`, but `exclude`."""
        rows = self.db.execute("SELECT mrn, name, dob FROM patients WHERE dob = ? AND mrn IS NOT ?", [dob, exclude])
        return [(r[0], r[1], r[2]) for r in rows.fetchall()]

    def insert_chart_patient(self, mrn: str, values: dict[str, Any], at: str, by: str) -> None:
        """A patient added by a person (version 1), `values` validated."""
        self.db.execute(
            "INSERT INTO patients (mrn, name, dob, sex, attending, admitted, discharged, status, version,"
            " created_at, source, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
            [mrn, values["name"], values["dob"], values["sex"], values["attending"], values["admitted"],
             values["discharged"], values["status"], at, f"added by {by}", at, by],
        )

    def update_chart_patient(self, mrn: str, version: int, values: dict[str, Any], at: str, by: str) -> bool:
        """Save `values` as version+1 if the row is still at `version` (False: someone saved first)."""
        cur = self.db.execute(
            "UPDATE patients SET name = ?, dob = ?, sex = ?, attending = ?, admitted = ?, discharged = ?,"
            " status = ?, version = ?, updated_at = ?, updated_by = ? WHERE mrn = ? AND version = ?",
            [values["name"], values["dob"], values["sex"], values["attending"], values["admitted"],
             values["discharged"], values["status"], version + 1, at, by, mrn, version],
        )
        return bool(cur.rowcount == 1)

    def stay(self, mrn: str) -> tuple[str | None, str | None, int]:
        """(admitted, discharged, version) of a patient."""
        row = self.db.execute("SELECT admitted, discharged, version FROM patients WHERE mrn = ?", [mrn]).fetchone()
        return row[0], row[1], int(row[2] or 1)

    def set_stay(self, mrn: str, admitted: str, discharged: str | None, version: int, at: str, by: str) -> None:
        """The patient's admitted/discharged dates, saved as `version`."""
        self.db.execute(
            "UPDATE patients SET admitted = ?, discharged = ?, version = ?, updated_at = ?, updated_by = ?"
            " WHERE mrn = ?",
            [admitted, discharged, version, at, by, mrn],
        )

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
