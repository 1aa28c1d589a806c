"""Filed records (one row per stored original) and their transcriptions.

Owns the SQL for: records, transcriptions. Writes to these tables happen here and nowhere else.
The records' search indexes (the FTS row, the semantic chunks and vectors) are reached
through here too: `indexer.fts` and `indexer.semantic` hold their statements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database

    from indexer.embedder import Embedder
    from indexer.pipeline import Ingestor
    from indexer.semantic import EmbedReport


class RecordsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    def patient_of(self, record: str) -> tuple[bool, str | None]:
        """(exists, patient MRN) of a record."""
        row = self.db.execute("SELECT patient_mrn FROM records WHERE id = ?", [record]).fetchone()
        if row is None:
            return False, None
        return True, (str(row[0]) if row[0] is not None else None)

    # ---- charts room

    # ---- records room

    def get(self, record_id: str) -> dict[str, Any] | None:
        """One record's row (every column), or None."""
        rows = list(self.db.query("SELECT * FROM records WHERE id = ?", [record_id]))
        return rows[0] if rows else None

    def file_to(self, record_id: str, mrn: str) -> None:
        """The record belongs to patient `mrn` and leaves the needs-filing queue."""
        self.db.execute("UPDATE records SET patient_mrn = ?, status = 'filed' WHERE id = ?", [mrn, record_id])

    def queue(self, queue: str, limit: int) -> list[dict[str, Any]]:
        """The oldest records waiting in `needs_filing` or `needs_transcription`."""
        where = {"needs_filing": "status = 'needs_filing'", "needs_transcription": "needs_transcription = 1"}[queue]
        return list(
            self.db.query(
                f"SELECT id, filename, format, doc_type, date, imported_at, metadata, patient_mrn, ocr_confidence "
                f"FROM records WHERE {where} ORDER BY imported_at, n LIMIT ?",
                [int(limit)],
            )
        )

    def transcribed(self, record_id: str) -> None:
        """The record's transcription is verified: it leaves the needs-transcription queue."""
        self.db.execute("UPDATE records SET needs_transcription = 0 WHERE id = ?", [record_id])

    def latest_transcription(self, record_id: str) -> dict[str, Any] | None:
        """The newest transcription of a record (id, by, at, verified_by, verified_at, text_blob_id), or None."""
        rows = list(
            self.db.query(
                "SELECT id, by, at, verified_by, verified_at, text_blob_id FROM transcriptions "
                "WHERE record_id = ? ORDER BY id DESC LIMIT 1",
                [record_id],
            )
        )
        return rows[0] if rows else None

    def add_transcription(self, record_id: str, text_blob_id: str, by: str, at: str) -> int:
        """A new, unverified transcription; its id."""
        cur = self.db.execute(
            "INSERT INTO transcriptions (record_id, text_blob_id, by, at) VALUES (?, ?, ?, ?)",
            [record_id, text_blob_id, by, at],
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def verify_transcription(self, transcription_id: int, by: str, at: str) -> None:
        self.db.execute(
            "UPDATE transcriptions SET verified_by = ?, verified_at = ? WHERE id = ?", [by, at, transcription_id]
        )

    def update_search_row(self, n: int, **columns: str) -> None:
        """Change columns of one record's full-text row (`text`, `meta`, ...), by its `records.n`."""
        from indexer import fts

        fts.update_columns(self.db, n, **columns)

    def numbers(self, record_ids: list[str]) -> list[int]:
        """The `records.n` of these record ids (unknown ids are left out), sorted."""
        out: list[int] = []
        for start in range(0, len(record_ids), 500):
            part = record_ids[start : start + 500]
            marks = ", ".join("?" for _ in part)
            out += [int(r[0]) for r in self.db.execute(f"SELECT n FROM records WHERE id IN ({marks})", part)]
        return sorted(out)

    def ingestor(self, **options: Any) -> Ingestor:
        """The ingest pipeline over this database (it writes records, quarantine and patients rows)."""
        from indexer.pipeline import Ingestor

        return Ingestor(self.db, **options)

    # the semantic index of the records (chunks and vectors per model)

    def embedding_backlog(self, model: str) -> int:
        """Records not yet embedded with `model`."""
        from indexer.semantic import backlog_count

        return backlog_count(self.db, model)

    def embedded_count(self, model: str) -> int:
        from indexer.semantic import embedded_count

        return embedded_count(self.db, model)

    def chunk_count(self, model: str) -> int:
        return int(self.db.execute("SELECT count(*) FROM chunks WHERE model = ?", [model]).fetchone()[0])

    def any_embedded(self, model: str) -> bool:
        """Whether any record has chunks embedded with `model`."""
        row = self.db.execute("SELECT 1 FROM embedded WHERE model = ? AND chunks > 0 LIMIT 1", [model]).fetchone()
        return row is not None

    def embed_pending(
        self,
        embedder: Embedder,
        *,
        only: Sequence[int] | None = None,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        limit: int | None = None,
    ) -> EmbedReport:
        """Embed the records waiting for `embedder`'s model (or only the records `only`, by `records.n`)."""
        from indexer.semantic import embed_pending

        return embed_pending(self.db, embedder, only=only, progress=progress, should_stop=should_stop, limit=limit)

    def forget_vectors(self, model: str) -> None:
        """Drop every vector of `model` (its own transaction): every record returns to the backlog."""
        from indexer.semantic import forget

        forget(self.db, model)

    def semantic_state(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM semantic_state WHERE key = ?", [key]).fetchone()
        return str(row[0]) if row else None

    def set_semantic_state(self, key: str, value: str | None) -> None:
        """Set (or with None, clear) one semantic_state value, in its own transaction unless one is open."""
        from vault.db import transaction

        with transaction(self.db):
            if value is None:
                self.db.execute("DELETE FROM semantic_state WHERE key = ?", [key])
            else:
                self.db.execute(
                    "INSERT INTO semantic_state (key, value) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [key, value],
                )

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
