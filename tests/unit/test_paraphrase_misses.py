"""bench/paraphrase_misses.py and bench/query_adapter.py (session 13's measurements of issue 18's paraphrase misses),
and the grid's session-13 variants: where a missed note ranks is read right, and the adapter is the map it says."""

from __future__ import annotations

import numpy as np

from bench.paraphrase_grid import VARIANTS, Corpus, QueryData, rank
from bench.paraphrase_misses import best_rank, klass, sides
from bench.query_adapter import adapt, fit, top1


def _unit(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    m = rng.normal(size=(rows, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def _corpus(rng: np.random.Generator, records: int = 150) -> Corpus:
    chunks = rng.integers(1, 4, size=records)
    starts = np.concatenate([[0], np.cumsum(chunks)[:-1]]).astype(np.int64)
    rows = int(chunks.sum())
    return Corpus(_unit(rng, rows, 16), np.arange(1, records + 1, dtype=np.int64), starts, _unit(rng, rows, 8))


def _query(c: Corpus, target: int, first_vector: np.ndarray, second_vector: np.ndarray) -> QueryData:
    none = np.zeros(len(c.records))
    return QueryData("paraphrase-x", "q", np.array([target]), first_vector, first_vector, none, none.copy(),
                     vector2=second_vector)


def test_best_rank_orders_by_score_then_record_and_skips_unmatched() -> None:
    records = np.array([1, 2, 3, 4])
    scores = np.array([0.5, 0.9, 0.5, -np.inf])
    assert best_rank(scores, np.array([1]), records) == 1
    assert best_rank(scores, np.array([2]), records) == 3  # tied with row 0, whose record comes first
    assert best_rank(scores, np.array([2, 0]), records) == 2
    assert best_rank(scores, np.array([3]), records) is None  # not matched at all


def test_a_note_only_the_second_model_finds_is_outside_the_candidates_and_the_second_pool_brings_it_in() -> None:
    rng = np.random.default_rng(3)
    c = _corpus(rng)
    target = 17
    a, b = int(c.starts[target]), int(c.starts[target] + c.chunks[target])
    q1 = -c.matrix[a]  # the first model ranks the note last of all
    q2 = c.second[a].copy()  # the second model's nearest passage is the note's
    assert c.second is not None
    c.matrix[a:b] = c.matrix[a]  # (one passage for the first model: its best is its worst)
    q = _query(c, target, q1, q2)
    s = sides(c, q)
    assert s["minilm"] > 100 and s["bge"] == 1
    assert not s["in_cand"] and klass(s) == "outside"
    assert target not in rank(c, q, VARIANTS["pair-cand-w0.6"])
    assert target in rank(c, q, VARIANTS["pair-second-pool100"])


def test_a_note_first_on_both_sides_is_found_first() -> None:
    rng = np.random.default_rng(5)
    c = _corpus(rng)
    assert c.second is not None
    target = 40
    a = int(c.starts[target])
    q = _query(c, target, c.matrix[a].copy(), c.second[a].copy())
    s = sides(c, q)
    assert s["in_cand"] and s["final"] == 1 and s["minilm"] == 1 and s["bge"] == 1


def test_the_adapter_recovers_a_linear_map_and_mixes_as_documented() -> None:
    rng = np.random.default_rng(1)
    x = _unit(rng, 400, 12)
    rotation = np.linalg.qr(rng.normal(size=(12, 12)))[0].astype(np.float32)
    y = x @ rotation
    w = fit(x, y, 1e-6)
    assert np.allclose(w, rotation, atol=1e-3)
    assert np.allclose(fit(x, y, 1e9), np.eye(12), atol=1e-3)  # lam: pulled toward the identity
    assert top1(x @ w, y) == 1.0 and top1(x, y) < 1.0
    q = x[0]
    assert np.allclose(adapt(q, w, 0.0), q, atol=1e-6)
    assert np.allclose(adapt(q, w, 1.0), y[0], atol=1e-3)
