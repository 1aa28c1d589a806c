"""TUI: what the semantic-mode notice tells a TUI user, the mode label over the results, similar cases' scores.

Issue 19: the notice used to give a CLI instruction ("Run 'chartvault reindex' ... --mode fts"), stayed
after the backlog was embedded, and the results under it did not say which mode produced them; similar
cases listed 20 records with no score whatever their similarity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from tests.conftest import TECH_PASS, VaultTemplate
from tests.functional.conftest import HeldModel
from tests.tui_helpers import Posted, unlock, vault_with_notes, wait_until
from tests.tui_helpers import text as _text  # a local `text` names what a widget shows
from tui.app import make_app
from tui.messages import BacklogCounted, SearchDone, SimilarLoaded
from tui.screens.main import MainScreen
from tui.screens.similar import SimilarScreen
from tui.widgets.results import SearchResults

NOTES = {
    "1__hip.txt": "Elderly woman fell at home; right hip fracture; arthroplasty; post-op delirium.",
    "2__hip.txt": "Elderly man fell from a ladder; left hip fracture; nailed; post-op delirium.",
    "3__gout.txt": "Gouty arthritis of the great toe; colchicine.",
}


@pytest.fixture
def vault_root(tmp_path: Path, users_vault_template: VaultTemplate) -> Path:
    """Three notes imported and not embedded (the TUI's background embedder will do it)."""
    return vault_with_notes(users_vault_template, tmp_path / "vault", tmp_path / "notes", NOTES)


async def _main(pilot: Any, app: Any) -> MainScreen:
    await unlock(pilot, TECH_PASS)
    assert isinstance(app.screen, MainScreen)
    return app.screen


async def test_semantic_notice_speaks_to_the_tui_user_and_clears_once_embedded(
    vault_root: Path, held_model: HeldModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui.app

    monkeypatch.setattr(tui.app, "BACKLOG_SECONDS", 0.5)  # the status line recounts the backlog sooner
    posted = Posted()
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40), message_hook=posted) as pilot:
        main = await _main(pilot, app)
        status = main.query_one("#results-status", Static)
        results = main.query_one("#results", SearchResults)
        await pilot.press("f4", "f4")  # auto -> fts -> semantic
        assert main.mode == "semantic"
        main.query_one("#search", Input).value = "colchicine"
        await posted.wait_for(pilot, SearchDone, "the semantic search", lambda m: m.query == "colchicine")
        # Nothing is embedded yet: full text stands in, says so over the results, and the notice tells a
        # TUI user what happens and which key switches the mode, not a command line to type.
        assert "chartvault reindex" not in _text(status), _text(status)
        assert _text(status).startswith("Full text: 1 record."), _text(status)
        assert results.option_count == 1
        notice = main.query_one("#search-notice", Static)
        assert notice.display
        text = _text(notice)
        assert "Semantic search is not ready" in text and "background embedder is catching up" in text, text
        assert "3 records waiting" in text and "F4 switches the mode" in text, text
        assert "chartvault" not in text and "--mode" not in text and "reindex" not in text, text
        # The model loads and the backlog is embedded; the app's recount (BacklogCounted) finds it empty,
        # the search runs again by meaning and the notice goes.
        searches = len(posted.of(SearchDone))
        held_model.loaded.set()
        await posted.wait_for(pilot, BacklogCounted, "the backlog counted empty", lambda m: m.backlog == 0)
        again = await posted.wait_for(pilot, SearchDone, "the search run again", after=searches)
        assert again.error is None and again.result.mode == "semantic"
        await wait_until(pilot, lambda: _text(status).startswith("Semantic: "), "the semantic label")
        assert not notice.display and _text(notice) == ""
        # Each mode labels its results.
        await pilot.press("f4")  # semantic -> hybrid
        assert main.mode == "hybrid"
        await wait_until(pilot, lambda: _text(status).startswith("Hybrid: "), "the hybrid label")
        await pilot.press("f4", "f4")  # hybrid -> auto -> fts
        assert main.mode == "fts"
        await wait_until(pilot, lambda: _text(status).startswith("Full text: "), "the full-text label")
        assert not notice.display


async def test_similar_cases_show_their_similarity_and_stop_at_the_floor(vault_root: Path) -> None:
    posted = Posted()
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40), message_hook=posted) as pilot:
        main = await _main(pilot, app)
        ids = {name: rid for rid, name in main.session.db.execute("SELECT id, filename FROM records")}
        app.push_screen(SimilarScreen(main.session, ids["1__hip.txt"]))
        loaded = await posted.wait_for(pilot, SimilarLoaded, "similar cases of the hip note")
        screen = app.screen
        assert isinstance(screen, SimilarScreen)
        found = screen.query_one("#similar-results", SearchResults)
        # Only the other hip note is close; the gout note is below the floor and left out.
        assert [found.get_option_at_index(i).id for i in range(found.option_count)] == [ids["2__hip.txt"]]
        from archive.search import similar_floor

        hit = loaded.result.hits[0]
        floor = similar_floor("fake-hash-64")
        assert hit.score >= floor
        prompt = str(found.get_option_at_index(0).prompt)
        assert f"similarity {hit.score:.2f}" in prompt, prompt
        status = str(screen.query_one("#similar-status", Static).render())
        assert status == f"1 case at least {floor:.2f} similar to {ids['1__hip.txt']}. Enter opens one.", status
        await pilot.press("escape")
        # The gout note has no close case at all: said so, not an arbitrary list.
        app.push_screen(SimilarScreen(main.session, ids["3__gout.txt"]))
        await posted.wait_for(pilot, SimilarLoaded, "similar cases of the gout note",
                              lambda m: m.record_id == ids["3__gout.txt"])
        screen = app.screen
        assert isinstance(screen, SimilarScreen)
        assert screen.query_one("#similar-results", SearchResults).option_count == 0
        status = str(screen.query_one("#similar-status", Static).render())
        assert status.startswith("No close cases"), status


async def test_similar_cases_say_how_many_records_were_not_compared(
    vault_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records still in the embedding backlog have no vectors: "No close cases" alone read as if none were alike."""
    import archive.embedding

    posted = Posted()
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40), message_hook=posted) as pilot:
        main = await _main(pilot, app)
        ids = {name: rid for rid, name in main.session.db.execute("SELECT id, filename FROM records")}
        monkeypatch.setattr(archive.embedding, "backlog", lambda session: 2)  # two still waiting
        app.push_screen(SimilarScreen(main.session, ids["3__gout.txt"]))
        await posted.wait_for(pilot, SimilarLoaded, "similar cases of the gout note")
        screen = app.screen
        assert isinstance(screen, SimilarScreen)
        status = str(screen.query_one("#similar-status", Static).render())
        assert status.startswith("No close cases"), status
        assert "2 records are not embedded yet and not compared" in status, status


async def test_model_loading_notice_goes_when_the_model_is_ready(vault_root: Path) -> None:
    """Records are embedded, but this process's model is still loading: full text says so, then the mode chosen."""
    from archive.embedding import embed_backlog, use_embedder
    from archive.login import open_session

    session = open_session(vault_root, "tess", TECH_PASS)
    embed_backlog(session)  # with the tests' fake
    session.close()
    model = HeldModel()
    use_embedder(model)
    try:
        posted = Posted()
        app = make_app(vault_dir=vault_root, user="tess")
        async with app.run_test(size=(120, 40), message_hook=posted) as pilot:
            main = await _main(pilot, app)
            status = main.query_one("#results-status", Static)
            await pilot.press("f4", "f4")  # auto -> fts -> semantic
            main.query_one("#search", Input).value = "colchicine"
            await posted.wait_for(pilot, SearchDone, "the semantic search", lambda m: m.query == "colchicine")
            assert _text(status).startswith("Full text: 1 record."), _text(status)
            notice = main.query_one("#search-notice", Static)
            assert notice.display and "Semantic search waits for the model, which is loading" in _text(notice)
            searches = len(posted.of(SearchDone))
            model.loaded.set()
            again = await posted.wait_for(pilot, SearchDone, "the search run again", after=searches)
            assert again.result.mode == "semantic" and again.result.fallback is None
            await wait_until(pilot, lambda: _text(status).startswith("Semantic: 1 record."), "the semantic label")
            assert not notice.display
    finally:
        model.loaded.set()
        use_embedder(None)


async def test_full_text_answers_from_the_first_keystroke_while_the_model_loads(
    vault_root: Path, held_model: HeldModel
) -> None:
    """Issue 16, finding 2: with every record embedded, a search typed while the model is still loading
    answers with full text at once (not when the model is ready), and turns hybrid silently once it is."""
    from archive.login import open_session
    from indexer.embedder import FakeEmbedder

    tess = open_session(vault_root, "tess", TECH_PASS)
    tess.store.records.embed_pending(FakeEmbedder())  # the same model id as the held one
    tess.close()
    posted = Posted()
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40), message_hook=posted) as pilot:
        main = await _main(pilot, app)
        status = main.query_one("#results-status", Static)
        results = main.query_one("#results", SearchResults)
        await pilot.press(*"hip")
        first = await posted.wait_for(pilot, SearchDone, "the first search", lambda m: m.query == "hip")
        assert not held_model.loaded.is_set() and main.model_state() == "loading"
        assert first.error is None and first.result.mode == "fts", first
        await wait_until(pilot, lambda: results.option_count == 2, "two hip notes listed while the model loads")
        assert _text(status).startswith("Full text: 2 records."), _text(status)
        notice = main.query_one("#search-notice", Static)
        assert not notice.display  # auto mode: nothing to explain
        searches = len(posted.of(SearchDone))
        held_model.loaded.set()
        again = await posted.wait_for(pilot, SearchDone, "the search run again", after=searches)
        assert again.error is None and again.result.mode == "hybrid"
        await wait_until(pilot, lambda: _text(status).startswith("Hybrid: "), "the hybrid label")
        assert not notice.display


async def test_semantic_mode_on_an_empty_vault_does_not_say_the_embedder_is_catching_up(
    tmp_path: Path, users_vault_template: VaultTemplate
) -> None:
    """No record at all: "the background embedder is catching up (0 records waiting)" promised what never comes."""
    root = tmp_path / "vault"
    users_vault_template.copy(root).session.close()
    posted = Posted()
    app = make_app(vault_dir=root, user="tess")
    async with app.run_test(size=(120, 40), message_hook=posted) as pilot:
        main = await _main(pilot, app)
        await posted.wait_for(pilot, BacklogCounted, "the backlog counted")
        await pilot.press("f4", "f4")  # auto -> fts -> semantic
        assert main.mode == "semantic"
        main.query_one("#search", Input).value = "colchicine"
        await posted.wait_for(pilot, SearchDone, "the search", lambda m: m.query == "colchicine")
        notice = main.query_one("#search-notice", Static)
        await wait_until(pilot, lambda: "vault holds no record yet" in _text(notice), "the notice")
        assert "catching up" not in _text(notice) and "0 records" not in _text(notice), _text(notice)
