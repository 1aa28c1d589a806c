"""The secure purge clears every table of the schema that holds a record's content (schema.CONTENT_TABLES)."""

from __future__ import annotations

import sqlite_utils

from archive.store.schema import CONTENT_TABLES, MIGRATIONS
from vault.db import migrate

# Columns that name a record but are kept when it is purged, and why.
KEPT = {
    ("audit", "record"): "the audit log names the purged record (never its content)",
    ("access_grants", "record"): "break-glass grants are part of the access history",
    ("disclosures", "record"): "disclosures are part of the access history",
    ("encounters", "source_record"): "charts keep the purged record's id as provenance",
    ("chart_entries", "source_record"): "charts keep the purged record's id as provenance",
    ("chart_entry_versions", "source_record"): "charts keep the purged record's id as provenance",
}
RECORD_COLUMNS = {"record", "record_id", "record_n", "source_record"}


def _record_columns() -> set[tuple[str, str]]:
    db = sqlite_utils.Database(memory=True)
    migrate(db, MIGRATIONS)
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {
        (table, column)
        for table in tables
        for column in (row[1] for row in db.execute(f'PRAGMA table_info("{table}")'))
        if column in RECORD_COLUMNS
    }


def test_every_table_keyed_by_a_record_is_purged_or_kept_on_purpose() -> None:
    found = _record_columns()
    assert set(CONTENT_TABLES) <= found, "CONTENT_TABLES names a table or column the schema does not have"
    missing = found - set(CONTENT_TABLES) - set(KEPT)
    assert not missing, f"tables holding a record's rows that a purge would leave behind: {sorted(missing)}"
    assert not set(CONTENT_TABLES) & set(KEPT)
    assert {column for _table, column in CONTENT_TABLES} <= {"record_id", "record_n"}
