"""indexer.query.spelling: British and Commonwealth spelling read in the code set's US spelling."""

from __future__ import annotations

import pytest

from indexer.query.spelling import UsSpelling, us_candidates

# A small vocabulary in the code set's US spelling (the matcher gives the real one: test_code_suggest).
US_WORDS = ("anemia hemolytic esophageal varices pediatric asthma edema tumor leukemia celiac disease ischemic "
            "diarrhea immunization counseling fiber labor cane des being for toe toes pet erosol").split()


@pytest.mark.parametrize(("british", "us"), [
    ("anaemia", "anemia"), ("haemolytic", "hemolytic"), ("oesophageal", "esophageal"), ("paediatric", "pediatric"),
    ("oedema", "edema"), ("tumours", "tumors"), ("leukaemia", "leukemia"), ("coeliac", "celiac"),
    ("ischaemic", "ischemic"), ("diarrhoea", "diarrhea"), ("immunisation", "immunization"),
    ("counselling", "counseling"), ("fibre", "fiber"), ("labour", "labor"), ("Anaemia", "anemia"),
])
def test_a_british_spelling_reads_as_the_us_one_the_vocabulary_knows(british: str, us: str) -> None:
    assert UsSpelling(US_WORDS)(british) == us


@pytest.mark.parametrize("word", [
    "aerosol", "poem", "toe", "toes", "canoe", "does", "boeing", "four", "hour", "exercise", "raised", "oboe",
    "poets", "sundae", "asthma",
])
def test_a_word_is_never_changed_into_a_look_alike(word: str) -> None:
    # "canoe" -> "cane", "does" -> "des", "boeing" -> "being", "aerosol" -> "erosol", "poets" -> "pets": each US
    # look-alike is in the vocabulary on purpose; the rules or the length floor keep the word as written.
    assert UsSpelling(US_WORDS)(word) == word


def test_a_form_the_vocabulary_does_not_know_is_not_taken() -> None:
    spell = UsSpelling(US_WORDS)
    assert spell("haemangioma") == "haemangioma"  # no "hemangioma" in this vocabulary
    assert UsSpelling((*US_WORDS, "hemangioma"))("haemangioma") == "hemangioma"
    assert UsSpelling((*US_WORDS, "anaemia"))("anaemia") == "anaemia"  # a word the vocabulary knows stays


def test_candidates_apply_the_rules_together_and_alone() -> None:
    assert us_candidates("haematological") == ["hematological"]
    assert us_candidates("anaesthetised")[0] == "anesthetized"  # ae -> e and -ise -> -ize in one word
    assert us_candidates("toe") == [] and us_candidates("four") == []


def test_the_remembered_answers_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import indexer.query.spelling as spelling

    monkeypatch.setattr(spelling, "MAX_REMEMBERED", 3)
    spell = UsSpelling(US_WORDS)
    for word in ("anaemia", "oedema", "tumour", "poem", "haemolytic"):
        spell(word)
    assert len(spell._seen) <= 3 and spell("anaemia") == "anemia"
