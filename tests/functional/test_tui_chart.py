"""TUI: open a patient's chart from a search result (F3) or by MRN, add an entry with inline validation,
correct it with a reason, see its history; a save overtaken by someone else is refused in the form.
One unlock (scrypt) for the whole flow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

from tests.conftest import TECH_PASS, VaultTemplate, session_beside
from tests.tui_helpers import unlock, wait_until
from tui.app import make_app
from tui.screens.chart import ChartScreen, EntryForm, EntryHistory, OpenChart
from tui.screens.main import MainScreen
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

    root = tmp_path_factory.mktemp("tui-chart") / "vault"
    admin: Any = users_vault_template.copy(root).session  # admin, tess, drmaria
    tess = session_beside(admin, "tess")
    add_patient(tess, MRN, "Olive Marsh", "1958-02-11", "F", admitted=days_ago(9))
    add_entry(tess, MRN, "diagnosis", "Cellulitis of the left leg", days_ago(9), code="L03.116")
    notes = tmp_path_factory.mktemp("tui-chart-notes")
    (notes / f"{MRN}__ward.txt").write_text("Ward note: cellulitis improving, quokka bite healing.\n")
    import_paths(tess, [notes], settle=0)
    admin.close()
    return root


async def _unlock(app: Any, pilot: Any) -> MainScreen:
    await unlock(pilot, TECH_PASS)
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
        await pilot.press("escape", "d")  # unsaved input: Esc asks, d discards it
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



# -- issue 19: the chart's records, the entry form's Kind, Status and Esc ------------------------------------


async def _open_chart(app: Any, pilot: Any) -> ChartScreen:
    await _unlock(app, pilot)
    await pilot.press("f3")  # no result highlighted: asks for the MRN
    await _wait(pilot, lambda: isinstance(app.screen, OpenChart), "MRN prompt")
    await pilot.press(*MRN, "enter")
    return await _chart(app, pilot)


def _shown(form: EntryForm, selector: str) -> bool:
    widget = form.query_one(selector)
    return all(node.display for node in [widget, *widget.ancestors_with_self])


def _errors_shown(form: EntryForm) -> list[str]:
    """Every problem the form shows: beside a field, or as the form's message."""
    shown = [str(w.render()) for w in form.query(".field-error").results(Static)]
    return [s for s in [*shown, _text(form, "#form-message")] if s.strip()]


async def test_chart_lists_its_records_and_enter_opens_one(vault_root: Path) -> None:
    """The header counts the records filed to the patient; they are listed (date, type, title) and Enter on one
    opens it (OpenRecord: the app opens the record screen, which audits the view). At 80x24."""
    from tests.tui_helpers import Posted
    from tui.messages import OpenRecord
    from tui.screens.record import RecordScreen

    posted = Posted()
    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(80, 24), message_hook=posted) as pilot:
        chart = await _open_chart(app, pilot)
        (record,) = chart.chart.records
        records = chart.query_one("#records", DataTable)
        assert records.row_count == 1
        assert records.get_row_at(0) == [record.date or "?", record.type, record.title]
        assert "Records" in _text(chart, "#records-title")
        assert records.region.height >= 2 and records.region.bottom <= 23  # header and the row, above the footer

        await pilot.press("r")  # the key to the list
        await _wait(pilot, lambda: records.has_focus, "the records list focused")
        shown = {b.binding.key: b.binding.description for b in chart.active_bindings.values()
                 if b.binding.show and b.enabled}
        assert shown.get("enter") == "Open record" and shown.get("r") == "Records"
        await pilot.press("enter")
        opened = await posted.wait_for(pilot, OpenRecord, "OpenRecord")
        assert opened.record_id == record.record_id
        await _wait(pilot, lambda: isinstance(app.screen, RecordScreen) and app.screen.view is not None,
                    "the record screen")
        assert app.screen.record_id == record.record_id
        assert app.session.audit_log.entries(action="view_record", record=record.record_id), "the view is audited"
        await pilot.press("escape")
        await _wait(pilot, lambda: app.screen is chart, "back to the chart")


async def test_keys_typed_after_choosing_a_kind_are_kept_under_load(vault_root: Path) -> None:
    """Kind chosen with Enter and Tab pressed before the app caught up (under load): the text typed next lands
    in the Text field, not lost on the Kind select (which used to take the focus back after the Tab)."""
    from textual.widgets import Select

    from tests.tui_helpers import press_at_once

    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_chart(app, pilot)
        await pilot.press("a")
        form = await _form(app, pilot)
        kind = form.query_one("#f-kind", Select)
        await pilot.press("shift+tab", "enter", "down")  # from Text back to Kind, open it, highlight medication
        await _wait(pilot, lambda: kind.expanded, "the kind's menu open")
        await press_at_once(pilot, "enter", "tab")  # choose it, and on to the next field at once
        await _wait(pilot, lambda: not kind.expanded, "the menu closed")
        await pilot.pause()
        await pilot.press(*"Metformin")
        assert form.kind == "medication"
        assert form.query_one("#f-text", Input).value == "Metformin"
        assert form.query_one("#f-text", Input).has_focus
        assert _shown(form, "#f-dose")  # the medication's fields are shown in place


async def test_changing_kind_clears_the_previous_kinds_error(vault_root: Path) -> None:
    from textual.widgets import Select

    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_chart(app, pilot)
        await pilot.press("a")
        form = await _form(app, pilot)
        form.query_one("#f-kind", Select).value = "medication"
        await _wait(pilot, lambda: _shown(form, "#f-stop"), "the medication's fields")
        form.query_one("#f-text", Input).value = "Flucloxacillin 500 mg"
        form.query_one("#f-date", Input).value = days_ago(5)
        form.query_one("#f-start", Input).value = days_ago(5)
        form.query_one("#f-stop", Input).value = days_ago(7)
        await pilot.press("ctrl+s")
        await _wait(pilot, lambda: "before the start date" in _text(form, "#err-stop"), "the stop date refused")
        assert "Not saved" in _text(form, "#form-message")

        form.query_one("#f-kind", Select).value = "procedure"
        await _wait(pilot, lambda: not _shown(form, "#f-stop"), "the medication's fields hidden")
        await pilot.pause()
        assert _errors_shown(form) == []
        # a problem with what is still on the form is still shown
        form.query_one("#f-date", Input).value = (TODAY + dt.timedelta(days=3)).isoformat()
        await _wait(pilot, lambda: "in the future" in _text(form, "#err-date"), "inline date error")
        form.query_one("#f-kind", Select).value = "diagnosis"
        await pilot.pause()
        assert "in the future" in _text(form, "#err-date")


async def test_status_is_a_select_of_the_allowed_values(vault_root: Path) -> None:
    from textual.widgets import Select

    from archive.charts import rules
    from archive.charts.entries import default_status

    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        chart = await _open_chart(app, pilot)
        await pilot.press("a")
        form = await _form(app, pilot)
        status = form.query_one("#f-status", Select)
        assert [value for _label, value in status._options] == list(rules.ENTRY_STATUSES)
        assert status.value == default_status("procedure") == "completed"
        form.query_one("#f-kind", Select).value = "diagnosis"
        await _wait(pilot, lambda: status.value == default_status("diagnosis"), "the diagnosis's default status")
        form.query_one("#f-text", Input).value = "Lymphangitis of the left leg"
        form.query_one("#f-date", Input).value = days_ago(4)
        status.focus()
        await pilot.press("enter")  # open the list; choose "resolved" with the keys
        await _wait(pilot, lambda: status.expanded, "the status list open")
        steps = list(rules.ENTRY_STATUSES).index("resolved") - list(rules.ENTRY_STATUSES).index("active")
        await pilot.press(*["down"] * steps, "enter")
        await _wait(pilot, lambda: status.value == "resolved", "resolved chosen")
        await pilot.press("ctrl+s")
        chart = await _chart(app, pilot, loads=2)
        added = next(e for e in chart.chart.entries if e.text == "Lymphangitis of the left leg")
        assert (added.kind, added.status) == ("diagnosis", "resolved")

        # a correction starts from the entry's status
        row = next(i for i, item in enumerate(chart.items) if item.id == added.id)
        chart.query_one("#timeline", DataTable).move_cursor(row=row)
        await pilot.press("c")
        form = await _form(app, pilot)
        assert form.query_one("#f-status", Select).value == "resolved"


async def test_escape_asks_before_throwing_away_unsaved_input(vault_root: Path) -> None:
    def asking() -> bool:
        return type(app.screen).__name__ == "DiscardInput"

    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(80, 24)) as pilot:
        chart = await _open_chart(app, pilot)
        entries = len(chart.chart.entries)
        await pilot.press("a")
        await _form(app, pilot)
        await pilot.press("escape")  # nothing typed: closes at once
        await _wait(pilot, lambda: app.screen is chart, "the untouched form closed")

        await pilot.press("a")
        form = await _form(app, pilot)
        await pilot.press(*"Wound swab")
        await pilot.press("escape")
        await _wait(pilot, asking, "asked before discarding")
        ask = app.screen
        shown = {b.binding.key: b.binding.description for b in ask.active_bindings.values()
                 if b.binding.show and b.enabled}
        assert shown.get("d") == "Discard" and shown.get("k") == "Keep editing"
        await pilot.press("k")  # keep editing: back in the form, input kept
        await _wait(pilot, lambda: app.screen is form, "back to the form")
        assert form.query_one("#f-text", Input).value == "Wound swab"
        await pilot.press("escape")
        await _wait(pilot, asking, "asked again")
        await pilot.press("escape")  # Esc on the question keeps editing too
        await _wait(pilot, lambda: app.screen is form, "back to the form again")
        await pilot.press("escape")
        await _wait(pilot, asking, "asked a third time")
        await pilot.press("d")
        await _wait(pilot, lambda: app.screen is chart, "discarded")
        assert len(chart.chart.entries) == entries and chart.loads == 1  # nothing saved, nothing reloaded


async def test_a_medications_stop_reason_is_typed_in_the_form_refused_beside_it_and_saved(vault_root: Path) -> None:
    """The Stop reason field is shown for medications only; a reason without a stop is refused beside it; saved,
    the timeline line and the detail show it; the form's footer keys are those of every entry form."""
    from textual.widgets import Select

    app = make_app(vault_dir=vault_root, user="tess")
    async with app.run_test(size=(120, 40)) as pilot:
        chart = await _open_chart(app, pilot)
        loads = chart.loads
        await pilot.press("a")
        form = await _form(app, pilot)
        assert not _shown(form, "#f-stop_reason")  # a procedure has none
        shown = {b.binding.key: b.binding.description for b in form.active_bindings.values()
                 if b.binding.show and b.enabled}
        assert shown == {"escape": "Cancel", "ctrl+s": "Save"}
        form.query_one("#f-kind", Select).value = "medication"
        await _wait(pilot, lambda: _shown(form, "#f-stop_reason"), "the stop reason field")
        form.query_one("#f-text", Input).value = "Warfarin 5 mg tablet"
        form.query_one("#f-date", Input).value = days_ago(8)
        form.query_one("#f-stop_reason", Input).value = "upper GI bleed"
        await pilot.press("ctrl+s")
        await _wait(pilot, lambda: "needs a stop date" in _text(form, "#err-stop_reason"), "the reason refused")
        assert isinstance(app.screen, EntryForm) and form.query_one("#f-stop_reason", Input).has_focus
        form.query_one("#f-stop", Input).value = days_ago(2)
        await pilot.press("ctrl+s")
        chart = await _chart(app, pilot, loads=loads + 1)
        added = next(e for e in chart.chart.entries if e.text == "Warfarin 5 mg tablet")
        assert (added.stop, added.stop_reason) == (days_ago(2), "upper GI bleed")
        assert added.status == "stopped"  # the status left as the form offered it: stopped, not active (session 9)
        row = next(i for i, item in enumerate(chart.items) if item.id == added.id)
        assert f"stopped {days_ago(2)}: upper GI bleed" in chart.items[row].text
        chart.query_one("#timeline", DataTable).move_cursor(row=row)
        await _wait(pilot, lambda: "stop reason: upper GI bleed" in _text(chart, "#detail"), "the detail")
        await pilot.press("c")  # a correction starts from it
        form = await _form(app, pilot)
        assert form.query_one("#f-stop_reason", Input).value == "upper GI bleed"
        # It was never a medication: the kind changes and the hidden medication fields go with it (session 9:
        # the start nobody typed, the stop and its reason used to refuse the save, with no field to clear).
        form.query_one("#f-kind", Select).value = "procedure"
        await _wait(pilot, lambda: not _shown(form, "#f-stop_reason"), "the medication fields hidden")
        form.query_one("#f-reason", Input).value = "charted as a medication by mistake"
        await pilot.press("ctrl+s")
        chart = await _chart(app, pilot, loads=loads + 2)
        fixed = next(e for e in chart.chart.entries if e.id == added.id)
        assert (fixed.kind, fixed.start, fixed.stop, fixed.stop_reason) == ("procedure", None, None, None)


async def test_a_physician_reads_the_chart_without_keys_to_edit_it(vault_root: Path) -> None:
    """Only technicians edit charts: a physician's footer shows no 'Add entry' or 'Correct', the keys open no
    form (which they could fill in only to be refused), and the entry's details offer only its history."""
    from tests.conftest import PHYS_PASS

    app = make_app(vault_dir=vault_root, user="drmaria")
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot, PHYS_PASS)
        await pilot.press("f3")
        await _wait(pilot, lambda: isinstance(app.screen, OpenChart), "MRN prompt")
        await pilot.press(*MRN, "enter")
        chart = await _chart(app, pilot)
        shown = {b.binding.key for b in chart.active_bindings.values() if b.binding.show and b.enabled}
        assert "h" in shown and "a" not in shown and "c" not in shown
        assert "c: correct" not in _text(chart, "#detail") and "h: history" in _text(chart, "#detail")
        await pilot.press("a", "c")
        await pilot.pause()
        assert app.screen is chart, "no entry form for a physician"
