"""TUI (issue 22): each hit shows what its record says of the query (a badge, negated hits muted); Ctrl+F keeps
only the records that affirm it, and says so in the mode line and the footer."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Footer, Input, Static
from textual.widgets._footer import FooterKey

from tests.conftest import TECH_PASS, VaultTemplate
from tests.functional.conftest import HeldModel
from tests.tui_helpers import Posted, unlock, vault_with_notes, wait_until
from tui.app import make_app
from tui.messages import SearchDone
from tui.screens.main import MainScreen
from tui.widgets.results import SearchResults, hit_prompt

NOTES = {
    "1__affirms.txt": "Crushing chest pain radiating to the left arm since this morning.",
    "2__denies.txt": "Follow-up visit. Patient denies chest pain. Blood pressure controlled.",
    "3__family.txt": "FAMILY HISTORY:\nFather had chest pain and a heart attack at 50.\n\nASSESSMENT: asthma.",
}


@pytest.fixture
def vault_root(tmp_path: Path, users_vault_template: VaultTemplate) -> Path:
    return vault_with_notes(users_vault_template, tmp_path / "vault", tmp_path / "notes", NOTES)


async def test_badges_muting_and_the_affirmed_only_toggle(vault_root: Path, held_model: HeldModel) -> None:
    posted = Posted()
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40), message_hook=posted) as pilot:
        await unlock(pilot, TECH_PASS)
        main = app.screen
        assert isinstance(main, MainScreen)
        footer = main.query_one(Footer)
        # the toggle is about results: its key joins the footer once there are some (room for Lock at 80)
        assert not any(k.action == "toggle_positive" for k in footer.query(FooterKey))

        main.query_one("#search", Input).value = "chest pain"
        done = await posted.wait_for(pilot, SearchDone, "the search", lambda m: m.query == "chest pain")
        await wait_until(pilot, lambda: any(k.action == "toggle_positive" for k in footer.query(FooterKey)),
                         "the toggle's key in the footer")
        key = next(k for k in footer.query(FooterKey) if k.action == "toggle_positive")
        assert key.description == "Affirm"
        said = {h.filename.split("__")[-1]: h.assertion for h in done.hits}
        assert said == {"affirms.txt": "affirmed", "denies.txt": "negated", "family.txt": "family"}
        denied = next(h for h in done.hits if h.assertion == "negated")
        prompt = hit_prompt(denied)
        assert "[negated]" in prompt.plain
        whole = [span for span in prompt.spans if span.start == 0 and span.end == len(prompt.plain)]
        assert any("dim" in str(span.style) for span in whole), prompt.spans
        assert "[" not in hit_prompt(next(h for h in done.hits if h.assertion == "affirmed")).plain.split("\n")[0]

        searches = len(posted.of(SearchDone))
        await pilot.press("ctrl+f")
        assert main.positive
        again = await posted.wait_for(pilot, SearchDone, "the search run again", after=searches)
        assert [h.filename.split("__")[-1] for h in again.hits] == ["affirms.txt"]
        results = main.query_one("#results", SearchResults)
        await wait_until(pilot, lambda: results.option_count == 1, "one result")
        assert "affirmed only (Ctrl+F)" in str(main.query_one("#search-mode", Static).render())

        searches = len(posted.of(SearchDone))
        await pilot.press("ctrl+f")
        back = await posted.wait_for(pilot, SearchDone, "all mentions again", after=searches)
        assert not main.positive and len(back.hits) == 3
