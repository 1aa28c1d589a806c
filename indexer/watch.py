"""Watch folders (the inbox) and hand over each file once it has stopped changing.

The watchdog callback only notes which paths changed (mkdocs' livereload
habit). A loop in its own thread hands a path over at once when its writer
closed it (inotify's IN_CLOSE_WRITE, watchdog's FileClosedEvent) or when it
was renamed into the folder (an atomic "done"); a path that arrives without
such a sign (network shares, some copy tools, other systems) waits for a
quiet period instead (no event and an unchanged size and mtime for `quiet`
seconds). The handler gets all the ready paths at once. A path that is still
there after the handler ran (still being written, or it failed) is tried
again later with a growing delay, so one bad file never stops the others;
one the handler deliberately left in place (it says so by returning it) is
set aside until it changes, or until the time the handler asked for, and
does not keep the watcher busy. The folders are also rescanned now and then,
in case the operating system dropped events.

Knows nothing of records, users or encryption: the handler does the work.
Tests inject a polling observer (`observer_factory`) and wait on `idle()`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault.atomic import private_dir

# (ready paths, overdue paths: give up waiting on these) -> the paths it left in place on purpose, each with
# the seconds after which to look again (None: only when it changes); None means "none left on purpose".
Handler = Callable[[list[Path], set[Path]], "dict[Path, float | None] | None"]


@dataclass
class _Entry:
    last_event: float
    first_seen: float
    signature: tuple[int, int] | None = None
    attempts: int = 0
    not_before: float = 0.0
    complete: bool = False  # its writer closed it (or it was renamed in): no quiet period needed
    parked: bool = False  # left in place by the handler on purpose: not "busy" until it changes


@dataclass
class WatchStats:
    batches: int = 0
    handled: int = 0
    errors: int = 0
    last_error: str | None = None
    events: int = 0
    started: float = field(default_factory=time.monotonic)


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


class FolderWatcher:
    """Debounced, stable-file watching of one or more folders; call `start()` then `stop()`."""

    def __init__(
        self,
        folders: Iterable[Path],
        handler: Handler,
        *,
        quiet: float = 1.0,
        rescan_interval: float = 30.0,
        max_wait: float = 600.0,
        max_delay: float = 60.0,
        observer_factory: Callable[[], Any] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        accept: Callable[[Path], bool] | None = None,
    ) -> None:
        self.folders = [Path(f) for f in folders]
        self.accept = accept  # which paths are inputs at all (a pure test on the path, no I/O)
        self.handler = handler
        self.quiet = quiet
        self.rescan_interval = rescan_interval
        self.max_wait = max_wait
        self.max_delay = max_delay
        self.observer_factory = observer_factory
        self.on_error = on_error
        self.stats = WatchStats()
        # False: every path waits for the quiet period, close events or not (the behaviour before they
        # were used; bench/ingest.py measures both in one run).
        self.act_on_close = True
        self._lock = threading.Lock()
        self._queue: dict[Path, _Entry] = {}
        self._fresh: set[Path] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._observer: Any = None
        self._thread: threading.Thread | None = None
        self._last_scan = 0.0

    # ------------------------------------------------------------ the callback side
    def note(self, path: str | Path, *, complete: bool = False, at: float | None = None) -> None:
        """Record that `path` changed (called from the observer thread: no I/O here).

        `complete`: the event says the writer is done (closed after writing, or renamed in).
        `at`: when it was seen (monotonic; default now). One scan sees all its files at one time, so files
        found together fall due together even when the scan itself is slow on a loaded machine.
        """
        path = Path(path)
        if self.accept is not None and not self.accept(path):
            return
        now = time.monotonic() if at is None else at
        with self._lock:
            entry = self._queue.get(path)
            if entry is None:
                entry = self._queue[path] = _Entry(last_event=now, first_seen=now)
            else:
                entry.last_event = now
                entry.parked = False
                entry.not_before = 0.0
            # any later write event means it was opened again: wait for its close
            entry.complete = complete and self.act_on_close
            self._fresh.add(path)
            self.stats.events += 1
        self._wake.set()

    def _make_event_handler(self) -> Any:
        from watchdog.events import FileSystemEventHandler

        watcher = self

        class _Notes(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return
                if event.is_directory and event.event_type == "modified":
                    return  # the files inside report their own changes
                if event.event_type == "closed":  # IN_CLOSE_WRITE: the writer is done, take it now
                    watcher.note(os.fsdecode(event.src_path), complete=not event.is_directory)
                    return
                if event.event_type == "moved":
                    watcher.note(os.fsdecode(event.src_path))
                    # a rename is atomic: what appears under the new name is complete
                    watcher.note(os.fsdecode(event.dest_path), complete=not event.is_directory)
                    return
                for attr in ("src_path", "dest_path"):
                    value = getattr(event, attr, None)
                    if value:
                        watcher.note(os.fsdecode(value))

        return _Notes()

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        for folder in self.folders:
            private_dir(folder)  # the inbox receives plaintext: owner only
        if self.observer_factory is not None:
            observer = self.observer_factory()
        else:
            from watchdog.observers import Observer

            observer = Observer()
        handler = self._make_event_handler()
        for folder in self.folders:
            observer.schedule(handler, str(folder), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._scan()  # whatever is already there
        self._thread = threading.Thread(target=self._loop, name="chartvault-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            with contextlib.suppress(Exception):
                self._observer.stop()
                self._observer.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
        with self._idle:
            self._idle.notify_all()

    def run_forever(self) -> None:
        """Start, then block until `stop()` (from another thread or a signal handler)."""
        self.start()
        try:
            while not self._stop.wait(0.5):
                pass
        finally:
            self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or being handled; False on timeout (for tests and benches).

        Paths the handler left in place on purpose (parked) do not count.
        """
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._busy or self._fresh or any(not e.parked for e in self._queue.values()):
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return False
                self._idle.wait(min(left, 0.1))
        return True

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def parked(self) -> list[Path]:
        """The paths the handler left in place on purpose, until they change."""
        with self._lock:
            return sorted(p for p, e in self._queue.items() if e.parked)

    # ------------------------------------------------------------ the loop
    def _scan(self) -> None:
        self._last_scan = seen = time.monotonic()
        for folder in self.folders:
            for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
                here = Path(dirpath)
                for name in filenames + [d for d in dirnames if os.path.islink(here / d)]:
                    path = here / name
                    with self._lock:
                        known = path in self._queue
                    if not known:
                        self.note(path, at=seen)

    def _loop(self) -> None:
        while not self._stop.is_set():
            timeout = self._next_timeout()
            self._wake.wait(timeout)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._cycle()
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive any one failure
                self.stats.errors += 1
                self.stats.last_error = type(exc).__name__
                if self.on_error:
                    self.on_error(exc)

    def _next_timeout(self) -> float:
        now = time.monotonic()
        with self._lock:
            if self._fresh:
                return 0.0
            due = [max(e.last_event + (0.0 if e.complete else self.quiet), e.not_before) for e in self._queue.values()]
        until_scan = self._last_scan + self.rescan_interval - now
        nearest = min(due) - now if due else until_scan
        return max(0.01, min(nearest, until_scan))

    def _cycle(self) -> None:
        now = time.monotonic()
        if now - self._last_scan >= self.rescan_interval:
            self._scan()
        with self._lock:
            fresh, self._fresh = self._fresh, set()
        for path in fresh:  # first look right after the event
            sig = _signature(path)
            with self._lock:
                entry = self._queue.get(path)
                if entry is None:
                    continue
                if sig is None:  # deleted or renamed away: nothing to do
                    self._queue.pop(path, None)
                else:  # the state right after the latest event; it must hold for the quiet period
                    entry.signature = sig
        now = time.monotonic()
        ready: list[Path] = []
        overdue: set[Path] = set()
        with self._lock:
            due = [
                (p, e)
                for p, e in self._queue.items()
                if (e.complete or now - e.last_event >= self.quiet) and now >= e.not_before
            ]
        for path, entry in due:
            if path.is_dir() and not path.is_symlink():
                with self._lock:
                    self._queue.pop(path, None)
                self._note_folder(path)
                continue
            sig = _signature(path)
            with self._lock:
                if sig is None:  # gone (or handled elsewhere): forget it
                    self._queue.pop(path, None)
                    continue
                if sig != entry.signature:  # changed without an event we saw: wait again
                    entry.signature = sig
                    entry.last_event = now
                    entry.complete = entry.parked = False
                    continue
            ready.append(path)
            if now - entry.first_seen >= self.max_wait:
                overdue.add(path)
        if not ready:
            self._notify_idle()
            return
        with self._lock:
            self._busy = True
        left: dict[Path, float | None] = {}
        try:
            left = self.handler(ready, overdue) or {}
            self.stats.batches += 1
            self.stats.handled += len(ready)
        except Exception as exc:  # noqa: BLE001 - retried later with a delay
            self.stats.errors += 1
            self.stats.last_error = type(exc).__name__
            if self.on_error:
                self.on_error(exc)
        finally:
            self._park(left)
            self._requeue_leftovers([p for p in ready if p not in left])
            with self._lock:
                self._busy = False
            self._notify_idle()

    def _note_folder(self, folder: Path) -> None:
        for dirpath, _dirnames, filenames in os.walk(folder, followlinks=False):
            here = Path(dirpath)
            for name in filenames:
                path = here / name
                with self._lock:
                    known = path in self._queue
                if not known:
                    self.note(path)

    def _park(self, left: dict[Path, float | None]) -> None:
        """Paths the handler left in place on purpose: look again only when they change (or when asked)."""
        now = time.monotonic()
        with self._lock:
            for path, after in left.items():
                entry = self._queue.get(path)
                if entry is None:
                    continue
                entry.parked = True
                entry.complete = False
                entry.signature = _signature(path)
                entry.not_before = now + after if after is not None else float("inf")

    def _requeue_leftovers(self, ready: list[Path]) -> None:
        """Paths still present after the handler: try again later, waiting longer each time."""
        now = time.monotonic()
        with self._lock:
            for path in ready:
                entry = self._queue.get(path)
                if entry is None:
                    continue
                if _signature(path) is None:
                    self._queue.pop(path, None)
                    continue
                entry.attempts += 1
                delay = min(self.max_delay, self.quiet * (2 ** min(entry.attempts - 1, 10)))
                entry.not_before = now + delay
                entry.signature = _signature(path)

    def _notify_idle(self) -> None:
        with self._idle:
            self._idle.notify_all()
