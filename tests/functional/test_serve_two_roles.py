"""Two people at once through `chartvault serve` in headless Chromium (issue 21): a technician and a physician.

Each has their own browser context (as two workstations would), and so their
own connection, app process and login. The technician searches and opens a
record; the physician asks the assistant about that patient; the technician's
same question is refused (technicians get no patient questions); the physician
locks and the technician keeps working; the audit log holds both, each with its
connection's address. A screenshot of each browser is saved under
tests/artefacts/ (the paths are printed). The served processes use the fake
embedder (CHARTVAULT_EMBEDDER=fake): the real model's load would only slow
this down; nothing here needs semantic ranking.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.assistant_helpers import FHIR_MRN, import_corpus
from tests.conftest import PHYS_PASS, TECH_PASS, VaultTemplate
from tests.functional.test_serve_browser import ARTEFACTS, CHROMIUM, PASSPHRASE_FOCUSED, _browser_or_skip
from tests.serve_helpers import served

pytestmark = pytest.mark.integration

ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07]*\x07|[@-Z\\-_])")
TIMEOUT = 90.0  # seconds for each step: two app processes on a shared 2-core machine


class Workstation:
    """One browser context and page on the served app; `screen` is what the server drew (escapes removed)."""

    def __init__(self, browser: Any, url: str, name: str) -> None:
        self.name = name
        self.context = browser.new_context(viewport={"width": 1100, "height": 700})
        self.page = self.context.new_page()
        self.frames: list[str] = []
        self.asked: list[str] = []
        self.page.on("request", lambda request: self.asked.append(request.url))
        self.page.on("websocket", self._on_websocket)
        self.page.goto(url)

    def _on_websocket(self, ws: Any) -> None:
        self.asked.append(ws.url)
        ws.on("framereceived", lambda payload: self.frames.append(
            payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload))

    def drawn_since(self, mark: int) -> str:
        return ANSI.sub("", "".join(self.frames[mark:]))

    def wait_drawn(self, text: str, since: int = 0) -> None:
        deadline = time.monotonic() + TIMEOUT
        while text not in self.drawn_since(since):
            assert time.monotonic() < deadline, \
                f"{self.name}: {text!r} was never drawn; the screen had: {self.drawn_since(since)[-1500:]!r}"
            self.page.wait_for_timeout(100)

    def wait_redrawn(self, mark: int) -> None:
        """Until the server drew something after `mark` (a key's effect reached the screen)."""
        deadline = time.monotonic() + TIMEOUT
        while len(self.frames) <= mark:
            assert time.monotonic() < deadline, f"{self.name}: nothing was drawn after the key"
            self.page.wait_for_timeout(50)

    def log_in(self, user: str, passphrase: str) -> None:
        self.page.click("#terminal")  # the terminal takes the keyboard, as a person would click it
        self.page.keyboard.type(user)
        mark = len(self.frames)
        self.page.keyboard.press("Enter")  # to the passphrase field
        deadline = time.monotonic() + TIMEOUT
        while not PASSPHRASE_FOCUSED.search("".join(self.frames[mark:])):
            assert time.monotonic() < deadline, f"{self.name}: the passphrase field never had the focus"
            self.page.wait_for_timeout(100)
        self.page.keyboard.type(passphrase)
        self.page.keyboard.press("Enter")

    def screenshot(self, name: str) -> Path:
        ARTEFACTS.mkdir(exist_ok=True)
        path = ARTEFACTS / name
        self.page.screenshot(path=str(path))
        print(f"screenshot: {path}")  # noqa: T201 - where a human finds it (pytest -s)
        return path


def wait_for_entry(session: Any, what: str, since: int = 0, **filters: Any) -> Any:
    """The newest audit entry matching `filters` with seq > since, from a served connection (has an origin)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        found = [e for e in session.audit_log.entries(**filters) if e.seq > since and "origin" in e.details]
        if found:
            return found[-1]
        assert time.monotonic() < deadline, f"no audit entry: {what}"
        time.sleep(0.2)


def test_a_technician_and_a_physician_at_once_each_within_their_role(
    tmp_path: Path, users_vault_template: VaultTemplate, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_playwright = _browser_or_skip()
    fx = users_vault_template.copy(tmp_path / "v")  # admin, tess (technician), drmaria (physician)
    admin: Any = fx.session
    import_corpus(admin, tmp_path / "corpus")
    monkeypatch.setenv("CHARTVAULT_EMBEDDER", "fake")
    try:
        with served(fx.root) as (port, _proc), sync_playwright() as pw:
            own = f"127.0.0.1:{port}"
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            try:
                tech = Workstation(browser, f"http://{own}/", "technician")
                phys = Workstation(browser, f"http://{own}/", "physician")
                for ws in (tech, phys):
                    ws.wait_drawn("Passphrase")
                start = admin.audit_log.entries()[-1].seq
                tech.log_in("tess", TECH_PASS)
                phys.log_in("drmaria", PHYS_PASS)
                tess_in = wait_for_entry(admin, "tess's login", start, action="login", user="tess")
                maria_in = wait_for_entry(admin, "drmaria's login", start, action="login", user="drmaria")
                assert tess_in.details["origin"] != maria_in.details["origin"]  # two connections

                # Each footer offers what the role may open: work queues for the technician only, the
                # audit log and users for neither.
                tech.wait_drawn("Queues")
                phys.wait_drawn("Ask")
                for ws in (tech, phys):
                    assert "Audit" not in ws.drawn_since(0) and "Users" not in ws.drawn_since(0)
                assert "Queues" not in phys.drawn_since(0)

                # The technician searches and opens the record.
                mark = len(tech.frames)
                tech.page.keyboard.type("sinusitis")
                searched = wait_for_entry(admin, "tess's search", start, action="search", user="tess")
                assert searched.details["origin"] == tess_in.details["origin"]
                tech.wait_drawn("Enter opens one", since=mark)  # the results are shown
                mark = len(tech.frames)
                tech.page.keyboard.press("Enter")  # to the results
                tech.wait_redrawn(mark)  # the focus has moved (the highlighted row is drawn)
                tech.page.keyboard.press("Enter")  # open the highlighted one
                viewed = wait_for_entry(admin, "tess's record view", start, action="view_record", user="tess")
                assert viewed.patient == FHIR_MRN and viewed.details["origin"] == tess_in.details["origin"]
                tech.wait_drawn("sinusitis", since=mark)
                tech_shot = tech.screenshot("serve-technician-record.png")

                # The physician asks the assistant about that patient; the answer cites the record.
                phys.page.keyboard.press("F6")
                phys.wait_drawn("Ask about the records")
                mark = len(phys.frames)
                phys.page.keyboard.type("What antibiotics did Jane Roe get?")
                phys.page.keyboard.press("Enter")
                asked = wait_for_entry(admin, "drmaria's question", start, action="assistant_ask", user="drmaria")
                assert asked.outcome == "ok" and asked.patient == FHIR_MRN
                assert asked.details["origin"] == maria_in.details["origin"]
                phys.wait_drawn("Amoxicillin", since=mark)
                assert viewed.record in asked.details["records"]  # cites the record the technician opened
                phys_shot = phys.screenshot("serve-physician-assistant.png")

                # The same question from the technician is refused: no patient questions for technicians.
                mark = len(tech.frames)
                tech.page.keyboard.press("Escape")  # back from the record to the search screen
                tech.wait_drawn("Mode:", since=mark)
                tech.page.keyboard.press("F6")
                tech.wait_drawn("Ask about the records", since=mark)
                mark = len(tech.frames)
                tech.page.keyboard.type("What antibiotics did Jane Roe get?")
                tech.page.keyboard.press("Enter")
                refused = wait_for_entry(admin, "tess's question", start, action="assistant_ask", user="tess")
                assert refused.outcome != "ok"
                tech.wait_drawn("physicians", since=mark)
                assert "Amoxicillin" not in tech.drawn_since(mark)

                # The physician locks: logged out (audited with the address); the technician works on.
                mark = len(phys.frames)
                phys.page.keyboard.press("Control+l")
                locked = wait_for_entry(admin, "drmaria's lock", start, action="logout", user="drmaria")
                assert locked.reason == "locked" and locked.details["origin"] == maria_in.details["origin"]
                phys.wait_drawn("Passphrase", since=mark)  # the unlock screen (test_tui_lock_key: nothing left)
                # still on the assistant, its question box focused: a question naming no patient is hers to ask
                tech.page.keyboard.type("find records about chest pain")
                tech.page.keyboard.press("Enter")
                after = wait_for_entry(admin, "tess's question after the lock", locked.seq,
                                       action="assistant_ask", user="tess")
                assert after.details["origin"] == tess_in.details["origin"]
                phys.screenshot("serve-physician-locked.png")
            finally:
                browser.close()
        for shot in (tech_shot, phys_shot):
            assert shot.stat().st_size > 1000
        for ws in (tech, phys):
            elsewhere = [u for u in ws.asked if own not in u]
            assert elsewhere == [], f"{ws.name}'s page asked other hosts: {elsewhere}"
        assert admin.audit_log.verify().ok
    finally:
        admin.close()
