"""The ICD-10-CM code set and the codes assigned to records.

Owns the SQL for: icd10_codes, icd10_fts, record_codes. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from indexer import icd10

if TYPE_CHECKING:
    from sqlite_utils import Database

    from indexer.code_suggest import CodeSuggestions, Suggestion


class CodingRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    def diagnosis_code(self, code: str) -> tuple[bool, str | None, list[str]]:
        """For a typed ICD-10-CM code (normalised): whether the code set is loaded, the code as the set
        spells it (None when it is not in the set, or the set is not loaded), and up to three nearest codes."""
        from indexer import icd10

        if not icd10.is_loaded(self.db):
            return False, None, []
        info = icd10.lookup(self.db, code)
        if info is not None:
            return True, info.code, []
        return True, None, [c.code for c in icd10.near_codes(self.db, code, limit=3)]

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    # The code set (reference data, loaded by indexer.icd10 into icd10_codes and icd10_fts).

    def code_set_loaded(self) -> bool:
        return icd10.is_loaded(self.db)

    def ensure_code_set(self, progress: icd10.LoadProgress | None = None) -> icd10.LoadReport:
        """Load the ICD-10-CM code set on first use (a few seconds, once per vault)."""
        return icd10.ensure_loaded(self.db, progress)

    def search_codes(self, query: str, limit: int, billable_only: bool) -> list[icd10.CodeHit]:
        return icd10.search_codes(self.db, query, limit=limit, billable_only=billable_only)

    def lookup(self, code: str) -> icd10.CodeInfo | None:
        return icd10.lookup(self.db, code)

    def ancestors(self, code: str) -> list[icd10.CodeInfo]:
        return icd10.ancestors(self.db, code)

    def children(self, code: str) -> list[icd10.CodeInfo]:
        return icd10.children(self.db, code)

    def near_codes(self, code: str, limit: int = 5) -> list[icd10.CodeInfo]:
        return icd10.near_codes(self.db, code, limit=limit)

    def descriptions(self, codes: set[str]) -> dict[str, str]:
        """Code -> description from the code set (empty when it is not loaded)."""
        if not codes:
            return {}
        marks = ",".join("?" * len(codes))
        sql = f"SELECT code, description FROM icd10_codes WHERE code IN ({marks})"
        return {str(c): str(d) for c, d in self.db.execute(sql, sorted(codes)).fetchall()}

    def prepare_matcher(self) -> None:
        """Build the code matcher (seconds, once per process), e.g. before a write transaction opens."""
        from indexer.code_match import matcher_for

        matcher_for(self.db)

    def suggest(self, text: str, limit: int) -> list[Suggestion]:
        """Codes for `text`, each with its supporting passage (indexer.code_suggest)."""
        from indexer.code_suggest import suggest_codes

        return suggest_codes(self.db, text, limit=limit)

    def suggest_all(self, text: str, limit: int) -> CodeSuggestions:
        """`suggest`, and apart from them the codes of what the text only doubts (indexer.code_suggest)."""
        from indexer.code_suggest import code_suggestions

        return code_suggestions(self.db, text, limit=limit)

    # Coding decisions (append-only: the latest row per record and code is in force).

    def decisions(self, record_id: str) -> dict[str, str]:
        """Code -> status (confirmed | rejected) in force for a record."""
        rows = self.db.execute(
            "SELECT code, status FROM record_codes WHERE id IN"
            " (SELECT max(id) FROM record_codes WHERE record_id = ? GROUP BY code)",
            [record_id],
        ).fetchall()
        return {code: status for code, status in rows}

    def add_decision(self, record_id: str, code: str, status: str, by: str, at: str, score: float | None,
                     passage: str | None, encounter: str | None,
                     occurrences: list[tuple[str | None, str | None]] | None = None) -> None:
        """A new decision row; `occurrences` are the code's own (day, encounter id) places in the record."""
        self.db.execute(
            "INSERT INTO record_codes (record_id, code, status, decided_by, decided_at, score, passage, encounter_id,"
            " occurrences) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [record_id, code, status, by, at, score, passage, encounter,
             json.dumps([list(o) for o in occurrences]) if occurrences else None],
        )

    def confirmed_in_force(self) -> list[tuple[int, str, str, str | None, str | None, str | None]]:
        """(id, record id, code, passage, encounter id, occurrences JSON) of every confirmed decision in force."""
        rows = self.db.execute(
            "SELECT id, record_id, code, passage, encounter_id, occurrences FROM record_codes"
            " WHERE id IN (SELECT max(id) FROM record_codes GROUP BY record_id, code) AND status = 'confirmed'"
            " ORDER BY id"
        ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2]), r[3], r[4], r[5]) for r in rows]

    def set_places(self, decision_id: int, encounter: str | None,
                   occurrences: list[tuple[str | None, str | None]]) -> None:
        """Re-derived places of a decision (the vault upgrade's re-derivation; the decision itself stands)."""
        self.db.execute("UPDATE record_codes SET encounter_id = ?, occurrences = ? WHERE id = ?",
                        [encounter, json.dumps([list(o) for o in occurrences]), decision_id])

    def decisions_of(self, record_id: str, include_history: bool) -> list[tuple[str, str, str, str, str, str,
                                                                                  str | None]]:
        """(record id, code, description, status, decided by, decided at, encounter id) of the decisions in
        force for a record (or every decision with include_history), oldest first."""
        sql = (
            "SELECT rc.record_id, rc.code, coalesce(c.description, ''), rc.status, rc.decided_by, rc.decided_at,"
            " rc.encounter_id FROM record_codes rc LEFT JOIN icd10_codes c ON c.code = rc.code WHERE rc.record_id = ?"
        )
        if not include_history:
            sql += " AND rc.id IN (SELECT max(id) FROM record_codes WHERE record_id = ? GROUP BY code)"
        rows = self.db.execute(sql + " ORDER BY rc.id", [record_id] * (1 if include_history else 2)).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def confirmed_codes(self, record_ids: list[str]) -> dict[str, list[str]]:
        """Record id -> the codes confirmed for it (in force), by code."""
        out: dict[str, list[str]] = {r: [] for r in record_ids}
        if not record_ids:
            return out
        marks = ",".join("?" * len(record_ids))
        rows = self.db.execute(
            f"SELECT record_id, code, status FROM record_codes WHERE id IN (SELECT max(id) FROM record_codes"
            f" WHERE record_id IN ({marks}) GROUP BY record_id, code) ORDER BY code",
            record_ids,
        ).fetchall()
        for rid, code, status in rows:
            if status == "confirmed":
                out[rid].append(code)
        return out

    def confirmed_under(self, compact: str) -> list[tuple[str, str]]:
        """(record id, code) of the confirmed codes in force starting with `compact` (no dots), by record."""
        rows = self.db.execute(
            "SELECT rc.record_id, rc.code FROM record_codes rc WHERE rc.id IN (SELECT max(id) FROM record_codes"
            " GROUP BY record_id, code) AND rc.status = 'confirmed' AND replace(rc.code, '.', '') LIKE ? ESCAPE '\\'"
            " ORDER BY rc.record_id",
            [compact + "%"],
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    # ---- cli and tui room

    # ---- end
