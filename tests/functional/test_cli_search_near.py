"""CLI: full-text search tolerates OCR errors: near spellings, marked and ranked after exact hits (issue 17)."""

from __future__ import annotations

import pytest

from tests.cli_helpers import import_notes, invoke, ok_json
from tests.conftest import VaultFixture

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")

NOTES = {
    "Q1__ocr.txt": "Joln Smitl\nRx Cimeti2ine 400 mg at night\nDATE O9-11-1Z",
    "Q2__typed.txt": "Prescription: cimetidine 400 mg at night for dyspepsia.",
}


@pytest.fixture(scope="module")
def imported(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return import_notes(shared_vault.root, tmp_path_factory.mktemp("near-notes"), NOTES)


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


def test_hybrid_lists_near_spellings_after_the_exact_hits(shared_vault: VaultFixture,
                                                         imported: dict[str, str]) -> None:
    hits = ok_json(invoke(shared_vault.root, "search", "cimetidine", "--mode", "hybrid", "--json"))
    ids = [h["record_id"] for h in hits]
    typed, ocr = imported["Q2__typed.txt"], imported["Q1__ocr.txt"]
    assert ids[:2] == [typed, ocr]  # the exact hit, then the misread one
    by_id = {h["record_id"]: h for h in hits}
    assert by_id[typed]["fuzzy"] is False and by_id[ocr]["fuzzy"] is True
    assert "Cimeti2ine" in by_id[ocr]["snippet"]
    assert by_id[ocr]["score"] < by_id[typed]["score"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert sum(h["fuzzy"] for h in hits) == 1
    text = invoke(shared_vault.root, "search", "cimetidine", "--mode", "hybrid")
    assert text.exit_code == 0, text.output
    assert text.stdout == (  # (the fake embedder's scores: deterministic)
        f"{typed}  -           note  Q2  score 0.73\n"
        "    Q2__typed.txt: Prescription: **cimetidine** 400 mg at night for dyspepsia.\n"
        f"{ocr}  -           note  Q1  score 0.72  ~near spelling\n"
        "    Q1__ocr.txt: Joln Smitl Rx **Cimeti2ine** 400 mg at night DATE O9-11-1Z\n")
    assert text.stderr == "1 hit by a near spelling, after the records holding the words.\n"


def test_semantic_mode_says_it_does_not_look_up_near_spellings(shared_vault: VaultFixture,
                                                               imported: dict[str, str]) -> None:
    hits = ok_json(invoke(shared_vault.root, "search", "cimetidine", "--mode", "semantic", "--json"))
    assert imported["Q1__ocr.txt"] not in {h["record_id"] for h in hits}
    assert not any(h["fuzzy"] for h in hits)
    text = invoke(shared_vault.root, "search", "cimetidine", "--mode", "semantic")
    assert text.exit_code == 0, text.output
    assert text.stderr == (
        "Semantic mode ranks by meaning and does not look up near spellings (OCR misreadings): 1 more record "
        "holds a near spelling of the query's words; --mode hybrid or fts lists it.\n")
    # a query no misreading resembles: nothing to say
    quiet = invoke(shared_vault.root, "search", "dyspepsia", "--mode", "semantic")
    assert quiet.exit_code == 0 and quiet.stderr == ""
