"""TUI: the statistics screen (F7) draws bars over time, a sparkline per group and a table that agree with
counts computed independently from the fixture; group-by and period keys reload; recurrence and
readmissions tabs. One unlock for the flow (an admin who also holds the technician role)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Sparkline, Static, TabbedContent

from tests import stats_fixture as sf
from tests.conftest import ADMIN_PASS, VaultTemplate
from tests.tui_helpers import unlock, wait_until
from tui.app import make_app
from tui.screens.main import MainScreen
from tui.screens.stats import StatsScreen, bar_lines, cut_label

_wait = wait_until


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> tuple[Path, sf.Fixture]:
    from archive.roster import sign_row
    from vault.db import transaction

    root = tmp_path_factory.mktemp("tui-stats") / "vault"
    admin: Any = admin_vault_template.copy(root).session
    with transaction(admin.db):
        # the admin also works as a technician (a clinical role): statistics without paying for another keyslot
        admin.db.execute("UPDATE users SET clinical_role = 'technician' WHERE name = 'admin'")
        sign_row(admin.store, "admin", "admin", admin.signing_key)  # as set_clinical_role signs it
        sf.insert_physicians(admin)
    fx = sf.build()
    sf.insert(admin.db, fx)
    admin.close()
    return root, fx


def test_bar_lines_scale_to_the_largest() -> None:
    lines = bar_lines([("2021", 40), ("2022", 20), ("2023", 0)], width=10).plain.splitlines()
    assert lines[0].count("█") == 10 and lines[1].count("█") == 5 and "█" not in lines[2]
    assert lines[2].endswith(" 0")


def test_calendar_periods_step_through_the_empty_ones() -> None:
    from archive.stats import calendar_periods

    assert calendar_periods("year", "2015", "2018") == ["2015", "2016", "2017", "2018"]
    assert calendar_periods("quarter", "2023-Q3", "2024-Q2") == ["2023-Q3", "2023-Q4", "2024-Q1", "2024-Q2"]
    assert calendar_periods("month", "2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert calendar_periods("year", "2024", "2024") == ["2024"]


def test_a_cut_description_says_it_goes_on() -> None:
    # Cut at 30 characters, "Diseases of the circulatory system" read "Diseases of the circulatory sy".
    assert cut_label("Diseases of the circulatory system") == "Diseases of the circulatory s…"
    assert len(cut_label("Diseases of the circulatory system")) == 30
    assert cut_label("Gout") == "Gout" and cut_label("x" * 30) == "x" * 30


async def test_statistics_screen(vault: tuple[Path, sf.Fixture]) -> None:
    root, fx = vault
    app = make_app(vault_dir=root, user="admin")
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, ADMIN_PASS)
        await pilot.press("f7")
        await _wait(pilot, lambda: isinstance(app.screen, StatsScreen), "statistics screen")
        screen: StatsScreen = app.screen
        await _wait(pilot, lambda: screen.loads >= 2 and screen.frequency is not None, "first load")

        want = sf.expected_frequency(fx, "chapter", "year")
        table = screen.query_one("#freq-table", DataTable)
        assert table.row_count == len(want["groups"])
        bars = str(screen.query_one("#freq-bars", Static).render())
        for year, (_patients, encounters) in want["periods"].items():
            assert f"{year} " in bars and f" {encounters}" in bars
        sparks = list(screen.query(Sparkline))
        assert len(sparks) == min(8, len(want["groups"]))
        busiest = max(want["groups"].items(), key=lambda kv: (kv[1][1], kv[0]))
        # one step per calendar year from the first to the last, the years without encounters too
        years = [str(y) for y in range(int(min(want["periods"])), int(max(want["periods"])) + 1)]
        assert list(sparks[0].data or []) == [float(want["cells"].get((y, busiest[0]), (0, 0))[1]) for y in years]

        await pilot.press("b")  # by category
        await _wait(pilot, lambda: screen.frequency.by == "category", "category load")
        assert table.row_count == len(sf.expected_frequency(fx, "category", "year")["groups"])
        await pilot.press("p")  # per quarter
        await _wait(pilot, lambda: screen.frequency.period == "quarter", "quarter load")
        quarters = sf.expected_frequency(fx, "category", "quarter")["periods"]
        assert [str(c.label) for c in table.columns.values()][2:-2] == sorted(quarters)

        tabs = screen.query_one("#stats-tabs", TabbedContent)
        tabs.active = "tab-readmissions"
        await pilot.pause()
        readmit = screen.readmissions
        today = dt.date.today()
        expected = sf.expected_readmissions(fx, 30, today)
        assert readmit.overall.readmitted == expected["ALL"]["readmitted"]
        assert screen.query_one("#readmit-table", DataTable).row_count == len(expected)  # physicians + overall

        tabs.active = "tab-recurrence"
        await pilot.pause()
        box = screen.query_one("#recur-code", Input)
        box.focus()
        box.value = "W10"
        loads = screen.loads
        await pilot.press("enter")
        await _wait(pilot, lambda: screen.loads > loads and screen.recurrence is not None, "recurrence")
        r = screen.recurrence
        assert {k: getattr(r, k) for k in sf.SCENARIO_EXPECTED} == sf.expected_recurrence(fx, "W10", 365, 30, today)
        assert "rate" in str(screen.query_one("#recur-result", Static).render())

        box.value = "not a code"
        loads = screen.loads
        await pilot.press("enter")
        await _wait(pilot, lambda: screen.loads > loads, "refusal")
        assert "not an ICD-10-CM code" in str(screen.query_one("#stats-message", Static).render())
        await pilot.press("escape")
        await _wait(pilot, lambda: isinstance(app.screen, MainScreen), "back to main")

        # without the clinical role an admin gets a notice, not the screen
        import dataclasses

        app.session.user = dataclasses.replace(app.session.user, clinical_role=None)
        await pilot.press("f7")
        await _wait(pilot, lambda: any(n.title == "Statistics" for n in app._notifications), "the notice")
        assert isinstance(app.screen, MainScreen)
