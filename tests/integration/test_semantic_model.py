"""The real all-MiniLM-L6-v2 model from the installed package: offline load, meaning, fast path, latency."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    pytest.importorskip("sentence_transformers")
    from indexer.embedder import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder(precision="auto")
    emb.start_loading()  # in a background thread, as the TUI does
    assert emb.wait(300), emb.error
    return emb


def test_loads_offline_from_the_package(model, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import os

    from indexer.embedder import model_dir

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert (model_dir() / "model.safetensors").exists()
    assert "site-packages" in str(model_dir())
    v = model.embed_query("chest pain")
    assert v.shape == (384,) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-4


def test_paraphrases_are_close_and_unrelated_text_is_not(model) -> None:  # type: ignore[no-untyped-def]
    docs = model.embed_documents(
        [
            "Acute myocardial infarction; troponin elevated; taken for emergent cardiac catheterization.",
            "Laparoscopic cholecystectomy for symptomatic cholelithiasis.",
            "Otitis media in a toddler; amoxicillin prescribed.",
        ]
    )
    q = model.embed_query("heart attack")
    sims = docs @ q
    assert int(np.argmax(sims)) == 0
    q = model.embed_query("keyhole surgery to take out the gallbladder because of stones")
    assert int(np.argmax(docs @ q)) == 1


def test_fast_bulk_path_agrees_with_fp32(model) -> None:  # type: ignore[no-untyped-def]
    from indexer.embedder import SentenceTransformerEmbedder

    exact = SentenceTransformerEmbedder(precision="fp32")
    texts = [
        "Patient is a 67-year-old male with a history of congestive heart failure and COPD, admitted with dyspnea.",
        "Right total knee arthroplasty for degenerative joint disease; tourniquet time 62 minutes.",
    ]
    a = exact.embed_documents(texts)
    b = model.embed_documents(texts)
    assert float(np.min(np.sum(a * b, axis=1))) > 0.97


def test_query_embedding_is_quick(model) -> None:  # type: ignore[no-untyped-def]
    model.embed_query("warm")
    times = []
    for q in ("elderly patient, fall, hip fracture, post-op confusion", "CHF exacerbation", "kidney stones"):
        t = time.perf_counter()
        model.embed_query(q)
        times.append(time.perf_counter() - t)
    # ~10-15 ms on an idle 2-core machine; generous for a shared CI box.
    assert min(times) < 0.5


def test_auto_bulk_path_is_onnx_int8_built_once_and_cached(model, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from indexer import onnx_bulk
    from indexer.embedder import SentenceTransformerEmbedder

    assert model.precision == "onnx-int8", model.fallback_reason
    monkeypatch.setenv("CHARTVAULT_CACHE", str(tmp_path))
    stale = tmp_path / "models" / "minilm-int8-0123456789abcdef.onnx"  # an older recipe's build
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    fresh = SentenceTransformerEmbedder(precision="onnx-int8")
    fresh.embed_documents(["first use builds the int8 model"])
    built = sorted((tmp_path / "models").iterdir())
    # the fp32 (queries) and int8 (documents) files, no build folder left behind
    assert [p.name.split("-")[1] for p in built] == ["fp32", "int8"] and all(p.suffix == ".onnx" for p in built)
    assert not stale.exists()
    stamp = built[0].stat().st_mtime_ns
    calls = []
    monkeypatch.setattr(onnx_bulk, "_build", lambda *a: calls.append(a))
    again = SentenceTransformerEmbedder(precision="onnx-int8")
    again.embed_documents(["second use loads it"])
    assert calls == [] and built[0].stat().st_mtime_ns == stamp
    # int8 everywhere except the outlier-prone feed-forward outputs of the first layers
    import onnx

    graph = onnx.load(str(built[1])).graph
    float_matmuls = sorted(n.name for n in graph.node if n.op_type == "MatMul")
    assert [name.split("/")[3] for name in float_matmuls] == [f"layer.{i}" for i in range(onnx_bulk.KEEP_FP32_LAYERS)]
    assert sum(n.op_type == "MatMulInteger" for n in graph.node) >= 12
    # input order is kept although batches are sorted by length (int8 activation scales are per batch,
    # so batched and lone vectors agree closely, not bit for bit)
    texts = ["short", "a much longer text about a fractured neck of femur " * 10, "middling length note here"]
    together = again.embed_documents(texts)
    alone = np.stack([again.embed_documents([t])[0] for t in texts])
    sims = together @ alone.T
    assert list(np.argmax(sims, axis=1)) == [0, 1, 2]
    assert float(np.min(np.diag(sims))) > 0.97, np.diag(sims)


def test_query_path_is_exact_fp32(model) -> None:  # type: ignore[no-untyped-def]
    """The ONNX query copy gives the torch fp32 model's vectors."""
    import torch

    assert model._query is not None, model.fallback_reason
    for q in ("CHF exacerbation", "elderly patient, fall, hip fracture, post-op confusion"):
        with torch.inference_mode():
            ref = model._model.encode([q], normalize_embeddings=True, show_progress_bar=False)[0]
        assert float(np.dot(model.embed_query(q), ref)) > 0.99999


def test_failed_onnx_build_falls_back_to_torch(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from indexer import onnx_bulk
    from indexer.embedder import SentenceTransformerEmbedder, torch_fallback

    monkeypatch.setenv("CHARTVAULT_CACHE", str(tmp_path))

    def broken(*_: object) -> None:
        raise ValueError("exporter exploded")

    monkeypatch.setattr(onnx_bulk, "_build", broken)
    emb = SentenceTransformerEmbedder(precision="auto")
    v = emb.embed_documents(["Chest pain radiating to the left arm."])
    assert v.shape == (1, 384)
    assert emb._query is None and emb.embed_query("chest pain").shape == (384,)  # queries on torch fp32
    assert emb.precision == torch_fallback() and "exporter exploded" in emb.fallback_reason
    assert not any((tmp_path / "models").iterdir())  # the half-built folder was removed


def test_similar_cases_floor_separates_a_related_pair_from_unrelated_notes(model) -> None:  # type: ignore[no-untyped-def]
    """archive.search.SIMILAR_FLOOR for this model (chosen with bench/similar_floor.py): two hip-fracture notes in
    other words are above it, notes about unrelated conditions below it."""
    from archive.search import similar_floor

    docs = model.embed_documents(
        [
            "Elderly woman fell at home. Right hip fracture treated with hemiarthroplasty. Post-op delirium.",
            "Elderly man fell in the bathroom. Left hip fracture, nailed. Post-op delirium resolved.",
            "Acute gouty arthritis of the left great toe. Colchicine started, uric acid high.",
            "Congestive heart failure exacerbation with leg edema; furosemide increased.",
            "Urinary tract infection with dysuria; nitrofurantoin for five days.",
        ]
    )
    sims = docs @ docs.T
    floor = similar_floor(model.model_id)
    assert sims[0, 1] >= floor
    unrelated = [sims[i, j] for i in range(5) for j in range(i + 1, 5) if (i, j) != (0, 1)]
    assert max(unrelated) < floor, unrelated
