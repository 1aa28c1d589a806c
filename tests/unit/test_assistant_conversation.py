"""The assistant over a small vault: answers, follow-ups, ambiguity, counts, the check, nothing-found, audit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.assistant import NOTHING_FOUND, Conversation, ask
from archive.assistant.answer import Draft, Statement
from archive.assistant.citations import Citation, normalise
from tests.assistant_helpers import FHIR_MRN, corpus_physician
from tests.conftest import VaultFixture


@pytest.fixture(scope="module")
def phys(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from corpus_physician(shared_vault, tmp_path_factory.mktemp("corpus"))


def record_of(session: Any, mrn: str) -> str:
    return str(session.db.execute("SELECT id FROM records WHERE patient_mrn = ?", [mrn]).fetchone()[0])


def text_of(session: Any, record_id: str) -> str:
    blob = session.db.execute("SELECT text_blob_id FROM records WHERE id = ?", [record_id]).fetchone()[0]
    return normalise(session.blobs.get_bytes(blob).decode())


def assert_verified(session: Any, answer: Any) -> None:
    """Every citation's passage is in its record's text (checked independently of the assistant)."""
    assert answer.citations
    for c in answer.citations:
        assert normalise(c.passage) in text_of(session, c.record_id)


def test_antibiotics_then_follow_ups(phys: Any) -> None:
    conv = Conversation(phys)
    first = conv.ask("What antibiotics did Jane Roe get?")
    assert first.kind == "list" and not first.refused
    assert "Amoxicillin 500 MG Oral Capsule" in first.answer and "Cefuroxime 250 MG Oral Tablet" in first.answer
    assert "Ibuprofen" not in first.answer and "Lisinopril" not in first.answer  # not antibiotics
    assert {c.record_id for c in first.citations} == {record_of(phys, FHIR_MRN)}
    assert_verified(phys, first)

    march = conv.ask("and in March 2021?")
    assert "Amoxicillin" in march.answer and "Cefuroxime" not in march.answer
    assert [c.date for c in march.citations] == ["2021-03-05"]

    procedures = conv.ask("what about her procedures?")  # her = Jane Roe; the period carries over
    assert procedures.kind == "list"
    assert "Appendectomy" in procedures.answer and "Amoxicillin" not in procedures.answer
    assert_verified(phys, procedures)

    timeline = conv.ask("Summarise her timeline")
    assert timeline.kind == "timeline" and "Timeline of MRN MRN-100" in timeline.answer
    for item in ("Encounter for symptom", "Hypertension", "Appendectomy", "Lisinopril"):
        assert item in timeline.answer
    assert_verified(phys, timeline)


def test_a_month_without_a_year_takes_the_conversations_year_or_any_year(phys: Any) -> None:
    any_year = Conversation(phys).ask("what antibiotics did Jane Roe get in March?")
    assert "Amoxicillin" in any_year.answer and "Cefuroxime" in any_year.answer  # 2021-03 and 2019-03
    conv = Conversation(phys)
    july = conv.ask("what medications did MRN MRN-100 get in July 2020?")
    assert "Lisinopril 10 MG Oral Tablet" in july.answer and "Amoxicillin" not in july.answer
    assert conv.ask("and in March?").answer == NOTHING_FOUND  # March 2020: nothing that month
    assert "Amoxicillin" in conv.ask("and in March 2021?").answer


def test_ambiguous_name_asks_which_and_the_reply_resolves_it(phys: Any) -> None:
    conv = Conversation(phys)
    clarify = conv.ask("What did Smith take?")
    assert clarify.kind == "clarify" and not clarify.citations
    assert "MRN-200" in clarify.answer and "MRN-300" in clarify.answer
    answer = conv.ask("MRN-300")
    assert answer.kind == "list" and answer.patient == "MRN-300"
    assert "Ibuprofen 600 mg" in answer.answer and "atorvastatin" not in answer.answer
    assert_verified(phys, answer)


def test_counts_skip_negated_mentions(phys: Any) -> None:
    answer = ask(phys, "How many patients had chest pain?")
    assert answer.kind == "count"
    assert answer.answer.startswith("2 patients had chest pain")
    assert "MRN-200" in answer.answer and "MRN-400" in answer.answer
    assert "MRN-300" not in answer.answer  # "She denies chest pain."
    hypertension = ask(phys, "how many patients had hypertension?")
    assert hypertension.answer.startswith("3 patients had hypertension")
    in_2021 = ask(phys, "how many patients had hypertension in 2021?")
    assert in_2021.answer.startswith("1 patient had hypertension in 2021")
    assert_verified(phys, hypertension)


def test_find_similar_and_passages(phys: Any) -> None:
    found = ask(phys, "Find records about chest pain")
    assert found.kind == "find"
    cited = {c.record_id for c in found.citations}
    assert record_of(phys, "MRN-200") in cited and record_of(phys, "MRN-400") in cited
    conv = Conversation(phys)
    conv.ask("show me records about angina for MRN MRN-200")
    similar = conv.ask("similar cases to the first one")
    assert similar.kind == "similar"
    assert record_of(phys, "MRN-400") in {c.record_id for c in similar.citations}
    plan = ask(phys, "what is the plan for Tom Lee's chest pain?")
    assert plan.kind == "passages" and all(c.record_id == record_of(phys, "MRN-400") for c in plan.citations)
    assert_verified(phys, plan)


def test_nothing_found_is_said_exactly(phys: Any) -> None:
    for question in ("Find records about Ebola", "what did Jane Roe get in 1999?", "how many patients had scurvy?"):
        answer = ask(phys, question)
        assert answer.answer == NOTHING_FOUND, question
        assert answer.citations == [] and not answer.refused


def test_failing_citations_are_dropped_with_their_statements(phys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.assistant import handlers

    rid = record_of(phys, "MRN-200")
    good = Citation(rid, "2021-02-01", "Stable angina.", "MRN-200")
    forged = Citation(rid, "2021-02-01", "Myocardial infarction ruled in.", "MRN-200")
    tampered = Citation(rid, "2021-02-01", "Stable  angina.\nWe will start atorvastatin 80 mg daily", "MRN-200")

    def fake(ctx: Any, intent: Any) -> Draft:
        return Draft("find", [Statement("true", [good]), Statement("forged", [forged]),
                              Statement("tampered", [tampered]), Statement("half", [good, forged])],
                     lead=lambda sts: f"{len(sts)} statements:")

    monkeypatch.setitem(handlers.HANDLERS, "find", fake)
    answer = ask(phys, "find records about angina")
    assert answer.answer.splitlines() == ["1 statements:", "- true [1]"]
    assert answer.citations == [good] and answer.dropped == 3

    def only_forged(ctx: Any, intent: Any) -> Draft:
        return Draft("find", [Statement("forged", [forged])], lead=lambda sts: "x")

    monkeypatch.setitem(handlers.HANDLERS, "find", only_forged)
    assert ask(phys, "find records about angina").answer == NOTHING_FOUND


def test_every_question_is_one_audit_entry_with_details(phys: Any) -> None:
    before = phys.db.execute("SELECT max(seq) FROM audit").fetchone()[0]
    answer = ask(phys, "What antibiotics did Jane Roe get?")
    rows = phys.db.execute(
        "SELECT action, outcome, patient, record, details FROM audit WHERE seq > ? ORDER BY seq", [before]
    ).fetchall()
    asks = [r for r in rows if r[0] == "assistant_ask"]
    assert len(asks) == 1
    details = json.loads(asks[0][4])
    assert details["question"] == "What antibiotics did Jane Roe get?"
    assert details["intent"] == "list" and details["patients"] == [FHIR_MRN]
    assert details["records"] == [c.record_id for c in answer.citations][:1]
    reads = {r[3] for r in rows if r[0] == "ask_about_patient" and r[1] == "ok"}
    assert {c.record_id for c in answer.citations} <= reads


def test_empty_and_oversized_questions_are_user_errors(phys: Any) -> None:
    from archive.errors import BadInput

    with pytest.raises(BadInput):
        ask(phys, "   ")
    with pytest.raises(BadInput):
        ask(phys, "x" * 5000)


def test_code_questions_use_the_code_set(phys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import archive.coding
    from indexer.icd10 import CodeHit

    seen: list[str] = []

    def fake_search(session: Any, query: str, limit: int = 20, billable_only: bool = False) -> list[Any]:
        seen.append(query)
        return [CodeHit("I50.9", "Heart failure, unspecified", True, "subcategory", 1.0, "text")]

    monkeypatch.setattr(archive.coding, "search_codes", fake_search)
    answer = ask(phys, "What ICD-10 code fits congestive heart failure?")
    assert seen == ["congestive heart failure"]
    assert answer.kind == "code" and "I50.9 Heart failure, unspecified" in answer.answer and not answer.citations


def test_with_embeddings_retrieval_is_hybrid_and_similar_uses_meaning(shared_vault: VaultFixture, phys: Any) -> None:
    """Last in the module: embeds the corpus (fake embedder), after which retrieval goes through archive.search."""
    from archive.embedding import embed_backlog, has_embeddings, use_embedder
    from indexer.embedder import FakeEmbedder

    use_embedder(FakeEmbedder())
    try:
        embed_backlog(shared_vault.session)  # type: ignore[arg-type]
        assert has_embeddings(phys)
        before = phys.db.execute("SELECT max(seq) FROM audit").fetchone()[0]
        # no record has all these words, so meaning steps in; the passage must still use most of them
        found = ask(phys, "Find records about chest pain radiating to the jaw")
        modes = [json.loads(r[0]).get("mode") for r in phys.db.execute(
            "SELECT details FROM audit WHERE seq > ? AND action = 'search'", [before]).fetchall()]
        assert "hybrid" in modes
        # a fake embedder's neighbours mean nothing: whatever it found is quoted and verified, or nothing is said
        if found.answer != NOTHING_FOUND:
            assert_verified(phys, found)
            assert all("chest pain radiating" in c.passage for c in found.citations)
        similar = ask(phys, f"similar cases to record {record_of(phys, 'MRN-200')}")
        assert similar.kind == "similar" and len({c.record_id for c in similar.citations}) >= 2
        assert_verified(phys, similar)
        assert ask(phys, "Find records about Ebola").answer == NOTHING_FOUND
    finally:
        use_embedder(None)
