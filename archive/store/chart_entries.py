"""Chart entries, their versions and the change rows.

Owns the SQL for: chart_entries, chart_entry_versions, chart_changes.
Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


class ChartEntriesRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

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
