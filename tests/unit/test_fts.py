"""indexer.fts: the query language, BM25 ranking, snippets and filters."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.store.schema import MIGRATIONS
from indexer import fts
from vault.db import migrate, open_index, transaction
from vault.errors import BadInput, BadQuery


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("chest pain", '("chest" AND "pain")'),
        ('"heart failure"', '"heart failure"'),
        ("cardi*", '"cardi" *'),
        ("fall OR syncope", '("fall" OR "syncope")'),
        ("fracture -hip", '("fracture" NOT "hip")'),
        ("fracture NOT hip", '("fracture" NOT "hip")'),
        ("(fall OR syncope) hip", '(("fall" OR "syncope") AND "hip")'),
        ("title:discharge", 'title : "discharge"'),
        ("author:smith", 'meta : "smith"'),
        ("s/p", '"s/p"'),
        ('he said "x"', '("he" AND "said" AND "x")'),
        ("x-ray AND chest", '("x-ray" AND "chest")'),
        ('C.diff "NOT"', '("C.diff" AND "NOT")'),
    ],
)
def test_parse_query_builds_safe_expressions(query: str, expected: str) -> None:
    assert fts.parse_query(query) == expected


@pytest.mark.parametrize(
    ("query", "message", "hint"),
    [
        ('chest "pain', "unbalanced quote", '"heart failure"'),
        ("(fall OR syncope", "'(' without a matching ')'", "(fall OR syncope) hip"),
        ("fall) hip", "')' without a matching '('", "Remove it"),
        ("OR heart", "'OR' needs a word on each side", "fracture OR dislocation"),
        ("heart OR", "'OR' needs a word on each side", "fracture OR dislocation"),
        ("heart NOT", "'NOT' needs a word on each side", "fracture NOT hip"),
        ("-hip", "cannot only exclude", "fracture -hip"),
        ("   ", "nothing to search for", "cardi*"),
        ("*", "must follow the beginning of a word", "cardi*"),
        ("a*", "too short", "cardi*"),
        ("()", "empty group", "parentheses"),
        ("x" * 1001, "too long", "under"),
    ],
)
def test_malformed_queries_say_what_and_how(query: str, message: str, hint: str) -> None:
    with pytest.raises(BadQuery) as err:
        fts.parse_query(query)
    assert message in err.value.message
    assert hint in err.value.hint
    assert err.value.exit_code == 2


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    database = open_index(tmp_path_factory.mktemp("fts") / "i.db", secrets.token_bytes(32), create=True)
    migrate(database, MIGRATIONS)
    docs = [
        # n, id, filename, patient, date, doc_type, author, title, text
        (1, "r1", "discharge.txt", "M1", "2020-01-05", "note", "Dr Alice Smith", "Discharge summary",
         "Congestive heart failure, improved. Patient discharged home on furosemide."),
        (2, "r2", "hip.txt", "M1", "2021-06-01", "note", "Dr Bob Jones", "Orthopedic consult",
         "Elderly patient fell at home: left hip fracture, post-op confusion."),
        (3, "r3", "wrist.hl7", "M2", "2022-03-10", "hl7:ORU^R01", "Dr Bob Jones", "Radiology",
         "Distal radius fracture after a fall on an outstretched hand. No hip injury."),
        (4, "r4", "heart.json", None, None, "fhir:Bundle", None, "FHIR record",
         "Condition: heart failure; cardiomyopathy. Medication: lisinopril."),
    ]
    with transaction(database):
        for n, rid, fname, mrn, date, dtype, author, title, text in docs:
            if mrn:
                database.execute(
                    "INSERT OR IGNORE INTO patients (mrn, created_at) VALUES (?, '2024-01-01')", [mrn]
                )
            database.execute(
                "INSERT INTO records (n, id, blob_id, filename, format, doc_type, title, patient_mrn, date, author,"
                " size, status, imported_at) VALUES (?, ?, ?, ?, 'text', ?, ?, ?, ?, ?, 1, ?, '2024-01-01')",
                [n, rid, rid * 32, fname, dtype, title, mrn, date, author, "filed" if mrn else "needs_filing"],
            )
            fts.index_row(database, n, title=title, filename=fname, text=text, meta=f"{dtype} {author or ''}")
    yield database
    database.conn.close()


def ids(hits: list[fts.FtsHit]) -> list[str]:
    return [h.record_id for h in hits]


def test_phrase_and_stemming(db: Any) -> None:
    assert set(ids(fts.search(db, '"heart failure"'))) == {"r1", "r4"}
    # porter: "fractures" finds "fracture"
    assert set(ids(fts.search(db, "fractures"))) == {"r2", "r3"}


def test_prefix_or_not(db: Any) -> None:
    assert set(ids(fts.search(db, "cardio*"))) == {"r4"}
    assert set(ids(fts.search(db, "lisinopril OR furosemide"))) == {"r1", "r4"}
    assert ids(fts.search(db, "fracture -radius")) == ["r2"]


def test_title_weight_ranks_title_matches_first(db: Any) -> None:
    hits = fts.search(db, "discharge")
    assert hits[0].record_id == "r1"
    assert hits[0].score > 0


def test_snippet_marks_matched_terms(db: Any) -> None:
    (hit,) = fts.search(db, "furosemide")
    marked = fts.mark(hit.snippet)
    assert "**furosemide**" in marked
    assert fts.MARK_OPEN not in marked


def test_filters(db: Any) -> None:
    assert set(ids(fts.search(db, "fracture", fts.Filters(patient="M2")))) == {"r3"}
    assert set(ids(fts.search(db, "fracture", fts.Filters(doc_type="hl7")))) == {"r3"}
    assert set(ids(fts.search(db, "fracture", fts.Filters(doc_type="note")))) == {"r2"}
    assert set(ids(fts.search(db, "fracture", fts.Filters(author="jones")))) == {"r2", "r3"}
    assert set(ids(fts.search(db, "fracture", fts.Filters(date_from="2022")))) == {"r3"}
    assert set(ids(fts.search(db, "fracture", fts.Filters(date_to="2021-06-01")))) == {"r2"}
    assert set(ids(fts.search(db, "heart", fts.Filters(date_from="2019-12", date_to="2020-01")))) == {"r1"}


def test_bad_filter_date(db: Any) -> None:
    with pytest.raises(BadInput, match="--from must be a date"):
        fts.search(db, "fracture", fts.Filters(date_from="last week"))


@pytest.mark.parametrize("value", ["2020-13-01", "2024-02-30", "2023-00", "0000"])
def test_a_filter_date_that_is_no_calendar_date_is_refused(db: Any, value: str) -> None:
    # Compared as text, 2020-13-01 filtered by a date nobody meant, silently.
    with pytest.raises(BadInput, match=f"--to {value} is not a calendar date"):
        fts.search(db, "fracture", fts.Filters(date_to=value))
    assert fts.check_date("2024-02-29", "--from") == "2024-02-29" and fts.check_date(" 2024-02 ", "--to") == "2024-02"


def test_holding_among_looks_up_only_the_records_asked(db: Any) -> None:
    assert fts.holding_among(db, "fracture", [3, 1, 2, 3]) == [(2, "r2"), (3, "r3")]  # once each, by n
    assert fts.holding_among(db, "hip fracture", [1, 2, 3, 4]) == [(2, "r2"), (3, "r3")]  # r3: "No hip injury"
    assert fts.holding_among(db, "heart failure", [2, 3]) == [] and fts.holding_among(db, "heart", []) == []
    with pytest.raises(BadQuery):
        fts.holding_among(db, 'chest "pain', [1])


def test_limit_and_update(db: Any) -> None:
    assert len(fts.search(db, "fracture OR heart", limit=1)) == 1
    fts.update_columns(db, 4, meta="fhir:Bundle MRN M9")
    assert ids(fts.search(db, "meta:M9")) == ["r4"]


def test_any_typed_text_is_safe(db: Any) -> None:
    """Nothing a person types produces an SQLite error: only results or BadQuery."""
    import random

    rng = random.Random(7)
    alphabet = 'abc xyz ()"*-:/.,;^~ORANDNOT'
    for _ in range(400):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
        try:
            fts.search(db, query)
        except BadQuery:
            pass


def test_schema_created_by_migration(tmp_path: Path) -> None:
    database = open_index(tmp_path / "x.db", secrets.token_bytes(32), create=True)
    migrate(database, MIGRATIONS)
    names = {r[0] for r in database.execute("SELECT name FROM sqlite_master")}
    assert {"records", "patients", "quarantine", "transcriptions", fts.TABLE} <= names
    database.conn.close()


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        ("zebrafi", "zebrafi*"),
        ("chest pa", "chest pa*"),
        ('"heart fail', '"heart fail"'),
        ("heart ", "heart "),
        ("fall OR", "fall OR"),
        ("a", "a"),
        ("cardi*", "cardi*"),
        ("title:disch", "title:disch*"),
        ("s/p", "s/p"),
    ],
)
def test_live_query_for_search_as_you_type(typed: str, searched: str) -> None:
    assert fts.live_query(typed) == searched


def test_broad_queries_rank_the_most_recent_matches(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    page = fts.search_page(db, "fracture OR heart")
    assert (page.total, page.pool, page.more) == (4, None, False)
    monkeypatch.setattr(fts, "RANK_ALL", 2)
    page = fts.search_page(db, "fracture OR heart")
    assert page.total == 4 and page.pool == 2
    assert sorted(h.n for h in page.hits) == [3, 4]  # the two most recently imported matches
    filtered = fts.search_page(db, "fracture OR heart", fts.Filters(author="jones"))
    assert (filtered.total, filtered.more, filtered.pool) == (2, False, None)
    monkeypatch.setattr(fts, "RANK_ALL", 1)
    capped = fts.search_page(db, "fracture OR heart", fts.Filters(author="jones"))
    assert (capped.total, capped.more, capped.pool) == (1, True, 1)
    assert [h.n for h in capped.hits] == [3]
