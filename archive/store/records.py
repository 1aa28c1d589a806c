"""Filed records (one row per stored original) and their transcriptions.

Owns the SQL for: records, transcriptions. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


class RecordsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    def coding_target(self, record_id: str) -> tuple[str, str | None, str | None] | None:
        """(id, patient MRN, text blob id) of a record, or None."""
        row = self.db.execute("SELECT id, patient_mrn, text_blob_id FROM records WHERE id = ?", [record_id]).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def index_rows(
        self, ids: list[str], limit: int
    ) -> list[tuple[str, str | None, str | None, str | None, str | None]]:
        """(id, patient, date, author, title) of these records, newest first."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        sql = (
            f"SELECT id, patient_mrn, date, author, title FROM records WHERE id IN ({marks})"
            " ORDER BY date DESC, id LIMIT ?"
        )
        return [(r[0], r[1], r[2], r[3], r[4]) for r in self.db.execute(sql, [*ids, limit]).fetchall()]

    def by_author_or_patient(
        self, authors: list[str], mrns: list[str], limit: int
    ) -> list[tuple[str, str | None, str | None, str | None, str | None]]:
        """(id, patient, date, author, title) of the records whose author contains one of `authors` or that
        belong to one of `mrns`, newest first."""
        clauses = " OR ".join("author LIKE ?" for _ in authors)
        marks = ",".join("?" * len(mrns)) or "NULL"
        sql = (
            f"SELECT id, patient_mrn, date, author, title FROM records WHERE ({clauses}) OR patient_mrn IN ({marks})"
            " ORDER BY date DESC, id LIMIT ?"
        )
        rows = self.db.execute(sql, [*(f"%{a}%" for a in authors), *mrns, limit]).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def facts_containing(self, like: str, limit: int) -> list[tuple[str, str]]:
        """(id, facts JSON) of records whose imported facts match the LIKE pattern `like` (escape: backslash)."""
        sql = "SELECT id, facts FROM records WHERE facts LIKE ? ESCAPE '\\' LIMIT ?"
        return [(r[0], r[1]) for r in self.db.execute(sql, [like, limit]).fetchall()]

    def fulltext_hits(self, query: str, limit: int) -> list[tuple[str, str]]:
        """(record id, snippet with the internal match marks) of the full-text hits (BM25) for `query`, best
        first, no filters: the caller decides which the user may see."""
        from indexer import fts

        return [(hit.record_id, hit.snippet) for hit in fts.search(self.db, query, None, limit=limit)]

    def activity_dates(self) -> list[tuple[str, str | None]]:
        """(patient MRN, date or else imported-at) of every record filed to a patient."""
        rows = self.db.execute("SELECT patient_mrn, date, imported_at FROM records WHERE patient_mrn IS NOT NULL")
        return [(mrn, date or imported) for mrn, date, imported in rows]

    def filed_to_patients(self) -> list[tuple[str, str, str | None]]:
        """(id, patient MRN, doc_type) of every record filed to a patient, by patient and id."""
        sql = "SELECT id, patient_mrn, doc_type FROM records WHERE patient_mrn IS NOT NULL ORDER BY patient_mrn, id"
        return [(r[0], r[1], r[2]) for r in self.db.execute(sql)]

    def purge_target(self, record_id: str) -> tuple[int, list[str]] | None:
        """(row number, blob ids) of a record: its original, its text and its transcriptions; None if gone."""
        row = self.db.execute("SELECT n, blob_id, text_blob_id FROM records WHERE id = ?", [record_id]).fetchone()
        if row is None:
            return None
        n, blob_id, text_blob_id = row
        blobs = [b for b in (blob_id, text_blob_id) if b]
        sql = "SELECT text_blob_id FROM transcriptions WHERE record_id = ?"
        blobs += [r[0] for r in self.db.execute(sql, [record_id])]
        return int(n), blobs

    def erase(self, record_id: str, n: int) -> None:
        """Delete a record's row, its full-text row and its rows in every content table (schema.CONTENT_TABLES)."""
        from archive.store.schema import CONTENT_TABLES
        from indexer.fts import delete_row

        key: dict[str, str | int] = {"record_id": record_id, "record_n": n}
        for table, column in CONTENT_TABLES:
            self.db.execute(f"DELETE FROM {table} WHERE {column} = ?", [key[column]])
        delete_row(self.db, n)
        self.db.execute("DELETE FROM records WHERE id = ?", [record_id])

    def optimize_fulltext(self) -> None:
        """Merge the FTS segments: FTS5 keeps a deleted document's tokens in its segments until then."""
        from indexer.fts import TABLE

        self.db.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('optimize')")

    def blob_in_use(self, blob_id: str) -> bool:
        """Whether a record still stores `blob_id` as its original or its text."""
        sql = "SELECT 1 FROM records WHERE blob_id = ? OR text_blob_id = ?"
        return self.db.execute(sql, [blob_id, blob_id]).fetchone() is not None

    # ---- cli and tui room

    # ---- end
