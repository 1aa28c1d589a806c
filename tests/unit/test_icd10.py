"""indexer.icd10: loading the code set, lookup, hierarchy, search ranking; the mini index's codes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.store.schema import MIGRATIONS
from indexer import icd10
from indexer.query.abbreviations import dominant_senses, expand_abbreviations
from indexer.query.index_terms import index_terms
from indexer.query.tokens import stem
from vault.db import migrate, open_index


@pytest.fixture(scope="module")
def codes_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One encrypted index with the code set loaded, shared by the module (loading takes seconds)."""
    db = open_index(Path(tmp_path_factory.mktemp("icd")) / "index.db", os.urandom(32), create=True)
    migrate(db, MIGRATIONS)
    report = icd10.ensure_loaded(db)
    db.load_report = report  # type: ignore[attr-defined]
    yield db
    db.conn.close()


def test_load_counts_match_the_package(codes_db) -> None:  # type: ignore[no-untyped-def]
    import simple_icd_10_cm as pkg

    report = codes_db.load_report
    assert report.loaded
    leaves = [c for c in pkg.get_all_codes() if pkg.is_leaf(c) and pkg.is_category_or_subcategory(c)]
    assert report.billable == len(set(leaves))
    assert report.codes == len(set(pkg.get_all_codes()))
    assert report.billable > 74_000  # the FY2026 release, not a truncated one


def test_load_is_idempotent(codes_db) -> None:  # type: ignore[no-untyped-def]
    again = icd10.ensure_loaded(codes_db)
    assert not again.loaded
    assert again.codes == codes_db.load_report.codes
    assert again.seconds < 1.0
    fts_rows = codes_db.execute("SELECT count(*) FROM icd10_fts WHERE icd10_fts MATCH 'diabetes'").fetchone()[0]
    assert fts_rows > 100


@pytest.mark.parametrize("typed,expected", [("E11.9", "E11.9"), ("e119", "E11.9"), (" e11 ", "E11"),
                                            ("S72.001A", "S72.001A"), ("e08-e13", "E08-E13"), ("diabetes", None)])
def test_normalize_code(typed: str, expected: str | None) -> None:
    assert icd10.normalize_code(typed) == expected


def test_lookup_and_billable(codes_db) -> None:  # type: ignore[no-untyped-def]
    e119 = icd10.lookup(codes_db, "e119")
    assert e119 is not None and e119.code == "E11.9" and e119.billable
    assert e119.description == "Type 2 diabetes mellitus without complications"
    e11 = icd10.lookup(codes_db, "E11")
    assert e11 is not None and e11.kind == "category" and not e11.billable
    assert any("diabetes NOS" in t for t in e11.terms)
    assert icd10.lookup(codes_db, "E11.99") is None
    i10 = icd10.lookup(codes_db, "I10")
    assert i10 is not None and i10.billable and i10.kind == "category"


def test_hierarchy(codes_db) -> None:  # type: ignore[no-untyped-def]
    e119 = icd10.lookup(codes_db, "E11.9")
    assert e119 is not None
    assert (e119.chapter, e119.block, e119.category, e119.parent) == ("4", "E08-E13", "E11", "E11")
    assert [a.code for a in icd10.ancestors(codes_db, "E11.9")] == ["4", "E08-E13", "E11"]
    kids = [c.code for c in icd10.children(codes_db, "E11")]
    assert "E11.9" in kids and "E11.6" in kids and all(k.startswith("E11.") for k in kids)
    assert len(icd10.chapters(codes_db)) == 22
    fracture = icd10.lookup(codes_db, "S72.001A")
    assert fracture is not None and fracture.kind == "extension" and fracture.billable
    assert fracture.parent == "S72.001" and fracture.category == "S72"
    # A block named like its only category (B99): the category keeps the name, the block is its block.
    b99 = icd10.lookup(codes_db, "B99")
    assert b99 is not None and b99.kind == "category" and b99.block == "B99" and b99.parent == "1"


def test_default_billable_prefers_unspecified(codes_db) -> None:  # type: ignore[no-untyped-def]
    assert icd10.default_billable(codes_db, "E11") == "E11.9"
    assert icd10.default_billable(codes_db, "J18") == "J18.9"
    assert icd10.default_billable(codes_db, "S72.001") == "S72.001A"
    assert icd10.default_billable(codes_db, "I10") == "I10"


def test_near_codes_for_an_unknown_code(codes_db) -> None:  # type: ignore[no-untyped-def]
    near = [c.code for c in icd10.near_codes(codes_db, "E11.99")]
    assert near and near[0] == "E11.9"
    assert all(c.startswith("E11") for c in near)


def _codes(hits: list[icd10.CodeHit]) -> list[str]:
    return [h.code for h in hits]


def test_search_by_code_puts_the_exact_code_first(codes_db) -> None:  # type: ignore[no-untyped-def]
    hits = icd10.search_codes(codes_db, "e11", limit=10)
    assert hits[0].code == "E11" and hits[0].match == "code"
    assert all(h.code.startswith("E11.") for h in hits[1:]) and len(hits) == 10
    assert _codes(icd10.search_codes(codes_db, "E11.9"))[0] == "E11.9"
    near = icd10.search_codes(codes_db, "E11.99")
    assert near and near[0].code == "E11.9" and {h.match for h in near} == {"near"}


@pytest.mark.parametrize(
    "query,top",
    [
        ("type 2 diabetes without complications", "E11.9"),
        ("type 2 diabetes", "E11.9"),
        ("hypertension", "I10"),
        ("HTN", "I10"),  # abbreviation
        ("pneumonia", "J18.9"),
        ("chest pain", "R07.9"),
        ("copd with exacerbation", "J44.1"),
        ("low back pain", "M54.50"),
        ("heart attack", "I21.9"),  # mini index
    ],
)
def test_search_by_words_ranking(codes_db, query: str, top: str) -> None:  # type: ignore[no-untyped-def]
    hits = icd10.search_codes(codes_db, query, limit=5)
    assert hits and hits[0].code == top, _codes(hits)


def test_search_prefers_billable_codes_at_equal_fit(codes_db) -> None:  # type: ignore[no-untyped-def]
    hits = icd10.search_codes(codes_db, "pneumonia", limit=10)
    j18 = _codes(hits).index("J18")  # the heading with the same words
    assert _codes(hits).index("J18.9") < j18


def test_search_billable_only_and_nonsense(codes_db) -> None:  # type: ignore[no-untyped-def]
    assert all(h.billable for h in icd10.search_codes(codes_db, "diabetes", limit=20, billable_only=True))
    assert icd10.search_codes(codes_db, "qwzxv", limit=5) == []
    assert icd10.search_codes(codes_db, '"unbalanced AND (', limit=5) is not None  # no FTS syntax error escapes


def test_every_mini_index_code_exists_and_is_billable(codes_db) -> None:  # type: ignore[no-untyped-def]
    bad = []
    for term, code in index_terms():
        info = icd10.lookup(codes_db, code)
        if info is None or not info.billable:
            bad.append((term, code))
    assert not bad


def test_abbreviations_keep_only_dominant_senses() -> None:
    table = dominant_senses()
    assert table["htn"] == "hypertension"
    assert table["chf"] == "congestive heart failure"
    assert "cp" not in table  # chest pain vs cerebral palsy: neither dominates
    assert "as" not in table and "no" not in table  # everyday words are never expanded
    assert expand_abbreviations(["htn", "and", "dm2"]) == ["hypertension", "and", "diabetes", "mellitus", "type", "2"]


def test_stem_maps_related_forms_together() -> None:
    assert stem("diabetes") == stem("diabetic")
    assert stem("hypertension") == stem("hypertensive")
    assert stem("fractures") == stem("fracture")


@pytest.mark.parametrize(("query", "category"), [
    ("haemolytic anaemia", "D59"), ("leukaemia", "C95"), ("oesophageal varices", "I85"), ("coeliac disease", "K90"),
    ("Tumour", "D49"),
])
def test_a_code_search_reads_british_spelling_in_the_code_sets(codes_db, query: str,  # type: ignore[no-untyped-def]
                                                               category: str) -> None:
    assert category in [h.code[:3] for h in icd10.search_codes(codes_db, query, limit=5)]


def test_a_code_search_keeps_everyday_words_as_typed(codes_db) -> None:  # type: ignore[no-untyped-def]
    spelling = icd10.spelling_for(codes_db)
    assert [spelling(w) for w in ("aerosol", "poem", "toe", "canoe", "four")] == ["aerosol", "poem", "toe", "canoe",
                                                                                 "four"]
    assert icd10.spelling_for(codes_db) is spelling  # built once per process and release
