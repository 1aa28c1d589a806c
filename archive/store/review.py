"""The review queue: facts that do not add up, held out of charts and statistics until a technician decides.

Owns the SQL for: review_items. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

# A held fact stays out while its item is open, and for good once rejected.
_HOLDING = "('open', 'rejected')"


class ReviewRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- records room

    def add(self, values: dict[str, Any], at: str) -> int | None:
        """A new open item (`values`: record_id, patient_mrn, kind, field, value, other_value, other_source,
        message, holds, fact_key); None when the record already has this item (open or decided)."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO review_items (record_id, patient_mrn, kind, field, value, other_value,"
            " other_source, message, holds, fact_key, status, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,'open',?)",
            [values["record_id"], values.get("patient_mrn"), values["kind"], values["field"], values.get("value"),
             values.get("other_value"), values.get("other_source"), values["message"], values["holds"],
             values.get("fact_key") or "", at],
        )
        return int(cur.lastrowid) if cur.rowcount == 1 and cur.lastrowid else None

    def items(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        """Items (every column), oldest first; only those of `status` unless it is None."""
        if status is None:
            return list(self.db.query("SELECT * FROM review_items ORDER BY id LIMIT ?", [limit]))
        return list(self.db.query("SELECT * FROM review_items WHERE status = ? ORDER BY id LIMIT ?",
                                  [status, limit]))

    def item(self, item_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM review_items WHERE id = ?", [item_id]))
        return rows[0] if rows else None

    def of_record(self, record_id: str) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM review_items WHERE record_id = ? ORDER BY id", [record_id]))

    def held_keys(self, record_id: str) -> set[str]:
        """Source keys of a record's facts held out of the chart (open or rejected items)."""
        rows = self.db.execute(
            f"SELECT fact_key FROM review_items WHERE record_id = ? AND holds = 'fact' AND status IN {_HOLDING}",
            [record_id],
        )
        return {str(k) for (k,) in rows}

    def corrections(self, record_id: str) -> dict[str, dict[str, str]]:
        """fact key -> {field: corrected value} of a record's facts a technician corrected."""
        out: dict[str, dict[str, str]] = {}
        rows = self.db.execute(
            "SELECT fact_key, field, resolution FROM review_items WHERE record_id = ? AND holds = 'fact'"
            " AND status = 'corrected' ORDER BY id", [record_id],
        )
        for key, field, resolution in rows:
            decided = json.loads(resolution or "{}")
            fixed = out.setdefault(str(key), {})
            if decided.get("value") is not None:
                fixed[str(field)] = str(decided["value"])
            fixed.update({k: str(v) for k, v in decided.items() if k in ("text", "system") and v})
        return out

    def record_held(self, record_id: str) -> bool:
        """Whether the whole record is held (e.g. its patient name does not match the chart)."""
        return self.db.execute(
            "SELECT 1 FROM review_items WHERE record_id = ? AND holds = 'record' AND status = 'open' LIMIT 1",
            [record_id],
        ).fetchone() is not None

    def held_patient_fields(self, mrn: str) -> set[str]:
        """Fields of a patient held empty while a review item about them is open."""
        rows = self.db.execute(
            "SELECT DISTINCT field FROM review_items WHERE patient_mrn = ? AND holds = 'patient' AND status = 'open'",
            [mrn],
        )
        return {str(f) for (f,) in rows}

    def resolve(self, item_id: int, status: str, by: str, at: str, resolution: dict[str, Any]) -> bool:
        """Close an open item; False when it was not open (someone decided first)."""
        cur = self.db.execute(
            "UPDATE review_items SET status = ?, resolved_by = ?, resolved_at = ?, resolution = ?"
            " WHERE id = ? AND status = 'open'",
            [status, by, at, json.dumps(resolution, ensure_ascii=False, sort_keys=True), item_id],
        )
        return bool(cur.rowcount == 1)

    def count_open(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM review_items WHERE status = 'open'").fetchone()[0])
