"""Intent recognition (rules and keyword patterns) on many phrasings; periods; drug classes."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.assistant.drug_classes import class_by_name, drug_classes, find_drug_class
from archive.assistant.intents import recognise
from archive.assistant.periods import find_period


@pytest.mark.parametrize(
    "question",
    [
        "Find records about chest pain",
        "find notes mentioning chest pain",
        "Search for records on chest pain",
        "Show me documents about chest pain",
        "Any notes on chest pain?",
        "Are there records mentioning chest pain?",
        "records about chest pain",
        "Which patients had chest pain?",
        "pull up reports regarding chest pain",
    ],
)
def test_find(question: str) -> None:
    intent = recognise(question)
    assert intent.kind == "find"
    assert intent.topic.lower() == "chest pain"


@pytest.mark.parametrize(
    "question",
    [
        "Summarise the timeline of Jane Roe",
        "summarize her timeline",
        "Give me an overview of MRN-100",
        "What happened to Jane Roe?",
        "Tell me about patient MRN-100",
        "brief me on Jane Roe's history",
        "chronology for MRN 100",
    ],
)
def test_timeline(question: str) -> None:
    assert recognise(question).kind == "timeline"


@pytest.mark.parametrize(
    ("question", "kinds", "cls"),
    [
        ("What antibiotics did she get in March?", ("medication",), "antibiotic"),
        ("what abx was Jane Roe on", ("medication",), "antibiotic"),
        ("Which medications did Jane Roe receive in 2021?", ("medication",), None),
        ("list her meds", ("medication",), None),
        ("what did she take last year", ("medication",), None),
        ("What procedures did MRN 100 have?", ("procedure",), None),
        ("any surgeries for her?", ("procedure",), None),
        ("complications after his operation?", ("complication", "procedure"), None),
        ("who was she referred to?", ("referral",), None),
        ("What was Jane Roe diagnosed with?", ("diagnosis",), None),
        ("her blood thinners", ("medication",), "anticoagulant"),
        ("Was he on any statins?", ("medication",), "statin"),
    ],
)
def test_list(question: str, kinds: tuple[str, ...], cls: str | None) -> None:
    intent = recognise(question)
    assert intent.kind == "list", intent
    assert set(kinds) <= set(intent.entry_kinds)
    assert intent.drug_class == cls


@pytest.mark.parametrize(
    ("question", "what", "topic"),
    [
        ("How many patients had hypertension in 2020?", "patients", "hypertension"),
        ("how many patients with type 2 diabetes", "patients", "type 2 diabetes"),
        ("Number of encounters for viral sinusitis in 2019", "encounters", "viral sinusitis"),
        ("count patients diagnosed with asthma", "patients", "asthma"),
        ("how often did we see otitis media visits last year?", "encounters", "otitis media"),
    ],
)
def test_count(question: str, what: str, topic: str) -> None:
    intent = recognise(question)
    assert intent.kind == "count"
    assert intent.count_what == what
    assert intent.topic.lower() == topic


@pytest.mark.parametrize(
    "question",
    [
        "similar cases to r0123456789ab",
        "Find similar past cases: 60 year old man with chest pain radiating to the left arm",
        "cases like this one",
        "show me comparable cases to the first one",
        "any past cases resembling knee pain after a fall?",
    ],
)
def test_similar(question: str) -> None:
    assert recognise(question).kind == "similar"


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What ICD-10 code fits congestive heart failure?", "congestive heart failure"),
        ("icd10 for type 2 diabetes", "type 2 diabetes"),
        ("which ICD-10-CM code is right for acute bronchitis", "acute bronchitis"),
        ("How should I code asthma exacerbation?", "asthma exacerbation"),
        ("diagnosis code for gout", "gout"),
    ],
)
def test_code(question: str, topic: str) -> None:
    intent = recognise(question)
    assert intent.kind == "code"
    assert intent.topic.lower() == topic


def test_codes_for_a_record() -> None:
    intent = recognise("what codes fit record r0123456789ab?")
    assert intent.kind == "code" and intent.record_ref == "r0123456789ab"


@pytest.mark.parametrize("question", [
    "Dual-chamber ICD implant where the first subclavian stick failed: how much contrast was injected?",
    "Which patient had an ICD placement after a cardiac arrest, and what was the ejection fraction?",
    "For the man shocked by his ICD twice, what was his potassium?",
    "What was found when the ICD was interrogated? ICD interrogation showed what?",
])
def test_icd_beside_a_device_word_is_the_defibrillator_not_the_code_set(question: str) -> None:
    assert recognise(question).kind != "code"


@pytest.mark.parametrize("question", [
    "80-year-old man with a mechanical aortic valve, CABG twice and an ICD, admitted coughing up blood: what was his "
    "Coumadin regimen?",
    "For the woman with an ICD and heart failure, what was her ejection fraction?",
    "What was his code status on admission?",
    "Was she a full code when she was transferred?",
    "How long did the code blue last?",
])
def test_a_bare_icd_or_a_clinical_code_word_is_not_a_code_set_lookup(question: str) -> None:
    assert recognise(question).kind != "code"


def test_the_code_set_named_beside_a_device_is_still_a_code_question() -> None:
    assert recognise("What ICD-10 code fits ICD implant infection?").kind == "code"
    assert recognise("which ICD code for a pacemaker lead fracture").kind == "code"
    assert recognise("ICD for community-acquired pneumonia?").kind == "code"
    assert recognise("how is an NSTEMI coded").kind == "code"


def test_anything_else_is_passages() -> None:
    intent = recognise("what is the plan for the knee pain")
    assert intent.kind == "passages"
    assert intent.topic == "plan knee pain"


def test_patient_references() -> None:
    assert recognise("what did MRN: A-77 get").mrn == "A-77"
    assert recognise("timeline of patient 4711").mrn == "4711"
    assert recognise("what about her medications?").pronoun
    assert "Roe" in recognise("what did Jane Roe take").name_words
    assert recognise("and in March?").followup
    assert recognise("what about diabetes?").followup


@pytest.mark.parametrize(
    ("text", "start", "end", "month"),
    [
        ("in March 2020", "2020-03-01", "2020-03-31", None),
        ("during 2019", "2019-01-01", "2019-12-31", None),
        ("between 2018 and 2020", "2018-01-01", "2020-12-31", None),
        ("from January 2020 to March 2020", "2020-01-01", "2020-03-31", None),
        ("since June 2019", "2019-06-01", None, None),
        ("before 2015", None, "2014-12-31", None),
        ("on 2021-03-05", "2021-03-05", "2021-03-05", None),
        ("in March", None, None, 3),
        ("in Feb.", None, None, 2),
    ],
)
def test_periods(text: str, start: str | None, end: str | None, month: int | None) -> None:
    period, rest = find_period(f"what did she get {text}?")
    assert period is not None
    assert (period.date_from, period.date_to, period.month) == (start, end, month)
    assert rest.startswith("what did she get")


def test_relative_and_month_periods() -> None:
    period, _ = find_period("in the last 6 months", today=dt.date(2021, 7, 1))
    assert period is not None and period.date_to == "2021-07-01" and period.date_from == "2021-01-02"
    march, _ = find_period("in March")
    assert march is not None and march.contains("2019-03-11") and not march.contains("2019-04-01")
    pinned = march.with_year(2021)
    assert pinned.contains("2021-03-31") and not pinned.contains("2019-03-11")
    assert find_period("what may cause chest pain")[0] is None


def test_drug_classes_match_rxnorm_names() -> None:
    antibiotic = class_by_name("antibiotic")
    assert antibiotic is not None
    for name in ("Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet", "Penicillin V Potassium 250 MG Oral Tablet",
                 "Cefuroxime 250 MG Oral Tablet", "Amoxicillin 250 MG Oral Capsule"):
        assert antibiotic.matches(name), name
    for name in ("Acetaminophen 325 MG Oral Tablet", "Ibuprofen 200 MG Oral Tablet", "Clopidogrel 75 MG"):
        assert antibiotic.matches(name) is None, name
    steroid = class_by_name("corticosteroid")
    assert steroid is not None and steroid.matches("predniSONE 5 MG Oral Tablet") == "prednisone"
    cls, alias = find_drug_class("was she on blood thinners")
    assert cls is not None and cls.name == "anticoagulant" and alias == "blood thinners"
    assert all(c.members and c.aliases for c in drug_classes())


def test_what_is_she_on_now_is_the_medication_list_and_class_aliases_take_any_drug_word() -> None:
    from archive.assistant.cases import describes_case

    intent = recognise("What is Harriet Quill on now?")
    assert intent.kind == "list" and intent.entry_kinds == ("medication",)
    drug = recognise("Which diabetes drug did Harriet Quill stop?")
    assert drug.drug_class == "antidiabetic" and "diabetes" not in drug.topic
    assert describes_case("The little girl just over a year old, mother from Tanzania: which cream was added?")
    assert describes_case("The water skier with a boat on Lake Martin: did he get a vaccine?")
    assert not describes_case("Has the patient had chest pain?")


@pytest.mark.parametrize(
    ("question", "mrn"),
    [
        ("Which MRN was merged into the record of patient Test Test A (MRN 12345)?", "12345"),
        ("What is MRN DEMO-1001 on?", "DEMO-1001"),
        ("Medical record number: PATID1234, last visit?", "PATID1234"),
        ("Does the MRN matter here?", None),
    ],
)
def test_an_mrn_holds_a_digit(question: str, mrn: str | None) -> None:
    assert recognise(question).mrn == mrn


def test_a_capitalised_word_names_a_person_only_where_a_name_can_stand() -> None:
    from archive.assistant.cases import describes_case
    from archive.assistant.patient_refs import _names_someone

    assert not _names_someone("Young", "Young active woman with asthma: what controller was planned?")
    assert not _names_someone("Bruce", "Stress test, 8 minutes on the Bruce protocol: what ejection fraction?")
    assert _names_someone("Bixby", "When was Bixby last seen?")
    assert _names_someone("Karls", "Karls: is he still on lisinopril?")
    assert _names_someone("Vale", "What dose was Ms. Vale taking?")
    assert describes_case("Schoolgirl who plays soccer, brought by her father: how common are tics?")
