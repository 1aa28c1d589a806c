"""TUI: full text before the model is ready, the model loading in the background, mode switch, similar cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static

from tests.conftest import TECH_PASS, VaultTemplate
from tests.functional.conftest import HeldModel
from tests.tui_helpers import unlock, vault_with_notes, wait_until
from tui.app import make_app
from tui.screens.main import MainScreen
from tui.screens.record import RecordScreen
from tui.screens.similar import SimilarScreen
from tui.widgets.results import SearchResults

_wait = wait_until

NOTES = {
    "1__hip.txt": "Elderly woman fell at home; right hip fracture; arthroplasty; post-op delirium.",
    "2__hip.txt": "Elderly man fell from a ladder; left hip fracture; nailed; post-op delirium.",
    "3__gout.txt": "Gouty arthritis of the great toe; colchicine.",
}


@pytest.fixture(scope="module")
def vault_root(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Path:
    # admin, tess, drmaria; the three notes imported, not embedded: the TUI will do it
    return vault_with_notes(users_vault_template, tmp_path_factory.mktemp("tui-semantic") / "vault",
                            tmp_path_factory.mktemp("notes"), NOTES)


async def test_model_loads_in_background_modes_and_similar_cases(vault_root: Path, held_model: HeldModel) -> None:
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, TECH_PASS)
        main = app.screen
        assert isinstance(main, MainScreen)
        mode_line = main.query_one("#search-mode", Static)
        await _wait(pilot, lambda: "loading" in str(mode_line.render()), "the model is said to be loading")
        # Full text works while the model loads (the UI is responsive: this search completes).
        main.query_one("#search", Input).value = "colchicine"
        results = main.query_one("#results", SearchResults)
        await _wait(pilot, lambda: main.searches >= 1 and results.option_count == 1, "a full-text hit")
        assert main.embedding is not None and main.embedding.embedded == 0
        # The model becomes ready; the backlog is embedded in the background.
        held_model.loaded.set()
        await _wait(pilot, lambda: main.embedding.embedded == 3, "the backlog embedded")
        await _wait(pilot, lambda: "model ready" in str(mode_line.render()), "model ready shown")
        # F4 cycles auto -> fts -> semantic; in semantic mode a query sharing no whole word still finds the notes.
        await pilot.press("f4", "f4")
        assert main.mode == "semantic" and "semantic" in str(mode_line.render())
        before = main.searches
        main.query_one("#search", Input).value = "fractured hips, falling elderly"
        await _wait(pilot, lambda: main.searches > before and main.last_query.startswith("fractured"), "search")
        await _wait(pilot, lambda: results.option_count >= 2, "semantic hits")
        top2 = {results.get_option_at_index(i).id for i in range(2)}
        names = {main.session.db.execute("SELECT filename FROM records WHERE id = ?", [r]).fetchone()[0] for r in top2}
        assert names == {"1__hip.txt", "2__hip.txt"}
        # Similar cases from the record view.
        results.focus()
        results.highlighted = 0
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, RecordScreen), "record screen")
        first = app.screen.record_id  # type: ignore[attr-defined]
        await pilot.press("s")
        await _wait(pilot, lambda: isinstance(app.screen, SimilarScreen), "similar screen")
        similar = app.screen
        await _wait(pilot, lambda: similar.loaded, "similar cases loaded")  # type: ignore[attr-defined]
        found = similar.query_one("#similar-results", SearchResults)
        other = ({"1__hip.txt", "2__hip.txt"} - {
            main.session.db.execute("SELECT filename FROM records WHERE id = ?", [first]).fetchone()[0]
        }).pop()
        top = main.session.db.execute(
            "SELECT filename FROM records WHERE id = ?", [found.get_option_at_index(0).id]
        ).fetchone()[0]
        assert top == other
        await pilot.press("escape")
        await _wait(pilot, lambda: isinstance(app.screen, RecordScreen), "back to the record")
