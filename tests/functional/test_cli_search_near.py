"""CLI: full-text search tolerates OCR errors: near spellings, marked and ranked after exact hits (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from archive.cli import cli
from tests.conftest import TECH_PASS, VaultFixture

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")


def invoke(root: Path, *args: str) -> Result:
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": "tess", "CHARTVAULT_PASSPHRASE": TECH_PASS}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


NOTES = {
    "Q1__ocr.txt": "Joln Smitl\nRx Cimeti2ine 400 mg at night\nDATE O9-11-1Z",
    "Q2__typed.txt": "Prescription: cimetidine 400 mg at night for dyspepsia.",
}


@pytest.fixture(scope="module")
def imported(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    src = tmp_path_factory.mktemp("near-notes")
    for name, text in NOTES.items():
        (src / name).write_text(text)
    report = ok_json(invoke(shared_vault.root, "import", str(src), "--json"))
    assert report["imported"] == len(NOTES)
    return {o["input"].rsplit("/", 1)[-1]: o["record_id"] for o in report["outcomes"]}


def test_misread_word_found_after_exact_hits_and_marked(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    hits = ok_json(invoke(shared_vault.root, "search", "cimetidine", "--mode", "fts", "--json"))
    ids = [h["record_id"] for h in hits]
    typed, ocr = imported["Q2__typed.txt"], imported["Q1__ocr.txt"]
    assert typed in ids and ocr in ids
    assert ids.index(typed) < ids.index(ocr)
    by_id = {h["record_id"]: h for h in hits}
    assert by_id[typed]["fuzzy"] is False and by_id[ocr]["fuzzy"] is True
    assert "Cimeti2ine" in by_id[ocr]["snippet"]
    assert max(h["score"] for h in hits if h["fuzzy"]) < min(h["score"] for h in hits if not h["fuzzy"])
    text = invoke(shared_vault.root, "search", "cimetidine", "--mode", "fts")
    ocr_line = next(line for line in text.stdout.splitlines() if line.startswith(ocr))
    assert "~near spelling" in ocr_line
    assert "by a near spelling" in text.stderr


def test_phrases_and_exact_words_are_not_widened(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    hits = ok_json(invoke(shared_vault.root, "search", '"cimetidine 400"', "--mode", "fts", "--json"))
    assert imported["Q1__ocr.txt"] not in {h["record_id"] for h in hits}
    hits = ok_json(invoke(shared_vault.root, "search", "cimeti2ine", "--mode", "fts", "--json"))
    assert [(h["record_id"], h["fuzzy"]) for h in hits][0] == (imported["Q1__ocr.txt"], False)
