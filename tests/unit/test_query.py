"""indexer.query: one vocabulary (words, stop words, abbreviations, lay terms) for search, coding and the assistant."""

from __future__ import annotations

from indexer.query.abbreviations import (
    MIN_SENSE_SHARE,
    dominant_senses,
    entries,
    expand_abbreviations,
    long_forms,
    long_forms_in,
    unambiguous_senses,
)
from indexer.query.lay_terms import lay_table
from indexer.query.stopwords import FUNCTION_WORDS, STOPWORDS
from indexer.query.tokens import tokens_with_spans, words


def test_long_form_lookup_agrees_with_a_whole_word_search_of_every_long_form() -> None:
    import re

    queries = [
        "history of chronic obstructive pulmonary disease and congestive heart failure",
        "status post coronary artery bypass graft, now with shortness of breath",
        "heart failure without the word congestive; urinary tract infectionx is not a match",
        "a plain note about a sprained ankle",
    ]
    for q in queries:
        lowered = " ".join(w.lower() for w in words(q))
        slow = [s for s in long_forms() if re.search(rf"\b{re.escape(s)}\b", lowered)]
        assert long_forms_in(lowered.split()) == slow, q
    assert "congestive heart failure" in long_forms_in(queries[0].lower().split())
    third = [w.lower() for w in words(queries[2])]
    assert "urinary tract infection" not in long_forms_in(third)


def test_lay_table_parses_and_never_maps_a_phrase_to_itself() -> None:
    table = lay_table()
    assert len(table) > 400
    for lay, forms in table.items():
        assert lay == lay.lower() and forms, lay
        assert lay not in forms, lay


def test_one_parser_two_selections_of_abbreviations() -> None:
    table = entries()
    assert len(table) > 900
    from indexer.query.abbreviations import commonwealth_senses

    # the Vanderbilt table's senses, and the Commonwealth abbreviations it lacks (session 14)
    assert dominant_senses() == {**commonwealth_senses(), **{e.abbr: e.sense for e in table}}
    unambiguous = unambiguous_senses()
    assert set(unambiguous) < set(dominant_senses())
    assert unambiguous["chf"] == "congestive heart failure"
    assert "af" in dominant_senses() and "af" not in unambiguous  # mostly 'afebrile', not clearly so
    assert all(e.share >= MIN_SENSE_SHARE for e in table if e.abbr in unambiguous)
    assert expand_abbreviations(["htn", "and", "CHF"]) == ["hypertension", "and", "congestive", "heart", "failure"]


def test_search_stop_words_extend_the_function_words_that_code_matching_drops() -> None:
    assert FUNCTION_WORDS - {"due"} < STOPWORDS
    assert {"the", "of", "due"} <= FUNCTION_WORDS
    assert "due" not in STOPWORDS  # a query's "due date" keeps its topic word, as before the lists were one
    # part of what a code means ("type i diabetes", "follow up", "other ..."): kept when matching code names
    assert not {"i", "up", "other", "after", "no", "not"} & FUNCTION_WORDS
    assert {"i", "up", "other", "after", "no", "not"} <= STOPWORDS


def test_words_keep_inner_apostrophes_and_slashes() -> None:
    assert words("Crohn's disease, s/p CABG.") == ["Crohn's", "disease", "s/p", "CABG"]
    assert tokens_with_spans("s/p CABG") == [("s/p", 0, 3), ("cabg", 4, 8)]


def test_commonwealth_abbreviations_fill_only_what_the_vanderbilt_table_lacks() -> None:
    from indexer.query.abbreviations import commonwealth_senses

    table = {e.abbr for e in entries()}
    own = commonwealth_senses()
    assert {"gord", "nof", "lrti", "ihd", "ccf"} <= own.keys()
    assert not own.keys() & table  # a Vanderbilt sense is never overridden
    assert all(dominant_senses()[a] == s for a, s in own.items())
    assert not own.keys() & unambiguous_senses().keys()  # search's query expansion is unchanged
