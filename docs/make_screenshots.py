"""Textual SVG screenshots of the synthetic demo vault, for the README tour (docs/screenshots/*.svg).

    .venv/bin/python docs/make_screenshots.py [--size 120x36]

Builds a fresh synthetic demo vault in a temporary folder (fictional patients
only; the fake embedder stands in for the model, so it takes a minute, not
five), drives the app headless as the demo users and writes one SVG per
screen. Record ids (keyed hashes, new with every vault) are replaced by
stable aliases so regenerating gives the same files. The temporary vault is
deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
RECORD_ID = re.compile(r"\br[0-9a-f]{12}\b")


def stable_ids(svg: str) -> str:
    aliases: dict[str, str] = {}
    return RECORD_ID.sub(lambda m: aliases.setdefault(m.group(0), f"r{len(aliases) + 1:012d}"), svg)


async def wait_until(pilot: Any, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise TimeoutError("the screen never got there")


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def shoot(root: Path, session: Any | None, name: str, size: tuple[int, int],
                steps: Callable[[Any], Awaitable[None]] | None = None) -> None:
    from textual.widgets import Input

    from archive.intake import fork_session
    from tui.app import ChartvaultApp, make_app
    from tui.screens.main import MainScreen

    ChartvaultApp.idle_remaining = lambda self: 600.0  # type: ignore[method-assign]  # a still countdown
    app = make_app(root)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        if session is not None:
            app.unlocked(fork_session(session))
            await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and bool(app.screen.children))
            main = app.screen
            await wait_until(pilot, lambda: "ready" in text_of(main, "#background")
                             or "full text" in text_of(main, "#background"))
        if steps is not None:
            await steps(pilot)
        for screen in app.screen_stack:
            for widget in screen.query(Input):
                widget.cursor_blink = False
        app._idle_tick()
        await pilot.pause(0.5)
        svg = stable_ids(app.export_screenshot(title=f"chartvault: {name.replace('-', ' ')}"))
    (OUT / f"{name}.svg").write_text(svg, encoding="utf-8")
    print(f"wrote docs/screenshots/{name}.svg")


async def search(pilot: Any, query: str) -> None:
    main = pilot.app.screen
    await pilot.press("f4")  # full-text mode: the same ranking every time
    await pilot.press(*query)
    await wait_until(pilot, lambda: main.last_query == query and "Enter opens one." in text_of(main, "#results-status"))


async def record(pilot: Any) -> None:
    from tui.screens.record import RecordScreen

    await search(pilot, "bisoprolol")
    await pilot.press("down", "enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RecordScreen) and pilot.app.screen.view is not None)


async def assistant(pilot: Any) -> None:
    await pilot.press("f6")
    await pilot.pause(0.3)
    await pilot.press(*"what medications does DEMO-1001 take?", "enter")
    await wait_until(pilot, lambda: getattr(pilot.app.screen, "answers", 0) >= 1)


async def chart(pilot: Any) -> None:
    from tui.screens.chart import ChartScreen

    await search(pilot, "furosemide")
    await pilot.press("down", "f3")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChartScreen))
    await pilot.pause(1.5)


async def queues(pilot: Any) -> None:
    await pilot.press("f2")
    await wait_until(pilot, lambda: getattr(pilot.app.screen, "loads", 0) >= 1)
    pilot.app.screen.query_one("#queues").active = "tab-transcription"
    await pilot.pause(0.5)


async def help_screen(pilot: Any) -> None:
    await pilot.press("f1")
    await pilot.pause(0.5)


async def palette(pilot: Any) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause(0.8)


async def audit(pilot: Any) -> None:
    await pilot.press("f8")
    await pilot.pause(2.0)


async def main_async(size: tuple[int, int]) -> None:
    from archive.demo import DEMO_USERS, build_demo
    from archive.login import open_session

    workdir = Path(tempfile.mkdtemp(prefix="chartvault-shots-"))
    home = workdir / "home"
    home.mkdir()
    os.environ["HOME"] = str(home)  # the vault shows as ~/demo-vault
    root = home / "demo-vault"
    try:
        print("building the synthetic demo vault…")
        build_demo(root, source="synthetic", embed=True)
        passphrase = {u.name: u.passphrase for u in DEMO_USERS}
        sessions = {name: open_session(root, name, passphrase[name]) for name in ("drmaria", "tess", "admin")}
        OUT.mkdir(parents=True, exist_ok=True)
        await shoot(root, None, "01-unlock", size)
        await shoot(root, sessions["drmaria"], "02-search", size, lambda p: search(p, "heart failure"))
        await shoot(root, sessions["drmaria"], "03-record", size, record)
        await shoot(root, sessions["drmaria"], "04-assistant", size, assistant)
        await shoot(root, sessions["tess"], "05-chart", size, chart)
        await shoot(root, sessions["tess"], "06-queues", size, queues)
        await shoot(root, sessions["drmaria"], "07-help", size, help_screen)
        await shoot(root, sessions["drmaria"], "08-palette", size, palette)
        await shoot(root, sessions["admin"], "09-audit", size, audit)
        for session in sessions.values():
            session.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="120x36", help="terminal size, COLSxROWS")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.lower().split("x"))
    os.environ.setdefault("CHARTVAULT_EMBEDDER", "fake")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    asyncio.run(main_async((cols, rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
