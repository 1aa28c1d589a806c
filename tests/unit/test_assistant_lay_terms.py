"""Lay words for chart entries: the clinical wordings tried when the asked words find nothing."""

from __future__ import annotations

import pytest

from archive.assistant.lay_terms import clinical_forms


@pytest.mark.parametrize(("asked", "clinical"), [
    ("appendix removed", "appendectomy"),
    ("tonsils taken out", "tonsillectomy"),
    ("hip replacement", "hip arthroplasty"),
    ("needed stitches", "suture"),
    ("give birth", "childbirth"),
    ("HPV vaccine", "papillomavirus"),
    ("broken wrist", "fracture wrist"),
])
def test_lay_phrases_have_clinical_forms(asked: str, clinical: str) -> None:
    assert clinical in [form for form, _kinds in clinical_forms(asked)]


def test_a_reaction_to_a_drug_is_looked_for_among_complications_not_the_drug_list() -> None:
    forms = clinical_forms("reaction to lisinopril")
    assert forms == [("lisinopril", ("complication", "diagnosis", "allergy"))]


def test_clinical_words_have_no_lay_forms() -> None:
    assert clinical_forms("appendectomy") == [] and clinical_forms("chest pain") == []


def test_the_search_vocabulary_adds_forms_keeping_the_rest_of_the_topic() -> None:
    # "food pipe" is a lay word of the search vocabulary; "food pipe cancer" is no phrase of it
    # ("gullet cancer" became one, so it no longer shows the word-by-word path)
    forms = [form for form, _kinds in clinical_forms("food pipe cancer", broad=True)]
    assert "esophagus cancer" in forms and "esophagus" not in forms and "cancer" not in forms
