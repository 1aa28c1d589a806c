"""TUI: a weak hit after a good one is marked and muted, in the results and in the patients view (Ctrl+B), whose
MRN column fits Synthea's 36-character MRNs; the key legend is the one of any search, and F1 says what the marks
mean (the fake embedder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.widgets import Input, Static

from tests.conftest import TECH_PASS, VaultTemplate
from tests.functional.test_cli_weak_hits import DERM, DIABETES, HEAT, NOTES, RASH
from tests.tui_helpers import unlock, vault_with_notes, wait_until
from tui.app import make_app
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.widgets.results import SearchResults

# As typed, the last word is a prefix (rash*): this order keeps the whole words where the CLI's test has them.
QUERY = "rash after amoxicillin"


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTVAULT_EMBEDDER", "fake")


@pytest.fixture(scope="module")
def vault_root(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Path:
    from archive.embedding import embed_backlog
    from archive.login import open_session

    root = vault_with_notes(users_vault_template, tmp_path_factory.mktemp("tui-weak") / "vault",
                            tmp_path_factory.mktemp("notes"), NOTES)
    tess = open_session(root, "tess", TECH_PASS)
    embed_backlog(tess)
    tess.close()
    return root


def _dim(prompt: Text) -> bool:
    """Whether the whole prompt is muted (a style over all of it, dim)."""
    return any(s.start == 0 and s.end >= len(prompt) and Style.parse(str(s.style)).dim for s in prompt.spans)


async def test_a_weak_hit_after_a_good_one_is_marked_and_muted(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, TECH_PASS)
        main: MainScreen = app.screen  # type: ignore[assignment]
        main.mode = "hybrid"
        await wait_until(pilot, lambda: main.model_state() == "ready", "the fake model ready")
        before = main.searches
        main.query_one("#search", Input).value = QUERY
        await wait_until(pilot, lambda: main.searches > before and main.last_query == QUERY, "the search")
        assert main.result is not None and main.result.mode == "hybrid" and not main.result.weak
        status = str(main.query_one("#results-status", Static).render())
        assert status.startswith("Hybrid: 4 records, 1 weak (muted: among the closest, not matches). Enter opens")
        results = main.query_one("#results", SearchResults)
        prompts = {results.hits[str(o.id)].patient: o.prompt for o in results.options}
        assert set(prompts) == {RASH, DERM, HEAT, DIABETES}
        for patient, prompt in prompts.items():
            assert isinstance(prompt, Text)
            weak = patient == DIABETES
            assert ("(weak)" in prompt.plain.split("\n")[0]) is weak, patient
            assert _dim(prompt) is weak, patient
        legend = {b.binding.key for b in main.active_bindings.values() if b.binding.show}
        assert {"ctrl+s", "ctrl+b", "ctrl+f"} <= legend
        # The patients view: one row per patient, the MRNs as one column, the weak patient marked and muted.
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: main.by_patient and results.option_count == 4, "one row per patient")
        rows = [results.get_option_at_index(i).prompt for i in range(4)]
        assert all(isinstance(r, Text) for r in rows)
        texts = [r.plain for r in rows if isinstance(r, Text)]
        assert {t[:36].rstrip() for t in texts} == {RASH, DERM, HEAT, DIABETES}
        assert {t.index("  -  ") for t in texts} == {36}  # every name starts after the widest MRN
        for row, text in zip(rows, texts, strict=True):
            weak = text.startswith(DIABETES)
            assert text.endswith("(weak)") is weak and _dim(row) is weak  # type: ignore[arg-type]
        assert {b.binding.key for b in main.active_bindings.values() if b.binding.show} == legend
        # F1 says what the marks mean.
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        help_text = app.screen.plain_text()  # type: ignore[attr-defined]
        assert "Marks on this screen" in help_text
        assert "(weak)" in help_text and "not a good match" in help_text and "~near spelling" in help_text


async def test_the_patients_view_keeps_mrns_and_names_in_columns() -> None:
    from archive.patient_view import PatientRow

    class Results(App[None]):
        def compose(self) -> Any:
            yield SearchResults(id="results")

    rows = [PatientRow(RASH, "Ann Lee", 2, "2020-01-01", "2021-01-01", ["note"]),
            PatientRow(HEAT, "Bartholomew Ng", 1, "2022-01-01", "2022-01-01", ["fhir:Bundle"], weak=True)]
    app = Results()
    async with app.run_test(size=(120, 20)):
        results = app.query_one(SearchResults)
        results.show_patients(rows)
        texts = [str(results.get_option_at_index(i).prompt) for i in range(2)]
    assert texts[0].startswith(f"{RASH}  Ann Lee         2 matching records")
    assert texts[1].startswith(f"{HEAT:<36}  Bartholomew Ng  1 matching record ")
    assert texts[1].endswith("(weak)") and not texts[0].endswith("(weak)")


def test_the_prompt_marks_only_weak_hits() -> None:
    """hit_prompt on its own: the mark and the muting come from the hit's `weak`, nothing else."""
    from archive.search import SearchHit
    from tui.widgets.results import hit_prompt

    hit = SearchHit("r1", "a.txt", "42", "2024-01-01", "note", 0.31, "a rash")
    assert "(weak)" not in hit_prompt(hit).plain and not _dim(hit_prompt(hit))
    weak: Any = SearchHit("r1", "a.txt", "42", "2024-01-01", "note", 0.31, "a rash", weak=True)
    assert "(weak)" in hit_prompt(weak).plain and _dim(hit_prompt(weak))
