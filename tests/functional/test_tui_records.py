"""TUI: search as you type, open a record, file from the queue, the inbox watched while open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

from tests.conftest import TECH_PASS, VaultTemplate
from tests.tui_helpers import Posted, unlock, vault_with_notes, wait_until
from tui.app import make_app
from tui.messages import RecordLoaded, SearchDone
from tui.screens.main import MainScreen
from tui.screens.queue import QueueScreen
from tui.screens.record import RecordScreen
from tui.widgets.results import SearchResults

_wait = wait_until


@pytest.fixture(autouse=True)
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The semantic stage's fake embedder: these tests are about full text, not the model (torch)."""
    monkeypatch.setenv("CHARTVAULT_EMBEDDER", "fake")


NOTES = {
    "123__consult.txt": "Consult: recurrent zebrafish allergy with urticaria after the aquarium.",
    "orphan.txt": "Letter about a platypus bite, patient not named.",
    "other.txt": "MRN: 555\nRoutine visit, blood pressure fine.",
}


@pytest.fixture(scope="module")
def vault_root(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Path:
    # admin, tess, drmaria; the three notes imported
    return vault_with_notes(users_vault_template, tmp_path_factory.mktemp("tui-records") / "vault",
                            tmp_path_factory.mktemp("notes"), NOTES)


async def _unlock(app: Any, pilot: Any) -> MainScreen:
    await unlock(pilot, TECH_PASS)
    main = app.screen
    if hasattr(main, "mode"):  # full-text mode: these tests are about the words typed, not the model
        main.mode = "fts"
    return main  # type: ignore[no-any-return]


async def test_search_as_you_type_open_record_and_file_from_queue(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="tess")
    posted = Posted()
    async with app.run_test(size=(100, 32), message_hook=posted) as pilot:
        main = await _unlock(app, pilot)
        search_box = main.query_one("#search", Input)
        await _wait(pilot, lambda: app.focused is search_box, "the search box focused after unlock", timeout=5)
        await pilot.press(*"zebrafi")
        results = main.query_one("#results", SearchResults)
        await _wait(pilot, lambda: results.option_count == 1, "a hit while typing")
        await pilot.press(*"sh allergy")
        done = await posted.wait_for(pilot, SearchDone, "the final search", lambda m: m.query == "zebrafish allergy")
        assert done.error is None and len(done.hits) == 1
        await _wait(pilot, lambda: main.last_query == "zebrafish allergy" and main.searches >= 2, "final search")
        assert results.option_count == 1
        prompt = str(results.get_option_at_index(0).prompt)
        assert "zebrafish" in prompt and "123" in prompt
        await pilot.press("down", "enter")
        await _wait(pilot, lambda: isinstance(app.screen, RecordScreen), "record screen")
        record = app.screen
        loaded = await posted.wait_for(pilot, RecordLoaded, "the record loaded")
        assert loaded.error is None and loaded.record_id == record.record_id  # type: ignore[attr-defined]
        await _wait(pilot, lambda: record.view is not None, "record shown")  # type: ignore[attr-defined]
        body = str(record.query_one("#record-body", Static).render())
        assert "recurrent zebrafish allergy" in body
        await pilot.press("escape")
        await _wait(pilot, lambda: isinstance(app.screen, MainScreen), "back to search")
        # a query typed badly is explained, not crashed on
        search = main.query_one("#search", Input)
        search.value = "zebrafish OR"
        await _wait(pilot, lambda: "needs a word on each side" in str(
            main.query_one("#results-status", Static).render()), "bad-query hint")
        # the work queues: file the record that has no patient
        await pilot.press("f2")
        await _wait(pilot, lambda: isinstance(app.screen, QueueScreen), "queue screen")
        queue = app.screen
        await _wait(pilot, lambda: queue.loads >= 1, "queues loaded")  # type: ignore[attr-defined]
        table = queue.query_one("#filing", DataTable)
        assert table.row_count == 1
        assert "orphan.txt" in str(table.get_row_at(0))
        queue.query_one("#filing-mrn", Input).value = "P-42"
        await pilot.click("#file")
        await _wait(pilot, lambda: queue.loads >= 2, "queues reloaded")  # type: ignore[attr-defined]
        assert "Filed" in str(queue.query_one("#queue-message", Static).render())
        assert queue.query_one("#filing", DataTable).row_count == 0


async def test_inbox_is_watched_while_open(vault_root: Path) -> None:
    inbox = vault_root / "inbox"
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(100, 32)) as pilot:
        main = await _unlock(app, pilot)
        main.query_one("#search", Input).value = "quokka"
        await _wait(pilot, lambda: main.searches >= 1, "first search")
        results = main.query_one("#results", SearchResults)
        assert results.option_count == 0
        assert main.inbox is not None
        (inbox / "arrival.txt").write_text("MRN: 777\nQuokka encounter at the zoo; minor scratch.")
        # the watcher imports it and the open search refreshes itself
        await _wait(pilot, lambda: results.option_count == 1, "the new record in the results", timeout=30)
        await _wait(pilot, lambda: not (inbox / "arrival.txt").exists(), "the inbox cleared")
