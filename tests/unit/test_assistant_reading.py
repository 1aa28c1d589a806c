"""Reading records for the asked fact: answer types, the sentence that answers, the fact itself, assertions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from archive.assistant import reading as R
from archive.assistant.mention import FAMILY, HYPOTHETICAL, NEGATED, POSSIBLE, PRESENT, mention_status

NOTE = (
    "CHIEF COMPLAINT: Essential thrombocytosis.\n"
    "This is a 64-year-old gentleman who I am following for essential thrombocytosis. He was first diagnosed when "
    "he first saw a hematologist on 07/09/07. At that time, his platelet count was 1,240,000. He was initially "
    "started on Hydrea 1000 mg q.d. On 11/06/07, his platelets were noted to be 766,000.\n"
    "I will give her prescription for ciprofloxacin that she can take for 3 days presumptively.\n"
    "PHYSICAL EXAM: BP 180/110 Pulse 65 RR 18 Temp 97.5.\n"
    "She denies chest pain. Mother had breast cancer.\n"
)


@pytest.mark.parametrize(("question", "kind"), [
    ("what was his platelet count at diagnosis?", R.VALUE),
    ("which nasal spray was she given samples of?", R.DRUG),
    ("when was the biopsy done?", R.DATE),
    ("for how long was she to take the ciprofloxacin?", R.DURATION),
    ("how many days was she on amoxicillin?", R.DURATION),
    ("has she had chest pain?", R.YESNO),
    ("what did the MRI show?", R.OTHER),
])
def test_answer_types(question: str, kind: str) -> None:
    assert R.answer_type(question) == kind


def test_a_described_case_is_weighted_below_the_asked_clause() -> None:
    asked = R.understand("For the gentleman followed for thrombocytosis on Hydrea, what was his platelet count?")
    assert asked.type == R.VALUE and asked.text.startswith("what was his platelet count")
    assert "platele" in asked.words and "thrombo" in asked.context and "thrombo" not in asked.words


@pytest.mark.parametrize(("question", "fact", "sentence_has"), [
    ("For the man with thrombocytosis, what was his platelet count when he was first diagnosed?", "1,240,000",
     "At that time"),
    ("For the man with thrombocytosis, what dose of Hydrea was he started on?", "Hydrea 1000 mg", "initially"),
    ("For the woman with gallstones, for how long was she to take the ciprofloxacin?", "for 3 days", "prescription"),
    ("In the case of the young man with an aneurysm, what was his blood pressure?", "180/110", "BP"),
    ("which antibiotic was she prescribed?", "ciprofloxacin", "prescription"),
])
def test_the_sentence_and_the_fact(question: str, fact: str, sentence_has: str) -> None:
    found = R.best_sentences({"r1": NOTE}, R.understand(question), limit=1)
    assert found and sentence_has in found[0].segment.text
    assert found[0].fact == fact
    assert NOTE[found[0].segment.start:found[0].segment.end] == found[0].segment.text  # a slice: quotable


def test_an_age_is_never_a_duration_or_a_value() -> None:
    asked = R.understand("how long has she had the rash?")
    assert R.extract("This 24 year-old female has had a rash.", asked) is None
    value = R.understand("what was her weight?")
    assert R.extract("This is a 38-year-old female. Today's weight: 155.5 pounds.", value) == "155.5 pounds"


def test_yes_no_marks_a_denied_mention() -> None:
    found = R.best_sentences({"r1": NOTE}, R.understand("has she had chest pain?"), limit=1)
    assert found[0].segment.text == "She denies chest pain." and found[0].status == NEGATED


@pytest.mark.parametrize(("sentence", "mention", "status"), [
    ("She denies chest pain.", "chest pain", NEGATED),
    ("No evidence of pneumonia on the film.", "pneumonia", NEGATED),
    ("Pneumonia was ruled out.", "Pneumonia", NEGATED),
    ("Mother had breast cancer.", "breast cancer", FAMILY),
    ("Rule out pulmonary embolism.", "pulmonary embolism", POSSIBLE),
    ("He has chest pain radiating to the arm, but no dyspnea.", "chest pain", PRESENT),
    ("No fever, but she reports chest pain.", "chest pain", PRESENT),
])
def test_mention_status(sentence: str, mention: str, status: str) -> None:
    start = sentence.index(mention)
    assert mention_status(sentence, start, start + len(mention)) == status


def test_drug_phrases_are_drugs_not_dates_or_sentences() -> None:
    assert R.drug_phrase("Continue furosemide 40 mg daily and lisinopril 10 mg daily.") == "furosemide 40 mg daily"
    assert R.drug_phrase("Date: 2023-07-19") is None
    assert R.drug_phrase("I'm going to give her samples of Nasonex to try.") == "Nasonex"


def test_a_structured_lines_value_and_recency() -> None:
    line = "Observation: Body Weight [LOINC 29463-7]; value 7.313 kg; 2016-05-01; status final"
    assert R.extract(line, R.understand("what was her body weight?")) == "7.313 kg"
    assert R.understand("what was his most recent blood pressure?").current
    assert "bp" in R.understand("what was his blood pressure?").extra


@pytest.mark.parametrize(("question", "kind"), [
    ("The woman with spondylosis: at what frequency was sensory stimulation done?", R.VALUE),
    ("The woman in the minivan: roughly how fast was she going?", R.VALUE),
    ("what was her Prozac increased to?", R.DRUG),
    ("which daily controller was discussed to start?", R.DRUG),
    ("which drug is she allergic or sensitive to?", R.DRUG),
])
def test_more_answer_types(question: str, kind: str) -> None:
    assert R.understand(question).type == kind


@pytest.mark.parametrize(("question", "topic"), [
    ("Has Alden Considine ever been diagnosed with acute viral pharyngitis?", "acute viral pharyngitis"),
    ("Has Adam Everyman had a biopsy of colon?", "biopsy colon"),
    ("Does Mr. Karls have diabetes on his problem list?", "diabetes"),
    ("Does she have a history of asthma?", "asthma"),
])
def test_the_asked_thing_of_a_yes_no_question(question: str, topic: str) -> None:
    assert R.understand(question, {"alden", "considine", "adam", "everyman", "karls"}).topic == topic


@pytest.mark.parametrize(("question", "sentence", "fact"), [
    ("how many Panalok anchors were used?", "Open repair of rotator cuff using three Panalok suture anchors.", "three"),
    ("how many cycles of carboplatin did he get?", "status post radiation with 2 cycles of cisplatin, completed "
                                                    "June, 2006; status post 2 cycles carboplatin", "2"),
    ("how much did the baby weigh?", "A baby girl, weight 9 pounds 8 ounces, was delivered.", "9 pounds 8 ounces"),
    ("what size sheath was placed?", "A 6-French sheath was placed.", "6-French"),
    ("at what age did she have her knee reconstruction?", "a history of knee reconstruction at the age of 14.", "14"),
    ("which drug is she allergic to?", "SHE IS ALLERGIC OR SENSITIVE TO MACRODANTIN.", "MACRODANTIN"),
    ("Which vaccine product did she receive?", "Immunization: TENIVAC [NDC 49281-0215-88]; dose 0.5 mL; lot 3",
     "TENIVAC (0.5 mL)"),
])
def test_more_facts(question: str, sentence: str, fact: str) -> None:
    assert R.extract(sentence, R.understand(question)) == fact


def test_word_forms_values_as_values_and_upper_case_sentences() -> None:
    from archive.assistant.passages import is_heading

    note = "LABS:\nAST: 39\nALT: Within normal limits\nSOCIAL HISTORY: The patient is a non-smoker.\n"
    found = R.best_sentences({"r1": note}, R.understand("what was her AST?"), limit=1)
    assert found[0].segment.text == "AST: 39" and found[0].fact == "39"
    smoke = R.best_sentences({"r1": note}, R.understand("does he smoke?"), limit=1)
    assert "non-smoker" in smoke[0].segment.text and R.is_negated(smoke[0])  # smoker is a form of smoke; non- denies
    assert not is_heading("AST: 39") and not is_heading("SHE IS ALLERGIC OR SENSITIVE TO MACRODANTIN.")
    assert is_heading("PHYSICAL EXAMINATION:")


def test_a_wordless_second_question_rides_on_the_first() -> None:
    asked = R.understand("When was Mr. Wieczorek referred to cardiology, and for what?", {"wieczorek"})
    assert asked.type == R.DATE and {"referr", "cardiol"} <= set(asked.words)


def test_where_a_thing_is_listed_is_not_the_thing_asked() -> None:
    asked = R.understand("Is hypochondriasis still on Jon Karls's problem list?", {"jon", "karls"})
    assert asked.topic == "hypochondriasis" and asked.current


@pytest.mark.parametrize(("question", "sentence", "fact"), [
    ("what stage did the oncologist assign?", "It appears to be stage IIIA disease based on the nodes.", "stage IIIA"),
    ("what was the estimated blood loss?", "ESTIMATED BLOOD LOSS: , 10 mL.", "10 mL"),
    ("what NYHA class was he in?", "He has NYHA class III heart failure.", "class III"),
])
def test_grades_stages_and_measured_nouns_are_values(question: str, sentence: str, fact: str) -> None:
    asked = R.understand(question)
    assert asked.type == R.VALUE and R.extract(sentence, asked) == fact


@pytest.mark.parametrize(("sentence", "word", "status"), [
    ("Hyperventilation was omitted.", "Hyperventilation", NEGATED),
    ("Cortisone injection was discussed as an option if therapy fails.", "Cortisone", HYPOTHETICAL),
    ("Cortisone injection was given today.", "Cortisone", PRESENT),
])
def test_omitted_or_only_discussed_is_not_having_it(sentence: str, word: str, status: str) -> None:
    i = sentence.index(word)
    assert mention_status(sentence, i, i + len(word)) == status


def test_a_labelled_line_answers_what_its_label_names() -> None:
    text = "ANESTHESIA:,  Spinal with sedation.\nThe Department of Anesthesia came.\nThe debridement was done.\n"
    found = R.best_sentences({"r1": text}, R.understand("what anesthesia was used for the debridement?"), limit=1)
    assert found and "Spinal with sedation" in found[0].segment.text


# -- session 8: the asked measure's unit, the asked thing's kind, where a note states it ---------------------------

OPERATIVE = (
    "PROCEDURE:,  Closed reduction with splint application with use of image intensifier.\n"
    "DESCRIPTION: The fracture was reduced. Subsequently, a sugar-tong splint was applied and reduction was "
    "confirmed.\n"
    "POSTOPERATIVE DIAGNOSIS: Delivery of a viable female A weighing 4 pounds 7 ounces, Apgars were 8 and 9 at 1 "
    "and 5 minutes.\n"
    "We placed a small drain and then replaced the bone flap and secured this with the bone plates. A single bur "
    "hole was made and then a 4x6cm bur hole was created.\n"
    "Gated SPECT revealed normal wall motion, ejection fraction of 68%. Peak heart rate was 151, which is 87% of "
    "the target heart rate.\n"
    "TREATMENT: 4. I referred him to Dr. ABC or Dr. XYZ for neurology evaluation.\n"
    "I advised eye tics are very common in children and as many as 1 in 5 children have a tick during school.\n"
    "We are also going to continue with her current dose of radiation at 45 Gy. I prescribed prednisone 40 mg.\n"
)


@pytest.mark.parametrize(("question", "fact"), [
    ("what did twin A weigh?", "4 pounds 7 ounces"),  # a weight, not the Apgar score beside it
    ("how large was the bone opening?", "4x6cm"),  # a size, though the sentence says "bur hole", not "opening"
    ("what ejection fraction did gated SPECT show?", "68%"),
    ("how common are such tics in children?", "1 in 5 children"),  # a proportion
    ("what radiation dose is she receiving?", "45 Gy"),
])
def test_a_measure_is_answered_in_its_unit(question: str, fact: str) -> None:
    found = R.best_sentences({"r1": OPERATIVE}, R.understand(question), limit=1)
    assert found and found[0].fact is not None and fact in found[0].fact
    assert OPERATIVE[found[0].segment.start:found[0].segment.end] == found[0].segment.text


def test_what_splint_is_the_splint_named_with_its_kind_not_the_procedure_line() -> None:
    found = R.best_sentences({"r1": OPERATIVE}, R.understand("what splint was applied?"), limit=1)
    assert found and "sugar-tong splint" in found[0].segment.text


def test_which_specialty_is_answered_by_a_specialty_and_a_title_does_not_end_the_sentence() -> None:
    found = R.best_sentences({"r1": OPERATIVE}, R.understand("to which specialty was he referred?"), limit=1)
    assert found and "neurology evaluation" in found[0].segment.text and "Dr. ABC" in found[0].segment.text


def test_a_class_member_the_table_knows_is_a_drug() -> None:
    assert R.drug_phrase("I have also prescribed the patient meloxicam once a day.") == "meloxicam"
    assert R.drug_phrase("2.  Being Nexium 40 mg a day.") == "Nexium 40 mg a day"


def test_what_was_started_reads_the_plan_line_and_what_was_found_the_findings() -> None:
    note = ("PREMEDICATIONS: , Versed 5 mg IV.\n"
            "PLAN:,1.  Liver profile today.,2.  Being Nexium 40 mg a day.,3.  Colonoscopy next week.\n")
    found = R.best_sentences({"r1": note}, R.understand("what acid suppressant was started?"), limit=1)
    assert found and found[0].fact == "Nexium 40 mg a day"
    ct = ("TECHNIQUE:,  Noncontrast CT abdomen and pelvis per renal stone protocol.\n"
          "IMPRESSION:,1. No renal stone or evidence of obstruction.  Normal appendix.\n")
    found = R.best_sentences({"r1": ct}, R.understand("CT by the renal stone protocol: was a kidney stone found?"),
                             limit=1)
    assert found and found[0].segment.text.startswith("No renal stone") and found[0].status == NEGATED


@pytest.mark.parametrize(("sentence", "mention", "status"), [
    ("We discussed the role of an EGD in evaluating her prior symptoms.", "EGD", HYPOTHETICAL),
    ("I am comfortable foregoing the EGD for now.", "EGD", NEGATED),
    ("If her symptoms return, we could schedule the EGD.", "EGD", HYPOTHETICAL),
    ("An EGD was performed.", "EGD", PRESENT),
])
def test_discussed_or_forgone_is_not_done(sentence: str, mention: str, status: str) -> None:
    i = sentence.index(mention)
    assert mention_status(sentence, i, i + len(mention)) == status


def test_a_dose_asked_is_answered_by_the_sentence_with_the_dose() -> None:
    note = ("Medical Reasoning: Her flares are well controlled on allopurinol.\n"
            "Medical Treatment: Continue allopurinol 100 mg once daily.\n")
    found = R.best_sentences({"r1": note}, R.understand("what allopurinol dose is she on?"), limit=1)
    assert found and found[0].fact == "allopurinol 100 mg once daily"


def test_what_is_taken_for_a_reading_asks_a_drug_and_a_plural_finds_the_singular() -> None:
    assert R.answer_type("What does she take for her blood pressure?") == R.DRUG
    assert R.answer_type("What was her blood pressure on admission?") == R.VALUE
    asked = R.Asked(R.YESNO, ("allerg", "nuts"), (), "allergic nuts", text="is she allergic to nuts?")
    found = R.best_sentences({"r1": "Allergy: Allergy to nut; category food; status active\n"}, asked, limit=1)
    assert found and set(found[0].matched) == {"allerg", "nuts"}


def test_a_person_after_a_title_is_not_a_brand() -> None:
    assert R.drug_phrase("MEDICATIONS: The procedure was done under anesthesia given by Dr. Marino Fernandez.") is None
    assert R.drug_phrase("She was given samples of Nasonex and Flonase.") is not None


def test_a_sheath_size_is_in_french_and_a_blood_pressure_medicine_is_a_drug() -> None:
    note = "Under 2% lidocaine anesthesia, the artery was entered. A 6-French sheath was placed.\n"
    found = R.best_sentences({"r1": note}, R.understand("what size sheath was placed?"), limit=1)
    assert found and found[0].fact == "6-French"
    assert R.answer_type("what blood pressure medicine is he on at home?") == R.DRUG


@pytest.mark.parametrize(("question", "asked", "described"), [
    ("Man with a left shoulder that kept dislocating; the Bankart repair had to be converted to an open one. What bony "
     "lesion was seen on the humeral head?", "What bony lesion was seen on the humeral head?", "bankart"),
    ("20-year-old man who rolled his left ankle stepping off a curb, no pop heard: over what time frame was he told "
     "his symptoms should improve?", "over what time frame was he told his symptoms should improve?", "curb"),
])
def test_the_asked_clause_after_a_full_stop_or_a_preposition_is_apart_from_the_description(
        question: str, asked: str, described: str) -> None:
    got = R.understand(question)
    assert got.text == asked
    assert described in got.context and described not in got.words


def test_an_initial_does_not_end_the_description() -> None:
    assert R.understand("Has Andy G. had his tonsils out?").text == "Has Andy G. had his tonsils out?"


def test_which_brand_of_a_two_word_thing_is_that_thing_named_with_a_word_of_its_own() -> None:
    note = "PROCEDURE:, Placement of ventilating tubes.\nArmstrong tubes were inserted.\n"
    like = {"PROCEDURE:, Placement of ventilating tubes.": 0.5, "Armstrong tubes were inserted.": 0.45}  # as MiniLM
    found = R.best_sentences({"r1": note}, R.understand("what brand of ventilation tubes was inserted?"), limit=1,
                             similarity=lambda sentences: [like[s] for s in sentences])
    assert found[0].segment.text == "Armstrong tubes were inserted."


_CASE_NOTE = ("HISTORY:, She has had pelvic pain for two days and a positive hCG.\n"
              "The tube was inspected through the laparoscope.\n"
              "A right salpingectomy was performed.\n"
              "The left ovary measures 3.1 cm and the tube appeared normal.\n")


def _meaning(best: str) -> Callable[[list[str]], list[float]]:
    return lambda sentences: [1.0 if best in s else 0.0 for s in sentences]


def test_a_past_case_compares_every_sentence_by_meaning_also_one_sharing_no_word() -> None:
    asked = R.understand("what was done to the tube?")
    sim = _meaning("salpingectomy")
    found = R.best_sentences({"r1": _CASE_NOTE}, asked, limit=1, similarity=sim)
    assert found[0].segment.text != "A right salpingectomy was performed."  # shares no word: never compared
    found = R.best_sentences({"r1": _CASE_NOTE}, asked, limit=1, similarity=sim, whole=True)
    assert found[0].segment.text == "A right salpingectomy was performed."


def test_meaning_does_not_overrule_the_answer_type() -> None:
    asked = R.understand("how large was the left ovary?")
    found = R.best_sentences({"r1": _CASE_NOTE}, asked, limit=1, similarity=_meaning("inspected"), whole=True)
    assert found[0].fact == "3.1 cm"


def test_a_long_line_is_compared_by_meaning_by_its_start_only() -> None:
    seen: list[int] = []

    def sim(sentences: list[str]) -> list[float]:
        seen.extend(len(s) for s in sentences)
        return [0.0] * len(sentences)

    note = _CASE_NOTE + "The tube " + "was long and tortuous and " * 40 + "inflamed.\n"
    R.best_sentences({"r1": note}, R.understand("what was done to the tube?"), similarity=sim, whole=True)
    assert seen and max(seen) == R.MEANING_CHARS


def test_which_case_lists_two_cases_standing_clear_of_the_rest() -> None:
    """Session 11: the writers' "about the same case" pairs of rounds 5-7, as ranked (shares of the best)."""
    from archive.assistant.cases import listed_cases

    def ranked(*shares: float) -> list[tuple[float, str, str | None]]:
        return [(s, f"r{i}", f"MRN-{i}") for i, s in enumerate(shares)]

    def mrns(scored: list[tuple[float, str, str | None]]) -> list[str | None]:
        return [m for _s, _r, m in listed_cases(scored)]

    assert mrns(ranked(1.0, 0.835, 0.485, 0.415)) == ["MRN-0", "MRN-1"]  # two hysterectomies, the rest far below
    assert mrns(ranked(1.0, 0.932, 0.873, 0.5)) == ["MRN-0", "MRN-1"]  # a second nearly as good as the best
    assert mrns(ranked(1.0, 0.846, 0.569, 0.46)) == ["MRN-0", "MRN-1"]
    # clear questions stay one case: a close second with a close third, a second not standing out
    assert mrns(ranked(1.0, 0.917, 0.897, 0.5)) == ["MRN-0"]
    assert mrns(ranked(1.0, 0.76, 0.448)) == ["MRN-0"]  # "the 58-year-old man with substernal chest pain"
    assert mrns(ranked(1.0, 0.665, 0.322)) == ["MRN-0"]
    same = [(1.0, "r0", "MRN-0"), (0.8, "r1", "MRN-0"), (0.4, "r2", "MRN-2")]  # the same patient's two notes
    assert mrns(same) == ["MRN-0"]
