"""TUI: a search a reviewer trusts: open at the hit and step through hits, save and rerun a search, build and
search a patient list, the patients view, the weak-match notice (the fake embedder; tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, OptionList, Static

from tests.conftest import TECH_PASS, VaultTemplate
from tests.tui_helpers import unlock, vault_with_notes, wait_until
from tui.app import make_app
from tui.screens.main import MainScreen
from tui.screens.record import RecordScreen
from tui.screens.saved import AskName, SavedScreen
from tui.widgets.results import SearchResults

_wait = wait_until
FILLER = "Vital signs were stable and the patient rested comfortably overnight. " * 8

NOTES = {
    "long.txt": "MRN: 2001\nPatient: Ann Lee\nDate: 2023-01-10\n\n"
                + "\n".join(f"Day {d}. {FILLER}" for d in range(1, 40))
                + "\nDay 40. New onset sepsis; blood cultures drawn.\n"
                + "\n".join(f"Day {d}. {FILLER}" for d in range(41, 60))
                + "\nDay 60. The sepsis resolved on antibiotics.\n",
    "s2.txt": "MRN: 2001\nPatient: Ann Lee\nDate: 2024-02-01\n\nFollow-up after sepsis, recovered.\n",
    "p1.txt": "MRN: 2002\nPatient: Bo Chen\nDate: 2022-05-05\n\nPneumonia with early sepsis, treated.\n",
    "u1.txt": "MRN: 2003\nPatient: Cy Diaz\nDate: 2023-07-07\n\nPeptic ulcer; started on cimetadine 400 mg.\n",
}


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTVAULT_EMBEDDER", "fake")


@pytest.fixture(scope="module")
def vault_root(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Path:
    from archive.embedding import embed_backlog

    root = vault_with_notes(users_vault_template, tmp_path_factory.mktemp("tui-review") / "vault",
                            tmp_path_factory.mktemp("notes"), NOTES)
    tess: Any = None
    from archive.login import open_session

    tess = open_session(root, "tess", TECH_PASS)
    embed_backlog(tess)
    tess.close()
    return root


async def _unlock(app: Any, pilot: Any, mode: str | None = "fts") -> MainScreen:
    await unlock(pilot, TECH_PASS)
    main: MainScreen = app.screen  # type: ignore[assignment]
    main.mode = mode
    return main


async def _search(pilot: Any, main: MainScreen, query: str) -> SearchResults:
    before = main.searches
    main.query_one("#search", Input).value = query
    await _wait(pilot, lambda: main.searches > before and main.last_query == query, f"search {query!r}")
    return main.query_one("#results", SearchResults)


def _status(main: MainScreen) -> str:
    return str(main.query_one("#results-status", Static).render())


async def test_open_at_the_first_hit_and_step_through_hits(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(100, 32)) as pilot:
        main = await _unlock(app, pilot)
        results = await _search(pilot, main, "sepsis")
        ids = [results.get_option_at_index(i).id for i in range(results.option_count)]
        long_id = next(i for i in ids if "Day 40" in str(results.hits[i].snippet) or "long" in results.hits[i].filename)
        results.focus()
        results.highlighted = ids.index(long_id)
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, RecordScreen) and app.screen.view is not None, "record")
        record: RecordScreen = app.screen  # type: ignore[assignment]
        scroll = record.query_one("#record-scroll")
        assert len(record.hits) == 2 and record.current == 0
        text = record._body.plain if record._body is not None else ""
        assert [text[s:e].lower() for s, e in record.hits] == ["sepsis", "sepsis"]
        # Opened at the first hit, far below the top of a long record, its line in view.
        await _wait(pilot, lambda: scroll.scroll_y > 20, "scrolled to the first hit")
        first_y = scroll.scroll_y
        line = record.hit_line()
        assert first_y <= line + 2 <= first_y + scroll.size.height
        hits_line = str(record.query_one("#record-hits", Static).render())
        assert hits_line.startswith("Hit 1 of 2") and "n next" in hits_line
        # Every hit highlighted, the current one differently.
        assert record.shown_body is not None
        styled = {(span.start, span.end): str(span.style) for span in record.shown_body.spans}
        assert [styled.get(hit) for hit in record.hits] == [RecordScreen.CURRENT_STYLE, RecordScreen.HIT_STYLE]
        # n and N (shown in the footer) step through the hits, scrolling to each.
        shown = {b.binding.key for b in record.active_bindings.values() if b.binding.show}
        assert {"n", "N"} <= shown
        await pilot.press("n")
        await _wait(pilot, lambda: record.current == 1 and scroll.scroll_y > first_y, "the second hit")
        assert str(record.query_one("#record-hits", Static).render()).startswith("Hit 2 of 2")
        await pilot.press("N")
        await _wait(pilot, lambda: record.current == 0 and scroll.scroll_y == first_y, "back to the first hit")


async def test_save_and_rerun_a_search_then_build_and_search_a_list(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        main = await _unlock(app, pilot)
        await _search(pilot, main, "sepsis")
        # Ctrl+S (in the footer once there are results) asks for a name and saves the search.
        assert main.check_action("save", ()) is True
        await pilot.press("ctrl+s")
        await _wait(pilot, lambda: isinstance(app.screen, AskName), "the name prompt")
        app.screen.query_one("#ask-name", Input).value = "sepsis-review"
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, MainScreen), "back to search")
        from archive.saved import saved_searches

        await _wait(pilot, lambda: any(s.name == "sepsis-review" for s in saved_searches(app.session)), "saved")
        await _search(pilot, main, "ulcer")
        # F11: the saved search, Enter runs it again.
        await pilot.press("f11")
        await _wait(pilot, lambda: isinstance(app.screen, SavedScreen) and app.screen.loads > 0, "saved screen")
        saved: SavedScreen = app.screen  # type: ignore[assignment]
        first = saved.query_one("#saved-searches", OptionList).get_option_at_index(0)
        assert "sepsis-review: sepsis" in str(first.prompt)
        # A new list, filled from the search shown (ulcer: patient 2003), and by MRN.
        await pilot.press("c")
        await _wait(pilot, lambda: isinstance(app.screen, AskName), "list name prompt")
        app.screen.query_one("#ask-name", Input).value = "study"
        await pilot.press("enter")
        await _wait(pilot, lambda: app.screen is saved and saved.loads >= 2 and len(saved.lists) == 1, "list made")
        saved.query_one("#patient-lists", OptionList).focus()
        await pilot.press("a")
        await _wait(pilot, lambda: saved.loads >= 3 and saved.lists[0].size == 1, "the search's patient added")
        await pilot.press("m")
        await _wait(pilot, lambda: isinstance(app.screen, AskName), "MRN prompt")
        app.screen.query_one("#ask-name", Input).value = "2002"
        await pilot.press("enter")
        await _wait(pilot, lambda: app.screen is saved and saved.loads >= 4 and saved.lists[0].size == 2, "MRN added")
        # Enter on the list: the search screen searches within it.
        saved.query_one("#patient-lists", OptionList).focus()
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, MainScreen) and main.within == "study", "within the list")
        results = await _search(pilot, main, "sepsis OR ulcer")
        assert {h.patient for h in results.hits.values()} == {"2002", "2003"}  # 2001 is not on the list
        assert _status(main).startswith("Full text: Within list 'study'")
        # F11 again, Enter on the saved search: it runs as saved (all records again).
        await pilot.press("f11")
        await _wait(pilot, lambda: isinstance(app.screen, SavedScreen) and app.screen.loads > 0, "saved screen")
        app.screen.query_one("#saved-searches", OptionList).focus()
        await pilot.press("enter")
        await _wait(pilot, lambda: isinstance(app.screen, MainScreen) and main.last_query == "sepsis"
                    and main.within is None and main.result is not None and main.result.query == "sepsis", "rerun")
        assert {h.patient for h in main.query_one("#results", SearchResults).hits.values()} == {"2001", "2002"}


async def test_patients_view_toggles_with_ctrl_b(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        main = await _unlock(app, pilot)
        results = await _search(pilot, main, "sepsis")
        assert results.option_count == 3
        await pilot.press("ctrl+b")
        await _wait(pilot, lambda: main.by_patient and results.option_count == 2, "one row per patient")
        first = str(results.get_option_at_index(0).prompt)
        assert first.startswith("2001  Ann Lee  2 matching records  2023-01-10 to 2024-02-01  note")
        assert results.get_option_at_index(1).id == "patient:2002"
        results.focus()
        results.highlighted = 0
        await pilot.press("enter")  # that patient's records
        await _wait(pilot, lambda: not main.by_patient and results.option_count == 2, "the patient's records")
        assert {h.patient for h in results.hits.values()} == {"2001"}
        await pilot.press("ctrl+b")
        await _wait(pilot, lambda: main.by_patient and results.option_count == 2, "patients again")


async def test_weak_matches_are_announced(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        main = await _unlock(app, pilot, mode="hybrid")
        await _wait(pilot, lambda: main.model_state() == "ready", "the fake model ready")
        await _search(pilot, main, "cimetidine tablets")
        assert main.result is not None and main.result.mode == "hybrid" and main.result.weak
        assert _status(main).startswith("Hybrid: No record matches well; the closest 1 record (weak matches).")
        await _search(pilot, main, "sepsis blood cultures")
        assert main.result is not None and not main.result.weak
        assert "No record matches well" not in _status(main)
