"""The asked fact: past cases described in words, yes/no with evidence, last encounter, current medications,
chart entries first, names as records write them, follow-ups on the case found (over the small test corpus)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from archive.assistant import Conversation, ask
from archive.assistant.citations import normalise
from tests.assistant_helpers import FHIR_MRN, import_corpus
from tests.conftest import PHYS_PASS, TECH_PASS, VaultFixture


@pytest.fixture(scope="module")
def phys(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from archive.charts.entries import add_entry

    import_corpus(shared_vault.session, tmp_path_factory.mktemp("corpus"))
    tess = shared_vault.open("tess", TECH_PASS)
    add_entry(tess, "MRN-200", "medication", "Metoprolol", "2021-02-02", dose="25 mg", force=True)  # typed in
    from archive.charts.patients import add_patient

    add_patient(tess, "MRN-901", "Ann Karlsen", "1970-01-02", "F", physician="drmaria")
    add_patient(tess, "MRN-902", "Bob Karlsen", "1968-03-04", "M", physician="drmaria")
    add_entry(tess, "MRN-300", "procedure", "Laparoscopic appendectomy", "2019-05-02", status="completed", force=True)
    add_entry(tess, "MRN-300", "referral", "Cardiology referral", "2021-05-01", referral_to="Heart Clinic",
              referral_reason="new atrial fibrillation", force=True)
    add_patient(tess, "MRN-907", "Eli Marsh", "1975-06-07", "M", physician="drmaria")
    add_entry(tess, "MRN-907", "referral", "Bariatric surgery referral", "2024-02-20", referral_to="Bariatric Unit",
              referral_reason="BMI 41 with sleep apnoea", force=True)
    add_entry(tess, "MRN-907", "referral", "Dermatology referral", "2023-01-10", referral_to="Skin Clinic",
              referral_reason="eczema", force=True)
    add_entry(tess, "MRN-907", "procedure", "Knee arthroscopy", "2022-09-01", status="completed", force=True)
    add_entry(tess, "MRN-907", "procedure", "Transurethral resection of prostate", "2021-07-06", status="completed",
              force=True)
    add_entry(tess, "MRN-907", "procedure", "Electrical cardioversion", "2019-06-20", status="completed", force=True)
    add_entry(tess, "MRN-907", "diagnosis", "Crohn's disease", "2015-05-20", status="active", force=True)
    add_entry(tess, "MRN-907", "medication", "Azathioprine 100 mg tablet", "2015-06-01", dose="100 mg",
              status="stopped", stop="2018-02-14", force=True)
    add_entry(tess, "MRN-907", "medication", "Adalimumab 40 mg pen", "2018-03-01", dose="40 mg", status="active",
              force=True)
    add_entry(tess, "MRN-300", "medication", "Enoxaparin 40 mg injection", "2019-05-02", dose="40 mg",
              status="stopped", stop="2019-05-30", force=True)
    tess.close()
    session = shared_vault.open("drmaria", PHYS_PASS)
    yield session
    session.close()


def record_of(session: Any, mrn: str) -> str:
    return str(session.db.execute("SELECT id FROM records WHERE patient_mrn = ?", [mrn]).fetchone()[0])


def verified(session: Any, answer: Any) -> None:
    assert answer.citations
    for c in answer.citations:
        blob = session.db.execute("SELECT text_blob_id FROM records WHERE id = ?", [c.record_id]).fetchone()[0]
        assert normalise(c.passage) in normalise(session.blobs.get_bytes(blob).decode())


def last_audit(session: Any) -> dict[str, Any]:
    row = session.db.execute("SELECT details FROM audit WHERE action = 'assistant_ask' ORDER BY rowid DESC LIMIT 1"
                             ).fetchone()
    return dict(json.loads(row[0]))


def test_a_past_case_described_in_words_answers_from_the_best_match_and_names_it(phys: Any) -> None:
    answer = ask(phys, "For the 58-year-old man with substernal chest pain and shortness of breath, "
                       "what medication was he given?")
    assert answer.kind == "case" and not answer.refused
    assert answer.answer.startswith("The best-matching case: MRN MRN-400, Tom Lee")
    assert "aspirin 325 mg" in answer.answer
    assert [c.record_id for c in answer.citations] == [record_of(phys, "MRN-400")]
    verified(phys, answer)
    assert "MRN-400" in last_audit(phys)["patients"]


def test_a_follow_up_after_a_past_case_is_about_that_case(phys: Any) -> None:
    conv = Conversation(phys)
    conv.ask("In the case of the 58-year-old man with substernal chest pain, what was he given?")
    follow = conv.ask("has he had diabetes?")
    assert follow.answer.startswith("Yes") and follow.patient == "MRN-400"
    assert "type 2 diabetes" in follow.citations[0].passage


def test_cases_matching_about_equally_are_each_listed_with_their_fact(phys: Any) -> None:
    answer = ask(phys, "For the man with chest pain, what was the assessment?")
    assert answer.kind == "case"
    assert answer.answer.startswith("2 cases match the description about equally")
    assert {c.patient for c in answer.citations} == {"MRN-200", "MRN-400"}  # not Mary Smith: she denies it
    assert {c.passage for c in answer.citations} == {"Stable angina.", "Unstable angina."}
    verified(phys, answer)
    assert set(last_audit(phys)["patients"]) == {"MRN-200", "MRN-400"}  # every patient touched is audited


def test_listed_cases_that_agree_state_their_answer_once(phys: Any) -> None:
    answer = ask(phys, "For the man with chest pain, does he have hypertension?")
    assert answer.kind == "case"
    first = answer.answer.split("\n", 1)[0]
    assert first.startswith("2 cases match the description about equally (which case do you mean?)")
    assert first.endswith("each gives the same answer. Answer: Yes:")
    assert {c.patient for c in answer.citations} == {"MRN-200", "MRN-400"}
    verified(phys, answer)


def test_has_had_yes_denied_and_no_record_saying_what_was_searched(phys: Any) -> None:
    yes = ask(phys, "Has Jane Roe had an appendectomy?")
    assert yes.answer.startswith("Yes") and yes.citations[0].record_id == record_of(phys, FHIR_MRN)
    verified(phys, yes)
    denied = ask(phys, "Has Mary Smith had chest pain?")
    assert denied.answer.startswith("No: chest pain is denied or ruled out")
    assert [c.passage for c in denied.citations] == ["She denies chest pain."]
    none = ask(phys, "Has Jane Roe had a colonoscopy?")
    assert none.answer.startswith("No record of colonoscopy for MRN MRN-100, Jane Roe: searched")
    assert "chart entries" in none.answer and none.citations == []


def test_a_referral_is_not_evidence_that_the_thing_was_done(phys: Any) -> None:
    done = ask(phys, "Has Eli Marsh had bariatric surgery?")
    assert done.answer.startswith("No record of bariatric surgery for MRN MRN-907, Eli Marsh: searched 8 chart entries")
    assert "Only a referral for it:" in done.answer and "Bariatric surgery referral" in done.answer
    referred = ask(phys, "Has Eli Marsh been referred for bariatric surgery?")
    assert referred.answer.startswith("Yes") and "Bariatric surgery referral" in referred.answer
    knee = ask(phys, "Has Eli Marsh had a knee arthroscopy?")
    assert knee.answer.startswith("Yes") and "Knee arthroscopy" in knee.answer


def test_an_abbreviation_or_a_verb_as_asked_finds_the_charts_wording(phys: Any) -> None:
    turp = ask(phys, "Has Eli Marsh had a TURP?")  # the chart: "Transurethral resection of prostate"
    assert turp.answer.startswith("Yes") and "Transurethral resection of prostate" in turp.answer
    verted = ask(phys, "Has Eli Marsh ever been cardioverted?")  # the chart: "Electrical cardioversion"
    assert verted.answer.startswith("Yes") and "Electrical cardioversion" in verted.answer
    none = ask(phys, "Has Eli Marsh ever been intubated?")  # made a noun, still nothing: no record of it
    assert none.answer.startswith("No record of intubated for MRN MRN-907")


def test_on_now_for_a_condition_is_the_current_medication_list_not_the_diagnosis(phys: Any) -> None:
    answer = ask(phys, "What is Eli Marsh on now for his Crohn's?")
    lines = answer.answer.splitlines()
    assert lines[0].startswith("Current medications of MRN MRN-907, Eli Marsh")
    assert "Adalimumab 40 mg pen" in lines[1] and "(stopped)" not in lines[1]
    assert "Azathioprine" in answer.answer and "diagnosis Crohn's disease" not in answer.answer
    assert "No entry names" in answer.answer  # the chart does not say which drug is for what: said so


def test_last_encounter_is_the_date_cited(phys: Any) -> None:
    answer = ask(phys, "When was Tom Lee's last encounter?")
    assert answer.answer.startswith("The last encounter of MRN MRN-400, Tom Lee was on 2020-11-20.")
    verified(phys, answer)


def test_current_medications_chart_first_typed_in_entries_included(phys: Any) -> None:
    roe = ask(phys, "What medications is Mrs. Roe on?")  # surname only
    assert roe.patient == FHIR_MRN
    lines = roe.answer.splitlines()
    assert "Lisinopril 10 MG Oral Tablet" in lines[1] and "(stopped)" not in lines[1]  # the current one first
    assert all("(stopped)" in line for line in lines[2:])
    assert sum("Amoxicillin 500 MG Oral Capsule" in line for line in lines) == 1
    smith = ask(phys, "What medications is John Smith taking?")
    assert "Metoprolol; dose 25 mg" in smith.answer  # typed in by a technician: there, as a chart entry
    assert "chart entry typed in" in smith.answer


def test_names_as_records_write_them(phys: Any) -> None:
    digits = ask(phys, "Has Jane482 Roe917 had an appendectomy?")  # Synthea's names carry digits
    assert digits.patient == FHIR_MRN and digits.answer.startswith("Yes")
    initial = ask(phys, "When was Mary S. last seen?")
    assert initial.patient == "MRN-300" and "2021-04-12" in initial.answer
    mrn = ask(phys, "did the patient with MRN-400 have aspirin?")
    assert mrn.patient == "MRN-400"
    listed = ask(phys, "what medications does MRN-100 take?")  # the MRN's words leave the topic (no filter on them)
    assert listed.patient == FHIR_MRN and "Lisinopril 10 MG Oral Tablet" in listed.answer


def test_a_value_from_a_named_patients_note(phys: Any) -> None:
    answer = ask(phys, "What dose of atorvastatin was John Smith started on?")
    assert "atorvastatin 40 mg" in answer.answer.lower()
    verified(phys, answer)


def test_active_orders_and_current_medications_are_the_chart_list_not_a_topic_search(phys: Any) -> None:
    for question in ("List the active medication orders for Ms. Roe.", "What medications is Jane Roe currently on?"):
        answer = ask(phys, question)
        assert answer.patient == FHIR_MRN
        lines = answer.answer.splitlines()
        assert lines[0].startswith("Current medications of MRN MRN-100") and "Lisinopril 10 MG Oral Tablet" in lines[1]
        verified(phys, answer)
    on_now = ask(phys, "What is John Smith on now?")
    assert "Metoprolol; dose 25 mg" in on_now.answer


def test_has_been_diagnosed_with_is_answered_yes_or_no_record(phys: Any) -> None:
    yes = ask(phys, "Has Jane Roe ever been diagnosed with hypertension?")
    assert yes.answer.startswith("Yes: MRN MRN-100, Jane Roe has a record of hypertension")
    verified(phys, yes)
    no = ask(phys, "Has Jane Roe ever been diagnosed with gout?")
    assert no.answer.startswith("No record of gout for MRN MRN-100") and not no.citations


def test_dates_of_chart_entries_most_recent_first_and_typed_in(phys: Any) -> None:
    latest = ask(phys, "On what date was the most recent prescription for Jane Roe started?")
    assert latest.answer.startswith("2021-03-20 — for MRN MRN-100")  # ibuprofen, the latest MedicationRequest
    verified(phys, latest)
    typed = ask(phys, "When did John Smith start metoprolol?")
    assert typed.answer.startswith("2021-02-02 — for MRN MRN-200") and "chart entry typed in" in typed.answer


def test_a_description_is_not_a_name_and_a_year_in_it_is_not_a_filter(phys: Any) -> None:
    answer = ask(phys, "The 58 year old man with substernal chest pain, first seen in 1999: what medication was he "
                       "given?")
    assert answer.kind == "case" and "aspirin 325 mg" in answer.answer


def test_birth_date_is_the_record_line_that_states_it(phys: Any) -> None:
    answer = ask(phys, "What is Jane Roe's date of birth?")
    assert answer.answer.startswith("Born 1970-05-04 — MRN MRN-100")
    assert "1970-05-04" in answer.citations[0].passage
    verified(phys, answer)


def test_chart_entries_asked_in_lay_words_and_compound_questions(phys: Any) -> None:
    """Typed-in chart entries answer lay words ("appendix removed"), "when ..., and why?" and the dose of a named
    drug; nothing of the kind asked gives "no record", never a "yes" from a word in another entry's text."""
    had = ask(phys, "Has Mary Smith had her appendix removed?")
    assert had.answer.startswith("Yes:") and "Laparoscopic appendectomy" in had.answer
    referred = ask(phys, "When was Mary Smith referred to cardiology, and why?")
    assert referred.answer.startswith("2021-05-01") and "new atrial fibrillation" in referred.answer
    dose = ask(phys, "What dose of enoxaparin was Mary Smith given after her surgery?")
    assert "Enoxaparin 40 mg injection" in dose.answer and "dose 40 mg" in dose.answer
    assert "appendectomy" not in dose.answer
    tonsils = ask(phys, "Has Mary Smith had her tonsils taken out?")
    assert tonsils.answer.startswith("No record of")


def test_a_title_narrows_a_shared_surname_by_sex(phys: Any) -> None:
    assert ask(phys, "When was Mr. Karlsen born?").answer.startswith("Born 1968-03-04")
    assert ask(phys, "When was Ms. Karlsen born?").answer.startswith("Born 1970-01-02")
    assert ask(phys, "When was Karlsen born?").answer.startswith("Several patients match")


def test_why_stopped_the_event_as_a_time_and_an_attribute_asked_of_an_entry(shared_vault: VaultFixture,
                                                                          phys: Any) -> None:
    """"Why was X stopped?" states the stop date and the problems charted in the weeks before it; "after his hip
    replacement" says when (the entries dated after the procedure), not what; "and what dose?" asks of the entry."""
    from archive.charts.entries import add_entry
    from archive.charts.patients import add_patient

    tess = shared_vault.open("tess", TECH_PASS)
    add_patient(tess, "MRN-903", "Tomas Wirtanen", "1950-01-02", "M", physician="drmaria")
    add_entry(tess, "MRN-903", "medication", "Lisinopril 10 mg tablet", "2015-08-19", dose="10 mg", status="stopped",
              stop="2018-03-02", force=True)
    add_entry(tess, "MRN-903", "complication", "ACE inhibitor cough", "2018-02-20", status="resolved", force=True)
    add_entry(tess, "MRN-903", "complication", "Wound infection", "2010-01-05", status="resolved", force=True)
    add_entry(tess, "MRN-903", "procedure", "Right total hip replacement", "2020-02-12", status="completed",
              force=True)
    add_entry(tess, "MRN-903", "complication", "Deep vein thrombosis, right calf", "2020-02-26", status="resolved",
              force=True)
    add_entry(tess, "MRN-903", "medication", "Apixaban 5 mg tablet", "2021-06-01", dose="5 mg", force=True)
    tess.close()
    why = ask(phys, "Why was Tomas Wirtanen's lisinopril stopped?")
    assert why.answer.startswith("Lisinopril 10 mg tablet was stopped on 2018-03-02")
    assert "ACE inhibitor cough" in why.answer and "Wound infection" not in why.answer
    after = ask(phys, "What complication did Tomas Wirtanen have after his hip replacement?")
    assert "Deep vein thrombosis" in after.answer and "Wound infection" not in after.answer
    dose = ask(phys, "Which anticoagulant is Mr. Wirtanen taking now, and what dose?")
    assert "Apixaban 5 mg tablet" in dose.answer and "dose 5 mg" in dose.answer


def test_why_stopped_answers_with_the_recorded_stop_reason_and_date(shared_vault: VaultFixture, phys: Any) -> None:
    """A stop reason typed in with the medication is the answer (with the stop date and the entry stated as a
    chart entry); the problems charted before the stop are the fallback only when no reason is recorded."""
    from archive.charts.entries import add_entry
    from archive.charts.patients import add_patient

    tess = shared_vault.open("tess", TECH_PASS)
    add_patient(tess, "MRN-905", "Greta Lindqvist", "1944-07-08", "F", physician="drmaria")
    add_entry(tess, "MRN-905", "medication", "Warfarin 5 mg tablet", "2021-06-01", dose="5 mg", status="stopped",
              stop="2021-08-30", stop_reason="upper GI bleed", force=True)
    add_entry(tess, "MRN-905", "complication", "Iron deficiency anaemia", "2021-08-01", force=True)
    add_entry(tess, "MRN-905", "medication", "Simvastatin 40 mg tablet", "2019-01-01", status="stopped",
              stop_reason="myalgia", force=True)
    tess.close()
    why = ask(phys, "Why was Greta Lindqvist's warfarin stopped?")
    assert why.answer.startswith("Warfarin 5 mg tablet was stopped on 2021-08-30; the chart's stop reason: "
                                 "upper GI bleed"), why.answer
    assert "stopped 2021-08-30: upper GI bleed" in why.answer and "chart entry typed in" in why.answer
    assert "anaemia" not in why.answer  # the charted reason, not a guess from what came before
    statin = ask(phys, "Why was Ms. Lindqvist's simvastatin discontinued?")
    assert statin.answer.startswith("Simvastatin 40 mg tablet was stopped (stop date not recorded); the chart's "
                                    "stop reason: myalgia"), statin.answer


def test_an_mrn_no_patient_has_is_a_question_back_not_a_fact(phys: Any) -> None:
    answer = ask(phys, "What medications is MRN 99999-404 on?")
    assert answer.answer.startswith("Which patient do you mean?") and "MRN 99999-404" in answer.answer
    assert not answer.citations


def test_the_chart_answers_what_followed_an_event_and_what_is_taken_for_a_problem(shared_vault: VaultFixture,
                                                                                 phys: Any) -> None:
    from archive.charts.entries import add_entry
    from archive.charts.patients import add_patient

    tess = shared_vault.open("tess", TECH_PASS)
    add_patient(tess, "MRN-904", "Ada Quennell", "1947-05-06", "F", physician="drmaria")
    add_entry(tess, "MRN-904", "diagnosis", "Cardiac arrest", "2016-04-20", force=True)
    add_entry(tess, "MRN-904", "procedure", "Pacemaker implantation", "2009-03-01", status="completed", force=True)
    add_entry(tess, "MRN-904", "procedure", "Implantable cardioverter defibrillator insertion", "2016-04-26",
              status="completed", force=True)
    add_entry(tess, "MRN-904", "medication", "Hydrochlorothiazide 25 mg tablet", "2015-02-02", dose="25 mg",
              force=True)
    add_entry(tess, "MRN-904", "medication", "Metformin 500 mg tablet", "2015-02-02", dose="500 mg", force=True)
    tess.close()
    device = ask(phys, "What device was implanted in Ms. Quennell after her cardiac arrest?")
    assert "Implantable cardioverter defibrillator insertion" in device.answer
    assert "Pacemaker" not in device.answer
    bp = ask(phys, "What does Ada Quennell take for her blood pressure?")
    assert "Hydrochlorothiazide" in bp.answer and "Metformin" not in bp.answer
