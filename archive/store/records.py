"""Filed records (one row per stored original) and their transcriptions.

Owns the SQL for: records, transcriptions. Writes to these tables happen here and nowhere else.
The records' search indexes (the FTS row, the semantic chunks and vectors) are reached
through here too: `indexer.fts` and `indexer.semantic` hold their statements.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from indexer import fts, hybrid, semantic

if TYPE_CHECKING:
    from sqlite_utils import Database

    from indexer.assertion_map import AssertionMap
    from indexer.embedder import Embedder
    from indexer.pipeline import Ingestor
    from indexer.second_vectors import FillReport, PairView
    from indexer.semantic import EmbedReport
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

    def patient_of(self, record: str) -> tuple[bool, str | None]:
        """(exists, patient MRN) of a record."""
        row = self.db.execute("SELECT patient_mrn FROM records WHERE id = ?", [record]).fetchone()
        if row is None:
            return False, None
        return True, (str(row[0]) if row[0] is not None else None)

    # ---- charts room

    def numbers_of_patients(self, mrns: Sequence[str]) -> list[int]:
        """records.n of every record of these patients."""
        if not mrns:
            return []
        sql = "SELECT n FROM records WHERE patient_mrn IN (SELECT value FROM json_each(?))"
        return [int(r[0]) for r in self.db.execute(sql, [json.dumps(sorted(set(mrns)))])]

    def patient_and_date(self, record_id: str) -> tuple[str | None, str | None] | None:
        """(patient MRN, date) of a record, or None when there is no such record."""
        row = self.db.execute("SELECT patient_mrn, date FROM records WHERE id = ?", [record_id]).fetchone()
        return (row[0], row[1]) if row is not None else None

    def filed_to(self, mrn: str) -> list[tuple[str, str | None, str | None, str | None]]:
        """(id, date, title, doc_type) of the records filed to a patient, by date."""
        rows = self.db.execute(
            "SELECT id, date, title, doc_type FROM records WHERE patient_mrn = ? ORDER BY date, n", [mrn]
        ).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def chart_source(self, record_id: str) -> tuple[str, str | None, str | None, str | None, str | None] | None:
        """(id, patient MRN, date, author, facts as JSON) of a record whose facts may land on a chart."""
        row = self.db.execute(
            "SELECT id, patient_mrn, date, author, facts FROM records WHERE id = ?", [record_id]
        ).fetchone()
        return (row[0], row[1], row[2], row[3], row[4]) if row is not None else None

    def facts_json(self, record_id: str) -> str | None:
        """A record's facts as stored (JSON), or None when there is no such record."""
        row = self.db.execute("SELECT facts FROM records WHERE id = ?", [record_id]).fetchone()
        return (row[0] or "[]") if row is not None else None

    def with_facts(self) -> list[str]:
        """Ids of the records that have facts, in import order."""
        return [r[0] for r in self.db.execute("SELECT id FROM records WHERE facts != '[]' ORDER BY n").fetchall()]

    # ---- records room

    def get(self, record_id: str) -> dict[str, Any] | None:
        """One record's row (every column), or None."""
        rows = list(self.db.query("SELECT * FROM records WHERE id = ?", [record_id]))
        return rows[0] if rows else None

    def demographics_of(self, mrn: str) -> list[tuple[str, str, str]]:
        """(id, file name, metadata JSON) of the records filed to a patient, in import order (the
        demographics each record's content gave are in its metadata's `patient_in_content`)."""
        rows = self.db.execute("SELECT id, filename, metadata FROM records WHERE patient_mrn = ? ORDER BY n", [mrn])
        return [(str(r[0]), str(r[1]), str(r[2] or "{}")) for r in rows]

    def set_date(self, record_id: str, date: str) -> None:
        """A record's date re-derived (a multi-encounter bundle: its last clinical date); the caller refreshes
        its full-text row (`update_search_row`: the date is in its meta and facets)."""
        self.db.execute("UPDATE records SET date = ? WHERE id = ?", [date, record_id])

    def refresh_facets(self, numbers: list[int]) -> int:
        """Re-derive the full-text filter tokens (type, year, fact years) of these records (`records.n`) from
        their rows; how many changed."""
        from indexer import fts

        return fts.refresh_facets(self.db, numbers)

    def all_ids(self) -> list[str]:
        """Every record's id, in import order."""
        return [str(r[0]) for r in self.db.execute("SELECT id FROM records ORDER BY n")]

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
        second: Any = None,
    ) -> EmbedReport:
        """Embed the records waiting for `embedder`'s model (or only the records `only`, by `records.n`); with
        `second`, each chunk's second vector too (indexer.second_vectors)."""
        from indexer.semantic import embed_pending

        return embed_pending(self.db, embedder, only=only, progress=progress, should_stop=should_stop, limit=limit,
                             second=second)

    def second_coverage(self, first: str, model: str) -> tuple[int, int]:
        """(chunks of model `first` with a `model` vector beside, chunks of `first`)."""
        from indexer import second_vectors

        return second_vectors.coverage(self.db, first, model)

    def has_second(self, model: str) -> bool:
        """Whether any chunk has a `model` vector beside its first one."""
        from indexer import second_vectors

        return second_vectors.any_of(self.db, model)

    def fill_second(self, embedder: Any, first: str, *, progress: Callable[[int, int], None] | None = None,
                    should_stop: Callable[[], bool] | None = None, limit: int | None = None) -> FillReport:
        """Give the chunks of model `first` that lack one their vector of the second `embedder`."""
        from indexer import second_vectors

        return second_vectors.fill(self.db, embedder, first, progress=progress, should_stop=should_stop,
                                   limit=limit)

    def pair_view(self, vm: VectorMatrix, candidates: list[int], model: str, dim: int) -> PairView | None:
        """The candidates' passages with both vectors (indexer.second_vectors.PairView), or None when one lacks
        its second vector."""
        from indexer.second_vectors import PairView

        return PairView.of(self.db, vm, candidates, model, dim)

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

    def count_all(self) -> int:
        """How many records the archive holds (the keyword side's IDF needs it)."""
        return int(self.db.execute("SELECT count(*) FROM records").fetchone()[0])

    def full_text_page(self, query: str, filters: fts.Filters, limit: int) -> fts.FtsPage:
        """BM25 hits with snippets, and how many matched (BadQuery for a malformed query)."""
        return fts.search_page(self.db, query, filters, limit=limit)

    def holders(self, query: str, filters: fts.Filters, limit: int) -> list[str]:
        """Ids of records (at most `limit`, unranked) holding the words of a full-text query (BadQuery as above)."""
        return [rid for _n, rid in fts.holders(self.db, query, filters, limit)]

    def holding_among(self, query: str, ns: list[int]) -> set[str]:
        """Ids of the records among `ns` (records.n) holding the words of a full-text query (BadQuery as above)."""
        return {rid for _n, rid in fts.holding_among(self.db, query, ns)}

    def near_terms(self, word: str) -> list[str]:
        """Index terms one or two edits from `word` (OCR misreadings such as "cimeti2in"), most frequent first."""
        return fts.near_terms(self.db, word)

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

    def indexed_texts(self, ns: list[int]) -> dict[int, str]:
        """`indexed_text` of several records, read in one query (a search's hits)."""
        return fts.texts_of(self.db, ns)

    def assertion_maps(self, texts: dict[int, str]) -> dict[int, AssertionMap]:
        """The stored assertion maps of these records (`records.n` -> indexed text) that fit their text."""
        from indexer import assertion_map

        return assertion_map.maps(self.db, texts)

    def refresh_assertion_maps(self, limit: int, after: int = 0) -> tuple[int, int]:
        """Store the assertion maps of up to `limit` records after `records.n` `after` that have none of the
        current rules: (how many, the last record stored, to pass as `after` to the next batch)."""
        from indexer import assertion_map, fts

        return assertion_map.backfill_from(self.db, fts.TABLE, after, limit=limit)

    def stale_assertion_maps(self) -> int:
        """How many records have no assertion map of the current rules (searches label those from their text)."""
        from indexer import assertion_map, fts

        return assertion_map.stale(self.db, fts.TABLE)

    def is_embedded(self, n: int, model: str) -> bool:
        row = self.db.execute("SELECT 1 FROM embedded WHERE record_n = ? AND model = ?", [n, model]).fetchone()
        return row is not None

    def embed_now(self, embedder: Embedder, n: int, second: Any = None) -> None:
        """Embed record `n` at once (it is still in the backlog); with `second`, its second vectors too."""
        semantic.embed_pending(self.db, embedder, only=[n], second=second)

    def vectors(self, model: str, dim: int) -> VectorMatrix:
        return semantic.matrix_for(self.db, model, dim)

    def approximate_recall(self) -> dict[str, float]:
        """Per model with an approximate index: its recall@100 against exact search (indexer.semantic)."""
        return semantic.approximate_recall(self.db)

    def vector_mask(self, vm: VectorMatrix, filters: fts.Filters) -> Any:
        """Which rows of `vm` pass the search filters."""
        return vm.mask_for(semantic.allowed_records(self.db, filters))

    def keyword_plan(self, parsed: hybrid.ParsedQuery) -> hybrid.KeywordPlan:
        return hybrid.plan_keywords(self.db, parsed, self.count_all())

    def keyword_scores(self, match: str, filters: fts.Filters) -> hybrid.KeywordScores:
        return hybrid.KeywordScores.of(self.db, match, filters)

    def keyword_candidates(self, rare: str, together: tuple[str, ...],
                           within: tuple[int, ...] | None = None) -> list[int]:
        """records.n a bounded keyword side ranks besides the vector side's (hybrid.bounded_candidates)."""
        return hybrid.bounded_candidates(self.db, rare, together, within)

    def keyword_scores_of(self, match: str, records: list[int]) -> hybrid.KeywordScores:
        """BM25 of those of `records` that `match` finds (hybrid.KeywordScores.of_these)."""
        return hybrid.KeywordScores.of_these(self.db, match, records)

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

    def filings(self) -> list[tuple[str, str | None]]:
        """(record id, patient MRN or None) of every record: checked against the signed audit entries."""
        return [(str(r), m) for r, m in self.db.execute("SELECT id, patient_mrn FROM records ORDER BY n")]

    def referenced_blobs(self) -> list[tuple[str, str, str]]:
        """(record id, what, blob id) of every blob in objects/ a record needs: original, text, transcriptions."""
        sql = (
            "SELECT id, 'original', blob_id FROM records "
            "UNION ALL SELECT id, 'text', text_blob_id FROM records WHERE text_blob_id IS NOT NULL "
            "UNION ALL SELECT record_id, 'transcription', text_blob_id FROM transcriptions "
            "ORDER BY 1, 2, 3"
        )
        return [(r[0], r[1], r[2]) for r in self.db.execute(sql)]

    def blob_in_use(self, blob_id: str) -> bool:
        """Whether a record still stores `blob_id` as its original or its text."""
        sql = "SELECT 1 FROM records WHERE blob_id = ? OR text_blob_id = ?"
        return self.db.execute(sql, [blob_id, blob_id]).fetchone() is not None

    # ---- cli and tui room

    # ---- end
