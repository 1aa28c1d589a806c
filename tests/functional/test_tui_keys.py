"""Issue 19, keys and text: one meaning per key, keys for the tabs (in the footer and in F1 help), the important
keys visible in the footer at 80x24, sparklines in the order they say, counts in proper singular/plural, and the
model state shown without a false "unavailable" first. Pilot tests on the demo vault.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Footer, Input, Label, Static, TabbedContent
from textual.widgets._footer import FooterKey

from tests.functional.conftest import HeldModel
from tests.functional.test_tui_newcomer import SCREEN_KEYS, _screen_classes
from tests.tui_helpers import signed_in, text, wait_until
from tui.app import make_app

wait_for = partial(wait_until, timeout=60.0)


# -- one meaning per key ------------------------------------------------------------------------------


def test_one_meaning_per_key_across_screens() -> None:
    """A function key, a Ctrl combination or Esc does one thing on every screen (F7: Statistics, not also
    Citations). Letters act on a screen's own list and are left out."""
    from tui.app import ChartvaultApp
    from tui.navigation import DESTINATIONS, key_meaning

    meanings: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for cls in [ChartvaultApp, *_screen_classes()]:
        for binding in cls.BINDINGS:  # type: ignore[attr-defined]
            for key in binding.key.split(","):
                key = key.strip()
                if len(key) == 1:  # a letter or digit: typed in fields, local to the screen
                    continue
                meanings[key][key_meaning(binding.action)].append(cls.__name__)
    clashes = {key: dict(by) for key, by in meanings.items() if len(by) > 1}
    assert not clashes, f"keys with more than one meaning: {clashes}"
    for dest in DESTINATIONS:  # a destination's key means that destination wherever it is bound
        if dest.key.startswith("F"):
            assert set(meanings[dest.key.lower()]) == {dest.action}, dest


# -- tabs: a key, shown in the footer and listed in F1 help ---------------------------------------------


@pytest.mark.parametrize(("keys", "screen_name", "tabs_id", "order"), [
    pytest.param(("f2",), "QueueScreen", "queues", ["tab-filing", "tab-transcription", "tab-quarantine", "tab-review"],
                 id="queues"),
    pytest.param(("f7",), "StatsScreen", "stats-tabs", ["tab-frequency", "tab-recurrence", "tab-readmissions"],
                 id="statistics"),
])
async def test_tabs_switch_with_a_key_listed_in_help(demo_vault: Path, sessions: dict[str, Any], keys: tuple[str],
                                                     screen_name: str, tabs_id: str, order: list[str]) -> None:
    from tui.screens.help import HelpScreen

    app = make_app(demo_vault)
    async with app.run_test(size=(100, 30)) as pilot:
        await signed_in(pilot, sessions["tess"])
        await pilot.press(*keys)
        await wait_for(pilot, lambda: type(app.screen).__name__ == screen_name and bool(app.screen.children),
                       screen_name)
        screen = app.screen
        tabs = screen.query_one(f"#{tabs_id}", TabbedContent)
        footer = screen.query_one(Footer)
        await wait_for(pilot, lambda: any(k.description == "Next tab" for k in footer.query(FooterKey)),
                       "Next tab in the footer")
        assert next(k for k in footer.query(FooterKey) if k.description == "Next tab").key == "ctrl+n"
        assert tabs.active == order[0]
        for want in [*order[1:], order[0]]:  # round the tabs and back to the first
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda w=want: tabs.active == w, f"tab {want}")
        # with the focus in a field of a tab (the recurrence code, a queue's MRN), the key still works
        for field in screen.query(Input):
            if field.display and field.region.height:
                field.focus()
                break
        before = tabs.active
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: tabs.active != before, "the next tab from a field")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        help_text = app.screen.plain_text()
        assert re.search(r"Ctrl\+N\s+Next tab", help_text), help_text
        await pilot.press("f1")  # F1 closes help again (one meaning: help)
        await wait_for(pilot, lambda: app.screen is screen, "help closed with F1")


# -- 80x24: the important keys stay visible in the footer -------------------------------------------------


FOOTER_SCREENS = [
    *SCREEN_KEYS,
    pytest.param("drmaria", ("f3", *"DEMO-1001", "enter"), "ChartScreen", id="chart"),
    pytest.param("tess", (*"furosemide",), "RecordScreen", id="record"),
]


@pytest.mark.parametrize(("user", "keys", "expected"), FOOTER_SCREENS)
async def test_footer_keeps_the_important_keys_visible_at_80x24(
        demo_vault: Path, sessions: dict[str, Any], user: str, keys: tuple[str, ...], expected: str) -> None:
    """The screen's own keys and F1 are all visible in the footer: none clipped, none under another."""
    app = make_app(demo_vault)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await signed_in(pilot, sessions[user])
        await pilot.press(*keys)
        if expected == "RecordScreen":  # a search first, then open the first result
            await wait_for(pilot, lambda: main.searches > 0 and main.query_one("#results").option_count > 0, "hits")
            await pilot.press("down", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == expected and bool(app.screen.children), expected)
        screen = app.screen
        footer = screen.query_one(Footer)
        # by action: one footer entry per action ("escape,q": Close help)
        own = {active.binding.action for active in screen.active_bindings.values()
               if active.node is screen and active.binding.show and active.enabled}
        important = own if screen.is_modal else own | {"help"}  # a modal's footer: its own keys only

        def laid_out() -> bool:
            shown = {k.action for k in footer.query(FooterKey) if k.region.width}
            return footer.region.height > 0 and important <= shown

        await wait_for(pilot, laid_out, f"the footer of {expected}")
        await pilot.pause()
        keys_shown = [k for k in footer.query(FooterKey) if k.region.width]
        for k in keys_shown:
            assert k.region.x >= 0 and k.region.right <= 80, f"{k.key} ({k.description}) clipped: {k.region}"
        for a in keys_shown:
            for b in keys_shown:
                assert a is b or not a.region.overlaps(b.region), f"{a.key} under {b.key}"
        labels = {k.action: k.description for k in keys_shown}
        for action in important:
            assert labels.get(action), f"{action} not visible at 80x24 on {expected}: {labels}"


# -- sparklines in the order they say --------------------------------------------------------------------


async def test_sparklines_most_encounters_first_ties_in_chapter_order(demo_vault: Path,
                                                                      sessions: dict[str, Any]) -> None:
    """Chapters tied on encounters come 9, 10, 11 (by number), not '10', '11', '9' (as strings)."""
    from tui.screens.stats import StatsScreen

    app = make_app(demo_vault)
    async with app.run_test(size=(120, 40)) as pilot:
        await signed_in(pilot, sessions["tess"])
        await pilot.press("f7")
        await wait_for(pilot, lambda: isinstance(app.screen, StatsScreen) and app.screen.frequency is not None
                       and app.screen.loads >= 2, "statistics")
        screen = app.screen
        result = screen.frequency
        shown = [text(label) for label in screen.query(".spark-row Label").results(Label)]
        by_value = sorted(result.groups, key=lambda m: (-m.encounters, int(m.key)))[:len(shown)]
        assert shown == [m.key for m in by_value]
        as_strings = sorted(result.groups, key=lambda m: (-m.encounters, m.key))[:len(shown)]
        assert [m.key for m in as_strings] != shown, "the demo has no tie that strings would misorder"
        assert "Most encounters first" in text(screen.query_one("#spark-heading", Static))


# -- singular and plural ----------------------------------------------------------------------------------


async def test_counts_read_in_singular_and_plural(demo_vault: Path, sessions: dict[str, Any]) -> None:
    from tui.screens.chart import ChartScreen
    from tui.screens.main import MainScreen

    app = make_app(demo_vault)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await signed_in(pilot, sessions["drmaria"])
        await pilot.press("f4")  # full text: the same hits every run
        await pilot.press(*"bisoprolol")
        await wait_for(pilot, lambda: main.last_query == "bisoprolol" and main.searches > 0, "a search")
        n = main.query_one("#results").option_count
        status = text(main.query_one("#results-status"))
        assert status.endswith(f"{n} record. Enter opens one." if n == 1 else f"{n} records. Enter opens one."), status
        assert "(s)" not in status
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, ChartScreen) and app.screen.chart is not None,
                       "a chart")
        head = text(app.screen.query_one("#chart-patient"))
        assert "(s)" not in head and "(y/ies)" not in head
        chart = app.screen.chart
        entries = len(chart.entries)
        assert (f"{entries} entry" if entries == 1 else f"{entries} entries") in head
        assert isinstance(app.screen_stack[1], MainScreen)


# -- the model state: loading, never a false "unavailable" first -------------------------------------------






async def test_model_state_shows_loading_then_ready_never_unavailable(
        demo_vault: Path, sessions: dict[str, Any], held_model: HeldModel, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.screens.main import MainScreen

    seen: list[tuple[str, str]] = []
    start = MainScreen.start_embedding

    def recording_start(self: MainScreen) -> None:
        """What the screen shows in the moment before the model starts loading (the first frame)."""
        seen.append((text(self.query_one("#search-mode")), text(self.query_one("#background"))))
        start(self)

    monkeypatch.setattr(MainScreen, "start_embedding", recording_start)
    app = make_app(demo_vault)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await signed_in(pilot, sessions["tess"])
        await wait_for(pilot, lambda: bool(seen) and main.embedding is not None, "the model starting")
        mode, background = seen[0]
        assert "unavailable" not in mode and "full text only" not in background, seen
        assert "model loading" in mode
        await wait_for(pilot, lambda: "model loading" in text(main.query_one("#background")), "loading in status")
        held_model.loaded.set()
        await wait_for(pilot, lambda: "model ready" in text(main.query_one("#search-mode")), "model ready")


async def test_footer_widens_again_with_the_terminal(demo_vault: Path, sessions: dict[str, Any]) -> None:
    """At 80 columns the palette key makes room for Lock; at 160 everything is back, in the normal style."""
    app = make_app(demo_vault)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await signed_in(pilot, sessions["tess"])
        footer = main.query_one(Footer)

        def shown() -> dict[str, Any]:
            return {k.action: k for k in footer.query(FooterKey) if k.region.width}

        await wait_for(pilot, lambda: "help" in shown(), "the footer at 80")
        assert "command_palette" not in shown() and "lock" in shown()
        await pilot.resize_terminal(160, 40)
        await wait_for(pilot, lambda: "command_palette" in shown(), "the palette key at 160")
        assert {"help", "lock", "open_queues", "open_stats"} <= set(shown()) and not footer.has_class("-compact")
        assert all(k.region.right <= 160 for k in shown().values())

    app = make_app(demo_vault)
    async with app.run_test(size=(80, 24)) as pilot:  # the audit log: compact at 80, normal again at 160
        await signed_in(pilot, sessions["admin"])
        await pilot.press("f8")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AuditScreen" and bool(app.screen.children),
                       "the audit log")
        footer = app.screen.query_one(Footer)
        await wait_for(pilot, lambda: "help" in shown() and footer.has_class("-compact"), "compact at 80")
        assert "lock" not in shown()  # an app-wide key gives way to the screen's own (F1 help lists it)
        await pilot.resize_terminal(160, 40)
        await wait_for(pilot, lambda: "command_palette" in shown(), "the palette key at 160")
        assert {"lock", "open_users"} <= set(shown()) and not footer.has_class("-compact")
