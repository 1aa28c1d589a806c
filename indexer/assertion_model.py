"""A learned second opinion on assertion: does a mention the rules call affirmed read as not affirmed?

The ConText rules (indexer/assertion.py) close each round of wordings they were shown and leave about one new
wording in twenty of the next round ("Mom has lupus", "booster due in 10 yrs", "X versus Y"). This model reads the
words around a mention (never the mention's own words, so it learns cues, not conditions) as hashed features:
the words and word pairs just before and after it in its clause, the sentence's first word and the heading
above it, into a logistic regression (numpy only). `bench/assertion_model.py` trains it on the coding snippet
rounds and affirmed MTSamples/ACI-Bench dev-split mentions and measures it leave-one-round-out.

It never codes and never drops: the code suggester asks it only about a mention the rules call affirmed, and a
mention it doubts with at least the model's threshold of confidence goes on the suggestions' uncertain list for
a person to decide, instead of being suggested. Its weights would ship as indexer/data/assertion_model.npz, read
on first use; none ships today (bench/RESULTS.md, issue 22 session 10: on held-out rounds it caught about one
uncoded line for each affirmed control it sent to review), so the rules alone decide. Before one ships, the
uncertain list needs a reason of its own for these mentions (today's heading speaks of the inpatient rule).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from indexer.assertion import heading_at, sentence_around

FEATURE_BITS = 16
DIM = 1 << FEATURE_BITS
WINDOW = 8  # words each side of the mention, inside its sentence
MODEL_FILE = "assertion_model.npz"

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (DIM - 1)


def feature_names(text: str, start: int, end: int) -> list[str]:
    """The features of the mention text[start:end]: its context, never its own words."""
    s, e = sentence_around(text, start, end)
    left = _words(text[s:start])
    right = _words(text[end:e])
    out = ["bias"]
    # A semicolon closes a clause: the words before it say nothing of this mention ("Denies chest pain; does
    # report shortness of breath"), only that there was one.
    if ";" in left:
        left = left[len(left) - left[::-1].index(";"):]
        out.append("l:<clause>")
    if ";" in right:
        right = right[: right.index(";")]
        out.append("r:<clause>")
    before, after = left[-WINDOW:], right[:WINDOW]
    for side, seq in (("l", before[::-1]), ("r", after)):
        for i, w in enumerate(seq):
            out.append(f"{side}:{w}")
            if i < 3:
                out.append(f"{side}{i}:{w}")
            if i + 1 < len(seq):
                out.append(f"{side}b:{w}_{seq[i + 1]}")
    out.append(f"s0:{left[0] if left else '<c>'}")
    if not before:
        out.append("l:<start>")
    if not after:
        out.append("r:<end>")
    head = heading_at(text, start)
    if head is not None:
        out += [f"h:{w}" for w in _words(head.name) if w.isalpha()]
    return out


def features(text: str, start: int, end: int) -> np.ndarray:
    """The hashed feature indices of the mention text[start:end] (a feature counted once)."""
    return np.unique(np.fromiter((_hash(f) for f in feature_names(text, start, end)), dtype=np.int64))


@dataclass(frozen=True)
class Model:
    weights: np.ndarray  # float32, DIM
    threshold: float  # a mention is doubted at this probability of "not affirmed" or more
    trained_on: str = ""

    def probability(self, text: str, start: int, end: int) -> float:
        """The probability that the mention text[start:end] is not affirmed (negated, doubted, planned,
        a relative's or another person's)."""
        z = float(self.weights[features(text, start, end)].sum())
        return 1.0 / (1.0 + np.exp(-z))

    def doubts(self, text: str, start: int, end: int) -> bool:
        return self.probability(text, start, end) >= self.threshold

    def save(self, path: Path) -> None:
        np.savez_compressed(path, weights=self.weights.astype(np.float16), threshold=np.float64(self.threshold),
                            trained_on=np.array(self.trained_on))


def load(path: Path) -> Model:
    with np.load(path, allow_pickle=False) as data:
        return Model(data["weights"].astype(np.float32), float(data["threshold"]), str(data["trained_on"]))


def train(examples: Sequence[tuple[str, int, int, int]], threshold: float = 0.5, l2: float = 1e-3,
          steps: int = 400, rate: float = 0.05, trained_on: str = "",
          groups: Sequence[str] | None = None) -> Model:
    """A model from (text, start, end, label) examples, label 1 = not affirmed: logistic regression on the
    hashed features, full-batch Adam with an L2 penalty. The two labels weigh the same, and within a label so
    does each group (`groups`: one name an example, e.g. its source: written snippets, whole notes).
    (Weighing each (group, label) pair alike instead did no better in bench/assertion_model.py.)"""
    rows = [features(t, s, e) for t, s, e, _ in examples]
    y = np.array([float(lab) for *_, lab in examples])
    lengths = np.array([len(r) for r in rows])
    idx = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    row_of = np.repeat(np.arange(len(rows)), lengths)
    keys = [(g, int(lab)) for g, lab in zip(groups or [""] * len(y), y, strict=True)]
    count: dict[tuple[str, int], int] = {}
    for k in keys:
        count[k] = count.get(k, 0) + 1
    per_label = {lab: sum(1 for k in count if k[1] == lab) for lab in (0, 1)}
    sample_w = np.array([0.5 / (per_label[k[1]] * count[k]) for k in keys])
    w = np.zeros(DIM)
    m = np.zeros(DIM)
    v = np.zeros(DIM)
    b1, b2 = 0.9, 0.999
    for t in range(1, steps + 1):
        z = np.bincount(row_of, weights=w[idx], minlength=len(rows))
        p = 1.0 / (1.0 + np.exp(-z))
        resid = (p - y) * sample_w
        g = np.bincount(idx, weights=resid[row_of], minlength=DIM) + l2 * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w -= rate * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + 1e-8)
    return Model(w.astype(np.float32), threshold, trained_on)


def model_path() -> Path:
    """Where the shipped model lives: indexer/data/assertion_model.npz."""
    return Path(str(files("indexer.data").joinpath(MODEL_FILE)))


@lru_cache(maxsize=1)
def shipped() -> Model | None:
    """The shipped model, read on first use; None when none is shipped (then the rules alone decide)."""
    path = model_path()
    return load(path) if path.is_file() else None


_override: list[Model | None] = []


@contextmanager
def using(model: Model | None) -> Iterator[None]:
    """Within the block, `doubts` asks `model` (None: no second opinion) instead of the shipped one."""
    _override.append(model)
    try:
        yield
    finally:
        _override.pop()


def current() -> Model | None:
    return _override[-1] if _override else shipped()


def doubts(text: str, start: int, end: int) -> bool:
    """Whether the model in use reads the mention text[start:end], which the rules call affirmed, as not
    affirmed with at least its threshold of confidence (False when no model is shipped)."""
    model = current()
    return model is not None and model.doubts(text, start, end)
