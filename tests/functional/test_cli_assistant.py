"""CLI: `chartvault ask` (JSON shape, exit 3 when refused) and `chartvault chat` (JSON Lines, follow-ups)."""

from __future__ import annotations

import json
from functools import partial

import pytest

from tests.assistant_helpers import FHIR_MRN, import_corpus
from tests.cli_helpers import invoke as cli_invoke
from tests.conftest import PHYS_PASS, TECH_PASS, VaultFixture

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")


@pytest.fixture(scope="module", autouse=True)
def corpus(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The corpus the questions are about, imported once for the module."""
    import_corpus(shared_vault.session, tmp_path_factory.mktemp("corpus"))


invoke = partial(cli_invoke, user="drmaria", passphrase=PHYS_PASS)  # as the physician by default


def test_ask_json_shape(shared_vault: VaultFixture) -> None:
    result = invoke(shared_vault.root, "ask", "--json", "what antibiotics did Jane Roe get in March 2021?")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"answer", "citations", "refused", "reason"}
    assert data["refused"] is False and data["reason"] is None
    assert "Amoxicillin 500 MG Oral Capsule" in data["answer"]
    assert data["citations"] and all(set(c) == {"record_id", "date", "passage"} for c in data["citations"])
    assert data["citations"][0]["date"] == "2021-03-05"
    assert "Amoxicillin 500 MG Oral Capsule" in data["citations"][0]["passage"]


def test_ask_text_and_patient_option(shared_vault: VaultFixture) -> None:
    result = invoke(shared_vault.root, "ask", "--patient", FHIR_MRN, "what", "procedures", "did", "she", "have?")
    assert result.exit_code == 0, result.output
    assert "Appendectomy" in result.stdout
    assert "Sources:" in result.stdout and "[1]" in result.stdout


def test_nothing_found_wording(shared_vault: VaultFixture) -> None:
    result = invoke(shared_vault.root, "ask", "--json", "find records about ebola")
    assert json.loads(result.stdout)["answer"] == "I found nothing in the records about that"


def test_technician_refused_exit_3(shared_vault: VaultFixture) -> None:
    result = invoke(shared_vault.root, "ask", "--json", "what antibiotics did Jane Roe get?", user="tess",
                    passphrase=TECH_PASS)
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["refused"] is True and data["citations"] == []
    assert "registered, active physicians" in data["reason"]
    text = invoke(shared_vault.root, "ask", "what antibiotics did Jane Roe get?", user="tess", passphrase=TECH_PASS)
    assert text.exit_code == 3
    assert "Refused: The assistant discusses patient files only with registered, active physicians." in text.stderr
    assert "Traceback" not in text.output


def test_remote_model_refused_exit_2(shared_vault: VaultFixture) -> None:
    result = invoke(shared_vault.root, "ask", "--llm-url", "http://203.0.113.5:8080/v1", "what about Jane Roe")
    assert result.exit_code == 2
    assert "not this machine" in result.stderr and "--allow-remote" in result.stderr


def test_chat_json_lines_with_follow_ups(shared_vault: VaultFixture) -> None:
    stdin = "What antibiotics did Jane Roe get?\n\nand in March 2021?\nwhat about her procedures?\nquit\nignored\n"
    result = invoke(shared_vault.root, "chat", "--json", stdin=stdin)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    assert "Cefuroxime" in lines[0]["answer"] and "Cefuroxime" not in lines[1]["answer"]
    assert "Appendectomy" in lines[2]["answer"]
    assert "> " not in result.stdout and "> " not in result.stderr  # no prompt when stdin is not a terminal
