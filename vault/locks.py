"""Cross-process locks on a vault: `fcntl.flock` on a lock file inside the vault folder.

Several processes may use one vault at once (TUI sessions, CLI commands,
`watch`, a background embedder). SQLite serialises their database writes; what
lives beside the database and is rewritten by any of them (the audit head,
`audit.head.age`) is written under `VaultLock(root, name)`. The lock is
reentrant inside one thread and excludes other threads of the same process
too (a thread lock in front of the file lock). The lock file holds nothing and
is never removed (removing it would let two processes lock two different files).
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType

_registry: dict[Path, _Shared] = {}
_registry_lock = threading.Lock()


class _Shared:
    """One lock file in this process: a reentrant thread lock and the flock held while any thread holds it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.thread_lock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


class VaultLock:
    """`with VaultLock(root, "audit"):` holds `<root>/.audit.lock` exclusively (blocking until free)."""

    def __init__(self, root: Path, name: str) -> None:
        path = (Path(root) / f".{name}.lock").absolute()
        with _registry_lock:
            shared = _registry.get(path)
            if shared is None:
                shared = _registry[path] = _Shared(path)
        self._shared = shared

    def __enter__(self) -> VaultLock:
        shared = self._shared
        shared.thread_lock.acquire()
        try:
            if shared.depth == 0:
                fd = os.open(shared.path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except BaseException:
                    os.close(fd)
                    raise
                shared.fd = fd
            shared.depth += 1
        except BaseException:
            shared.thread_lock.release()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        shared = self._shared
        try:
            shared.depth -= 1
            if shared.depth == 0 and shared.fd is not None:
                fd, shared.fd = shared.fd, None
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)
        finally:
            shared.thread_lock.release()


class HeldLock:
    """A lock file held without blocking, for as long as one service runs (`try_hold`); `release()` ends it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def try_hold(root: Path, name: str) -> HeldLock | None:
    """Hold `<root>/.NAME.lock` if no process (this one included) holds it; None when one does.

    For what must run once per vault, whichever process starts it (the inbox
    watcher, the background embedder): the lock goes when its holder releases it
    or exits (the kernel drops a dead process's flock), so another can take over.
    Separate from `VaultLock`: a second holder in this same process is refused too.
    """
    path = (Path(root) / f".{name}.lock").absolute()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return HeldLock(path, fd)
