"""Chart entries, their versions and the change rows.

Owns the SQL for: chart_entries, chart_entry_versions, chart_changes.
Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from archive.store.encounters import SOURCE_PURGED

if TYPE_CHECKING:
    from sqlite_utils import Database

_SELECT = (
    f"SELECT e.id, e.patient_mrn, e.source_key, v.*, {SOURCE_PURGED.format(table='v')} AS source_purged"
    " FROM chart_entries e JOIN chart_entry_versions v ON v.entry_id = e.id"
)


class ChartEntriesRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    # Stored fields of an entry version -> their column, where the name differs.
    COLUMN = {"start": "start_date", "stop": "stop_date"}

    def next_n(self) -> int:
        """The next entry number; call inside the write transaction."""
        return int(self.db.execute("SELECT coalesce(max(n), 0) + 1 FROM chart_entries").fetchone()[0])

    def current(self, entry_id: str) -> dict[str, Any] | None:
        """The current version of an entry (joined with its entry row), or None."""
        rows = list(self.db.query(_SELECT + " AND v.version = e.current_version WHERE e.id = ?", [entry_id]))
        return rows[0] if rows else None

    def current_of_patient(
        self,
        mrn: str,
        kinds: list[str],
        date_from: str | None,
        date_to: str | None,
        include_retracted: bool,
    ) -> list[dict[str, Any]]:
        """Current versions of a patient's entries, by date: of `kinds` (all when empty), in the date range."""
        sql = _SELECT + " AND v.version = e.current_version WHERE e.patient_mrn = ?"
        args: list[Any] = [mrn]
        if kinds:
            sql += f" AND v.kind IN ({','.join('?' * len(kinds))})"
            args += kinds
        if date_from:
            sql += " AND v.date >= ?"
            args.append(date_from)
        if date_to:
            sql += " AND v.date <= ?"
            args.append(date_to + "\uffff")  # a date-time on that day is still on that day
        if not include_retracted:
            sql += " AND v.status != 'entered_in_error'"
        return list(self.db.query(sql + " ORDER BY v.date IS NULL, v.date, e.n", args))

    def versions(self, entry_id: str) -> list[dict[str, Any]]:
        """Every version of an entry, oldest first."""
        return list(self.db.query(_SELECT + " WHERE e.id = ? ORDER BY v.version", [entry_id]))

    def versions_of_patient(self, mrn: str) -> list[dict[str, Any]]:
        """Every version of every entry of a patient, entry by entry, oldest first."""
        return list(self.db.query(_SELECT + " WHERE e.patient_mrn = ? ORDER BY e.n, v.version", [mrn]))

    def same_day(self, mrn: str, kind: str, date: str | None) -> list[tuple[str, str, str | None]]:
        """(id, text, source record) of a patient's live entries of `kind` on `date` (current versions)."""
        rows = self.db.execute(
            "SELECT e.id, v.text, e.source_record FROM chart_entries e JOIN chart_entry_versions v"
            " ON v.entry_id = e.id AND v.version = e.current_version WHERE e.patient_mrn = ? AND v.kind = ?"
            " AND v.date IS ? AND v.status != 'entered_in_error' ORDER BY e.n",
            [mrn, kind, date],
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def encounter_most_cited_by(self, record_id: str) -> str | None:
        """The encounter that the entries citing a record attach to most often, or None."""
        row = self.db.execute(
            "SELECT v.encounter_id, count(*) AS n FROM chart_entries e JOIN chart_entry_versions v"
            " ON v.entry_id = e.id AND v.version = e.current_version"
            " WHERE v.source_record = ? AND v.encounter_id IS NOT NULL GROUP BY v.encounter_id ORDER BY n DESC LIMIT 1",
            [record_id],
        ).fetchone()
        return str(row[0]) if row is not None else None

    def is_landed(self, record_id: str, source_key: str) -> bool:
        """Whether the fact `source_key` of a record was landed as an entry already."""
        return self.db.execute(
            "SELECT 1 FROM chart_entries WHERE source_record = ? AND source_key = ?", [record_id, source_key]
        ).fetchone() is not None

    def insert(self, n: int, entry_id: str, mrn: str, source_record: str | None, source_key: str | None,
               at: str, by: str) -> None:
        """An entry's row (its versions are `insert_version`)."""
        self.db.execute(
            "INSERT INTO chart_entries (n, id, patient_mrn, current_version, source_record, source_key, created_at,"
            " created_by) VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
            [n, entry_id, mrn, source_record, source_key, at, by],
        )

    def insert_version(self, entry_id: str, version: int, values: dict[str, Any], reason: str | None,
                       at: str, by: str) -> None:
        """One version of an entry: `values` maps each stored field (ChartEntry's names) to its value."""
        names = list(values)
        columns = [self.COLUMN.get(k, k) for k in names]
        row = [json.dumps(values[k] or {}, ensure_ascii=False, sort_keys=True) if k == "details" else values[k]
               for k in names]
        self.db.execute(
            f"INSERT INTO chart_entry_versions (entry_id, version, {', '.join(columns)}, correction_reason,"
            f" created_at, created_by) VALUES (?, ?, {', '.join('?' * len(columns))}, ?, ?, ?)",
            [entry_id, version, *row, reason, at, by],
        )

    # Signatures (archive.signed_rows): a version row with its entry's patient, as the writer signed it.
    _SIGNED = (
        "SELECT e.patient_mrn AS entry_patient, v.* FROM chart_entry_versions v"
        " JOIN chart_entries e ON e.id = v.entry_id"
    )

    def version_for_signing(self, entry_id: str, version: int) -> dict[str, Any]:
        rows = list(self.db.query(self._SIGNED + " WHERE v.entry_id = ? AND v.version = ?", [entry_id, version]))
        return rows[0]

    def set_version_signature(self, entry_id: str, version: int, signer: str, sig: str) -> None:
        self.db.execute(
            "UPDATE chart_entry_versions SET signer = ?, sig = ? WHERE entry_id = ? AND version = ?",
            [signer, sig, entry_id, version],
        )

    def signed_versions(self) -> Iterator[dict[str, Any]]:
        """Every version row with its entry's patient (to check the signatures)."""
        yield from self.db.query(self._SIGNED + " ORDER BY e.n, v.version")

    def entries_without_current_version(self) -> list[str]:
        return [str(r[0]) for r in self.db.execute(
            "SELECT e.id FROM chart_entries e LEFT JOIN chart_entry_versions v"
            " ON v.entry_id = e.id AND v.version = e.current_version WHERE v.entry_id IS NULL"
        )]

    def version_numbers(self) -> dict[str, tuple[int, list[int]]]:
        """entry id -> (its current version, the versions it has, ascending): what `verify` holds the audit log to."""
        out: dict[str, tuple[int, list[int]]] = {}
        for entry_id, current, version in self.db.execute(
            "SELECT e.id, e.current_version, v.version FROM chart_entries e"
            " LEFT JOIN chart_entry_versions v ON v.entry_id = e.id ORDER BY e.n, v.version"
        ):
            numbers = out.setdefault(str(entry_id), (int(current), []))[1]
            if version is not None:
                numbers.append(int(version))
        return out

    def advance(self, entry_id: str, version: int) -> bool:
        """Make version+1 current if `version` still is (False: someone saved first)."""
        cur = self.db.execute(
            "UPDATE chart_entries SET current_version = ? WHERE id = ? AND current_version = ?",
            [version + 1, entry_id, version],
        )
        return bool(cur.rowcount == 1)

    def add_change(self, mrn: str, entity: str, entity_id: str, version: int, action: str, at: str, by: str,
                   reason: str | None, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        """A row of chart_changes: who, when, the fields before and after (as JSON), and why."""
        self.db.execute(
            "INSERT INTO chart_changes (patient_mrn, entity, entity_id, version, action, at, by, reason, before, after)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [mrn, entity, entity_id, version, action, at, by, reason,
             json.dumps(before, ensure_ascii=False, sort_keys=True) if before is not None else None,
             json.dumps(after, ensure_ascii=False, sort_keys=True)],
        )

    def changes_of(self, mrn: str) -> list[dict[str, Any]]:
        """A patient's chart_changes rows, oldest first (before/after as stored JSON)."""
        return list(self.db.query("SELECT * FROM chart_changes WHERE patient_mrn = ? ORDER BY id", [mrn]))

    def has_created_patient(self, mrn: str) -> bool:
        """Whether a person created the patient (a `created` change row; else ingest or filing did)."""
        return self.db.execute(
            "SELECT 1 FROM chart_changes WHERE entity = 'patient' AND entity_id = ? AND action = 'created'", [mrn]
        ).fetchone() is not None

    @contextmanager
    def savepoint(self, name: str) -> Iterator[None]:
        """Inside the caller's transaction: when the block raises, undo only what it wrote, and re-raise."""
        self.db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.db.execute(f"ROLLBACK TO {name}")
            raise
        finally:
            self.db.execute(f"RELEASE {name}")

    # ---- records room

    # ---- search and assistant room

    def current_mentioning(
        self, kinds: tuple[str, ...], word: str
    ) -> list[tuple[str, str, str, str | None, str | None, str | None]]:
        """(patient, kind, text, date, source record, status) of current entries of `kinds` whose text has `word`."""
        marks = ",".join("?" * len(kinds))
        rows = self.db.execute(
            "SELECT e.patient_mrn, v.kind, v.text, v.date, v.source_record, v.status FROM chart_entries e "
            "JOIN chart_entry_versions v ON v.entry_id = e.id AND v.version = e.current_version "
            f"WHERE v.kind IN ({marks}) AND v.status != 'entered_in_error' AND v.text LIKE ?",
            [*kinds, f"%{word}%"],
        ).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    def landed_records(self) -> set[str]:
        """The records whose facts reached a chart."""
        rows = self.db.execute(
            "SELECT DISTINCT source_record FROM chart_entries WHERE source_record IS NOT NULL"
        ).fetchall()
        return {r[0] for r in rows}

    # ---- coding, statistics, retention room

    def coded_diagnoses_under(self, compact: str, limit: int) -> list[tuple[str, str, str, str, str | None,
                                                                           str | None, str | None]]:
        """Current diagnosis/complication entries whose code starts with `compact` (no dots, upper case), not
        entered in error, newest first: (entry id, MRN, kind, text, date, code, source record)."""
        return self._current_entries(
            "v.kind IN ('diagnosis', 'complication') AND replace(upper(v.code), '.', '') LIKE ?", [compact + "%"], limit
        )

    def treatments_like(self, like: str, limit: int) -> list[tuple[str, str, str, str, str | None, str | None,
                                                                     str | None]]:
        """Current medication/procedure entries whose text matches the LIKE pattern `like` (escape: backslash),
        not entered in error, newest first: (entry id, MRN, kind, text, date, code, source record)."""
        return self._current_entries("v.kind IN ('medication', 'procedure') AND v.text LIKE ? ESCAPE '\\'", [like],
                                     limit)

    def _current_entries(self, where: str, args: list[str], limit: int) -> list[tuple[str, str, str, str, str | None,
                                                                                      str | None, str | None]]:
        sql = (
            "SELECT e.id, e.patient_mrn, v.kind, v.text, v.date, v.code, v.source_record FROM chart_entries e"
            " JOIN chart_entry_versions v ON v.entry_id = e.id AND v.version = e.current_version"
            " WHERE v.status != 'entered_in_error' AND " + where + " ORDER BY v.date DESC, e.n LIMIT ?"
        )
        return [(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in self.db.execute(sql, [*args, limit]).fetchall()]

    # ---- cli and tui room

    # ---- end
