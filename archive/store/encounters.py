"""Encounters (visits) of a patient's chart.

Owns the SQL for: encounters. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

# A chart row's source record no longer exists: only a retention purge deletes records.
SOURCE_PURGED = (
    "({table}.source_record IS NOT NULL AND NOT EXISTS (SELECT 1 FROM records r WHERE r.id = {table}.source_record))"
)
_SELECT = f"SELECT *, {SOURCE_PURGED.format(table='encounters')} AS source_purged FROM encounters"


class EncountersRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    def next_n(self) -> int:
        """The next encounter number; call inside the write transaction."""
        return int(self.db.execute("SELECT coalesce(max(n), 0) + 1 FROM encounters").fetchone()[0])

    def of_patient(self, mrn: str, include_retracted: bool = False) -> list[dict[str, Any]]:
        """A patient's encounter rows (with `source_purged`), oldest first."""
        sql = _SELECT + " WHERE patient_mrn = ?"
        if not include_retracted:
            sql += " AND status = 'active'"
        return list(self.db.query(sql + " ORDER BY start_date, n", [mrn]))

    def row(self, encounter_id: str) -> dict[str, Any] | None:
        """One encounter's row (with `source_purged`), or None."""
        rows = list(self.db.query(_SELECT + " WHERE id = ?", [encounter_id]))
        return rows[0] if rows else None

    def landed_from(self, record_id: str) -> str | None:
        """The active encounter landed from a record (an admission first), or None."""
        row = self.db.execute(
            "SELECT id FROM encounters WHERE source_record = ? AND status = 'active'"
            " ORDER BY kind = 'admission' DESC, n LIMIT 1",
            [record_id],
        ).fetchone()
        return str(row[0]) if row is not None else None

    def by_external_id(self, mrn: str, external_id: str) -> str | None:
        """The patient's active encounter with this external id (FHIR Encounter id, HL7 visit number)."""
        row = self.db.execute(
            "SELECT id FROM encounters WHERE patient_mrn = ? AND external_id = ? AND status = 'active'"
            " ORDER BY n LIMIT 1", [mrn, external_id],
        ).fetchone()
        return str(row[0]) if row is not None else None

    def landed_from_record(self, record_id: str) -> list[str]:
        """Ids of the active encounters landed from a record, oldest first."""
        rows = self.db.execute(
            "SELECT id FROM encounters WHERE source_record = ? AND status = 'active' ORDER BY start_date, n",
            [record_id],
        )
        return [str(r[0]) for r in rows]

    def is_landed(self, record_id: str, source_key: str) -> bool:
        """Whether the fact `source_key` of a record was landed as an encounter already."""
        return self.db.execute(
            "SELECT 1 FROM encounters WHERE source_record = ? AND source_key = ?", [record_id, source_key]
        ).fetchone() is not None

    def same_visit(self, mrn: str, record_id: str, visit: str | None, kind: str, start: str) -> bool:
        """Whether another record put this visit on the chart (same visit number, or same kind and day)."""
        return self.db.execute(
            "SELECT id FROM encounters WHERE patient_mrn = ? AND status = 'active' AND source_record IS NOT ? AND"
            " ((? IS NOT NULL AND external_id = ?) OR (kind = ? AND start_date = ?)) LIMIT 1",
            [mrn, record_id, visit, visit, kind, start],
        ).fetchone() is not None

    def insert(self, n: int, encounter_id: str, mrn: str, values: dict[str, Any], at: str, by: str) -> None:
        """Version 1 of an encounter: `values` has kind, start, end, attending, text, source_record,
        source_key, external_id, details (a dict)."""
        self.db.execute(
            "INSERT INTO encounters (n, id, patient_mrn, kind, start_date, end_date, attending, text, status,"
            " source_record, source_key, external_id, details, version, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, 1, ?, ?)",
            [n, encounter_id, mrn, values["kind"], values["start"], values["end"], values["attending"],
             values["text"], values["source_record"], values["source_key"], values["external_id"],
             json.dumps(values["details"] or {}, ensure_ascii=False, sort_keys=True), at, by],
        )

    def update(self, encounter_id: str, version: int, values: dict[str, Any], at: str, by: str) -> bool:
        """Save `values` as version+1 if the row is still at `version` (False: someone saved first)."""
        cur = self.db.execute(
            "UPDATE encounters SET kind = ?, start_date = ?, end_date = ?, attending = ?, text = ?, status = ?,"
            " version = ?, updated_at = ?, updated_by = ? WHERE id = ? AND version = ?",
            [values["kind"], values["start"], values["end"], values["attending"], values["text"], values["status"],
             version + 1, at, by, encounter_id, version],
        )
        return bool(cur.rowcount == 1)

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
