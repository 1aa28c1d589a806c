"""bench/paraphrase_grid.py: its "shipped" variant ranks as the shipped fusion does (archive.search._fuse), so the
variants it reports are measured against the method itself."""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

import bench.paraphrase_grid
from bench.paraphrase_grid import Corpus, QueryData, rank


def _corpus(rng: np.random.Generator, records: int = 150, dim: int = 16) -> Corpus:
    chunks = rng.integers(1, 5, size=records)
    m = rng.normal(size=(int(chunks.sum()), dim)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    starts = np.concatenate([[0], np.cumsum(chunks)[:-1]]).astype(np.int64)
    return Corpus(m, np.arange(1, records + 1, dtype=np.int64), starts)


def _query(rng: np.random.Generator, c: Corpus, top_coverage: float) -> QueryData:
    v = rng.normal(size=c.matrix.shape[1]).astype(np.float32)
    v /= np.linalg.norm(v)
    coverage = np.zeros(len(c.records))
    matched = rng.choice(len(c.records), size=40, replace=False)
    coverage[matched] = rng.uniform(0.05, top_coverage, size=40)
    attainable = 7.0
    return QueryData("paraphrase-x", "q", np.array([0]), v, v, coverage, coverage * attainable)


def _shipped(c: Corpus, q: QueryData) -> list[int]:
    """The code's own ranking of the same evidence (rows), through archive.search._fuse."""
    from archive.search import _fuse
    from indexer import hybrid
    from indexer.vectors import VectorMatrix

    vm = VectorMatrix.from_arrays("grid", c.matrix, np.repeat(c.records, c.chunks))  # the grid's rows, as they are
    best = c.best(q.vector)
    cosine_of = lambda ns: {int(n): float(best[int(n) - 1]) for n in ns}  # noqa: E731
    order = np.argsort(-best, kind="stable")[: hybrid.POOL]
    vector_top = [(int(c.records[i]), float(best[i])) for i in order]
    hit = q.bm25 > 0
    every = hybrid.KeywordScores(c.records[hit], q.bm25[hit])
    plan = hybrid.KeywordPlan("x", 7.0)
    fused = _fuse(cosine_of, vector_top, plan, every, hybrid.POOL, vm=vm, second_look=q.vector)
    return [r.n - 1 for r in fused[:10]]


@pytest.mark.parametrize("top_coverage", [0.5, 1.0])  # below the gate: the second look runs; above: it does not
def test_the_grids_shipped_variant_ranks_as_the_code(top_coverage: float) -> None:
    rng = np.random.default_rng(7)
    c = _corpus(rng)
    for _ in range(5):
        q = _query(rng, c, top_coverage)
        assert list(rank(c, q, {})[:10]) == _shipped(c, q)


def test_vector_only_is_the_best_passage_order_and_differs_from_the_fusion() -> None:
    rng = np.random.default_rng(11)
    c = _corpus(rng)
    q = _query(rng, c, 1.0)
    by_cosine = list(np.argsort(-c.best(q.vector), kind="stable")[:10])
    second = by_cosine[1]
    q.coverage[:] = 0.0
    q.coverage[second] = 1.0  # the second by meaning holds every word of the query
    q.bm25 = q.coverage * 7.0
    assert list(rank(c, q, {"vector_only": True, "no_second_look": True})[:10]) == by_cosine
    assert rank(c, q, {})[0] == second  # the keyword bonus puts it first in the fusion


def test_importing_the_grid_leaves_the_process_embedder_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # bench/retrieval.py selects the real model when imported; the tests around this one run on the fake one
    monkeypatch.setenv("CHARTVAULT_EMBEDDER", "fake")
    importlib.reload(bench.paraphrase_grid)
    assert "retrieval" not in vars(bench.paraphrase_grid)
    assert os.environ["CHARTVAULT_EMBEDDER"] == "fake"


def test_the_keyword_sides_first_record_is_kept_within_ten_by_the_code_and_the_grid() -> None:
    rng = np.random.default_rng(13)
    c = _corpus(rng)
    q = _query(rng, c, 0.6)
    far = int(np.argsort(c.best(q.vector))[0])  # the last record by meaning
    q.coverage[far], q.bm25[far] = 1.0, 20.0  # holds every word, BM25's first
    assert far not in rank(c, q, {"no_keep": True})[:10]
    assert list(rank(c, q, {})[:10]) == _shipped(c, q)
    assert _shipped(c, q)[9] == far
