"""Canary: a unique string that arrives through the inbox never appears in the clear on disk.

Both watcher modes: locked (only the public key: arrivals go encrypted to
pending/, the next unlocked session indexes them) and unlocked (indexed at
once). After the inbox clears, `grep -r` over the vault folder (which holds
the inbox) finds neither the content nor the file name, while `search` finds
the record.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from watchdog.observers.polling import PollingObserver

from archive.intake import InboxService, watch_locked
from archive.search import search_records
from tests.conftest import TECH_PASS, VaultFixture


def grep_finds(needle: str, *folders: Path) -> list[str]:
    if shutil.which("grep") is None:
        pytest.skip("grep is not installed")
    found = []
    for folder in folders:
        out = subprocess.run(["grep", "-r", "-l", "-a", needle, str(folder)], capture_output=True, text=True)
        assert out.returncode in (0, 1), out.stderr
        found += out.stdout.split()
    return found


def names_containing(needle: str, folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if needle in p.name]


def polling() -> PollingObserver:
    return PollingObserver(timeout=0.05)


def test_canary_through_the_inbox_locked_then_unlocked(shared_vault: VaultFixture) -> None:
    root = shared_vault.root
    # 1. Locked: the watcher holds only the public key and encrypts the arrival into pending/.
    canary = "CANARY" + secrets.token_hex(8)
    name_canary = "NAMECANARY" + secrets.token_hex(4)
    stashed = threading.Event()
    watcher = watch_locked(root, quiet=0.2, observer_factory=polling, on_stashed=lambda r: stashed.set())
    watcher.start()
    try:
        note = f"MRN: 9001\nPatient note mentioning {canary} twice: {canary}"
        (root / "inbox" / f"{name_canary}.txt").write_text(note)
        assert stashed.wait(20), "the locked watcher never took the file"
        assert watcher.idle(20)
    finally:
        watcher.stop()
    assert list((root / "inbox").iterdir()) == []
    assert len(list((root / "pending").glob("*.age"))) == 1
    assert grep_finds(canary, root) == [] and names_containing(name_canary, root) == []
    # 2. The next unlocked session indexes the arrival.
    session = shared_vault.open("tess", TECH_PASS)
    try:
        assert list((root / "pending").glob("*.age")) == []
        hits = search_records(session, canary)
        assert len(hits) == 1 and hits[0].patient == "9001" and hits[0].filename == f"{name_canary}.txt"
        assert grep_finds(canary, root) == [] and names_containing(name_canary, root) == []
        # 3. Unlocked: the watcher imports at once.
        canary2 = "CANARY" + secrets.token_hex(8)
        arrived = threading.Event()
        service = InboxService(session, quiet=0.2, observer_factory=polling, on_outcomes=lambda o: arrived.set())
        service.start()
        try:
            (root / "inbox" / "sub").mkdir(exist_ok=True)
            (root / "inbox" / "sub" / "note.txt").write_text(f"Consult note: {canary2} seen in clinic.")
            assert arrived.wait(20), "the watcher never imported the file"
            assert service.idle(20)
            assert [o.status for o in service.outcomes] == ["imported"]
            assert not (root / "inbox" / "sub" / "note.txt").exists()
            assert grep_finds(canary2, root) == []
            hits = search_records(session, canary2)
            assert [h.record_id for h in hits] == [service.outcomes[0].record_id]
        finally:
            service.stop()
    finally:
        session.close()
    assert grep_finds(canary, root) == [] and grep_finds(canary2, root) == []
