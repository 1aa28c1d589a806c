"""Helpers for the coding tests: records written straight into a vault's index and store."""

from __future__ import annotations

from typing import Any


def add_record(session: Any, text: str, *, mrn: str, author: str, name: str) -> str:
    """A filed record with its text encrypted in the store and indexed for full-text search.

    Written directly (not through 'chartvault import') so these tests exercise coding only.
    """
    from indexer import fts
    from vault.db import transaction

    data = text.encode()
    original = session.blobs.put_bytes(data)
    text_blob = session.blobs.put_bytes(data + b"\n")  # a distinct blob, as extracted text
    record_id = "r" + original.blob_id[:12]
    with transaction(session.db):
        session.db.execute(
            "INSERT OR IGNORE INTO patients (mrn, name, created_at) VALUES (?, ?, '2024-01-01T00:00:00+00:00')",
            [mrn, name],
        )
        cur = session.db.execute(
            "INSERT INTO records (id, blob_id, text_blob_id, filename, format, doc_type, title, patient_mrn, date,"
            " author, size, status, imported_at, imported_by) VALUES (?, ?, ?, ?, 'text', 'note', ?, ?, '2024-02-01',"
            " ?, ?, 'filed', '2024-02-01T00:00:00+00:00', 'tess')",
            [record_id, original.blob_id, text_blob.blob_id, f"{mrn}.txt", name, mrn, author, len(data)],
        )
        fts.index_row(session.db, cur.lastrowid, title=name, filename=f"{mrn}.txt", text=text,
                      meta=f"note | {author} | MRN {mrn}")
    return record_id
