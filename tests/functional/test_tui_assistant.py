"""TUI: the assistant's chat pane (F6): an answer with citations, a citation opens its record, a refusal."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, OptionList, Static

from tests.assistant_helpers import import_corpus
from tests.conftest import PHYS_PASS, TECH_PASS, VaultTemplate
from tests.tui_helpers import unlock, wait_until
from tui.app import make_app
from tui.screens.assistant import AssistantScreen
from tui.screens.record import RecordScreen

_wait = partial(wait_until, timeout=60.0)  # this module's default wait


@pytest.fixture(scope="module")
def vault_root(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Path:
    root = tmp_path_factory.mktemp("tui-assistant") / "vault"
    admin: Any = users_vault_template.copy(root).session  # admin, tess, drmaria
    import_corpus(admin, tmp_path_factory.mktemp("corpus"))
    admin.close()
    return root


async def _open_assistant(app: Any, pilot: Any, passphrase: str) -> AssistantScreen:
    await unlock(pilot, passphrase, timeout=60.0)
    await pilot.press("f6")
    await _wait(pilot, lambda: isinstance(app.screen, AssistantScreen), "assistant screen")
    return app.screen  # type: ignore[no-any-return]


async def _ask(pilot: Any, screen: AssistantScreen, question: str) -> None:
    before = screen.answers
    screen.query_one("#question", Input).value = question
    await pilot.press("enter")
    await _wait(pilot, lambda: screen.answers > before, f"an answer to {question!r}")


async def test_answer_with_citations_and_open_the_cited_record(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="drmaria")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_assistant(app, pilot, PHYS_PASS)
        await _ask(pilot, screen, "What antibiotics did Jane Roe get?")
        answers = [str(w.render()) for w in screen.query(".answer").results(Static)]
        assert answers and "Amoxicillin 500 MG Oral Capsule" in answers[-1]
        citations = screen.query_one("#citations", OptionList)
        assert citations.option_count == len(screen.last.citations) >= 2
        prompts = [str(citations.get_option_at_index(i).prompt) for i in range(citations.option_count)]
        assert any("Amoxicillin 500 MG Oral Capsule" in p for p in prompts)
        # a follow-up in the same pane
        await _ask(pilot, screen, "and in March 2021?")
        assert "Cefuroxime" not in screen.last.answer and "Amoxicillin" in screen.last.answer
        await pilot.press("ctrl+o", "enter")  # F7 means Statistics everywhere
        await _wait(pilot, lambda: isinstance(app.screen, RecordScreen), "the cited record")
        record = app.screen
        await _wait(pilot, lambda: record.view is not None, "record loaded")  # type: ignore[attr-defined]
        assert record.record_id == screen.last.citations[0].record_id  # type: ignore[attr-defined]
        await pilot.press("escape")
        await _wait(pilot, lambda: app.screen is screen, "back to the assistant")
        question = screen.query_one("#question", Input)
        await _wait(pilot, lambda: app.focused is question, "the question box focused again")
        await pilot.press("s", "x")  # typed letters go to the question, not to shortcuts
        assert question.value == "sx" and app.screen is screen


async def test_refusal_is_shown_clearly(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_assistant(app, pilot, TECH_PASS)
        await _ask(pilot, screen, "What antibiotics did Jane Roe get?")
        refused = [str(w.render()) for w in screen.query(".refused").results(Static)]
        assert refused and "registered, active physicians" in refused[-1]
        shown = [str(w.render()) for w in app.screen.query(Static).results(Static)]
        assert sum("registered, active physicians" in text for text in shown) == 1  # once, not three times
        assert len(app._notifications) == 0  # no toast repeating it
        assert screen.query_one("#citations", OptionList).option_count == 0
        assert screen.last.refused
