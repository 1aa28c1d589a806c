"""`chartvault serve` in a real browser (issue 21): headless Chromium from Debian's packages.

Driven by Playwright with `executable_path` (Debian's /usr/bin/chromium; never a
browser downloaded at run time). Skips, saying why, when either is missing;
.ci/run installs the chromium package.
"""

from __future__ import annotations

import re
import shutil
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TECH_PASS, VaultTemplate
from tests.serve_helpers import served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"  # screenshots, kept for a human to look at
PASSPHRASE_FOCUSED = re.compile(r"p(?:\x1b\[[0-9;]*m)+assphrase")

pytestmark = pytest.mark.integration


def _browser_or_skip() -> Any:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); the browser test needs it")
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        pytest.skip("playwright (PyPI) is not installed: pip install -e '.[dev]'")
    return sync_playwright


def test_a_browser_sees_the_unlock_screen_logs_in_and_asks_no_other_host(
    tmp_path: Path, users_vault_template: VaultTemplate
) -> None:
    sync_playwright = _browser_or_skip()
    fx = users_vault_template.copy(tmp_path / "v")
    session: Any = fx.session
    try:
        with served(fx.root) as (port, _proc), sync_playwright() as pw:
            own = f"127.0.0.1:{port}"
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 700})
                asked: list[str] = []
                screen: list[str] = []  # what the server drew, as the page's websocket received it
                page.on("request", lambda request: asked.append(request.url))

                def on_websocket(ws: Any) -> None:
                    asked.append(ws.url)
                    ws.on("framereceived", lambda payload: screen.append(
                        payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload))

                page.on("websocket", on_websocket)
                page.goto(f"http://{own}/")
                page.wait_for_function("() => document.body.classList.contains('-first-byte')", timeout=60_000)
                deadline = time.monotonic() + 60
                while "Passphrase" not in "".join(screen):  # the unlock screen is drawn in the page's terminal
                    assert time.monotonic() < deadline, "the page never showed the unlock screen"
                    page.wait_for_timeout(100)
                ARTEFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTEFACTS / "serve-unlock.png"))

                page.click("#terminal")  # the terminal takes the keyboard, as a person would click it
                page.keyboard.type("tess")
                drawn = len(screen)
                page.keyboard.press("Enter")  # to the passphrase field
                while not PASSPHRASE_FOCUSED.search("".join(screen[drawn:])):
                    assert time.monotonic() < deadline, "the passphrase field never had the focus"
                    page.wait_for_timeout(100)
                page.keyboard.type(TECH_PASS)
                page.keyboard.press("Enter")
                while not (logins := [e for e in session.audit_log.entries(action="login", user="tess")
                                      if "origin" in e.details]):
                    assert time.monotonic() < deadline, "the browser's login never reached the audit log"
                    page.wait_for_timeout(200)
                assert logins[-1].details["origin"].startswith("127.0.0.1:")
                page.screenshot(path=str(ARTEFACTS / "serve-after-login.png"))
            finally:
                browser.close()
        assert asked, "the browser made no request at all"
        elsewhere = [u for u in asked if urllib.parse.urlsplit(u).netloc != own]
        assert elsewhere == [], f"the page asked other hosts: {elsewhere}"
        assert f"ws://{own}/ws" in {u.split("?")[0] for u in asked}
    finally:
        session.close()
