"""TUI: open a patient's chart from a search result (F3) or by MRN, add an entry with inline validation,
correct it with a reason, see its history; a save overtaken by someone else is refused in the form.
One unlock (scrypt) for the whole flow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

from tests.conftest import TECH_PASS, VaultTemplate
from tests.tui_helpers import wait_until
from tui.app import make_app
from tui.screens.chart import ChartScreen, EntryForm, EntryHistory, OpenChart
from tui.screens.main import MainScreen
from tui.screens.unlock import UnlockScreen
from tui.widgets.results import SearchResults

TODAY = dt.date.today()
MRN = "TUI-7"


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


_wait = wait_until


def _text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pytest.fixture(scope="module")
def vault_root(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Path:
    from archive.charts.entries import add_entry
    from archive.charts.patients import add_patient
    from archive.intake import import_paths
    from archive.session import Session
    from archive.users import get_user

    root = tmp_path_factory.mktemp("tui-chart") / "vault"
    admin: Any = users_vault_template.copy(root).session  # admin, tess, drmaria
    tess = Session(unlocked=admin.unlocked, user=get_user(admin.store, "tess"), audit_log=admin.audit_log)
    add_patient(tess, MRN, "Olive Marsh", "1958-02-11", "F", admitted=days_ago(9))
    add_entry(tess, MRN, "diagnosis", "Cellulitis of the left leg", days_ago(9), code="L03.116")
    notes = tmp_path_factory.mktemp("tui-chart-notes")
    (notes / f"{MRN}__ward.txt").write_text("Ward note: cellulitis improving, quokka bite healing.\n")
    import_paths(tess, [notes], settle=0)
    admin.close()
    return root


async def _unlock(app: Any, pilot: Any) -> MainScreen:
    await _wait(pilot, lambda: isinstance(app.screen, UnlockScreen), "unlock screen")
    app.screen.query_one("#passphrase", Input).value = TECH_PASS
    await pilot.press("enter")
    await _wait(pilot, lambda: isinstance(app.screen, MainScreen), "main screen")
    return app.screen  # type: ignore[no-any-return]


async def _chart(app: Any, pilot: Any, loads: int = 1) -> ChartScreen:
    await _wait(pilot, lambda: isinstance(app.screen, ChartScreen), "chart screen")
    screen: ChartScreen = app.screen
    await _wait(pilot, lambda: screen.loads >= loads, "chart loaded")
    return screen


async def _form(app: Any, pilot: Any) -> EntryForm:
    await _wait(pilot, lambda: isinstance(app.screen, EntryForm), "entry form")
    return app.screen  # type: ignore[no-any-return]


async def test_chart_from_search_add_with_inline_validation_correct_and_history(vault_root: Path) -> None:
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        main = await _unlock(app, pilot)
        await pilot.press(*"quokka")
        results = main.query_one("#results", SearchResults)
        await _wait(pilot, lambda: results.option_count == 1, "the ward note")
        await pilot.press("f3")
        chart = await _chart(app, pilot)
        assert chart.mrn == MRN and "Olive Marsh" in _text(chart, "#chart-patient")
        table = chart.query_one("#timeline", DataTable)
        assert table.row_count == len(chart.chart.encounters) + len(chart.chart.entries) == 2

        # add: a date in the future is flagged as it is typed; a duplicate is refused at save, beside its field
        await pilot.press("a")
        form = await _form(app, pilot)
        form.query_one("#f-text", Input).value = "Cellulitis of the left leg"
        form.query_one("#f-date", Input).value = (TODAY + dt.timedelta(days=5)).isoformat()
        await _wait(pilot, lambda: "in the future" in _text(form, "#err-date"), "inline date error")
        form.query_one("#f-date", Input).value = days_ago(9)
        await _wait(pilot, lambda: _text(form, "#err-date") == "", "inline error cleared")
        from textual.widgets import Select

        form.query_one("#f-kind", Select).value = "diagnosis"
        await pilot.press("ctrl+s")
        await _wait(pilot, lambda: "already records" in _text(form, "#err-text"), "duplicate refused")
        assert isinstance(app.screen, EntryForm) and "Not saved" in _text(form, "#form-message")
        form.query_one("#f-kind", Select).value = "procedure"
        form.query_one("#f-text", Input).value = "Incision and drainage"
        await pilot.press("ctrl+s")
        chart = await _chart(app, pilot, loads=2)
        added = next(e for e in chart.chart.entries if e.text == "Incision and drainage")
        assert (added.kind, added.date, added.version) == ("procedure", days_ago(9), 1)
        assert "Saved" in _text(chart, "#chart-message")

        # correct it: the reason is required, then a new version is saved
        row = next(i for i, item in enumerate(chart.items) if item.id == added.id)
        chart.query_one("#timeline", DataTable).move_cursor(row=row)
        await pilot.press("c")
        form = await _form(app, pilot)
        assert form.query_one("#f-text", Input).value == "Incision and drainage"
        form.query_one("#f-text", Input).value = "Incision and drainage of abscess"
        await pilot.press("ctrl+s")
        await _wait(pilot, lambda: "required" in _text(form, "#err-reason"), "reason required")
        form.query_one("#f-reason", Input).value = "site was an abscess"
        await pilot.press("ctrl+s")
        chart = await _chart(app, pilot, loads=3)
        fixed = next(e for e in chart.chart.entries if e.id == added.id)
        assert (fixed.version, fixed.text, fixed.correction_reason) == (
            2, "Incision and drainage of abscess", "site was an abscess")

        # its history shows both versions
        row = next(i for i, item in enumerate(chart.items) if item.id == added.id)
        chart.query_one("#timeline", DataTable).move_cursor(row=row)
        await pilot.press("h")
        await _wait(pilot, lambda: isinstance(app.screen, EntryHistory), "history")
        history: EntryHistory = app.screen  # type: ignore[assignment]
        await _wait(pilot, lambda: len(history.versions) == 2, "two versions")
        assert history.query_one("#history", DataTable).row_count == 2
        await pilot.press("escape")

        # a correction someone else overtook is refused in the form, nothing overwritten
        row = next(i for i, item in enumerate(chart.items) if item.id == added.id)
        chart.query_one("#timeline", DataTable).move_cursor(row=row)
        await pilot.press("c")
        form = await _form(app, pilot)
        from archive.charts.entries import correct_entry, load_entry

        correct_entry(app.session, added.id, "someone else's correction", expect_version=2, status="cancelled")
        form.query_one("#f-text", Input).value = "I&D of abscess"
        form.query_one("#f-reason", Input).value = "shorter"
        await pilot.press("ctrl+s")
        await _wait(pilot, lambda: "not saved" in _text(form, "#form-message"), "stale save refused")
        assert "now version 3" in _text(form, "#form-message")
        current = load_entry(app.session, added.id)
        assert (current.version, current.text, current.status) == (3, "Incision and drainage of abscess",
                                                                    "cancelled")
        await pilot.press("escape")
        await _wait(pilot, lambda: isinstance(app.screen, ChartScreen), "back to the chart")
        await pilot.press("escape")
        await _wait(pilot, lambda: isinstance(app.screen, MainScreen), "back to search")

        # with no result highlighted, F3 asks for the MRN
        main.query_one("#search", Input).value = ""
        await _wait(pilot, lambda: results.option_count == 0, "results cleared")
        await pilot.press("f3")
        await _wait(pilot, lambda: isinstance(app.screen, OpenChart), "MRN prompt")
        await pilot.press(*"NOBODY-1", "enter")
        await _wait(pilot, lambda: isinstance(app.screen, ChartScreen) and app.screen.loads >= 1, "failed load")
        assert "No patient with MRN 'NOBODY-1'" in _text(app.screen, "#chart-patient")
        await pilot.press("escape", "f3")
        await _wait(pilot, lambda: isinstance(app.screen, OpenChart), "MRN prompt again")
        await pilot.press(*MRN, "enter")
        chart = await _chart(app, pilot)
        assert chart.chart.patient.mrn == MRN

