"""The real embedder's loading never blocks a caller that only asks whether it is ready (issue 16, finding 2)."""

from __future__ import annotations

import threading

import pytest

from indexer.embedder import SentenceTransformerEmbedder


def test_start_loading_returns_while_the_model_is_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """A search calls `get_embedder` (hence `start_loading`) on every keystroke; while the model loads
    (15-18 s on a 2-core machine) that call must return at once so full text can answer."""
    emb = SentenceTransformerEmbedder()
    loading = threading.Event()
    release = threading.Event()

    def slow_load() -> None:
        with emb._lock:  # the real load holds its lock for the whole load
            loading.set()
            release.wait(30)
            emb._ready.set()

    monkeypatch.setattr(emb, "load", slow_load)
    try:
        emb.start_loading()
        assert loading.wait(10), "the loading thread did not start"
        asked = threading.Thread(target=emb.start_loading, daemon=True)
        asked.start()
        asked.join(5)
        assert not asked.is_alive(), "start_loading waited for the model to finish loading"
        assert not emb.ready
    finally:
        release.set()
    assert emb.wait(10) and emb.ready
