"""indexer.fts.near_terms: near spellings of a word among the index terms (OCR misreadings)."""

from __future__ import annotations

from typing import Any

import pytest

from indexer import fts


@pytest.fixture()
def db() -> Any:
    from sqlcipher3 import dbapi2

    conn = dbapi2.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE {fts.TABLE} USING fts5(text, tokenize='{fts.TOKENIZE}')")
    for text in ("Rx Cimeti2ine 400 mg", "cimetidine given", "Joln Smitl, hypertension", "fractures healed"):
        conn.execute(f"INSERT INTO {fts.TABLE}(text) VALUES (?)", [text])
    return conn


def test_misreadings_are_near(db: Any) -> None:
    assert fts.near_terms(db, "cimetidine") == ["cimeti2in"]
    assert fts.near_terms(db, "Smith") == ["smitl"]


def test_the_word_itself_short_words_and_distant_words_are_not(db: Any) -> None:
    assert fts.near_terms(db, "hypertension") == []
    assert fts.near_terms(db, "fracture") == []
    assert fts.near_terms(db, "john") == []  # under five letters
    assert fts.near_terms(db, "cimetxxxne") == []  # three edits


def test_edit_distance_caps() -> None:
    assert fts.edit_distance("kitten", "sitting", 3) == 3
    assert fts.edit_distance("kitten", "sitting", 1) == 2
