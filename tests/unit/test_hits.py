"""archive.hits: which words a search matched on, and where they are in a record's text."""

from __future__ import annotations

from archive.hits import HitTerms, hit_spans, hit_terms, passage_terms


def test_a_cited_passage_is_found_whole_across_line_breaks() -> None:
    text = "Plan: start\n  furosemide 40 mg daily.  Recheck potassium."
    spans = hit_spans(text, passage_terms("start furosemide 40 mg daily"))
    assert [text[s:e] for s, e in spans] == ["start\n  furosemide 40 mg daily"]


def test_words_match_by_prefix_case_insensitive_and_overlaps_merge() -> None:
    text = "Fractures of the hip; the fractured femur. Hip pain."
    spans = hit_spans(text, HitTerms(words=("fracture", "hip")))
    assert [text[s:e] for s, e in spans] == ["Fractures", "hip", "fractured", "Hip"]
    assert hit_spans("a fracture here", HitTerms(words=("fracture",), phrases=("a fracture",))) == [(0, 10)]
    assert hit_spans("nothing to see", HitTerms()) == []


def test_query_terms_leave_out_operators_and_excluded_words() -> None:
    assert hit_terms('fracture -hip OR "heart failure"', "fts") == HitTerms(
        words=("fracture", "heart", "failure"), phrases=("heart failure",), stand_ins=()
    )


def test_clinical_stand_ins_for_lay_words_are_marked_too() -> None:
    terms = hit_terms("water pills", "hybrid")
    assert terms.words[:2] == ("water", "pills")
    assert terms.stand_ins and set(terms.stand_ins) <= set(terms.words)
    assert hit_terms("water pills", "fts").stand_ins == ()
