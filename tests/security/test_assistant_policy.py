"""Assistant policy: patient files only for registered, active physicians; everything audited; local model only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from archive.assistant import Conversation, ask
from archive.assistant.generative import LlmConfig
from archive.errors import UserError
from tests.assistant_helpers import FHIR_MRN, import_corpus
from tests.conftest import PHYS_PASS, TECH_PASS, VaultFixture
from tests.unit.test_assistant_generative import fake_model

OTHER_PHYS_PASS = "saffron quarry lantern"


@pytest.fixture(scope="module")
def sessions(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import_corpus(shared_vault.session, tmp_path_factory.mktemp("corpus"))
    tech = shared_vault.open("tess", TECH_PASS)
    phys = shared_vault.open("drmaria", PHYS_PASS)
    yield {"admin": shared_vault.session, "tech": tech, "phys": phys, "fx": shared_vault}
    tech.close()
    phys.close()


def entries_since(session: Any, seq: int) -> list[dict[str, Any]]:
    rows = session.db.execute(
        "SELECT seq, user, action, outcome, patient, record, reason, details FROM audit WHERE seq > ? ORDER BY seq",
        [seq],
    ).fetchall()
    keys = ("seq", "user", "action", "outcome", "patient", "record", "reason", "details")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def last_seq(session: Any) -> int:
    return int(session.db.execute("SELECT coalesce(max(seq), 0) FROM audit").fetchone()[0])


@pytest.mark.parametrize(
    "question",
    [
        "What antibiotics did Jane Roe get?",
        f"summarise the timeline of MRN {FHIR_MRN}",
        "Find records about chest pain",
        "similar cases to chest pain radiating to the left arm",
        "how many encounters did Jane Roe have for sinusitis?",
        "what is the plan for the knee pain",
    ],
)
def test_technician_asking_about_patients_is_refused_and_audited(sessions: dict[str, Any], question: str) -> None:
    tech = sessions["tech"]
    before = last_seq(tech)
    answer = ask(tech, question)
    assert answer.refused
    assert "registered, active physicians" in (answer.reason or "")
    assert answer.citations == [] and "Amoxicillin" not in answer.answer
    entries = entries_since(tech, before)
    denial = [e for e in entries if e["action"] == "ask_about_patient" and e["outcome"] == "denied"]
    asked = [e for e in entries if e["action"] == "assistant_ask"]
    assert len(denial) == 1 and denial[0]["user"] == "tess"
    assert len(asked) == 1 and asked[0]["outcome"] == "denied"
    assert json.loads(asked[0]["details"])["question"] == question
    # nothing was read: no record access by the technician for this question
    assert not [e for e in entries if e["record"] and e["outcome"] == "ok"]


def test_technician_may_ask_aggregates_naming_no_patient(sessions: dict[str, Any]) -> None:
    tech = sessions["tech"]
    answer = ask(tech, "How many patients had hypertension?")
    assert not answer.refused
    assert answer.answer.startswith("3 patients had hypertension")
    for name in ("Jane", "Roe", "John", "Smith", "Tom", "Lee", "MRN-"):
        assert name not in answer.answer
        assert all(name not in c.passage for c in answer.citations)


def test_technician_may_ask_for_codes(sessions: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.coding
    from indexer.icd10 import CodeHit

    monkeypatch.setattr(archive.coding, "search_codes",
                        lambda session, query, limit=20, billable_only=False:
                        [CodeHit("J01.90", "Acute sinusitis, unspecified", True, "subcategory", 1.0, "text")])
    answer = ask(sessions["tech"], "what ICD-10-CM code fits acute sinusitis?")
    assert not answer.refused and "J01.90" in answer.answer


def test_every_cited_record_is_audited_as_read(sessions: dict[str, Any]) -> None:
    phys = sessions["phys"]
    for question in ("What antibiotics did Jane Roe get?", "how many patients had chest pain?",
                     "Find records about hypertension"):
        before = last_seq(phys)
        answer = ask(phys, question)
        assert answer.citations, question
        entries = entries_since(phys, before)
        reads = {e["record"] for e in entries if e["action"] == "ask_about_patient" and e["outcome"] == "ok"}
        assert {c.record_id for c in answer.citations} <= reads
        asked = [e for e in entries if e["action"] == "assistant_ask"]
        assert len(asked) == 1
        details = json.loads(asked[0]["details"])
        assert set(details["records"]) == {c.record_id for c in answer.citations}
        assert {c.patient for c in answer.citations} <= set(details["patients"])


def test_disabled_physician_is_refused_at_once(sessions: dict[str, Any]) -> None:
    from archive.users import add_user, disable_user

    admin = sessions["admin"]
    add_user(admin, "drbob", "physician", OTHER_PHYS_PASS, full_name="Bob Ray", licence="MD-777")
    bob = sessions["fx"].open("drbob", OTHER_PHYS_PASS)
    try:
        conv = Conversation(bob)
        assert not conv.ask("What antibiotics did Jane Roe get?").refused
        disable_user(admin, "drbob")
        before = last_seq(bob)
        again = conv.ask("and in March 2021?")  # the same open conversation
        assert again.refused and again.citations == []
        assert "disabled" in (again.reason or "")
        entries = entries_since(bob, before)
        assert any(e["outcome"] == "denied" and e["user"] == "drbob" for e in entries)
        assert not any(e["record"] and e["outcome"] == "ok" for e in entries)
    finally:
        bob.close()


def test_generative_mode_sends_only_verified_passages_and_drops_hallucinations(sessions: dict[str, Any]) -> None:
    phys = sessions["phys"]
    extractive = ask(phys, "What antibiotics did Jane Roe get?")

    def reply(body: dict[str, Any]) -> str:
        return ('Jane was given "Amoxicillin 500 MG Oral Capsule" [1].\n'
                'She was also given "Vancomycin 1 G Injection" [2].\n'
                "She is allergic to penicillin.")

    with fake_model(reply) as (url, received):
        answer = Conversation(phys, llm=LlmConfig(url)).ask("What antibiotics did Jane Roe get?")
    assert answer.mode == "generative"
    assert "Amoxicillin 500 MG Oral Capsule" in answer.answer
    assert "Vancomycin" not in answer.answer and "allergic" not in answer.answer
    sent = received[0]["body"]["messages"][-1]["content"]
    for c in extractive.citations:
        assert " ".join(c.passage.split()) in sent
    # nothing but the question and those passages: no other record's content, no record ids
    assert "Lisinopril" not in sent and "Smith" not in sent and extractive.citations[0].record_id not in sent
    assert set(answer.citations) <= set(extractive.citations)


def test_remote_model_endpoints_are_refused(sessions: dict[str, Any]) -> None:
    from archive.assistant.generative import config_from

    with pytest.raises(UserError, match="not this machine"):
        config_from(sessions["phys"], "http://192.0.2.10:8080/v1", None, allow_remote=False)
    assert config_from(sessions["phys"], None, None, allow_remote=False) is None  # off by default
