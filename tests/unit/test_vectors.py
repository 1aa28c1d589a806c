"""Vector codec and the exact, vectorised matrix search (against a brute-force reference)."""

from __future__ import annotations

import numpy as np

from indexer.vectors import VectorMatrix, decode_many, encode


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    m = rng.standard_normal((n, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_int8_codec_keeps_cosine() -> None:
    rng = np.random.default_rng(0)
    vecs = _unit(rng, 50, 384)
    packed = [encode(v) for v in vecs]
    assert all(len(blob) == 384 for blob, _ in packed)
    back = decode_many([b for b, _ in packed], [s for _, s in packed], 384)
    cos = np.sum(back * vecs, axis=1) / np.linalg.norm(back, axis=1)
    assert cos.min() > 0.999
    assert encode(np.zeros(384, np.float32))[1] == 1.0  # an all-zero vector does not divide by zero


def test_record_scores_are_best_chunk_cosines() -> None:
    rng = np.random.default_rng(1)
    vecs = _unit(rng, 200, 32)
    owners = rng.integers(1, 40, size=200)
    vm = VectorMatrix.from_arrays("m", vecs, owners)
    q = _unit(rng, 1, 32)[0]
    scores = vm.record_scores(q)
    expected = {int(r): float(max(vecs[owners == r] @ q)) for r in np.unique(owners)}
    assert list(vm.records) == sorted(expected)
    assert np.allclose(scores, [expected[int(r)] for r in vm.records], atol=1e-5)
    top = vm.top(scores, 5)
    ref = sorted(expected.items(), key=lambda kv: -kv[1])[:5]
    assert [n for n, _ in top] == [n for n, _ in ref]


def test_top_honours_mask_and_exclusions() -> None:
    rng = np.random.default_rng(2)
    vecs = _unit(rng, 60, 16)
    owners = np.repeat(np.arange(1, 21), 3)
    vm = VectorMatrix.from_arrays("m", vecs, owners)
    scores = vm.record_scores(vecs[0])
    assert vm.top(scores, 1)[0][0] == 1  # its own chunk
    allowed = vm.mask_for(np.array([5, 7, 9]))
    hits = vm.top(scores, 10, allowed)
    assert {n for n, _ in hits} == {5, 7, 9}
    assert 1 not in {n for n, _ in vm.top(scores, 30, exclude=[1])}
    assert vm.top(scores, 10, vm.mask_for(np.array([], dtype=np.int64))) == []


def test_similar_scores_rank_a_near_copy_first() -> None:
    rng = np.random.default_rng(3)
    base = _unit(rng, 4, 24)
    noisy = base + 0.05 * rng.standard_normal(base.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    others = _unit(rng, 40, 24)
    vecs = np.concatenate([base, noisy, others])
    owners = np.concatenate([[1] * 4, [2] * 4, np.repeat(np.arange(3, 13), 4)])
    vm = VectorMatrix.from_arrays("m", vecs, owners)
    top = vm.top(vm.similar_scores(1), 3, exclude=[1])
    assert top[0][0] == 2 and top[0][1] > 0.95


def test_without_float_rows_every_score_comes_from_the_int8_codes() -> None:
    """With a graph the float32 rows are dropped: exact scores, best chunks and similar records are then
    computed from the codes and agree with the float rows they stand for."""
    rng = np.random.default_rng(4)
    vecs = _unit(rng, 3000, 64)
    owners = np.sort(rng.integers(1, 400, size=3000))
    vm = VectorMatrix.from_arrays("m", vecs, owners)
    floats = (vm.codes.astype(np.float32) * vm.chunk_scale[:, None]).copy()
    q = _unit(rng, 1, 64)[0]
    want_scores = np.maximum.reduceat(floats @ q, vm.starts)
    want_best = vm.best_chunk(q, int(owners[17]))
    vm.matrix = None  # (what adopting a graph does)
    assert vm.rows(slice(None)).shape == floats.shape and np.allclose(vm.rows(slice(None)), floats, atol=1e-6)
    assert np.allclose(vm.record_scores(q), want_scores, atol=1e-5)
    assert np.allclose(vm.exact_scores_of(q, np.arange(len(vm.records))), want_scores, atol=1e-5)
    got_best = vm.best_chunk(q, int(owners[17]))
    assert want_best is not None and got_best is not None and got_best[:3] == want_best[:3]
    assert vm.top(vm.similar_scores(int(owners[5])), 1)[0][0] == int(owners[5])
