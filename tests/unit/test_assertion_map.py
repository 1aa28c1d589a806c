"""indexer.assertion_map: the non-affirmed words stored at import give the labels assertion_of gives."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

import indexer.assertion as assertion
from archive.store.schema import MIGRATIONS
from indexer import assertion_map, fts
from indexer.assertion import assertion_of
from indexer.hybrid import expand
from indexer.mentions import mentions
from vault.db import migrate, open_index, transaction

NOTE = (
    "CHIEF COMPLAINT: Chest pain.\n"
    "HISTORY OF PRESENT ILLNESS: A 58-year-old man who denies fever or chills but reports cough since Monday. "
    "No shortness of breath. Possible pneumonia; rule out pulmonary embolism. Return if hemoptysis develops.\n"
    "PAST MEDICAL HISTORY:\nHypertension. Diabetes.\n"
    "FAMILY HISTORY: Mother had breast cancer.\n"
    "SOCIAL HISTORY: Denies alcohol or drug use. Non-smoker; her husband is an ex-smoker who quit smoking 2010.\n"
    "ALLERGIES: No known allergies.\n"
    "ASSESSMENT: Community acquired pneumonia, unchanged effusion. History of stroke in 2019."
)


def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[A-Za-z0-9]+", text)]


def test_every_word_and_pair_of_words_gets_the_label_assertion_of_gives() -> None:
    amap = assertion_map.build(NOTE)
    words = word_spans(NOTE)
    spans = words + [(a[0], b[1]) for a, b in zip(words, words[1:], strict=False)
                     if "\n" not in NOTE[a[0] : b[1]] and "." not in NOTE[a[0] : b[1]]]
    wrong = [(NOTE[s:e], assertion_of(NOTE, s, e), assertion_map.label(amap, NOTE, s, e))
             for s, e in spans if assertion_of(NOTE, s, e) != assertion_map.label(amap, NOTE, s, e)]
    assert wrong == []
    # and the labels are not all one: the note says every kind of thing
    assert {assertion_map.label(amap, NOTE, s, e) for s, e in words} == set(assertion.LABELS)


def test_the_encoding_round_trips() -> None:
    amap = assertion_map.build(NOTE)
    assert assertion_map.decode(assertion_map.encode(amap)) == amap
    assert amap.starts and amap.cuts[0] == 0 and amap.cuts[-1] == len(NOTE)


def test_mentions_by_lookup_split_no_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    amap = assertion_map.build(NOTE)
    concepts = expand("pneumonia").concepts
    slow = mentions(NOTE, concepts)

    def no_splitting(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("sentences cut at query time")

    monkeypatch.setattr("indexer.mentions.sentence_around", no_splitting)
    monkeypatch.setattr("indexer.mentions.assertion_of", no_splitting)
    fast = mentions(NOTE, concepts, amap=amap)
    assert fast == slow
    assert [m.label for m in fast] == ["possible", "affirmed"]


@pytest.fixture
def db(tmp_path: Any) -> Iterator[Any]:
    database = open_index(tmp_path / "i.db", secrets.token_bytes(32), create=True)
    yield database
    database.conn.close()


def _maps(database: Any) -> dict[int, assertion_map.AssertionMap]:
    rows = database.execute(f"SELECT rowid, text FROM {fts.TABLE}").fetchall()
    return assertion_map.maps(database, {int(n): str(t) for n, t in rows})


def _relabelled(database: Any) -> dict[int, assertion_map.AssertionMap]:
    """The maps after a migration (which rebuilds none: unlock stays quick) and the background relabelling."""
    assert _maps(database) == {}, "a migration rebuilt maps at unlock (minutes on a large vault)"
    assert assertion_map.stale(database, fts.TABLE) > 0
    with transaction(database):
        assertion_map.backfill(database, fts.TABLE, limit=1)  # a batch at a time, as archive.embedding.relabel
        assertion_map.backfill(database, fts.TABLE)
    assert assertion_map.stale(database, fts.TABLE) == 0
    return _maps(database)


def test_a_backfill_in_batches_starts_each_where_the_last_stopped(db: Any) -> None:
    migrate(db, MIGRATIONS)
    with transaction(db):
        for n in (3, 5, 8):
            db.execute(f"INSERT INTO {fts.TABLE} (rowid, title, filename, text, meta, facets) "
                       "VALUES (?, '', 'a.txt', 'No fever.', '', '')", [n])
        db.execute(f"UPDATE {assertion_map.TABLE} SET version = ?", [assertion_map.VERSION - 1])
        assert assertion_map.backfill_from(db, fts.TABLE, 0, limit=2) == (2, 5)
        db.execute(f"UPDATE {assertion_map.TABLE} SET version = ? WHERE record_n = 3", [assertion_map.VERSION - 1])
        # row 3 is stale again, but a batch after 5 does not go back for it
        assert assertion_map.backfill_from(db, fts.TABLE, 5, limit=2) == (1, 8)
        assert assertion_map.backfill_from(db, fts.TABLE, 8, limit=2) == (0, 8)
        assert assertion_map.stale(db, fts.TABLE) == 1


def test_a_vault_from_before_gets_its_maps_when_it_migrates(db: Any) -> None:
    before = [m.__name__ for m in MIGRATIONS].index("assertion_spans")
    migrate(db, MIGRATIONS[:before])
    with transaction(db):  # rows the code of before wrote: no map
        for n, text in ((1, NOTE), (2, "The patient denies chest pain.")):
            db.execute(f"INSERT INTO {fts.TABLE} (rowid, title, filename, text, meta, facets) "
                       "VALUES (?, '', 'a.txt', ?, '', '')", [n, text])
    migrate(db, MIGRATIONS)
    found = _relabelled(db)
    assert sorted(found) == [1, 2]
    assert found[1] == assertion_map.build(NOTE)
    text = "The patient denies chest pain."
    start = text.index("chest pain")
    assert assertion_map.label(found[2], text, start, start + len("chest pain")) == "negated"


@pytest.mark.parametrize(("migration", "old_version", "text", "concept", "label"), [
    # guideline IV.H's uncertain words (session 7)
    ("assertion_spans_rules_2", 1, "Probable pneumonia.", "pneumonia", "possible"),
    # "X although that seemed to have resolved" (session 8)
    ("assertion_spans_rules_3", 2, "Weakness although that seemed to have resolved.", "Weakness", "negated"),
    # "X has cleared" (session 9)
    ("assertion_spans_rules_4", 3, "Cellulitis has cleared; antibiotic course completed.", "Cellulitis", "negated"),
    # "X in the differential" (session 9, round 6)
    ("assertion_spans_rules_5", 4, "Fatigue; hemochromatosis in the differential.", "hemochromatosis", "possible"),
])
def test_maps_made_by_older_rules_are_never_read_and_are_rebuilt(
    db: Any, migration: str, old_version: int, text: str, concept: str, label: str
) -> None:
    later = [m.__name__ for m in MIGRATIONS].index(migration)
    migrate(db, MIGRATIONS[:later])
    with transaction(db):
        db.execute(f"INSERT INTO {fts.TABLE} (rowid, title, filename, text, meta, facets) "
                   "VALUES (1, '', 'a.txt', ?, '', '')", [text])
        assertion_map.store(db, 1, text)  # stands for a map the old rules made
        db.execute(f"UPDATE {assertion_map.TABLE} SET version = ?", [old_version])
        stored = db.execute(f"SELECT count(*) FROM {assertion_map.TABLE}").fetchone()[0]
    assert stored == 1 and _maps(db) == {}  # the old rules' map is not read
    migrate(db, MIGRATIONS)
    found = _relabelled(db)
    start = text.index(concept)
    assert assertion_map.label(found[1], text, start, start + len(concept)) == label
    assert found[1] == assertion_map.build(text)


def test_a_changed_text_gets_a_new_map_and_a_stale_one_is_never_used(db: Any) -> None:
    migrate(db, MIGRATIONS)
    with transaction(db):
        db.execute("INSERT INTO records (n, id, blob_id, filename, size, status, imported_at) "
                   "VALUES (1, 'r1', 'b1', 'a.txt', 1, 'filed', '2024-01-01')")
        fts.index_row(db, 1, title="", filename="a.txt", text="No fever.", meta="")
    assert assertion_map.label(_maps(db)[1], "No fever.", 3, 8) == "negated"
    with transaction(db):
        fts.update_columns(db, 1, text="Fever since Monday.")
    assert assertion_map.label(_maps(db)[1], "Fever since Monday.", 0, 5) == "affirmed"
    # a map whose text changed behind its back (written by other code) does not fit and is not read
    with transaction(db):
        db.execute(f"UPDATE {fts.TABLE} SET text = 'No cough.' WHERE rowid = 1")
    assert _maps(db) == {}
    with transaction(db):
        fts.delete_row(db, 1)
    assert db.execute(f"SELECT count(*) FROM {assertion_map.TABLE}").fetchone()[0] == 0


class _Watched(str):
    """A note that counts the characters lowercased from it as a whole."""

    lowered = 0

    def lower(self) -> str:
        _Watched.lowered += len(self)
        return str.lower(self)


def test_a_long_note_is_read_sentence_by_sentence_not_lowercased_whole_for_each() -> None:
    """Building a 2,000-sentence note's map once lowercased the whole note for every sentence (quadratic: a 17 MB
    note held its import's write transaction for minutes); each sentence is lowercased alone now."""
    line = "Patient denies chest pain and reports a mild cough.\n"
    note = _Watched(line * 2000)
    _Watched.lowered = 0
    built = assertion_map.build(note)
    assert _Watched.lowered <= 2 * len(note)  # the whole text at most twice, not once a sentence
    plain = assertion_map.build(str(note))
    assert (built.starts, built.ends, built.bits) == (plain.starts, plain.ends, plain.bits)
    assert len(plain.starts) >= 2000  # each sentence's "chest pain" is denied


def test_offsets_stay_on_their_words_after_a_letter_whose_lowercase_is_longer() -> None:
    text = "İzmir native. Denies chest pain. Reports cough."
    words = assertion._tokens(text)
    assert all(text[a:b].lower() == w for w, a, b in words if w.isascii())
    assert ("chest", text.index("chest"), text.index("chest") + 5) in words
    span = text.index("Denies")
    assert assertion._tokens(text, span, span + 18)[0] == ("denies", span, span + 6)
