"""Canary: drawing a scan in the transcription tab decrypts it into memory only, never to disk.

The scan carries two canaries: one in a PNG text chunk (found in any copy of the original file) and one
spelled by the raw RGB bytes of a pixel row (found in any raw dump of the decoded picture). The TUI draws the
scan, zoomed and back, with TMPDIR, HOME and the working folder pointed at empty folders; afterwards `grep -r`
finds neither canary there nor in the vault folder, and no picture file of any kind was written there.
"""

from __future__ import annotations

import io
import os
import secrets
import tempfile
from functools import partial
from pathlib import Path

import pytest

from tests.conftest import TECH_PASS, VaultFixture
from tests.security.test_ingest_canary import grep_finds
from tests.tui_helpers import transcription_tab, wait_until

wait_for = partial(wait_until, timeout=60.0)
PICTURE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*", b"P6", b"P5", b"GIF8", b"RIFF")


def canary_png(text_canary: str, pixel_canary: bytes) -> bytes:
    from PIL import Image, ImageDraw
    from PIL.PngImagePlugin import PngInfo

    width = len(pixel_canary) // 3
    image = Image.new("RGB", (max(width, 320), 200), "white")
    ImageDraw.Draw(image).text((20, 80), "Rx cimetidine 400 mg nocte", fill="black")
    row = Image.frombytes("RGB", (width, 1), pixel_canary)
    image.paste(row, (0, 10))
    info = PngInfo()
    info.add_text("Comment", text_canary)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def files_under(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


async def test_the_drawn_scan_never_reaches_the_disk(shared_vault: VaultFixture, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import DataTable

    from archive.intake import import_paths
    from tui.app import make_app
    from tui.widgets.scan_view import ScanView

    text_canary = "SCANCANARY" + secrets.token_hex(8)
    pixel_canary = ("PIXCANARY" + secrets.token_hex(12)).encode()[:33]  # 11 RGB pixels
    session = shared_vault.open("tess", TECH_PASS)
    src = tmp_path / "src"
    src.mkdir()
    (src / "rx-scan.png").write_bytes(canary_png(text_canary, pixel_canary))
    [out] = import_paths(session, [src / "rx-scan.png"], settle=0).outcomes
    (src / "rx-scan.png").unlink()
    with session.transaction():  # whatever the OCR made of it, it waits for a person
        session.db.execute("UPDATE records SET needs_transcription = 1 WHERE id = ?", [out.record_id])
    root = shared_vault.root
    assert grep_finds(text_canary, root) == [] and grep_finds(pixel_canary.decode(), root) == []

    tmp, home, cwd = tmp_path / "tmp", tmp_path / "home", tmp_path / "cwd"
    for folder in (tmp, home, cwd):
        folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    assert tempfile.gettempdir() == str(tmp)

    app = make_app(shared_vault.root)
    async with app.run_test(size=(120, 36)) as pilot:
        queue = await transcription_tab(pilot, session)
        table = queue.query_one("#transcription", DataTable)
        await wait_for(pilot, lambda: out.record_id in queue.transcription_ids, "the scan in the queue")
        table.move_cursor(row=queue.transcription_ids.index(out.record_id))
        scan = queue.query_one("#scan", ScanView)
        await wait_for(pilot, lambda: scan.shown_for == out.record_id and scan.drawn, "the scan drawn")
        await pilot.press("f12")
        await wait_for(pilot, lambda: scan.has_class("zoomed"), "zoomed")
        await pilot.pause()
        await pilot.press("f12")
        await wait_for(pilot, lambda: not scan.has_class("zoomed"), "back")
    session.close()

    watched = (shared_vault.root, tmp, home, cwd)
    assert [grep_finds(text_canary, f) for f in watched] == [[], [], [], []]
    assert [grep_finds(pixel_canary.decode(), f) for f in watched] == [[], [], [], []]
    pictures = [p for p in files_under(tmp, home, cwd, shared_vault.root)
                if p.suffix != ".age" and p.read_bytes()[:4].startswith(PICTURE_MAGIC)]
    assert pictures == []
    assert files_under(tmp, cwd) == [], os.listdir(tmp)
