"""Facet tokens (indexer.fts.facet_tokens): migrating an existing index, and filters that narrow inside FTS5
return exactly what the join alone returns."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from archive.store.schema import MIGRATIONS
from indexer import fts
from vault.db import migrate, open_index, transaction

DOCS = [  # n, doc_type, format, date, text
    (1, "note", "text", "2019-12-30", "Chest pain, troponin negative."),
    (2, "discharge", "text", "2021-05-01", "Chest pain resolved; discharged home."),
    (3, "hl7:ORU^R01", "hl7", "2022-03-10", "Troponin elevated; chest pain."),
    (4, "fhir:Bundle", "fhir", None, "Condition: chest pain."),
    (5, "Note", "pdf", "2024", "Chest pain follow-up."),
    (6, "fhir:Bundle", "fhir", "2022-06-01", "Condition: chest pain. Encounter."),  # facts of 2019 and 2021 (FACTS)
]
FACTS = {6: '[{"kind": "encounter", "date": "2019-12-31"}, {"kind": "condition", "date": "2021-02"}]'}


def _old_index(path: Path) -> Any:
    """An index at schema version 7 (before issue 18), rows written as that version's pipeline did."""
    db = open_index(path, secrets.token_bytes(32), create=True)
    migrate(db, MIGRATIONS[:7])
    with transaction(db):
        for n, dtype, fmt, date, text in DOCS:
            db.execute(
                "INSERT INTO records (n, id, blob_id, filename, format, doc_type, date, size, status, imported_at,"
                " facts) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 'needs_filing', '2024-01-01', ?)",
                [n, f"r{n}", f"{n:064x}", f"d{n}.txt", fmt, dtype, date, FACTS.get(n, "[]")],
            )
            db.execute(f"INSERT INTO {fts.TABLE} (rowid, title, filename, text, meta) VALUES (?, '', ?, ?, ?)",
                       [n, f"d{n}.txt", text, dtype])
    return db


def test_migration_adds_facets_to_every_existing_row(tmp_path: Path) -> None:
    db = _old_index(tmp_path / "index.db")
    before = [h.record_id for h in fts.search(db, "chest pain", limit=10)]
    migrate(db, MIGRATIONS)
    rows = dict(db.execute(f"SELECT rowid, facets FROM {fts.TABLE}").fetchall())
    assert rows[3] == "cvfacet cvtypehl7orur01 cvtypehl7 cvyear2022"
    assert rows[4] == "cvfacet cvtypefhirbundle cvtypefhir"  # no date, no year token
    assert rows[6] == "cvfacet cvtypefhirbundle cvtypefhir cvyear2022 cvfactyears"  # facts of other years
    assert sorted(h.record_id for h in fts.search(db, "chest pain", limit=10)) == sorted(before)
    # The facets column weighs nothing in BM25, and snippets never show it.
    assert all("cvfacet" not in h.snippet for h in fts.search(db, "chest", fts.Filters(doc_type="note")))
    db.conn.close()


@pytest.mark.parametrize("filters", [
    fts.Filters(doc_type="note"),
    fts.Filters(doc_type="hl7"),
    fts.Filters(doc_type="hl7:ORU^R01"),
    fts.Filters(doc_type="pdf"),
    fts.Filters(date_from="2021"),
    fts.Filters(date_from="2021-06"),
    fts.Filters(date_to="2021"),
    fts.Filters(date_from="2020", date_to="2022-03-09"),
    fts.Filters(doc_type="note", date_from="2024"),
    fts.Filters(date_from="2030"),
    fts.Filters(date_from="2019-12-31", date_to="2019-12-31"),
    fts.Filters(date_from="2021-02", date_to="2021-02"),
    fts.Filters(date_from="2020"),
])
def test_facets_narrow_exactly_as_the_join(tmp_path: Path, filters: fts.Filters, monkeypatch: Any) -> None:
    db = _old_index(tmp_path / "index.db")
    migrate(db, MIGRATIONS)
    with_facets = sorted(h.record_id for h in fts.search(db, "chest pain", filters, limit=10))
    monkeypatch.setattr(fts, "facet_match", lambda db, f: ([], []))
    join_only = sorted(h.record_id for h in fts.search(db, "chest pain", filters, limit=10))
    assert with_facets == join_only
    db.conn.close()


def test_a_date_filter_finds_a_record_by_its_fact_dates(tmp_path: Path) -> None:
    """Record 6 is dated 2022-06-01, with an encounter of 2019-12-31 and a condition of 2021-02."""
    db = _old_index(tmp_path / "index.db")
    migrate(db, MIGRATIONS)

    def ids(**bounds: str) -> set[str]:
        return {h.record_id for h in fts.search(db, "chest pain", fts.Filters(**bounds), limit=10)}

    assert "r6" in ids(date_from="2019-12-31", date_to="2019-12-31")
    assert "r6" in ids(date_from="2021-02", date_to="2021-02") and "r6" in ids(date_from="2021", date_to="2021")
    assert "r6" in ids(date_from="2022-06", date_to="2022-06")
    assert "r6" not in ids(date_from="2020", date_to="2020") and "r6" not in ids(date_to="2019-12-30")
    assert ids(date_from="2020", date_to="2020") == set()
    db.conn.close()


def test_facet_terms_name_the_fewer_years() -> None:
    class FakeDb:
        def execute(self, sql: str, params: Any = ()) -> Any:
            class Row:
                def fetchone(self) -> tuple[str]:
                    return ("2010-01-01",) if "min" in sql else ("2024-12-31",)
            return Row()

    must, must_not = fts.facet_match(FakeDb(), fts.Filters(doc_type="Note", date_from="2015"))
    # A record with facts of other years (cvfactyears) is never ruled out by its own year: the join decides.
    assert must == ['"cvtypenote"'] and must_not == [
        '((' + " OR ".join(f'"cvyear{y}"' for y in range(2010, 2015)) + ') NOT "cvfactyears")']
    must, must_not = fts.facet_match(FakeDb(), fts.Filters(date_from="2023"))
    assert must == ['("cvyear2023" OR "cvyear2024" OR "cvfactyears")'] and must_not == []
    assert fts.facet_match(FakeDb(), fts.Filters(author="ng")) == ([], [])


def test_an_empty_patient_list_allows_no_record(tmp_path: Path) -> None:
    from indexer.semantic import allowed_records

    db = _old_index(tmp_path / "index.db")
    migrate(db, MIGRATIONS)
    assert fts.search(db, "chest pain", fts.Filters(patients=()), limit=10) == []
    allowed = allowed_records(db, fts.Filters(patients=()))
    assert allowed is not None and len(allowed) == 0
    assert allowed_records(db, fts.Filters()) is None
    db.conn.close()


@pytest.mark.parametrize("filters", [
    fts.Filters(doc_type="note"),
    fts.Filters(date_from="2021"),
    fts.Filters(doc_type="hl7", date_to="2023"),
])
def test_a_filtered_search_ranks_by_the_query_alone_as_the_narrowed_query_does(
    tmp_path: Path, filters: fts.Filters, monkeypatch: Any
) -> None:
    """Ranking the plain query over the filtered matches' range (`_rank_within`) gives the hits, order, scores
    and count that ranking the narrowed query does (the facets weigh nothing)."""
    db = _old_index(tmp_path / "index.db")
    migrate(db, MIGRATIONS)
    with transaction(db):
        for n in range(10, 44):  # after DOCS (1-6)
            dtype, date = ("note", f"20{10 + n % 15}-02-01") if n % 2 else ("hl7:ORU^R01", f"20{10 + n % 15}-03-01")
            db.execute(
                "INSERT INTO records (n, id, blob_id, filename, format, doc_type, date, size, status, imported_at)"
                " VALUES (?, ?, ?, ?, 'text', ?, ?, 1, 'filed', '2024-01-01')",
                [n, f"r{n}", f"{n:064x}", f"d{n}.txt", dtype, date],
            )
            fts.index_row(db, n, title="", filename=f"d{n}.txt", text="chest pain " * (n % 4 + 1) + "x " * n, meta="")
    narrowed = _narrowed_ranking(db, "chest pain", filters)  # the narrowed query's own ranking, in SQL
    within = fts.search_page(db, "chest pain", filters, limit=8)
    assert len(within.hits) >= 5
    assert [(h.record_id, h.score) for h in within.hits] == narrowed[:8]
    assert within.total == len(narrowed)
    monkeypatch.setattr(fts, "RANK_WITHIN", 0)  # more plain matches in range: only the filtered ones ranked
    tested = fts.search_page(db, "chest pain", filters, limit=8)
    assert [(h.record_id, h.score) for h in tested.hits] == narrowed[:8] and tested.total == len(narrowed)
    monkeypatch.setattr(fts, "RANK_ALL", 6)  # more matches than are ranked: the 6 newest of them
    newest = _narrowed_ranking(db, "chest pain", filters, newest=6)
    pooled = fts.search_page(db, "chest pain", filters, limit=4)
    assert pooled.more and pooled.pool == 6
    assert [(h.record_id, h.score) for h in pooled.hits] == newest[:4]
    db.conn.close()


def _narrowed_ranking(db: Any, query: str, filters: fts.Filters, newest: int | None = None) -> list[tuple[str, float]]:
    """(record id, score) of every filtered match (or of the `newest`), ranked by the narrowed query in FTS5."""
    match = fts.parse_query(query)
    where, params = fts._filter_sql(filters)
    source = (f"SELECT f.rowid AS n, f.rank AS rank FROM {fts.TABLE} f CROSS JOIN records r ON r.n = f.rowid "
              f"WHERE {fts.TABLE} MATCH ?{where}")
    if newest is not None:
        source += f" ORDER BY f.rowid DESC LIMIT {newest}"
    rows = db.execute(f"SELECT n, rank FROM ({source}) ORDER BY rank, n", [fts.narrowed(match, db, filters), *params])
    ids = dict(db.execute("SELECT n, id FROM records").fetchall())
    return [(ids[n], round(-float(rank), 4)) for n, rank in rows]


@pytest.mark.parametrize("filters", [
    fts.Filters(doc_type="note"),
    fts.Filters(date_from="2021"),
    fts.Filters(doc_type="hl7", date_to="2023"),
    fts.Filters(doc_type="fhir", date_from="2020", date_to="2021"),
    fts.Filters(date_from="2019-12-31"),
    fts.Filters(patient="P1"),
    fts.Filters(patients=()),
])
def test_the_records_passing_filters_are_those_the_join_alone_passes(tmp_path: Path, filters: fts.Filters) -> None:
    # what a search by meaning masks its vectors with (indexer.semantic.allowed_records)
    from indexer.semantic import allowed_records

    db = _old_index(tmp_path / "index.db")
    migrate(db, MIGRATIONS)
    where, params = fts._filter_sql(filters)
    joined = [r[0] for r in db.execute(f"SELECT r.n FROM records r WHERE 1 = 1{where} ORDER BY r.n", params)]
    assert fts.passing(db, filters) == joined
    assert list(allowed_records(db, filters)) == joined  # type: ignore[arg-type]
    db.conn.close()
