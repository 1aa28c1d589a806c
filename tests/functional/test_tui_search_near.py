"""TUI: hybrid mode lists the records found by a near spelling of the query (OCR misreadings), marked
"~near spelling" after the exact hit, and says how many; semantic mode says where they are (issue 17)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.widgets import Static

from tests.conftest import TECH_PASS, VaultFixture, VaultTemplate
from tests.tui_helpers import signed_in, wait_until
from tui.app import make_app
from tui.widgets.results import SearchResults

NOTES = {
    "Q1__ocr.txt": "Joln Smitl\nRx Cimeti2ine 400 mg at night\nDATE O9-11-1Z",
    "Q2__typed.txt": "Prescription: cimetidine 400 mg at night for dyspepsia.",
}


@pytest.fixture(scope="module")
def tess(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Iterator[Any]:
    """tess's session on a vault holding the two notes, embedded (the fake embedder); and the vault's folder."""
    from archive.intake import import_paths

    fx: VaultFixture = users_vault_template.copy(tmp_path_factory.mktemp("near") / "v")
    src = tmp_path_factory.mktemp("near-notes")
    for name, text in NOTES.items():
        (src / name).write_text(text)
    session = fx.open("tess", TECH_PASS)
    assert import_paths(session, [src]).counts["imported"] == len(NOTES)
    yield session, fx.root
    session.close()
    fx.session.close()  # type: ignore[attr-defined]


def prompts(results: SearchResults) -> list[str]:
    return [str(results.get_option_at_index(i).prompt) for i in range(results.option_count)]


async def test_hybrid_mode_marks_the_near_spelling(tess: Any) -> None:
    session, root = tess
    ids = {name: rid for rid, name in session.db.execute("SELECT id, filename FROM records")}
    app = make_app(root)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await signed_in(pilot, session)
        status = main.query_one("#results-status", Static)
        results = main.query_one("#results", SearchResults)
        while main.mode != "hybrid":
            await pilot.press("f4")
        await pilot.click("#search")
        await pilot.press(*"cimetidine")
        await wait_until(pilot, lambda: main.last_query == "cimetidine" and str(status.render()).startswith(
            "Hybrid: 2 records") and results.option_count == 2, "hybrid results", timeout=60)
        shown = prompts(results)
        assert [results.get_option_at_index(i).id for i in range(2)] == [ids["Q2__typed.txt"], ids["Q1__ocr.txt"]]
        assert "~near spelling" not in shown[0]
        assert shown[1].startswith(f"{ids['Q1__ocr.txt']}  ~near spelling") and "Cimeti2ine" in shown[1]
        assert str(status.render()) == ("Hybrid: 2 records. Enter opens one. "
                                        "1 hit by a near spelling, after the records holding the words.")
        await pilot.press("f4", "f4", "f4")  # hybrid -> auto -> fts -> semantic
        await wait_until(pilot, lambda: main.mode == "semantic" and str(status.render()).startswith("Semantic: "),
                         "semantic results")
        assert all("~near spelling" not in p for p in prompts(results))
        assert "does not look up near spellings" in str(status.render())
