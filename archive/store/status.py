"""The status counters: one explicit list, each a count over the index's tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

# name -> the statement that counts it. `chartvault status` shows them in this order.
COUNTERS: dict[str, str] = {
    "records": "SELECT count(*) FROM records",
    "patients": "SELECT count(*) FROM patients",
    "quarantined": "SELECT count(*) FROM quarantine WHERE released_at IS NULL",
    "needs_filing": "SELECT count(*) FROM records WHERE status = 'needs_filing'",
    "needs_transcription": "SELECT count(*) FROM records WHERE needs_transcription = 1",
    "needs_review": "SELECT count(*) FROM review_items WHERE status = 'open'",
    "facts_to_rederive": "SELECT count(*) FROM settings WHERE key = 'facts_rederive' AND value = 'needed'",
}


def count(db: Database, counter: str) -> int:
    """The value of one counter (KeyError for a name not in COUNTERS)."""
    return int(db.execute(COUNTERS[counter]).fetchone()[0])
