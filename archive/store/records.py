"""Filed records (one row per stored original) and their transcriptions.

Owns the SQL for: records, transcriptions. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from indexer import fts, hybrid, semantic

if TYPE_CHECKING:
    from sqlite_utils import Database

    from indexer.embedder import Embedder
    from indexer.vectors import VectorMatrix


@dataclass(frozen=True)
class HitRow:
    """What a search hit shows of a record (search and assistant room)."""

    n: int
    id: str
    filename: str
    patient: str | None
    date: str | None
    doc_type: str | None
    format: str | None
    title: str | None


class RecordsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    # ---- records room

    # ---- search and assistant room

    def count_all(self) -> int:
        """How many records the archive holds (the keyword side's IDF needs it)."""
        return int(self.db.execute("SELECT count(*) FROM records").fetchone()[0])

    def full_text_page(self, query: str, filters: fts.Filters, limit: int) -> fts.FtsPage:
        """BM25 hits with snippets, and how many matched (BadQuery for a malformed query)."""
        return fts.search_page(self.db, query, filters, limit=limit)

    def full_text(self, query: str, filters: fts.Filters, limit: int) -> list[fts.FtsHit]:
        return fts.search(self.db, query, filters, limit=limit)

    def hit_rows(self, ns: list[int]) -> dict[int, HitRow]:
        """records.n -> what a search hit shows of the record."""
        if not ns:
            return {}
        marks = ", ".join("?" for _ in ns)
        rows = self.db.execute(
            f"SELECT n, id, filename, patient_mrn, date, doc_type, format, title FROM records WHERE n IN ({marks})", ns
        ).fetchall()
        return {int(r[0]): HitRow(int(r[0]), *r[1:]) for r in rows}

    def ref(self, record_id: str) -> HitRow | None:
        """The record `record_id` (its row number, id, patient...), or None."""
        row = self.db.execute(
            "SELECT n, id, filename, patient_mrn, date, doc_type, format, title FROM records WHERE id = ?", [record_id]
        ).fetchone()
        return HitRow(int(row[0]), *row[1:]) if row else None

    def indexed_text(self, n: int) -> str:
        """The text the index holds for record `n` (what the chunks' offsets point into)."""
        return semantic.record_text(self.db, n)

    def is_embedded(self, n: int, model: str) -> bool:
        row = self.db.execute("SELECT 1 FROM embedded WHERE record_n = ? AND model = ?", [n, model]).fetchone()
        return row is not None

    def embed_now(self, embedder: Embedder, n: int) -> None:
        """Embed record `n` at once (it is still in the backlog)."""
        semantic.embed_pending(self.db, embedder, only=[n])

    def vectors(self, model: str, dim: int) -> VectorMatrix:
        return semantic.matrix_for(self.db, model, dim)

    def vector_mask(self, vm: VectorMatrix, filters: fts.Filters) -> Any:
        """Which rows of `vm` pass the search filters."""
        return vm.mask_for(semantic.allowed_records(self.db, filters))

    def keyword_plan(self, parsed: hybrid.ParsedQuery) -> hybrid.KeywordPlan:
        return hybrid.plan_keywords(self.db, parsed, self.count_all())

    def keyword_scores(self, match: str, filters: fts.Filters) -> hybrid.KeywordScores:
        return hybrid.KeywordScores.of(self.db, match, filters)

    def info(self, record_id: str) -> dict[str, Any] | None:
        """What the assistant cites of a record: its row, text blob and whether it has structured facts."""
        row = self.db.execute(
            "SELECT id, n, patient_mrn, date, title, doc_type, format, text_blob_id, facts != '[]' "
            "FROM records WHERE id = ?",
            [record_id],
        ).fetchone()
        if row is None:
            return None
        keys = ("record_id", "n", "patient", "date", "title", "doc_type", "format", "text_blob_id", "has_facts")
        return dict(zip(keys, row, strict=True))

    def latest_transcription_blob(self, record_id: str) -> str | None:
        row = self.db.execute(
            "SELECT text_blob_id FROM transcriptions WHERE record_id = ? ORDER BY id DESC LIMIT 1", [record_id]
        ).fetchone()
        return str(row[0]) if row else None

    def facts_of_patient(self, mrn: str) -> list[tuple[str, str | None, str]]:
        """(record id, date, facts JSON) of the patient's records that have structured facts, by date."""
        rows = self.db.execute(
            "SELECT id, date, facts FROM records WHERE patient_mrn = ? AND facts != '[]' ORDER BY date, n", [mrn]
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def notes_of_patient(self, mrn: str) -> list[tuple[str, str | None]]:
        """(record id, date) of the patient's records without structured facts (notes), by date."""
        rows = self.db.execute(
            "SELECT id, date FROM records WHERE patient_mrn = ? AND facts = '[]' ORDER BY date, n", [mrn]
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def facts_mentioning(self, word: str) -> list[tuple[str, str, str | None, str]]:
        """(record id, patient, date, facts JSON) of filed records whose facts contain `word`."""
        rows = self.db.execute(
            "SELECT id, patient_mrn, date, facts FROM records WHERE facts LIKE ? AND patient_mrn IS NOT NULL",
            [f"%{word}%"],
        ).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
