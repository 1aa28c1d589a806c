"""indexer.assertion: ConText labels, sentences and sections; the NegEx/ConText bench on a sample."""

from __future__ import annotations

import pytest

from indexer.assertion import (
    LABELS,
    OTHER,
    assertion_of,
    context_of,
    context_of_spans,
    headings,
    is_heading,
    rules,
    sentences,
    word_contexts,
)
from tests.conftest import SHARED_DATA


def label(text: str, word: str, nth: int = 0) -> str:
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return assertion_of(text, start, start + len(word))


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("Patient denies chest pain.", "chest pain", "negated"),
        ("No fever, chills or night sweats.", "night sweats", "negated"),
        ("Never smoker. No known allergies.", "smoker", "negated"),
        ("Never smoker. No known allergies.", "allergies", "negated"),
        ("Pneumonia was ruled out.", "Pneumonia", "negated"),
        ("No fever, but she has a cough.", "cough", "affirmed"),
        ("No fever, but she has a cough.", "fever", "negated"),
        ("She has a cough.", "cough", "affirmed"),
        ("Possible pneumonia in the left base.", "pneumonia", "possible"),
        # ICD-10-CM guideline IV.H's words for an uncertain diagnosis, which the published rules lack
        ("Probable pneumonia.", "pneumonia", "possible"),
        ("Assessment: suspected viral sinusitis.", "viral sinusitis", "possible"),
        ("Questionable fracture of the radius.", "fracture", "possible"),
        ("Findings consistent with pneumonia.", "pneumonia", "possible"),
        ("Chest film compatible with heart failure.", "heart failure", "possible"),
        ("Return if fever develops.", "fever", "hypothetical"),
        ("Family history of breast cancer in her mother.", "breast cancer", "family"),
        ("Her mother had diabetes.", "diabetes", "family"),
        ("History of MI in 2010.", "MI", "historical"),
        ("She has a past medical history of stroke.", "stroke", "historical"),
        ("No change in the nodule.", "nodule", "affirmed"),
        ("Review of systems is -ve for weight loss.", "weight loss", "negated"),
        ("The infection resolved.", "infection", "negated"),
        # "although", "but" end a negation, not the pronoun's look back at what resolved
        ("He had some weakness although that seemed to have resolved.", "weakness", "negated"),
        ("She had a rash, which has since resolved.", "rash", "negated"),
        ("Chest pain but it cleared.", "Chest pain", "negated"),
        ("He has diabetes but his cough has resolved.", "diabetes", "affirmed"),
        ("Screening for colon cancer.", "colon cancer", "hypothetical"),
        ("Concern for appendicitis.", "appendicitis", "possible"),
        # an age is not a past: "-year-old" is no "old MI"
        ("A 70-year-old female admitted with pneumonia.", "pneumonia", "affirmed"),
        ("An old MI on the ECG.", "MI", "historical"),
        # "but" ends the past as it ends a negation
        ("He had a PE in the past, but the pain was not aortic dissection.", "PE", "historical"),
        ("She had surgery in the past, but her symptoms fit appendicitis.", "appendicitis", "affirmed"),
        # the span's own words trigger nothing
        ("There was no change in vision.", "change in vision", "negated"),
    ],
)
def test_sentence_labels(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


def test_scope_ends_at_the_sentence() -> None:
    text = "Denies chest pain. Reports shortness of breath."
    assert label(text, "chest pain") == "negated"
    assert label(text, "shortness of breath") == "affirmed"


def test_sections_set_the_default_for_their_lines() -> None:
    note = (
        "CHIEF COMPLAINT: cough.\n"
        "PAST MEDICAL HISTORY:\nHypertension. Diabetes.\n"
        "FAMILY HISTORY:\nBreast cancer.\n"
        "ALLERGIES: No known allergies.\n"
        "ASSESSMENT: Diabetes, uncontrolled. Denies chest pain.\n"
    )
    assert label(note, "cough") == "affirmed"
    assert label(note, "Hypertension") == "historical"
    assert label(note, "Diabetes") == "historical"
    assert label(note, "Breast cancer") == "family"
    assert label(note, "allergies", 0) == "negated"
    assert label(note, "Diabetes", 1) == "affirmed"
    assert label(note, "chest pain") == "negated"
    assert context_of(note, note.index("Breast"), note.index("Breast") + 6).section == "FAMILY HISTORY"


def test_headings_are_never_findings() -> None:
    note = "History of Present Illness: She reports a cough. Weight down 4 kg.\n# Allergies\nNo Known Allergies\n"
    start = note.index("Illness")
    assert is_heading(note, start, start + len("Illness"))
    assert label(note, "Illness") == "hypothetical"
    assert label(note, "cough") == "affirmed"  # "History of" in the heading makes nothing historical
    assert label(note, "Allergies", 0) == "hypothetical"  # the markdown heading
    assert label(note, "Allergies", 1) == "negated"
    names = [h.name for h in headings(note)]
    assert names == ["History of Present Illness", "Allergies"]


def test_flattened_upper_case_headings() -> None:
    text = "[Report de-identified]      PATIENT HISTORY:  ABDOMINAL PAIN."
    assert [h.name for h in headings(text)] == ["PATIENT HISTORY"]
    assert label(text, "ABDOMINAL PAIN") == "affirmed"


def test_no_history_of_is_negated_and_historical() -> None:
    text = "She has no history of pancreatitis."
    start = text.index("pancreatitis")
    ctx = context_of(text, start, start + len("pancreatitis"))
    assert ctx.negated and ctx.historical and ctx.label == "negated"


def test_no_history_of_reaches_no_further_than_a_history_would() -> None:
    text = "A man with no history of diabetes who presents with a one-day history of chest pressure."
    start = text.index("chest pressure")
    ctx = context_of(text, start, start + len("chest pressure"))
    assert not ctx.historical
    start = text.index("diabetes")
    ctx = context_of(text, start, start + len("diabetes"))
    assert ctx.negated and ctx.historical


def historical(text: str, word: str) -> bool:
    start = text.index(word)
    return context_of(text, start, start + len(word)).historical


def test_a_denied_habit_is_historical() -> None:
    assert historical("Denies alcohol or drug use.", "drug use")
    ctx = context_of("Denies alcohol or drug use.", 7, 14)  # "alcohol"
    assert ctx.negated and ctx.historical
    # a habit told is the patient's now; a habit's harm is a finding of its own
    assert not historical("Smoking a pack a day.", "Smoking")
    assert not historical("Denies alcohol withdrawal.", "alcohol withdrawal")


def test_a_chronic_condition_alone_on_a_list_line_is_historical() -> None:
    assert historical("GOUT.", "GOUT")
    assert historical("TYPE 2 DIABETES.", "TYPE 2 DIABETES")
    # not a condition one lives with, not alone, not a list line, said to be acute, or under a heading
    assert not historical("PNEUMONIA.", "PNEUMONIA")
    assert not historical("She has gout.", "gout")
    assert not historical("gout", "gout")
    assert not historical("Acute on chronic systolic congestive heart failure.", "congestive heart failure")
    assert not historical("ASSESSMENT:\nGOUT.", "GOUT")


def test_unchanged_and_chronically_speak_of_the_past() -> None:
    assert historical("Unchanged elevated right hemidiaphragm.", "elevated right hemidiaphragm")
    assert historical("A chronically elevated platelet count.", "elevated platelet count")
    # "at the previous hospital" dates the stay, not the finding
    assert not historical("She was switched at the previous hospital as she was lethargic.", "lethargic")


def test_sentences_keep_decimals_abbreviations_and_list_items() -> None:
    text = "Dr. Smith saw her. Creatinine 1.2 today.\n1. Asthma\n2. Gout"
    parts = [text[s:e].strip() for s, e in sentences(text)]
    assert parts == ["Dr. Smith saw her.", "Creatinine 1.2 today.", "1. Asthma", "2. Gout"]


def test_rules_load_the_published_set_and_ours() -> None:
    loaded = rules()
    assert len(loaded) > 100
    # another person who is no relative is a category of its own, labelled `family` (not the patient's)
    assert {r.category for r in loaded} <= {*LABELS, OTHER}
    assert OTHER in {r.category for r in loaded}
    # ours replace a published literal: "evaluate for" is a plan, not a negation
    assert [r.category for r in loaded if r.literal == "evaluate for"] == ["hypothetical"]


def test_a_span_outside_the_text_is_refused() -> None:
    with pytest.raises(ValueError, match="not inside"):
        assertion_of("cough", 3, 10)


NEGEX = SHARED_DATA / "negex" / "context_annotations.tsv"


@pytest.mark.skipif(not NEGEX.exists(), reason="the NegEx/ConText set is not in ../shared/data/negex")
def test_bench_on_a_sample_beats_the_naive_rules() -> None:
    from bench.assertion import evaluate, load

    rows, _missing = load(NEGEX)
    sample = rows[::3]
    report = evaluate(sample, "sample")
    assert report.negation.f1 > report.naive_negation.f1
    assert report.negation.accuracy > report.naive_negation.accuracy
    assert report.history.f1 > report.naive_history.f1
    assert report.negation.accuracy >= 0.98 and report.negation.f1 >= 0.95


# Issue 22, session 8: rule families the round-4 snippets showed missing (ConText/pyConText FUTURE, INDICATION and
# PROBABLE_EXISTENCE triggers; negspacy's clinical-sensitive "monitor for", "leads to"). Wording of our own; each
# family has an affirmed control that must stay affirmed.
@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # plans, instructions, prevention, consequences
        # session 9: a few words may stand between "monitor" and "for" (a GAP slot); this was "affirmed" before
        ("Started insulin; monitor closely for hypoglycemia.", "hypoglycemia", "hypothetical"),
        ("Started insulin. Monitor for hypoglycemia overnight.", "hypoglycemia", "hypothetical"),
        ("Parents told to watch for dehydration.", "dehydration", "hypothetical"),
        ("Aspirin daily to prevent stroke.", "stroke", "hypothetical"),
        ("Heparin given for prevention of deep vein thrombosis.", "deep vein thrombosis", "hypothetical"),
        ("Pneumococcal vaccine given against pneumonia.", "pneumonia", "hypothetical"),
        ("Statin to lower heart attack risk.", "heart attack", "hypothetical"),
        ("Explained that uncontrolled diabetes may lead to kidney failure.", "kidney failure", "hypothetical"),
        ("Seizure precautions in place.", "Seizure", "hypothetical"),
        ("Ultrasound to look for gallstones.", "gallstones", "hypothetical"),
        ("He had a stroke last month and is on aspirin.", "stroke", "affirmed"),
        # doubt
        ("Differential diagnosis includes lupus.", "lupus", "possible"),
        ("Likely viral pharyngitis vs strep throat.", "strep throat", "possible"),
        ("Appendicitis cannot be ruled out.", "Appendicitis", "possible"),
        ("Findings cannot exclude a small fracture.", "fracture", "possible"),
        ("Sarcoidosis is also being considered.", "Sarcoidosis", "possible"),
        ("Indeterminate nodule, possible malignancy.", "nodule", "possible"),
        ("He might have early dementia.", "dementia", "possible"),
        ("Query sepsis, cultures sent.", "sepsis", "possible"),
        ("Pneumonia is confirmed on chest film.", "Pneumonia", "affirmed"),
        # negated
        ("HIV antibody nonreactive.", "HIV", "negated"),
        ("Rapid strep test negative.", "strep", "negated"),
        ("Biopsy excludes malignancy.", "malignancy", "negated"),
        ("Influenza PCR not detected.", "Influenza", "negated"),
        ("There is evidence of an infarct with negative T waves.", "infarct", "affirmed"),
        ("Headache not resolved with ibuprofen.", "Headache", "affirmed"),
        ("Headache resolved with ibuprofen.", "Headache", "negated"),
        ("No longer smoking; has emphysema.", "emphysema", "affirmed"),  # a semicolon ends "no"
        # family
        ("FHx of colon cancer.", "colon cancer", "family"),
        ("Positive for diabetes (maternal grandmother).", "diabetes", "family"),
        ("Glaucoma in his father.", "Glaucoma", "family"),
        ("Father states the patient has had a cough for a week.", "cough", "affirmed"),
        ("Her son has asthma.", "asthma", "family"),
    ],
)
def test_session8_rule_families(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


def test_a_rule_may_carry_its_own_reach() -> None:
    # "to lower ... risk" reaches four words, not a whole sentence.
    text = "Walking daily to lower risk; she has known hypertension and diabetes since 2010."
    assert label(text, "diabetes") != "hypothetical"
    assert any(r.max_scope for r in rules())


def test_a_relative_who_tells_is_not_the_subject_but_one_who_has_is() -> None:
    assert label("Mother reports the patient has had diarrhea.", "diarrhea") == "affirmed"
    assert label("Mother was diagnosed with breast cancer.", "breast cancer") == "family"


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("In case of seizure, give rectal diazepam.", "seizure", "hypothetical"),
        ("Ibuprofen stopped to reduce the chance of a GI bleed.", "GI bleed", "hypothetical"),
        ("Patient was educated about the warning signs of stroke.", "stroke", "hypothetical"),
        ("Thought to be migraine, but TIA remains a consideration.", "TIA", "possible"),
        ("Thought to be migraine, but TIA remains a consideration.", "migraine", "affirmed"),  # "but" ends doubt
        ("Return if fever develops, but continue antibiotics for pneumonia.", "pneumonia", "affirmed"),
        ("Breast cancer - maternal aunt.", "Breast cancer", "family"),
        ("Chest pain - mother reports it started yesterday.", "Chest pain", "affirmed"),
    ],
)
def test_session8_more_of_each_family(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


@pytest.mark.parametrize(
    ("text", "word"),
    [
        # triggers that are everyday words elsewhere (found on the MTSamples dev notes)
        ("Progressive lower extremity weakness.", "weakness"),
        ("CT scan showed a lower pole stone.", "stone"),
        ("New patient evaluation for a malignant meningioma.", "meningioma"),
        ("Enlarged tonsils, which cause difficulty swallowing, recurrent pharyngitis.", "pharyngitis"),
        ("Edema with question varicosities, associated pulmonary hypertension.", "pulmonary hypertension"),
    ],
)
def test_plan_and_doubt_words_that_are_everyday_words_elsewhere(text: str, word: str) -> None:
    assert label(text, word) == "affirmed"


# Issue 22, session 9: rule families the round-5 snippets showed missing (wording of our own). Each family has an
# affirmed control beside it that must stay affirmed.
@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # gone by now
        ("The impetigo has cleared after a week of mupirocin.", "impetigo", "negated"),
        ("Her eczema has since healed.", "eczema", "negated"),
        ("Otitis media cleared up on amoxicillin.", "Otitis media", "negated"),
        ("Patient with hypertension was cleared for surgery.", "hypertension", "affirmed"),
        # deny as typed in a hurry
        ("Pt denys hematuria.", "hematuria", "negated"),
        ("Patient denie nausea.", "nausea", "negated"),
        # review of systems as a list of negatives
        ("Negative nausea, negative vomiting, negative diarrhea.", "vomiting", "negated"),
        ("Negative nausea, negative vomiting, negative diarrhea.", "nausea", "negated"),
        ("ROS negative: fever, chills, night sweats.", "night sweats", "negated"),
        ("Pertinent negatives: chest pain, syncope.", "syncope", "negated"),
        ("Pertinent positives: chest pain, syncope.", "syncope", "affirmed"),
        ("HIV negative patient with pneumonia.", "pneumonia", "affirmed"),
        ("Blood cultures grew gram negative rods; sepsis.", "sepsis", "affirmed"),
        # what ends a negation
        ("No complaints other than a sore throat.", "sore throat", "affirmed"),
        ("There are no other abnormal areas of enhancement.", "abnormal areas", "negated"),
        ("She is not eating because of her nausea.", "nausea", "affirmed"),
        # an inverted condition opening a sentence, to its comma
        ("Should chest pain recur, return to the emergency department.", "chest pain", "hypothetical"),
        ("He should continue lisinopril for hypertension.", "hypertension", "affirmed"),
        # screening, prevention, prophylaxis, as needed
        ("Mammogram ordered for breast cancer screening.", "breast cancer", "hypothetical"),
        ("Breast cancer, screening mammogram is due.", "Breast cancer", "affirmed"),
        ("Counselled on fall prevention.", "fall", "hypothetical"),
        ("Enoxaparin for DVT ppx.", "DVT", "hypothetical"),
        ("Enoxaparin for DVT prophylaxis.", "DVT", "negated"),  # the published rule's reading
        ("Promethazine prn for nausea.", "nausea", "hypothetical"),
        ("Observe urine output after surgery for acute kidney injury.", "acute kidney injury", "hypothetical"),
        # a test awaited, an exposure
        ("Lipase pending.", "Lipase", "hypothetical"),
        ("Awaiting biopsy for lymphoma.", "lymphoma", "hypothetical"),
        ("Exposed to chickenpox at school; no rash.", "chickenpox", "hypothetical"),
        # who tells is not whose it is; a paediatric note's patient
        ("Husband reports she has been vomiting since noon.", "vomiting", "affirmed"),
        ("Father brought his son in; says he has had a fever.", "fever", "affirmed"),
        ("This 4-year-old child had tubes placed for recurrent otitis media.", "otitis media", "affirmed"),
        ("Her husband has asthma.", "asthma", "family"),
        ("MGF - emphysema.", "emphysema", "family"),
        ("Brother: type 1 diabetes.", "type 1 diabetes", "family"),
    ],
)
def test_session9_rule_families(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


# Issue 22, session 9, second batch: our own cases beside the round-5 families.
@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("The hives are gone.", "hives", "negated"),
        ("Patient refutes palpitations.", "palpitations", "negated"),
        ("ROS: (-) headache, (-) dizziness.", "dizziness", "negated"),
        ("In the event of chest pain, take nitroglycerin.", "chest pain", "hypothetical"),
        ("Call the clinic for any bleeding.", "bleeding", "hypothetical"),
        ("Working diagnosis: bacterial meningitis.", "bacterial meningitis", "possible"),
        ("The working diagnosis is sarcoidosis.", "sarcoidosis", "possible"),
        ("Lesion raises suspicion for basal cell carcinoma.", "basal cell carcinoma", "possible"),
        ("Osteomyelitis is not excluded.", "Osteomyelitis", "possible"),
        ("No improvement in her knee pain.", "knee pain", "affirmed"),
        ("Should continue lisinopril for hypertension.", "hypertension", "affirmed"),
        ("Maternal history of macular degeneration.", "macular degeneration", "family"),
        ("She would like to be tested for Lyme disease.", "Lyme disease", "hypothetical"),
        ("She tested positive for Lyme disease.", "Lyme disease", "affirmed"),
        ("Risk factors for stroke reviewed.", "stroke", "hypothetical"),
        ("Felt to be a cluster headache.", "cluster headache", "possible"),
    ],
)
def test_session9_second_batch(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


def test_a_question_mark_before_a_word_queries_it_and_ends_no_sentence() -> None:
    assert label("Itchy papules ? scabies, permethrin given.", "scabies") == "possible"
    assert len(sentences("Is it scabies? Permethrin given.")) == 2


def test_a_gap_slot_allows_a_few_words_but_no_punctuation() -> None:
    assert label("Monitor potassium closely for hyperkalemia.", "hyperkalemia") == "hypothetical"
    assert label("Monitor potassium, renal function and hyperkalemia.", "hyperkalemia") == "affirmed"


def test_sentence_start_and_stop_at_punct_are_read_from_the_rules() -> None:
    assert any(r.sentence_start for r in rules()) and any(r.stop_at_punct for r in rules())
    # the opening "should" reaches to its comma only
    text = "Should wheezing return, use albuterol; she has asthma."
    assert label(text, "wheezing") == "hypothetical" and label(text, "asthma") == "affirmed"


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # a "Resolved" heading denies its lines
        ("Resolved problems: urinary tract infection (treated 3/2).", "urinary tract infection", "negated"),
        ("Resolved: gout flare of the left toe.", "gout flare", "negated"),
        ("Resolved issues: hyponatremia, corrected.", "hyponatremia", "negated"),
        ("Active problems: hypertension.", "hypertension", "affirmed"),
        # "could turn into / may develop into / could progress to X": what may come
        ("Watch the wound; it could turn into an abscess.", "abscess", "hypothetical"),
        ("Untreated, this may evolve into sepsis.", "sepsis", "hypothetical"),
        ("The cough turned into pneumonia last week.", "pneumonia", "affirmed"),
        # risk counselling
        ("Counseled that stroke occurs in about 2% after the procedure.", "stroke", "hypothetical"),
        ("Patient warned about rebound headache with daily analgesics.", "rebound headache", "hypothetical"),
        ("Counseled on smoking cessation; she has COPD.", "COPD", "affirmed"),
        # "equivocal / concerning / worrisome for X": possible
        ("Study is equivocal for appendicitis.", "appendicitis", "possible"),
        ("CT findings are concerning for diverticulitis.", "diverticulitis", "possible"),
        ("CT confirms diverticulitis.", "diverticulitis", "affirmed"),
        # "X in / on the differential": possible
        ("Vasculitis remains on the differential.", "Vasculitis", "possible"),
        ("Sarcoidosis in the differential diagnosis, ACE level sent.", "Sarcoidosis", "possible"),
        # a newborn's "maternal X" is the mother's; in her own note it is hers
        ("Newborn exam: maternal syphilis treated in pregnancy.", "syphilis", "family"),
        ("Infant born at 39 weeks; maternal gestational diabetes.", "gestational diabetes", "family"),
        ("Labor: maternal fever to 38.4, started ampicillin.", "fever", "affirmed"),
        # a donor's disease is the donor's
        ("Transfusion lookback: the donor later tested positive for HIV.", "HIV", "family"),
        ("She tested positive for HIV in 2015.", "HIV", "affirmed"),
        # a test on its way ("HCV RNA sent") names no finding; a bare "sent" is no test
        ("Exposure at work; HIV RNA sent.", "HIV", "hypothetical"),
        ("Lyme antibody drawn today.", "Lyme", "hypothetical"),
        ("Chest pain sent to the ED by ambulance.", "Chest pain", "affirmed"),
        # "X is her husband's": someone else's
        ("The asthma inhaler on the list is her husband's, not hers.", "asthma", "family"),
        ("The hypertension noted in the old chart was his brother's.", "hypertension", "family"),
        ("Her asthma is well controlled.", "asthma", "affirmed"),
    ],
)
def test_session9_round6_rule_families(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


def test_a_rule_that_needs_a_word_matches_only_in_a_sentence_holding_it() -> None:
    assert any(r.needs for r in rules())
    assert label("Baby girl: maternal hepatitis C, antibody testing at 18 months.", "hepatitis C") == "family"
    assert label("Maternal hepatitis C noted at 28 weeks of this pregnancy.", "hepatitis C") == "affirmed"


# Issue 22, session 10: rule families written for the family (roles, verbs), each tried on wordings it was not
# written from; the affirmed controls beside them must stay affirmed.
@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # another person (no blood relative) as the subject: labelled family (not the patient's), told apart
        ("His girlfriend tested positive for gonorrhea last week.", "gonorrhea", "family"),
        ("Her college roommate came down with mononucleosis.", "mononucleosis", "family"),
        ("Ex-boyfriend informed her that he has chlamydia.", "chlamydia", "family"),
        ("Stepfather has emphysema.", "emphysema", "family"),
        ("The family dog was diagnosed with Lyme disease.", "Lyme disease", "family"),
        ("People at work have had the flu this week.", "flu", "family"),
        ("Brought in by coworkers after he had a seizure at work.", "seizure", "affirmed"),
        ("Wife reports he has had a productive cough for a week.", "cough", "affirmed"),
        # relatives by nickname, and the patient's own baby
        ("Grandpa had prostate cancer.", "prostate cancer", "family"),
        ("Her sis has type 1 diabetes.", "type 1 diabetes", "family"),
        ("Several relatives on her mother's side with colon cancer.", "colon cancer", "family"),
        ("His infant has bronchiolitis.", "bronchiolitis", "family"),
        ("Newborn with jaundice, bilirubin 14.", "jaundice", "affirmed"),
        # gone: resolved, cleared, subsided, went away, no longer
        ("Gout flare subsided with colchicine.", "Gout", "negated"),
        ("The eczema went away after the steroid cream.", "eczema", "negated"),
        ("No longer has migraines since starting topiramate.", "migraines", "negated"),
        ("No longer on insulin for her type 2 diabetes.", "type 2 diabetes", "affirmed"),
        ("Headache has not resolved despite ibuprofen.", "Headache", "affirmed"),
        # a test's result, a test's name
        ("CTA chest was negative for pulmonary embolism.", "pulmonary embolism", "negated"),
        ("Influenza swab was negative for influenza A.", "Influenza", "negated"),
        ("Appendicitis ruled out on ultrasound.", "Appendicitis", "negated"),
        ("A kidney stone was not identified on CT.", "kidney stone", "negated"),
        ("Neither asthma nor COPD on spirometry.", "COPD", "negated"),
        ("Denies: fever, chills, cough.", "cough", "negated"),
        # due, sent for, vaccines
        ("Pneumococcal vaccine due next year.", "Pneumococcal", "hypothetical"),
        ("Overdue for cervical cancer screening.", "cervical cancer", "hypothetical"),
        ("Colonoscopy due in 5 years.", "Colonoscopy", "hypothetical"),
        ("Stool PCR sent for C. difficile.", "C. difficile", "hypothetical"),
        ("Anemia due in part to chronic kidney disease.", "Anemia", "affirmed"),
        ("X-ray ordered for right knee pain.", "knee pain", "affirmed"),
        # alternatives and "appears to be" (ICD-10-CM IV.H)
        ("Rash appears to be contact dermatitis.", "contact dermatitis", "possible"),
        ("Looks like impetigo on the chin.", "impetigo", "possible"),
        ("Either viral or bacterial conjunctivitis.", "conjunctivitis", "possible"),
        ("The wound appears clean; cellulitis of the left leg.", "cellulitis", "affirmed"),
        # the second probe round's wordings (session 10)
        ("Patient reports resolution of her migraines.", "migraines", "negated"),
        ("No resolution of her migraines despite triptans.", "migraines", "affirmed"),
        ("Fever broke overnight.", "Fever", "negated"),
        ("Her grandmother and great-aunt both had breast cancer.", "breast cancer", "family"),
        ("Someone at his gym had MRSA.", "MRSA", "family"),
        ("Her fiancé has epilepsy.", "epilepsy", "family"),
        ("Will check for celiac disease.", "celiac disease", "hypothetical"),
        ("Favor viral pharyngitis over strep.", "strep", "possible"),
        ("Clinical picture c/w appendicitis.", "appendicitis", "possible"),
        ("Cleared for surgery by cardiology; coronary artery disease.", "coronary artery disease", "affirmed"),
        ("Headaches have stopped since stopping caffeine.", "Headaches", "negated"),
        ("Diabetes, stopped metformin for diarrhea.", "Diabetes", "affirmed"),
        ("Presentation suggests viral meningitis.", "viral meningitis", "possible"),
        ("Celiac disease confirmed by biopsy, on gluten-free diet.", "Celiac disease", "affirmed"),
        ("Pain-free since the injection.", "Pain", "negated"),
        ("Seek care for worsening headache.", "headache", "hypothetical"),
        ("Resolved pneumonia on today's film.", "pneumonia", "negated"),
        ("Pneumonia resolved; new left effusion.", "effusion", "affirmed"),
        ("Pt lives with her mother; she has asthma.", "asthma", "affirmed"),
        ("Family history: mother with diabetes; hypertension.", "hypertension", "family"),
    ],
)
def test_session10_rule_families(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


def test_another_person_is_told_apart_from_a_relative() -> None:
    spouse = "Spouse was recently diagnosed with tuberculosis."
    mother = "Mother was recently diagnosed with tuberculosis."
    k = spouse.index("tuberculosis")
    assert context_of(spouse, k, k + len("tuberculosis")).other
    k = mother.index("tuberculosis")
    assert context_of(mother, k, k + len("tuberculosis")).family
    assert not context_of(mother, k, k + len("tuberculosis")).other


def test_a_concept_in_pieces_is_read_with_the_words_between_them() -> None:
    text = "The patient's anemia has resolved with iron."
    a, i = text.index("anemia"), text.index("iron")
    # one span over both masks the trigger between them; the pieces do not
    assert context_of(text, a, i + 4).label == "affirmed"
    assert context_of_spans(text, [(a, a + 6), (i, i + 4)]).label == "negated"
    text = "Headache, migraine versus tension type."
    t = text.index("tension")
    assert context_of_spans(text, [(t, t + 12)]).label == "possible"


def test_word_contexts_give_each_word_its_sentences_modifiers() -> None:
    text = "Tobacco: never. FHx: father with emphysema.\nHPI: Cough for 3 days."
    said = {text[a:b]: c for a, b, c in word_contexts(text, 0, len(text))}
    assert said["emphysema"].family and not said["emphysema"].negated  # "never" ends with its sentence
    assert said["Cough"].label == "affirmed"
    assert said["FHx"].heading
    assert len([w for w in said if w == "Tobacco"]) == 1


# Review of session 10's rule families: affirmed sentences the new rules reached into (each was affirmed before
# VERSION 6), beside the wordings the rules were written for, which stay as they are.
@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # a condition that is going away is still there
        ("Pneumonia resolving on antibiotics.", "Pneumonia", "affirmed"),
        ("Gout flare subsided with colchicine.", "Gout", "negated"),
        # a resolution told of another thing, after "and his / the ...", leaves the first clause's condition alone
        ("He has asthma and his inhalers have stopped working.", "asthma", "affirmed"),
        ("He has gout and the swelling subsided with colchicine.", "gout", "affirmed"),
        ("He has heart failure and the edema is not seen today.", "heart failure", "affirmed"),
        ("Fever and cough have stopped since Tuesday.", "Fever", "negated"),
        # "either knee" is both knees, no alternative
        ("She has pain in either knee from osteoarthritis.", "osteoarthritis", "affirmed"),
        ("He reports pain in either hip with osteoarthritis.", "osteoarthritis", "affirmed"),
        ("Either viral or bacterial pneumonia.", "bacterial pneumonia", "possible"),
    ],
)
def test_session10_rules_leave_affirmed_clauses_alone(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("He is due for follow-up of his hypertension.", "hypertension", "affirmed"),
        ("Overdue for cervical cancer screening.", "cervical cancer", "hypothetical"),
        ("Favor continuing lisinopril for hypertension.", "hypertension", "affirmed"),
        ("Favor viral pharyngitis over strep.", "viral pharyngitis", "possible"),
        ("Physical therapist suggests exercise for his osteoarthritis.", "osteoarthritis", "affirmed"),
        ("Presentation suggests viral meningitis.", "viral meningitis", "possible"),
    ],
)
def test_session10_advice_and_visits_leave_the_condition_affirmed(text: str, word: str, expected: str) -> None:
    # review of session 10: a visit, a treatment favoured, advice given are no doubt about the condition
    assert label(text, word) == expected


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # the relatives' nicknames VERSION 6 added name a relative as the subject; bringing or telling, they are
        # not the one ill, as "mother" and "husband" were not
        ("Grandma brought her in for a rash on her arm.", "rash", "affirmed"),
        ("Her fiance reports she has had seizures.", "seizures", "affirmed"),
        ("Twin A with respiratory distress syndrome.", "respiratory distress syndrome", "affirmed"),
        ("Grandpa had prostate cancer.", "prostate cancer", "family"),
        ("Her twin has type 1 diabetes.", "type 1 diabetes", "family"),
    ],
)
def test_session10_relatives_nicknames_bring_and_tell(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # a "Denies:" heading (VERSION 6) denies its list, not the lines after it
        ("ROS:\nDenies: fever, chills.\nReports cough and wheezing.\nASSESSMENT: Asthma.", "wheezing", "affirmed"),
        ("HPI: Cough for 3 days.\nDenies: fever, chills.\nHas had wheezing since Monday.", "wheezing", "affirmed"),
        ("ROS:\nDenies: fever, chills.\nReports cough and wheezing.", "chills", "negated"),
        ("Denies:\n- fever\n- chills\nReports wheezing.", "chills", "negated"),
        ("Denies:\n- fever\n- chills\nReports wheezing.", "wheezing", "affirmed"),
        ("Denies: fever, chills, cough.", "cough", "negated"),
    ],
)
def test_a_denial_heading_denies_its_list_only(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected
    k = text.index(word)
    said = {text[a:b]: c for a, b, c in word_contexts(text, k, k + len(word))}
    assert said[word].label == expected  # the suggester's reading, the same


# Found in the review of session 10 (strict xfail until session 11): a new clause with its own verb ends a denial;
# how a patient looks ("appears to be in pain") doubts nothing.
def test_a_test_negative_for_one_thing_leaves_the_next_clause_alone() -> None:
    assert label("He was negative for COVID, has influenza A.", "influenza A") == "affirmed"
    assert label("He was negative for COVID, has influenza A.", "COVID") == "negated"
    assert label("Strep test negative, has viral pharyngitis.", "viral pharyngitis") == "affirmed"
    assert label("No fever, now has a productive cough.", "productive cough") == "affirmed"
    assert label("No fever, chills or night sweats.", "night sweats") == "negated"  # a list goes on denied


def test_appearing_in_pain_does_not_doubt_its_cause() -> None:
    assert label("Patient appears to be in pain from his kidney stone.", "kidney stone") == "affirmed"
    assert label("Appears in moderate distress from her migraine.", "migraine") == "affirmed"
    assert label("Appears to be cellulitis.", "cellulitis") == "possible"  # a doubt still


# Issue 22, session 11: round 8's misses were new wordings of families the rules had; each family made general
# (other wordings than round 8's), with controls that must keep their label.
@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # a list heading that states an absence denies its list, as "Denies:" does (and only its list)
        ("Abdomen: soft. Absent: ascites, asterixis, jaundice.", "jaundice", "negated"),
        ("Neuro exam.\nAbsent: clonus, Babinski sign, tremor.\nPresent: ataxia.", "tremor", "negated"),
        ("Neuro exam.\nAbsent: clonus, tremor.\nPresent: ataxia.", "ataxia", "affirmed"),
        ("Ruled out: pulmonary embolism, myocardial infarction.", "myocardial infarction", "negated"),
        ("Ruled out: pulmonary embolism.\nReports cough and wheezing.", "wheezing", "affirmed"),
        ("Not present: edema, cyanosis.", "cyanosis", "negated"),
        ("Exam: Absent: clubbing, cyanosis, edema.", "edema", "negated"),
        # criteria no longer (or never) met
        ("No longer meets criteria for PTSD on CAPS-5.", "PTSD", "negated"),
        ("She does not meet DSM-5 criteria for bipolar disorder.", "bipolar disorder", "negated"),
        ("Patient doesn't meet criteria for sepsis at this time.", "sepsis", "negated"),
        ("Never met full criteria for major depressive disorder.", "major depressive disorder", "negated"),
        ("Meets criteria for major depressive disorder.", "major depressive disorder", "affirmed"),
        # not excluded yet: a doubt
        ("Meningitis not yet excluded; LP pending.", "Meningitis", "possible"),
        ("Pulmonary embolism has not been ruled out.", "Pulmonary embolism", "possible"),
        ("Appendicitis isn't excluded by this ultrasound.", "Appendicitis", "possible"),
        ("Septic arthritis remains to be excluded.", "Septic arthritis", "possible"),
        ("Pulmonary embolism was excluded by CTA.", "Pulmonary embolism", "negated"),
        # a sentence closed by a question mark, maybe / perhaps
        ("Maybe a stress fracture? Will get MRI.", "stress fracture", "possible"),
        ("Stress fracture? MRI if not better.", "Stress fracture", "possible"),
        ("Cellulitis vs early abscess?", "early abscess", "possible"),
        ("Perhaps early cellulitis of the left leg.", "cellulitis", "possible"),
        ("Has gout. Will he need allopurinol?", "gout", "affirmed"),
        ("Gout flare today, what dose of colchicine?", "Gout", "affirmed"),
        ("Pruritic rash ? scabies", "rash", "affirmed"),
        # someone else by role: the baby's father, a source patient, a foster parent who speaks of herself, others
        ("Prenatal: FOB has sickle cell trait.", "sickle cell trait", "family"),
        ("Father of the baby has cystic fibrosis.", "cystic fibrosis", "family"),
        ("Needlestick from a source patient with known hepatitis C.", "hepatitis C", "family"),
        ("The index case had active tuberculosis.", "tuberculosis", "family"),
        ("Her foster mother has epilepsy.", "epilepsy", "family"),
        ("Foster mom reports she herself is being treated for shingles.", "shingles", "family"),
        ("Foster mom reports he has had a fever for 2 days.", "fever", "affirmed"),
        ("Foster mom reports cough and fever since Monday.", "cough", "affirmed"),
        ("Mom reports she herself has had the flu this week.", "flu", "family"),
        ("Patient reports she has had the flu this week.", "flu", "affirmed"),
        ("Influenza going around at daycare.", "Influenza", "family"),
        # a question asked, what a test looks for, an evaluation not finished
        ("Mom asked about RSV; advised to call back.", "RSV", "hypothetical"),
        ("Patient inquired about shingles risk.", "shingles", "hypothetical"),
        ("Newborn hearing screen to detect hearing loss.", "hearing loss", "hypothetical"),
        ("Colonoscopy for early detection of colon cancer.", "colon cancer", "hypothetical"),
        ("ADHD evaluation in progress.", "ADHD", "hypothetical"),
        ("Autism assessment pending.", "Autism", "hypothetical"),
        ("Cell-free DNA screening offered for Down syndrome.", "Down syndrome", "hypothetical"),
        ("Genetic testing recommended for hemochromatosis.", "hemochromatosis", "hypothetical"),
        # gone: cured, eradicated, a stone passed; a cancer with no evidence of disease is past
        ("Her hepatitis C was cured after 12 weeks of treatment.", "hepatitis C", "negated"),
        ("H. pylori infection eradicated with triple therapy.", "H. pylori infection", "negated"),
        ("Kidney stone passed 10/2.", "Kidney stone", "negated"),
        ("Passed out at work; syncope.", "syncope", "affirmed"),
        ("Breast cancer s/p lumpectomy 2015, NED.", "Breast cancer", "historical"),
        ("Colon cancer resected 2018, no evidence of disease on surveillance CT.", "Colon cancer", "historical"),
        # a relative who drives or accompanies the patient is not the subject; one in brackets qualifies
        ("Her sister drove her to the ER with chest pain.", "chest pain", "affirmed"),
        ("Son accompanied him; he has had melena for 2 days.", "melena", "affirmed"),
        ("Her sister has lupus.", "lupus", "family"),
        ("Grandma (paternal) - osteoporosis w/ hip fx.", "osteoporosis", "family"),
        ("Osteoporosis (maternal grandmother).", "Osteoporosis", "family"),
        # a diet is no absence; a comparison with a relative, or the patient named again, ends the relative's words
        ("Relatives: mother - celiac disease, gluten free.", "celiac disease", "family"),
        ("Celiac disease, strictly gluten free.", "Celiac disease", "affirmed"),
        ("Pain free since Monday.", "Pain", "negated"),
        ("Like her mother, she has hypothyroidism.", "hypothyroidism", "affirmed"),
        ("As with his father, he developed gout at 40.", "gout", "affirmed"),
        ("Though she has no family history of it, pt has celiac disease.", "celiac disease", "affirmed"),
        ("Her mother had breast cancer, but the patient has no cancer history.", "breast cancer", "family"),
        ("Mother of the patient has diabetes.", "diabetes", "family"),
        # more wordings of the same families, written before round 9 (no round's line)
        ("MI was ruled-out.", "MI", "negated"),
        ("Ruled-out MI this admission.", "MI", "negated"),
        ("Unlikely to be malignant melanoma.", "malignant melanoma", "negated"),
        ("Hypertension runs in the family.", "Hypertension", "family"),
        ("Paternal side has history of hemochromatosis.", "hemochromatosis", "family"),
        ("Diabetes on her mother's side.", "Diabetes", "family"),
        ("She is afraid of getting diabetes.", "diabetes", "hypothetical"),
        ("Unclear whether she has asthma.", "asthma", "possible"),
        ("Chest pain, etiology unclear.", "Chest pain", "affirmed"),
        ("Sounds like a migraine.", "migraine", "possible"),
        ("Working dx: cellulitis.", "cellulitis", "possible"),
        ("Provisional diagnosis: community-acquired pneumonia.", "pneumonia", "possible"),
        ("No longer has any symptoms of GERD.", "GERD", "negated"),
        ("No longer on insulin for her diabetes.", "diabetes", "affirmed"),
        ("Previously thought to have asthma; PFTs normal.", "asthma", "possible"),
        ("Hyponatremia was corrected with fluids.", "Hyponatremia", "negated"),
        ("Myopia corrected with glasses.", "Myopia", "affirmed"),
        ("Lyme titers negative x2.", "Lyme", "negated"),
        ("Patient works with a nurse who has TB.", "TB", "family"),
        ("She is a woman who has diabetes.", "diabetes", "affirmed"),
        ("Hypertension, not controlled.", "Hypertension", "affirmed"),
    ],
)
def test_session11_families(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


def test_a_family_physician_is_no_relative() -> None:
    # the published 'family' rule read it as a relative (before session 10 too)
    assert label("Her family physician diagnosed hypertension.", "hypertension") == "affirmed"
    assert label("Family meeting held regarding his metastatic lung cancer.", "lung cancer") == "affirmed"
    assert label("Family history of colon cancer.", "colon cancer") == "family"
    assert label("He has a family history of colon cancer.", "colon cancer") == "family"


# Issue 22, session 11 (second round): round 9's misses were new wordings of families the rules had; each family
# made general: round 9's line first, then other wordings, with controls that must keep their label.
@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # test result words after a test name
        ("SARS-CoV-2 PCR: NOT DETECTED (COVID-19 negative).", "COVID-19", "negated"),
        ("Influenza A/B PCR not detected.", "Influenza", "negated"),
        ("HIV 1/2 antibody non-reactive.", "HIV", "negated"),
        ("Syphilis RPR nonreactive.", "Syphilis", "negated"),
        ("Chlamydia NAAT NOT DETECTED.", "Chlamydia", "negated"),
        ("Chlamydia detected on NAAT.", "Chlamydia", "affirmed"),
        ("Hx of HIV on ART, viral load undetectable, CD4 610.", "HIV", "historical"),
        # treated then resolved later in the sentence
        ("Hypokalemia on admission, repleted; K 4.1 today, resolved.", "Hypokalemia", "negated"),
        ("Hyponatremia on arrival, treated with fluids; Na 138 now, resolved.", "Hyponatremia", "negated"),
        ("AKI on admission, hydrated; creatinine back to baseline, resolved.", "AKI", "negated"),
        ("Hypokalemia on admission, repleted; still low today.", "Hypokalemia", "affirmed"),
        # none since
        ("Had a febrile seizure as a toddler, none since, never on meds.", "febrile seizure", "negated"),
        ("One episode of gout in 2019, none since.", "gout", "negated"),
        ("Kidney stone in 2015 and none since.", "Kidney stone", "negated"),
        ("Had migraines as a teen, none since.", "migraines", "negated"),
        # no longer visualized / seen
        ("Previously noted R thyroid nodule is no longer visualized.", "thyroid nodule", "negated"),
        ("The left renal cyst is no longer seen.", "renal cyst", "negated"),
        ("Pleural effusion no longer identified on CXR.", "Pleural effusion", "negated"),
        ("Gallstones no longer evident.", "Gallstones", "negated"),
        # not established / confirmed
        ("Equivocal troponin; NSTEMI not established, repeat in 3 h.", "NSTEMI", "possible"),
        ("Diagnosis of lupus not confirmed.", "lupus", "negated"),
        ("Sarcoidosis not yet confirmed by biopsy.", "Sarcoidosis", "possible"),
        ("Celiac disease has not been established.", "Celiac disease", "possible"),
        ("Sarcoidosis confirmed by biopsy.", "Sarcoidosis", "affirmed"),
        # runs on both sides
        ("Hypercholesterolemia runs on both sides of the family.", "Hypercholesterolemia", "family"),
        ("Diabetes runs on her father's side.", "Diabetes", "family"),
        ("Heart disease runs strongly in his family.", "Heart disease", "family"),
        ("Migraines run in the family.", "Migraines", "family"),
        # relative's autopsy / death finding
        ("Older brother died suddenly at 34; autopsy showed hypertrophic cardiomyopathy.", "cardiomyopathy", "family"),
        ("Her father died at 50; autopsy revealed a ruptured aortic aneurysm.", "aortic aneurysm", "family"),
        ("Uncle passed away at 40, found to have dilated cardiomyopathy on autopsy.", "cardiomyopathy", "family"),
        ("Mother died of a stroke at 60.", "stroke", "family"),
        ("Patient died suddenly; autopsy showed hypertrophic cardiomyopathy.", "cardiomyopathy", "affirmed"),
        ("Autopsy showed hypertrophic cardiomyopathy.", "hypertrophic cardiomyopathy", "affirmed"),
        # vaccine / prophylaxis series
        ("Rabies pre-exposure series started for vet school.", "Rabies", "hypothetical"),
        ("Hepatitis B vaccine series completed.", "Hepatitis B", "hypothetical"),
        ("Malaria prophylaxis for trip to Ghana.", "Malaria", "hypothetical"),
        ("Typhoid vaccine given before travel.", "Typhoid", "hypothetical"),
        ("Upper GI series showed a duodenal ulcer.", "duodenal ulcer", "affirmed"),
        ("HER2 negative breast cancer.", "breast cancer", "affirmed"),
        ("Pneumonia, treated with antibiotics; fever resolved.", "Pneumonia", "affirmed"),
        # other people by role
        ("A kid at her daycare had hand-foot-mouth disease last week.", "hand-foot-mouth disease", "family"),
        ("A child in his class has strep throat.", "strep throat", "family"),
        ("Several kids at school have lice.", "lice", "family"),
        ("Postpartum visit. Newborn still in NICU for jaundice, under phototherapy.", "jaundice", "family"),
        ("6 weeks postpartum. Baby has thrush; she has nipple pain.", "thrush", "family"),
        ("6 weeks postpartum. Baby has thrush; she has nipple pain.", "nipple pain", "affirmed"),
        ("Newborn exam: jaundice noted at 36 hours.", "jaundice", "affirmed"),
        ("Well-child visit. Infant has diaper rash.", "diaper rash", "affirmed"),
        # ruled out as cause
        ("Hep A IgM negative; hepatitis A ruled out as cause of transaminitis.", "hepatitis A", "negated"),
        ("Hep A IgM negative; hepatitis A ruled out as cause of transaminitis.", "transaminitis", "affirmed"),
        ("Hypothyroidism excluded as the cause of her fatigue.", "Hypothyroidism", "negated"),
        ("Hypothyroidism excluded as the cause of her fatigue.", "fatigue", "affirmed"),
        ("Infection was ruled out as a source of fever.", "Infection", "negated"),
    ],
)
def test_session11_round9_families(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


def test_a_closing_resolved_crosses_the_semicolons_of_the_treatment_only_as_a_clause_of_its_own() -> None:
    text = "Hypokalemia on admission, repleted; K 4.1 today, resolved."
    assert label(text, "Hypokalemia") == "negated"
    # "resolved" with its own subject after the semicolon speaks of that subject only
    assert label("Hypokalemia on admission, repleted; cramps resolved.", "Hypokalemia") == "affirmed"


@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        ("Non-smoker.", "smoker", "negated"),
        ("Non smoker, no alcohol.", "smoker", "negated"),
        ("Ex-smoker.", "smoker", "historical"),
        ("Quit smoking 2010.", "smoking", "historical"),
        ("She stopped smoking in 2010.", "smoking", "historical"),
        ("Smoker, 1 pack per day.", "Smoker", "affirmed"),
        # review: a quitting to come or wished for is said of a smoker now
        ("Patient counseled to quit smoking.", "smoking", "affirmed"),
        ("Trying to quit smoking, still 1 ppd.", "smoking", "affirmed"),
        ("Unable to quit drinking.", "drinking", "affirmed"),
        ("He quit smoking in 2010.", "smoking", "historical"),
        ("Non-Hodgkin lymphoma.", "Hodgkin lymphoma", "affirmed"),  # "non-" before a disease is its name
        ("Hyperlipidemia: LDL 162, on atorvastatin.", "Hyperlipidemia", "hypothetical"),  # a heading, for search
    ],
)
def test_session12_a_habits_own_prefix(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


def test_session12_a_condition_heading_over_data_is_read_with_its_line_when_asked() -> None:
    text = "Hyperlipidemia: LDL 162, on atorvastatin.\nHypertension: none."
    s = text.index("Hyperlipidemia")
    assert context_of_spans(text, [(s, s + 14)]).heading
    assert context_of_spans(text, [(s, s + 14)], problem_line=True).label == "affirmed"
    h = text.index("Hypertension")
    assert context_of_spans(text, [(h, h + 12)], problem_line=True).label == "negated"
    a = "Allergies: penicillin."
    assert context_of_spans(a, [(0, 9)], problem_line=True).heading  # a section's name stays a section


@pytest.mark.parametrize("text", ["Fever: denies.", "Orthopnea: none.", "Cough: negative."])
def test_session12_a_heading_answered_by_a_trigger_alone_is_denied(text: str) -> None:
    n = text.index(":")
    assert context_of_spans(text, [(0, n)], problem_line=True).label == "negated"


# Round 10's families (s12-neg2): each with other wordings than the round's line, and affirmed contrasts the new
# rules must leave alone. Every row of the first list fails on the VERSION 10 rules.
@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # a test's result ending the clause of a long lab name
        ("HIV-1/2 Ag/Ab 4th gen: non-reactive.", "HIV", "negated"),
        ("HIV-1/2 Ag/Ab: nonreactive.", "HIV", "negated"),
        ("Hep C Ab (serum) negative.", "Hep C", "negated"),
        ("Syphilis EIA IgG total antibody not detected.", "Syphilis", "negated"),
        ("Lyme IgM equivocal; Western blot sent.", "Lyme", "possible"),
        ("Strongyloides IgG serology indeterminate.", "Strongyloides", "possible"),
        ("HIV-1/2 Ag/Ab screen reactive; confirmatory differentiation assay pending.", "HIV", "possible"),
        ("Hep C Ab reactive, confirmatory RNA sent.", "Hep C", "possible"),
        # tests awaited, instructions
        ("Labs pending: QuantiFERON, hepatitis panel, RPR for syphilis.", "syphilis", "hypothetical"),
        ("Ordered: TSH, ferritin, celiac serologies.", "celiac", "hypothetical"),
        ("Discharge instructions: return for fever or worsening pain.", "pain", "hypothetical"),
        ("Signs of a stroke are face drooping, arm weakness, speech difficulty - call 911.", "stroke", "hypothetical"),
        ("Warning signs of sepsis reviewed: fever, confusion; return to the ED.", "sepsis", "hypothetical"),
        # a preventive antibody or vaccine before a disease's season
        ("Nirsevimab given before RSV season.", "RSV", "hypothetical"),
        ("Flu shot today ahead of flu season.", "flu", "hypothetical"),
        ("Palivizumab monthly through RSV season.", "RSV", "hypothetical"),
        # a side of the family, a relative's own medicine
        ("Thyroid problems on mother's side.", "Thyroid problems", "family"),
        ("Diabetes on the paternal side.", "Diabetes", "family"),
        ("Mom takes levothyroxine for hypothyroidism.", "hypothyroidism", "family"),
        ("Dad is on metformin for diabetes.", "diabetes", "family"),
        # someone else: a donor's recipient, a caregiver of herself, the other twin, an outbreak around
        ("Living kidney donor eval: recipient (brother) has ESRD from IgA nephropathy.", "ESRD", "family"),
        ("Liver donor work-up; the recipient has cirrhosis from NASH.", "cirrhosis", "family"),
        ("Caregiver (daughter) reports she is burned out and being treated for depression.", "depression", "family"),
        ("Caregiver states she has had shingles this week.", "shingles", "family"),
        ("Twin A is our patient; Twin B has a large VSD and is in the NICU.", "VSD", "family"),
        ("Co-twin with hypoplastic left heart.", "hypoplastic left heart", "family"),
        ("Scabies outbreak on her unit at the nursing home; skin exam unremarkable.", "Scabies", "family"),
        ("Outbreak of norovirus at his school; he is well.", "norovirus", "family"),
        # a course that ends cured reaches back over its steps
        ("Hep C treated with Epclusa 2019, SVR achieved, cured.", "Hep C", "negated"),
    ],
)
def test_round10_rule_families(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Influenza A PCR positive.", "Influenza A"),
        ("Chest pain 3 days, ECG and troponin negative.", "Chest pain"),  # another test's name: not the pain's
        ("Hep C Ab positive, RNA 1.2 million IU/mL.", "Hep C"),
        ("Mom took him to urgent care for wheezing.", "wheezing"),
        ("Twin A with RDS, on CPAP.", "RDS"),
        ("Worse during allergy season.", "allergy"),
        ("Acute uncomplicated sigmoid diverticulitis, no abscess or free air.", "diverticulitis"),  # 'free air'
        ("Resolving pneumonia, day 5 of 7 of amoxicillin.", "pneumonia"),  # resolving is still there
        ("Signs of infection at the wound site.", "infection"),
    ],
)
def test_round10_affirmed_contrasts(text: str, word: str) -> None:
    assert label(text, word) == "affirmed"


# Round 11 (session 13), by family: each family's rule in other wordings than the round's line.
@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # a prophylaxis regimen named by the disease it prevents
        ("HIV PrEP - continue Descovy.", "HIV", "hypothetical"),
        ("Rabies PEP started after a bat exposure.", "Rabies", "hypothetical"),
        ("HIV nPEP with Truvada after needlestick.", "HIV", "hypothetical"),
        ("Malaria chemoprophylaxis for travel.", "Malaria", "hypothetical"),
        ("HSV suppression with valacyclovir.", "HSV", "hypothetical"),
        ("On doxy-PEP for syphilis.", "syphilis", "hypothetical"),
        ("Cystic fibrosis; PEP device twice daily.", "Cystic fibrosis", "affirmed"),
        # a test repeated at an interval is monitoring
        ("HIV Ag/Ab q3 months on PrEP.", "HIV", "hypothetical"),
        ("Hep C antibody yearly.", "Hep C", "hypothetical"),
        # immune or vaccinated: protected, not ill
        ("3. Hep B - immune (sAb+, core Ab neg; vaccinated)", "Hep B", "negated"),
        ("Rubella immune, varicella immune.", "varicella", "negated"),
        ("She is immune to hepatitis B.", "hepatitis B", "negated"),
        ("Hep A vaccinated 2019.", "Hep A", "negated"),
        ("Measles IgG positive (immune).", "Measles", "negated"),
        ("Hepatitis B surface antibody positive, immune by vaccination.", "Hepatitis B", "negated"),
        ("Immune thrombocytopenia, platelets 40k.", "thrombocytopenia", "affirmed"),
        ("HIV with immune reconstitution syndrome.", "HIV", "affirmed"),
        # criteria and eligibility text describe a kind of patient
        ("Prior auth criteria: BMI >=27 with a comorbidity such as type 2 diabetes.", "type 2 diabetes",
         "hypothetical"),
        ("Inclusion criteria: adults with heart failure and EF < 40%.", "heart failure", "hypothetical"),
        ("Criteria include type 2 diabetes on metformin.", "type 2 diabetes", "hypothetical"),
        ("Criteria met for sepsis.", "sepsis", "affirmed"),
        ("Hospice eligibility: end-stage COPD, FEV1 25%.", "COPD", "affirmed"),
        ("Coverage requires a comorbidity such as hypertension.", "hypertension", "hypothetical"),
        ("Medicare covers this for patients with ESRD.", "ESRD", "hypothetical"),
        ("Hypertension, such as we discussed, is controlled.", "Hypertension", "affirmed"),
        # patient education lists what may happen
        ("Pt education: signs of dehydration in your child include fewer wet diapers.", "dehydration",
         "hypothetical"),
        ("Teaching: hypoglycemia symptoms reviewed with family.", "hypoglycemia", "hypothetical"),
        # a course judged cured, over the closings of its steps
        ("Prostate ca s/p prostatectomy 2015, PSA undetectable since, considered cured.", "Prostate ca", "negated"),
        ("Hodgkin lymphoma treated 2010, PET negative, felt to be cured.", "Hodgkin lymphoma", "negated"),
        # a research cohort whose healthy control the patient is
        ("Study cohort is adults with heart failure; this pt enrolled as healthy control.", "heart failure",
         "family"),
        ("Enrolled as a healthy volunteer in a trial of patients with asthma.", "asthma", "family"),
        # the baby of a nursing mother's note
        ("Breastfeeding: baby has oral thrush; pt's nipples without erythema.", "oral thrush", "family"),
        ("Lactation visit. Infant with tongue tie, poor latch.", "tongue tie", "family"),
        ("Newborn exam: baby has jaundice, breastfeeding well.", "jaundice", "affirmed"),
        # grandparents by nickname, in a heading or as a subject
        ("Grandpop: Parkinson's, dx age 70.", "Parkinson's", "family"),
        ("Meemaw had breast cancer.", "breast cancer", "family"),
        # a worry or belief of the patient's own, a condition to be considered
        ("Pt worried she has MS after reading online.", "MS", "possible"),
        ("He thinks he has Lyme disease.", "Lyme disease", "possible"),
        ("Demyelinating disease such as MS to be considered, LP pending.", "MS", "possible"),
    ],
)
def test_round11_families(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


# Round 12 (session 14), by family: each family's rule in other wordings than the round's lines.
@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # "nil" is "no"; ": no" answers its heading only when it closes the clause, else "no" reads forward
        ("Resp: nil wheeze, good air entry bilaterally.", "wheeze", "negated"),
        ("Abdo soft, nil organomegaly.", "organomegaly", "negated"),
        ("Neuro: nil focal deficit.", "focal deficit", "negated"),
        ("Oedema - nil.", "Oedema", "negated"),
        ("Blood film: no sickle cells seen.", "sickle cells", "negated"),
        ("Biopsy, gastric antrum: no evidence of H. pylori gastritis.", "gastritis", "negated"),
        ("HIV -ve, HBsAg -ve.", "HIV", "negated"),
        ("Nil by mouth from midnight for cholecystectomy; biliary colic ongoing.", "biliary colic", "affirmed"),
        # a surveillance scan's "no evidence of recurrence" dates the condition named after it too
        ("Follow-up MRI: nil evidence of residual disease 2 yrs after resection of meningioma.", "meningioma",
         "historical"),
        # a childhood condition outgrown, a past illness closed
        ("Eczema as a baby, grew out of it.", "Eczema", "negated"),
        ("Cow's milk protein allergy - outgrown by age 3.", "milk protein allergy", "negated"),
        ("He outgrew his migraines in his teens.", "migraines", "negated"),
        ("Whooping cough as a toddler, fully recovered.", "Whooping cough", "negated"),
        ("Childhood asthma, no inhaler use for 15 years.", "asthma", "negated"),
        ("Eczema in infancy, no flares since school age.", "Eczema", "negated"),
        ("Asthma, no inhaler needed this winter.", "Asthma", "affirmed"),
        ("Epilepsy, no seizures for 3 years on lamotrigine.", "Epilepsy", "affirmed"),
        ("Scabies treated, now clear.", "Scabies", "negated"),
        ("Nasal discharge, clear.", "Nasal discharge", "affirmed"),
        # a symptom's absence ("X-free") denies the symptom, not the condition it belongs to
        ("Asthma, symptom-free on Clenil.", "Asthma", "affirmed"),
        ("Angina, pain-free since stent.", "Angina", "affirmed"),
        ("Seizure-free since March.", "Seizure", "negated"),
        ("Breast cancer 2012, disease-free since.", "Breast cancer", "negated"),
        # a consent's risks, through its list
        ("Consented for TKR: risks discussed including PE, stiffness and wound breakdown.", "PE", "hypothetical"),
        ("Risks and benefits explained: bleeding, perforation, missed lesion.", "perforation", "hypothetical"),
        ("Lap chole consent - complications include bile leak and retained stones, explained.", "bile leak",
         "hypothetical"),
        ("OGD consent - risks (perforation, bleeding, aspiration pneumonia) discussed.", "aspiration pneumonia",
         "hypothetical"),
        ("Complications: superficial wound infection, treated with flucloxacillin.", "wound infection", "affirmed"),
        ("Risk factors: smoker, hypertension.", "hypertension", "affirmed"),
        # warning signs, leaflets, safety-netting, red flags
        ("Symptoms of meningitis explained to parents; to ring 111 if concerned.", "meningitis", "hypothetical"),
        ("Safety netting advice given re bronchiolitis.", "bronchiolitis", "hypothetical"),
        ("Leaflet on DVT given.", "DVT", "hypothetical"),
        ("Sepsis - recognise the symptoms.", "Sepsis", "hypothetical"),
        ("Handout: heat exhaustion.", "heat exhaustion", "hypothetical"),
        ("Red flags for cauda equina explained; attend A&E if saddle numbness.", "cauda equina", "hypothetical"),
        ("Signs of cellulitis around the cannula site.", "cellulitis", "affirmed"),
        ("Information given about pre-eclampsia symptoms.", "pre-eclampsia", "hypothetical"),
        ("Reviewed his COPD symptoms; advised to return if worse.", "COPD", "affirmed"),
        ("Dietary advice for type 2 diabetes given.", "type 2 diabetes", "affirmed"),
        ("FRAX: 10-year probability of hip fracture 3%.", "hip fracture", "hypothetical"),
        # a vaccine by its British name
        ("Flu jab given today.", "Flu", "hypothetical"),
        # a possibility raised, two conditions the test cannot tell apart, empirical cover, a test to exclude
        ("History raises the question of sarcoidosis.", "sarcoidosis", "possible"),
        ("These findings suggest the possibility of early Parkinson's disease.", "Parkinson's disease", "possible"),
        ("Unable to distinguish between abscess and necrotic tumour.", "abscess", "possible"),
        ("Lymphoma and sarcoidosis cannot be differentiated on imaging.", "Lymphoma", "possible"),
        ("Poss. cellulitis L leg.", "cellulitis", "possible"),
        ("Co-amoxiclav to cover for aspiration pneumonia.", "aspiration pneumonia", "possible"),
        ("For exclusion of DVT with D-dimer and duplex.", "DVT", "possible"),
        ("Tab PCM 500 mg SOS for fever.", "fever", "hypothetical"),
        ("Diagnosis: asthma (tbc).", "asthma", "possible"),
        ("Coeliac disease - yet to be confirmed on biopsy.", "Coeliac disease", "possible"),
        ("Unless symptoms of cholecystitis develop, discharge tomorrow.", "cholecystitis", "hypothetical"),
        # "free from" as "free of"; "settled" as "resolved", to its punctuation
        ("Free from angina for 6 months.", "angina", "negated"),
        ("Gout flare settled with colchicine.", "Gout", "negated"),
        ("AF, rate settled with bisoprolol.", "AF", "affirmed"),
        # another patient on the ward, the other twin
        ("Lady in the next bed has norovirus; our patient remains well, barrier nursed.", "norovirus", "family"),
        ("Another patient on the bay tested positive for influenza A.", "influenza A", "family"),
        ("Fellow resident with scabies.", "scabies", "family"),
        ("Patient in bed 6, settled overnight, pneumonia improving.", "pneumonia", "affirmed"),
        ("Twin 2 has a PDA; this baby is Twin 1, in air, feeding well.", "PDA", "family"),
        ("Twin A: RDS on CPAP. Twin B has jaundice. This note is about Twin A.", "RDS", "affirmed"),
        ("Twin A: RDS on CPAP. Twin B has jaundice. This note is about Twin A.", "jaundice", "family"),
        ("Result filed in error - belongs to a different patient (hepatitis C positive).", "hepatitis C", "family"),
        ("Wrong patient: the CT report showing lung cancer was for another person.", "lung cancer", "family"),
        ("Pneumonia; this is a patient with COPD.", "COPD", "affirmed"),
        ("Likely represents a simple cyst; lymphoma less likely.", "lymphoma", "possible"),
        # grandparents' and parents' names of other countries' households
        ("Nonna had bowel cancer at 60.", "bowel cancer", "family"),
        ("Oma: type 2 diabetes.", "type 2 diabetes", "family"),
        ("Her nani has hypertension.", "hypertension", "family"),
        ("Abuela died of a heart attack.", "heart attack", "family"),
        ("Mam had a stroke last year.", "stroke", "family"),
    ],
)
def test_round12_families(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected


def test_round12_the_other_twin_in_every_word_and_in_the_span() -> None:
    """The search's word maps (word_contexts) and a concept's label (context_of_spans) agree on the other twin."""
    from indexer.assertion import word_contexts

    text = "Twin 2 has a PDA; this baby is Twin 1, in air, feeding well."
    start = text.index("PDA")
    assert label(text, "PDA") == "family"
    assert [c.family for a, _b, c in word_contexts(text, 0, len(text)) if a == start] == [True]
    assert all(not c.family for a, _b, c in word_contexts(text, 0, len(text)) if a > text.index("in air"))



@pytest.mark.parametrize(
    ("text", "word", "expected"),
    [
        # certainty: "without / no / beyond doubt" is neither a denial nor a doubt
        ("No doubt this is a gout flare of the left first MTP.", "gout", "affirmed"),
        ("Beyond reasonable doubt a case of measles; Koplik spots seen.", "measles", "affirmed"),
        ("Diagnosis not in doubt: plaque psoriasis.", "psoriasis", "affirmed"),
        ("Little doubt that this represents herpes zoster.", "herpes zoster", "affirmed"),
        # contrasts: a doubt and a denial stand
        ("I doubt this is gout; more like pseudogout.", "gout", "possible"),
        ("Without fever; doubt pneumonia.", "pneumonia", "possible"),
        ("Without chest pain at rest.", "chest pain", "negated"),
        # a parent who tells about their child, on the child's chart: the child is the patient
        ("Dad rang this morning - toddler has had vomiting overnight.", "vomiting", "affirmed"),
        ("Mother phoned, her son has had a fever since Tuesday.", "fever", "affirmed"),
        ("Mum reports baby has had reflux after every feed.", "reflux", "affirmed"),
        ("Grandma called to say the boy has had earache all night.", "earache", "affirmed"),
        # contrasts: the parent's own condition, and a relative the parent speaks of
        ("Mother has asthma, child has eczema.", "asthma", "family"),
        ("Mum reports her sister had breast cancer.", "breast cancer", "family"),
        # a work-up that is over: what follows is its answer, not the doubt that started it
        ("R/o ACS pathway complete, troponin rise, NSTEMI diagnosed.", "NSTEMI", "affirmed"),
        ("Query PE protocol done - CTPA shows segmental PE, anticoagulated.", "segmental PE", "affirmed"),
        # contrasts: a work-up still under way, or no answer after it
        ("Rule out sepsis protocol started, cultures pending, sepsis suspected.", "sepsis", "possible"),
        ("Rule out PE protocol completed.", "PE", "possible"),
        # tests sent for a list of infections: what they look for may be
        ("Swabs taken: MRSA, C diff, norovirus.", "MRSA", "hypothetical"),
        ("Serology requested: hepatitis B, hepatitis C.", "hepatitis C", "hypothetical"),
        ("Referral sent: cardiology re atrial fibrillation.", "atrial fibrillation", "affirmed"),  # a contrast
        # the other twin, where the note names its own in brackets or between dashes
        ("Twin 2 has jaundice; this infant (twin 1) is pink and feeding.", "jaundice", "family"),
        ("Twin B on CPAP for RDS, this baby - twin A - in air.", "RDS", "family"),
        ("Twin A has RDS; the baby (twin A) is on CPAP.", "RDS", "affirmed"),  # a contrast: its own twin
    ],
)
def test_round13_families(text: str, word: str, expected: str) -> None:
    assert label(text, word) == expected
