"""Helpers for ingest tests: a bare index + blob store (no keyslot, so no scrypt cost), sample notes."""

from __future__ import annotations

import csv
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.store.schema import MIGRATIONS
from indexer.pipeline import Ingestor
from vault.db import migrate, open_index
from vault.keys import Identity, generate_identity
from vault.store import BlobStore

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@dataclass
class IndexEnv:
    root: Path
    db: Any
    store: BlobStore
    qstore: BlobStore
    identity: Identity

    def ingestor(self, **kw: Any) -> Ingestor:
        kw.setdefault("settle", 0.05)
        return Ingestor(self.db, self.store, self.qstore, actor="test", **kw)

    def count(self, table: str, where: str = "1") -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0])

    def close(self) -> None:
        self.db.conn.close()


def make_index_env(root: Path) -> IndexEnv:
    root.mkdir(parents=True, exist_ok=True)
    identity = generate_identity()
    db = open_index(root / "index.db", secrets.token_bytes(32), create=True)
    migrate(db, MIGRATIONS)
    id_key = secrets.token_bytes(32)
    store = BlobStore(root / "objects", identity, id_key)
    return IndexEnv(root=root, db=db, store=store, qstore=store.at(root / "quarantine"), identity=identity)


def mtsamples_notes(n: int, offset: int = 0) -> list[tuple[str, str]]:
    """(file name, text) of `n` MTSamples transcriptions (skips when the shared data is absent)."""
    import pytest

    path = SHARED_DATA / "mtsamples" / "mtsamples.csv"
    if not path.exists():
        pytest.skip(f"shared test data {path} is not present")
    csv.field_size_limit(10**8)
    out: list[tuple[str, str]] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i < offset:
                continue
            text = (row.get("transcription") or "").strip()
            if not text:
                continue
            out.append((f"mtsample-{i:05d}.txt", text))
            if len(out) >= n:
                break
    return out


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, step: float = 0.05) -> bool:
    """Poll `predicate` until true or `timeout` (for subprocess or file-system state, not threads)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
