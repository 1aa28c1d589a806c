"""Patients (MRN, demographics).

Owns the SQL for: patients. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

    from indexer.extract.types import PatientInfo


class PatientsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    def attending(self, mrn: str) -> str | None:
        """The user name of the patient's attending physician (None when none is set or no such patient)."""
        row = self.db.execute("SELECT attending FROM patients WHERE mrn = ?", [mrn]).fetchone()
        return str(row[0]) if row and row[0] else None

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

    def hold_field(self, mrn: str, field: str) -> str | None:
        """Empty a demographic field (name, dob or sex) while a review decides it; its value before."""
        column = {"name": "name", "dob": "dob", "sex": "sex"}[field]
        row = self.db.execute(f"SELECT {column} FROM patients WHERE mrn = ?", [mrn]).fetchone()
        before = row[0] if row is not None else None
        if before is not None:
            self.db.execute(f"UPDATE patients SET {column} = NULL WHERE mrn = ?", [mrn])
        return str(before) if before is not None else None

    def fill_field(self, mrn: str, field: str, value: str) -> None:
        """Put back a held demographic field's value when nobody set it meanwhile."""
        column = {"name": "name", "dob": "dob", "sex": "sex"}[field]
        self.db.execute(f"UPDATE patients SET {column} = ? WHERE mrn = ? AND {column} IS NULL", [value, mrn])

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
