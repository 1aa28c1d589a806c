"""The assistant benchmark's quick mode (CI): every citation passes the check, no unsupported answer."""

from __future__ import annotations

import argparse
import sys

from tests.conftest import REPO, shared_data


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
