"""bench/review_scope.py: the review channel's cues count only when the mention lies in their scope (session 13)."""

from __future__ import annotations

import pytest

from bench.review_scope import CONDITIONAL, NEGATION, PERSON, RESULT, UNCERTAINTY, review_cue
from indexer.assertion import Context


def cue(text: str, mention: str, said: Context | None = None) -> str | None:
    """The kind of the cue on `mention` in `text`, read as if the rules had affirmed it (or as `said`)."""
    start = text.lower().index(mention.lower())
    found = review_cue(text, [(start, start + len(mention))], said or Context(), lambda _w: False)
    return found.kind if found else None


@pytest.mark.parametrize(("text", "mention", "kind"), [
    ("Brother has asthma.", "asthma", PERSON),  # a relative as the clause's subject
    ("Her roommate was diagnosed with strep throat.", "strep throat", PERSON),
    ("Breast cancer in her mother.", "breast cancer", PERSON),  # a relative after the mention: its possessor
    ("Her baby has jaundice.", "jaundice", PERSON),
    ("Asthma, and his brother has eczema.", "eczema", PERSON),  # a new clause with a subject of its own
    ("Pertussis PCR: not detected.", "pertussis", NEGATION),  # the rule set's own 'not detected', its scope
    ("HIV-1/2 Ag/Ab 4th gen: non-reactive.", "HIV", RESULT),
    ("Lyme titer equivocal.", "lyme", RESULT),
    ("Pulmonary embolism is not excluded.", "pulmonary embolism", UNCERTAINTY),
    ("Sarcoidosis should be considered.", "sarcoidosis", UNCERTAINTY),  # pyConText: bidirectional
    ("Could this be appendicitis?", "appendicitis", UNCERTAINTY),  # the rule set's closing '?'
    ("Appendicitis? Surgery consulted.", "appendicitis", UNCERTAINTY),
    ("Influenza vaccine given today.", "influenza", CONDITIONAL),
    ("Strep culture sent.", "strep", CONDITIONAL),
])
def test_a_cue_whose_scope_holds_the_mention_sends_it_to_review(text: str, mention: str, kind: str) -> None:
    assert cue(text, mention) == kind


@pytest.mark.parametrize(("text", "mention"), [
    ("Mom says he has been wheezing at night for a week.", "wheezing"),  # the relative reports
    ("Wife notes loud snoring.", "snoring"),
    ("Mom took him to urgent care for wheezing.", "wheezing"),  # the patient is named between
    ("The baby has jaundice.", "jaundice"),  # the patient, in a paediatric note
    ("Chest pain 3 days, ECG and troponin negative.", "chest pain"),  # the result is the ECG's and troponin's
    ("Hypertension: lisinopril ordered.", "hypertension"),  # a drug ordered is no test of the condition
    ("Patient has type 2 diabetes mellitus and hypertension.", "hypertension"),
    ("Denies fever but reports productive cough x5 days.", "productive cough"),  # 'but' ends the denial
    ("No fever. Productive cough for five days.", "productive cough"),  # another sentence
    ("Negative for fever, chills, night sweats, weight loss, fatigue or rash; reports wheezing.", "wheezing"),
])
def test_a_cue_that_does_not_reach_the_mention_is_not_doubt(text: str, mention: str) -> None:
    assert cue(text, mention) is None


def test_a_cue_the_rules_already_hold_changes_nothing() -> None:
    """Where the rules' reading (or the suggestion's code) already holds the cue's category, no review."""
    assert cue("Brother has asthma.", "asthma", Context(family=True)) is None
    assert cue("Pertussis PCR: not detected.", "pertussis", Context(negated=True)) is None
    assert cue("Return if fever develops.", "fever") == CONDITIONAL
    assert cue("Return if fever develops.", "fever", Context(hypothetical=True)) is None


def test_the_window_bounds_a_trigger_the_rules_do_not_know() -> None:
    """NegEx's post-negation 'was ruled out' reaches back WINDOW words, no further."""
    assert cue("Pulmonary embolism was ruled out.", "pulmonary embolism") == NEGATION
    far = "Pulmonary embolism on the scan done at the outside hospital last week was ruled out."
    assert cue(far, "pulmonary embolism") is None


def test_a_longer_trigger_than_the_rule_sets_is_read() -> None:
    """A rule inside a longer pyConText phrase (the rule set's forward 'not' in the backward 'would not be
    expected') leaves the phrase its own scope."""
    assert cue("Pleural effusion would not be expected.", "pleural effusion") == NEGATION


@pytest.mark.parametrize("text", ["Husband called: pt has had a fever to 102 since last night.",
                                  "Mother reports: fever to 102 since last night."])
def test_a_heading_whose_person_reports_is_no_cue(text: str) -> None:
    assert cue(text, "fever") is None
