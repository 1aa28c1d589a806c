"""The assistant benchmark's quick mode (CI): every citation passes the check, no unsupported answer."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.conftest import PHYS_PASS, REPO, TECH_PASS, VaultFixture, shared_data


def test_quick_bench_all_citations_hold_and_nothing_unsupported() -> None:
    shared_data("aci-bench")
    shared_data("fhir-r4")
    sys.path.insert(0, str(REPO / "bench"))
    import assistant  # type: ignore[import-not-found]

    args = argparse.Namespace(quick=True, retrieval="fts", record=False, show_misses=False)
    lines, outcomes = assistant.run(args)
    assert len(outcomes) >= 20
    assert {o.q.kind for o in outcomes} >= {"list", "class", "procedure", "timeline", "count", "find", "similar",
                                            "passages", "follow-up", "nothing"}
    checks = [c for o in outcomes for c in o.checks]
    assert checks and all(checks)
    assert not [o.q.text for o in outcomes if o.unsupported]
    assert all(o.data["answer"] == assistant.NOTHING for o in outcomes if o.q.kind == "nothing")
    assert sum(o.answer_ok for o in outcomes) >= 0.8 * len(outcomes), "\n".join(lines)


def test_the_development_question_file_is_well_formed() -> None:
    """bench/assistant.py --questions reads it: at least 40 questions, half of them past cases naming no patient,
    each with an expected fact (or an expected 'no record') and record, the MTSamples rows it names found."""
    sys.path.insert(0, str(REPO / "bench"))
    import assistant  # type: ignore[import-not-found]

    questions = assistant.load_questions(REPO / "bench" / "assistant_dev.jsonl")
    assert len(questions) >= 40
    past = [q for q in questions if q["kind"] == "past-case"]
    assert 2 * len(past) >= len(questions)
    assert all(not q.get("patient") for q in past)
    assert all(q.get("expect_none") or ((q.get("expect") or q.get("expect_all")) and q.get("expect_mrn"))
               for q in questions)
    rows, aci = assistant.referenced(questions)
    assert rows and all(f"MTS-{r}" in {q.get("expect_mrn") for q in questions} for r in rows)
    assert aci


def test_a_question_sets_chart_entries_are_typed_in_through_the_domain_api(shared_vault: VaultFixture,
                                                                            tmp_path: Path) -> None:
    """bench/assistant.py --chart-entries: patients and entries added as a technician would (refusals reported),
    then asked about like any chart."""
    sys.path.insert(0, str(REPO / "bench"))
    import assistant_corpus  # type: ignore[import-not-found]

    from archive.assistant import ask

    path = tmp_path / "chart_entries.jsonl"
    rows = [
        {"patient": {"mrn": "HX-100", "name": "Harriet Quill", "dob": "1950-04-02", "sex": "F"}},
        {"entry": {"mrn": "HX-100", "kind": "referral", "text": "Endocrinology referral", "date": "2022-02-02",
                   "to": "Dr Amal Reyes", "reason": "poorly controlled diabetes"}},
        {"entry": {"mrn": "HX-100", "kind": "medication", "text": "Glipizide 5 mg", "date": "2018-01-10",
                   "dose": "5 mg", "stop": "2019-03-01"}},
        {"entry": {"mrn": "HX-100", "kind": "medication", "text": "Metformin 500 mg", "date": "2019-03-01"}},
        {"entry": {"mrn": "HX-100", "kind": "procedure", "text": "Knee arthroscopy", "date": "1940-01-01"}},
        {"entry": {"mrn": "HX-100", "kind": "medication", "text": "Warfarin 5 mg tablet", "date": "2021-06-01",
                   "status": "stopped", "stop": "2021-08-30", "reason": "upper GI bleed"}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    tess = shared_vault.open("tess", TECH_PASS)
    refused = assistant_corpus.add_chart_entries(tess, "drmaria", assistant_corpus.load_chart_entries(path))
    tess.close()
    assert len(refused) == 1 and "1940-01-01" in refused[0]  # before birth: refused by the chart's own rules
    phys = shared_vault.open("drmaria", PHYS_PASS)
    why = ask(phys, "Why was Harriet Quill referred to endocrinology?")
    assert "reason: poorly controlled diabetes" in why.answer and "chart entry typed in" in why.answer
    now = ask(phys, "What is Ms. Quill on now?").answer.splitlines()
    assert "Metformin 500 mg" in now[1] and "Glipizide 5 mg" in now[2] and "(stopped)" in now[2]
    phys.close()
    phys = shared_vault.open("drmaria", PHYS_PASS)
    still = ask(phys, "Is Harriet Quill still taking glipizide?")
    assert still.answer.startswith("No: glipizide was stopped (2019-03-01)")
    stop = ask(phys, "When did Harriet Quill stop glipizide?")
    assert stop.answer.startswith("2019-03-01 — for MRN HX-100")
    how = ask(phys, "What dose of metformin is Ms. Quill on?")
    assert how.answer.startswith("From the chart of MRN HX-100") and "Metformin 500 mg" in how.answer
    warfarin = ask(phys, "Why was Harriet Quill's warfarin stopped?")  # a medication's "reason": its stop reason
    assert warfarin.answer.startswith("Warfarin 5 mg tablet was stopped on 2021-08-30; the chart's stop reason: "
                                      "upper GI bleed"), warfarin.answer
    phys.close()


def test_a_miss_is_classified_by_the_stage_where_it_was_lost() -> None:
    """bench/assistant.py's stages: another record cited (a), the answering sentence not cited (b), cited but the
    fact not stated (c), no fact answer at all (d), the expected form in no record of the patient (e)."""
    sys.path.insert(0, str(REPO / "bench"))
    import assistant  # type: ignore[import-not-found]

    note = "FINDINGS: The left ovary is normal.  A 3 cm cyst was seen.  Salpingectomy was performed."

    class Rows:
        def execute(self, _sql: str, _args: list[str]) -> list[tuple[str]]:
            return [("blob",)]

    class Blobs:
        def get_bytes(self, _blob: str) -> bytes:
            return note.encode()

    session = argparse.Namespace(db=Rows(), blobs=Blobs())
    q = {"kind": "past-case/value", "expect_mrn": "MTS-1"}

    def stage(answer: str, passage: str, expect: str, record_ok: bool = True) -> str:
        cites = [{"passage": passage}] if passage else []
        return assistant._stage(session, q, answer, cites, ["MTS-1"] if record_ok else ["MTS-2"], [expect], record_ok)

    assert stage("2 cm — case MRN MTS-2", "A 2 cm mass.", "3 cm", record_ok=False) == "a"
    assert stage("The left ovary is normal.", "The left ovary is normal.", "3 cm") == "b"
    assert stage("Answer: cyst", "A 3 cm cyst was seen.", "3 cm") == "c"
    assert stage("Which patient do you mean?", "", "3 cm") == "d"
    assert stage("The left ovary is normal.", "The left ovary is normal.", "4 cm") == "e"
