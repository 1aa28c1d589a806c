"""The baselines the benchmarks and tests compare chartvault's search against; not used by the product.

- `rrf`: plain reciprocal rank fusion, which indexer.hybrid's fusion replaces
  (why: indexer/hybrid.py's module doc; figures: bench/RESULTS.md).
- `keyword_hits`: the hybrid's keyword side alone (BM25 of the OR query).
- `vector_search`: the vector side alone (best-chunk cosine), with no keyword evidence.

Importable as `baselines` with bench/ on the path (as when a benchmark runs as a script).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer import fts
from indexer.embedder import Embedder
from indexer.hybrid import KeywordScores
from indexer.semantic import allowed_records, matrix_for


def rrf(lists: list[list[int]], k: int = 60, weights: list[float] | None = None) -> list[tuple[int, float]]:
    """Reciprocal rank fusion (the naive baseline the benchmark compares against)."""
    scores: dict[int, float] = {}
    for i, ranked in enumerate(lists):
        w = weights[i] if weights else 1.0
        for rank, n in enumerate(ranked, start=1):
            scores[n] = scores.get(n, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def keyword_hits(db: Any, match: str, filters: fts.Filters | None, limit: int) -> dict[int, float]:
    """records.n -> BM25 (positive) for `match`, best first, at most `limit`."""
    return KeywordScores.of(db, match, filters).top(limit)


@dataclass(frozen=True)
class VectorHit:
    record_n: int
    score: float  # cosine of the best-matching chunk
    chunk_seq: int
    start: int
    end: int


def vector_search(
    db: Any,
    embedder: Embedder,
    query_vector: np.ndarray,
    filters: fts.Filters | None = None,
    limit: int = 20,
) -> list[VectorHit]:
    """Records ranked by the cosine of their best chunk to `query_vector`."""
    vm = matrix_for(db, embedder.model_id, embedder.dim)
    scores = vm.record_scores(query_vector)
    mask = vm.mask_for(allowed_records(db, filters))
    hits = []
    for n, score in vm.top(scores, limit, mask):
        best = vm.best_chunk(query_vector, n)
        seq, start, end = (best[0], best[1], best[2]) if best else (0, 0, 0)
        hits.append(VectorHit(record_n=n, score=score, chunk_seq=seq, start=start, end=end))
    return hits
