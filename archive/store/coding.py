"""The ICD-10-CM code set and the codes assigned to records.

Owns the SQL for: icd10_codes, icd10_fts, record_codes. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


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

    # ---- cli and tui room

    # ---- end
