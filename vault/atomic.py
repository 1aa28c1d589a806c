"""Atomic, durable file writes: temp file in the same folder, fsync, rename, fsync folder.

A reader sees either the old file or the complete new one, never a half-written
file, even if the process is killed or the machine loses power mid-write.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink inside `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parents as owner-only (0700) folders; return it.

    `Path.mkdir(parents=True, mode=...)` gives the mode to the last folder only.
    """
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    return path


def open_private(path: Path) -> BinaryIO:
    """A new file at `path`, owner-only (0600) from its first byte; refuses an existing name."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def temp_path_for(path: Path) -> Path:
    """A fresh temp name beside `path` (same folder, so rename is atomic)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Yield a binary file; on clean exit it atomically replaces `path`.

    On any exception the temp file is removed and `path` is left untouched.
    """
    private_dir(path.parent)
    tmp = temp_path_for(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_atomic(path: Path, data: bytes | Callable[[BinaryIO], None], mode: int = 0o600) -> None:
    """Write `data` (bytes, or a function that writes to a file) to `path` atomically."""
    with atomic_writer(path, mode) as fh:
        if isinstance(data, bytes):
            fh.write(data)
        else:
            data(fh)


def remove_stale_temps(folder: Path) -> int:
    """Delete temp files a crash left behind in `folder` (recursively); return how many."""
    count = 0
    if not folder.exists():
        return 0
    for tmp in folder.rglob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            count += 1
    return count
