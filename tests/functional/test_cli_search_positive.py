"""CLI: each search hit carries the assertion of its mention; search --positive in every mode (issue 22)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.cli_helpers import import_notes, invoke, ok_json
from tests.conftest import VaultFixture

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")

NOTES = {
    "P1__affirms.txt": "Emergency visit. Crushing chest pain radiating to the left arm since this morning.",
    "P2__denies.txt": "Follow-up visit. Patient denies chest pain. Blood pressure well controlled.",
    "P3__family.txt": "FAMILY HISTORY:\nFather had chest pain and a heart attack at 50.\n\nASSESSMENT: asthma.",
    "P4__return.txt": "Discharged home. Return to the emergency department if chest pain recurs.",
    "P5__history.txt": "PAST MEDICAL HISTORY:\nChest pain in 2019, normal angiogram.\n\nToday: knee sprain.",
}


@pytest.fixture(scope="module")
def imported(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return import_notes(shared_vault.root, tmp_path_factory.mktemp("assert-notes"), NOTES)


def test_each_hit_carries_its_assertion(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    hits = ok_json(invoke(shared_vault.root, "search", "chest pain", "--mode", "fts", "--json"))
    said = {h["record_id"]: h["assertion"] for h in hits}
    assert said == {
        imported["P1__affirms.txt"]: "affirmed",
        imported["P2__denies.txt"]: "negated",
        imported["P3__family.txt"]: "family",
        imported["P4__return.txt"]: "hypothetical",
        imported["P5__history.txt"]: "historical",
    }
    denied = next(h for h in hits if h["record_id"] == imported["P2__denies.txt"])
    assert denied["mention"].lower() == "chest pain"
    text = invoke(shared_vault.root, "search", "chest pain", "--mode", "fts").output
    assert "[negated]" in text and "[family]" in text


@pytest.mark.parametrize("mode", ["fts", "semantic", "hybrid"])
def test_positive_keeps_records_that_affirm(shared_vault: VaultFixture, imported: dict[str, str], mode: str) -> None:
    hits = ok_json(invoke(shared_vault.root, "search", "chest pain", "--mode", mode, "--positive", "--json"))
    kept = {h["record_id"] for h in hits}
    assert kept == {imported["P1__affirms.txt"], imported["P5__history.txt"]}, hits
    assert {h["assertion"] for h in hits} == {"affirmed", "historical"}


def test_positive_with_nothing_affirmed_says_so(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    result = invoke(shared_vault.root, "search", "heart attack", "--mode", "fts", "--positive")
    assert result.exit_code == 0 and result.output.strip() == "No record affirms it."


def test_positive_is_audited(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    invoke(shared_vault.root, "search", "chest pain", "--mode", "fts", "--positive", "--json")
    row = shared_vault.session.db.execute(  # type: ignore[attr-defined]
        "SELECT details FROM audit WHERE action = 'search' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    details = json.loads(row[0])
    assert details["positive"] is True and details["query"] == "chest pain" and details["hits"] == 2


def test_help_names_positive() -> None:
    out = CliRunner().invoke(cli, ["search", "--help"]).output
    assert "--positive" in out and "Only records that affirm the query" in out
