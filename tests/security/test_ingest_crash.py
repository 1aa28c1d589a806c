"""Crash safety: kill -9 `chartvault import --move` at random moments, rerun, lose and duplicate nothing.

After every kill, each distinct input is either still in the source folder or
already a record (nothing lost); after the final run, the record count equals
the number of distinct inputs and the source folder is empty.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TECH_PASS, VaultFixture, chartvault_bin

KILLS = 3
RANDOM_SEED = 20260814  # fixed, so a failing run can be replayed exactly


def _no_embed() -> list[str]:
    """Embedding (a later stage, after the commit) is not what this test is about."""
    from archive.cli import cli

    return ["--no-embed"] if any("--no-embed" in p.opts for p in cli.commands["import"].params) else []


def _env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CHARTVAULT_VAULT": str(root),
        "CHARTVAULT_USER": "tess",
        "CHARTVAULT_PASSPHRASE": TECH_PASS,
        "HF_HUB_OFFLINE": "1",
    }


def _make_inputs(folder: Path, n: int, dups: int) -> int:
    folder.mkdir(parents=True)
    rng = random.Random(1234)
    words = "fever cough fracture anaemia asthma sepsis stroke angina gout migraine eczema".split()
    for i in range(n):
        body = f"MRN: C{i % 17}\nVisit {i}: " + " ".join(rng.choice(words) for _ in range(200)) + f"\nref {i}\n"
        (folder / f"note-{i:03d}.txt").write_text(body)
    for j in range(dups):  # same content as an earlier note, another name
        (folder / f"copy-{j:03d}.txt").write_bytes((folder / f"note-{j:03d}.txt").read_bytes())
    old = time.time() - 3600  # settled long ago: --move takes them at once
    for p in folder.iterdir():
        os.utime(p, (old, old))
    return n


def _records(session: Any) -> int:
    return int(session.db.execute("SELECT count(*) FROM records").fetchone()[0])


def _nothing_lost(session: Any, src: Path, originals: dict[str, bytes]) -> None:
    for name, data in originals.items():
        blob_id = session.blobs.blob_id_of(data)
        committed = session.db.execute("SELECT 1 FROM records WHERE blob_id = ?", [blob_id]).fetchone()
        assert committed is not None or (src / name).exists(), f"{name} was lost"


@pytest.mark.timeout(900)
def test_kill_9_during_import_loses_and_duplicates_nothing(shared_vault: VaultFixture, tmp_path: Path) -> None:
    exe = chartvault_bin()
    src = tmp_path / "src"
    distinct = _make_inputs(src, n=150, dups=20)
    originals = {p.name: p.read_bytes() for p in src.iterdir()}
    total = len(originals)
    rng = random.Random(RANDOM_SEED)
    killed = 0
    session = shared_vault.open("tess", TECH_PASS)  # one reader for the checks, beside the importers
    for _ in range(KILLS):
        before = len(list(src.iterdir()))
        if before == 0:
            break
        proc = subprocess.Popen([exe, "import", str(src), "--move", "--json", *_no_embed()],
                                env=_env(shared_vault.root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # kill at a random moment while it is really importing: once a random share (up to half) of the
        # files has left, a little later (a fixed delay, 0-0.6 s, often outlived a quick import)
        deadline = time.monotonic() + 120
        keep = before - rng.randint(1, max(1, before // 2))
        while proc.poll() is None and len(list(src.iterdir())) > keep and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.02))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        _nothing_lost(session, src, originals)
        assert _records(session) <= distinct
    assert killed >= 1, "the import finished before any kill could land"
    final = subprocess.run([exe, "import", str(src), "--move", "--json", *_no_embed()], env=_env(shared_vault.root),
                           capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    assert list(src.iterdir()) == []
    assert _records(session) == distinct
    assert total == distinct + 20
    session.close()
