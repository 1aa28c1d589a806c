"""Snapshot tests (pytest-textual-snapshot) of the main screens on the demo vault, at 80x24 and 160x48.

Deterministic by construction: the synthetic demo (fixed names and dates) built
with the audit clock frozen; each test works on a fresh copy of it at
~/demo-vault (HOME points into the test's folder), so access histories do not
grow between tests; the auto-lock countdown is frozen at 10:00; cursors do not
blink. Record ids are keyed hashes (a new vault key each build), so the SVG's
record ids are replaced by stable aliases in order of appearance.

Update after an intended change: pytest tests/functional/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from archive.demo import DEMO_USERS
from tests.functional.conftest import copy_demo, freeze_audit_clock, session_on
from tests.tui_helpers import wait_until as _wait_until

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
RECORD_ID = re.compile(r"\br[0-9a-f]{12}\b")
PASS = {u.name: u.passphrase for u in DEMO_USERS}


def stable_ids(svg: str) -> str:
    aliases: dict[str, str] = {}

    def alias(match: re.Match[str]) -> str:
        return aliases.setdefault(match.group(0), f"r{len(aliases) + 1:012d}")

    return RECORD_ID.sub(alias, svg)


@pytest.fixture(scope="module")
def physician(demo_sessions: dict[str, Any]) -> Any:
    """drmaria's session on this module's copy; tests reuse its identity on fresh copies."""
    return demo_sessions["drmaria"]


@pytest.fixture
def fresh_demo(demo_build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy at ~/demo-vault, with the clocks the screens show frozen."""
    import textual._doc

    from tui.app import ChartvaultApp

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    freeze_audit_clock(monkeypatch)
    monkeypatch.setattr(ChartvaultApp, "idle_remaining", lambda self: 600.0)
    original = textual._doc.take_svg_screenshot
    monkeypatch.setattr(textual._doc, "take_svg_screenshot", lambda *a, **k: stable_ids(original(*a, **k)))
    template, _report = demo_build
    return copy_demo(template, home / "demo-vault")


wait_until = partial(_wait_until, timeout=60.0)  # this module's default wait


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def settle(pilot: Any) -> None:
    """No blinking cursor; the countdown written once; pending refreshes done."""
    from textual.widgets import Input

    app = pilot.app
    for screen in app.screen_stack:
        for widget in screen.query(Input):
            widget.cursor_blink = False
    app._idle_tick()
    await pilot.pause()


def unlocked(root: Path, like: Any) -> Callable[[Any], Awaitable[None]]:
    """run_before: sign in (no KDF) and wait until the search screen and its status are ready."""

    async def run(pilot: Any) -> None:
        from tui.screens.main import MainScreen
        from tui.widgets.status import StatusLine

        app = pilot.app
        app.unlocked(session_on(root, like))
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and bool(app.screen.children), "main")
        main = app.screen

        def ready() -> bool:
            main.query_one(StatusLine).refresh_background()  # rather than wait for the timers
            main._show_mode()
            return "model ready" in text_of(main, "#background") and "model ready" in text_of(main, "#search-mode")

        await wait_until(pilot, ready, "status line")

    return run


async def search_for(pilot: Any, query: str) -> Any:
    """Full-text mode (F4 once): BM25 ranks are stable; semantic ranking is tuned elsewhere."""
    main = pilot.app.screen
    await pilot.press("f4")
    await wait_until(pilot, lambda: main.mode == "fts" and "Mode: fts" in text_of(main, "#search-mode"), "fts mode")
    await pilot.press(*query)
    await wait_until(pilot, lambda: main.last_query == query and main.searches > 0
                     and re.search(r"\d+ records?\b", text_of(main, "#results-status")), "search results")
    return main


@pytest.mark.parametrize("size", SIZES)
def test_unlock_screen(snap_compare: Any, fresh_demo: Path, size: tuple[int, int]) -> None:
    from tui.app import make_app

    async def run_before(pilot: Any) -> None:
        from tui.screens.unlock import UnlockScreen

        await wait_until(pilot, lambda: isinstance(pilot.app.screen, UnlockScreen), "unlock screen")
        await settle(pilot)

    assert snap_compare(make_app(fresh_demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_search_with_results(snap_compare: Any, fresh_demo: Path, physician: Any, size: tuple[int, int]) -> None:
    from tui.app import make_app

    async def run_before(pilot: Any) -> None:
        await unlocked(fresh_demo, physician)(pilot)
        await search_for(pilot, "heart failure")
        await settle(pilot)

    assert snap_compare(make_app(fresh_demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_record_view(snap_compare: Any, fresh_demo: Path, physician: Any, size: tuple[int, int]) -> None:
    from tui.app import make_app

    async def run_before(pilot: Any) -> None:
        from tui.screens.record import RecordScreen

        await unlocked(fresh_demo, physician)(pilot)
        await search_for(pilot, "bisoprolol")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RecordScreen)
                         and pilot.app.screen.view is not None
                         and "Who has seen" in text_of(pilot.app.screen, "#record-access"), "record view")
        await settle(pilot)

    assert snap_compare(make_app(fresh_demo), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_assistant_answer(snap_compare: Any, fresh_demo: Path, physician: Any, size: tuple[int, int]) -> None:
    from tui.app import make_app

    async def run_before(pilot: Any) -> None:
        from tui.screens.assistant import AssistantScreen

        await unlocked(fresh_demo, physician)(pilot)
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AssistantScreen), "assistant")
        await pilot.press(*"what medications does DEMO-1001 take?", "enter")
        await wait_until(pilot, lambda: pilot.app.screen.answers >= 1, "an answer")
        await settle(pilot)

    assert snap_compare(make_app(fresh_demo), terminal_size=size, run_before=run_before)


@pytest.fixture(scope="module")
def technician(demo_sessions: dict[str, Any]) -> Any:
    """tess's session on this module's copy (the transcription queue is hers)."""
    return demo_sessions["tess"]


@pytest.mark.parametrize("size", SIZES)
def test_transcription_with_the_scan(snap_compare: Any, fresh_demo: Path, technician: Any,
                                     size: tuple[int, int]) -> None:
    """The handwriting-style scan drawn (half blocks: no terminal to ask) beside its OCR lines and the box."""
    from tui.app import make_app

    async def run_before(pilot: Any) -> None:
        from textual.widgets import TabbedContent

        from tui.screens.queue import QueueScreen
        from tui.widgets.scan_view import ScanView

        await unlocked(fresh_demo, technician)(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, QueueScreen) and pilot.app.screen.loads > 0,
                         "queues")
        queue = pilot.app.screen
        queue.query_one("#queues", TabbedContent).active = "tab-transcription"
        await wait_until(pilot, lambda: queue.query_one("#scan", ScanView).drawn, "the scan drawn")
        await settle(pilot)

    assert snap_compare(make_app(fresh_demo), terminal_size=size, run_before=run_before)
