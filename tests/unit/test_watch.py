"""indexer.watch: debounced, stable-file handover; survives a failing handler.

A polling observer is injected, and tests wait on events and `idle()`, never on blind sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from watchdog.observers.polling import PollingObserver

from indexer.watch import FolderWatcher


class Recorder:
    def __init__(self, fail_first: set[str] | None = None, remove: bool = True) -> None:
        self.calls: list[list[str]] = []
        self.event = threading.Event()
        self.fail_first = set(fail_first or ())
        self.remove = remove

    def __call__(self, paths: list[Path], overdue: set[Path]) -> None:
        self.calls.append(sorted(p.name for p in paths))
        for p in paths:
            if p.name in self.fail_first:
                self.fail_first.discard(p.name)
                raise RuntimeError("boom")
        if self.remove:
            for p in paths:
                p.unlink()
        self.event.set()

    def handled(self) -> list[str]:
        return [name for call in self.calls for name in call]


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def make(inbox: Path, handler: Recorder, **kw: object) -> FolderWatcher:
    return FolderWatcher(
        [inbox],
        handler,
        quiet=kw.pop("quiet", 0.2),  # type: ignore[arg-type]
        rescan_interval=kw.pop("rescan_interval", 30.0),  # type: ignore[arg-type]
        observer_factory=lambda: PollingObserver(timeout=0.05),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def running() -> Iterator[list[FolderWatcher]]:
    started: list[FolderWatcher] = []
    yield started
    for w in started:
        w.stop()


def test_existing_and_new_files_are_handled_once(inbox: Path, running: list[FolderWatcher]) -> None:
    (inbox / "before.txt").write_text("already here")
    rec = Recorder()
    w = make(inbox, rec)
    running.append(w)
    w.start()
    assert rec.event.wait(10)
    rec.event.clear()
    (inbox / "after.txt").write_text("arrived later")
    (inbox / ".partial.tmp").write_text("hidden files are handed over too (the handler decides)")
    assert rec.event.wait(10)
    assert w.idle(10)
    assert sorted(rec.handled()) == [".partial.tmp", "after.txt", "before.txt"]
    assert w.stats.errors == 0


def test_a_file_being_written_is_not_handed_over_until_quiet(inbox: Path, running: list[FolderWatcher]) -> None:
    rec = Recorder()
    w = make(inbox, rec, quiet=0.6)
    running.append(w)
    w.start()
    path = inbox / "growing.txt"
    written = threading.Event()
    stop_writing = threading.Event()

    def writer() -> None:
        with open(path, "w") as fh:
            for i in range(8):
                fh.write(f"line {i}\n")
                fh.flush()
                written.set()
                if stop_writing.wait(0.15):
                    break
        stop_writing.set()

    t = threading.Thread(target=writer)
    t.start()
    assert written.wait(5)
    assert not rec.event.wait(0.8)  # still growing: not handed over while the writer writes
    t.join()
    assert rec.event.wait(10)
    assert rec.calls == [["growing.txt"]]
    assert w.idle(10)


def test_failure_does_not_stop_the_watcher(inbox: Path, running: list[FolderWatcher]) -> None:
    errors: list[BaseException] = []
    failed = threading.Event()

    def on_error(exc: BaseException) -> None:
        errors.append(exc)
        failed.set()

    rec = Recorder(fail_first={"bad.txt"})
    w = make(inbox, rec, on_error=on_error)
    running.append(w)
    w.start()
    (inbox / "bad.txt").write_text("fails once")
    assert failed.wait(10)
    assert rec.event.wait(10)  # the retry
    assert w.idle(15)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)
    # it was retried (after a delay) and went through the second time
    assert rec.handled().count("bad.txt") == 2
    (inbox / "good.txt").write_text("fine")
    rec.event.clear()
    assert rec.event.wait(10)
    assert w.idle(10)
    assert "good.txt" in rec.handled()
    assert w.running


def test_folders_moved_in_are_scanned(inbox: Path, tmp_path: Path, running: list[FolderWatcher]) -> None:
    outside = tmp_path / "batch"
    (outside / "deep").mkdir(parents=True)
    (outside / "a.txt").write_text("a")
    (outside / "deep" / "b.txt").write_text("b")
    rec = Recorder()
    w = make(inbox, rec)
    running.append(w)
    w.start()
    outside.rename(inbox / "batch")
    assert rec.event.wait(10)
    assert w.idle(15)
    assert sorted(rec.handled()) == ["a.txt", "b.txt"]


def test_stop_is_prompt(inbox: Path) -> None:
    w = make(inbox, Recorder())
    w.start()
    assert w.running
    w.stop(timeout=5)
    assert not w.running


def test_a_closed_file_is_handed_over_at_once(inbox: Path, running: list[FolderWatcher]) -> None:
    """inotify's close-after-write (watchdog's FileClosedEvent) means the writer is done: no quiet period."""
    from watchdog.observers import Observer

    if not hasattr(Observer, "__name__") or "Inotify" not in Observer.__name__:
        pytest.skip("close events come from inotify (Linux)")
    handed = threading.Event()
    seen: dict[str, float] = {}

    def handler(paths: list[Path], overdue: set[Path]) -> None:
        for p in paths:
            seen[p.name] = time.monotonic()
            p.unlink()
        handed.set()

    w = FolderWatcher([inbox], handler, quiet=30.0, observer_factory=Observer)
    running.append(w)
    w.start()
    with open(inbox / "note.txt", "w") as fh:
        fh.write("written and closed")
    closed = time.monotonic()
    assert handed.wait(5), "a closed file waited for the 30 s quiet period"
    assert seen["note.txt"] - closed < 1.0


def test_a_file_without_a_close_event_still_waits_for_quiet(inbox: Path, running: list[FolderWatcher]) -> None:
    """The polling observer (network shares) reports no close: the quiet period still applies."""
    rec = Recorder()
    w = make(inbox, rec, quiet=0.8)
    running.append(w)
    w.start()
    (inbox / "share.txt").write_text("from a share")
    written = time.monotonic()
    assert rec.event.wait(10)
    assert time.monotonic() - written >= 0.8


def test_a_path_left_in_place_on_purpose_does_not_keep_the_watcher_busy(
    inbox: Path, running: list[FolderWatcher]
) -> None:
    calls: list[list[str]] = []
    again = threading.Event()

    def handler(paths: list[Path], overdue: set[Path]) -> dict[Path, float | None]:
        calls.append(sorted(p.name for p in paths))
        if len(calls) > 1:
            again.set()
        left: dict[Path, float | None] = {}
        for p in paths:
            if p.name == "huge.bin":
                left[p] = None  # left where it is, with a reason, until it changes
            else:
                p.unlink()
        return left

    (inbox / "huge.bin").write_text("too large, say")
    (inbox / "ok.txt").write_text("fine")
    w = FolderWatcher([inbox], handler, quiet=0.2, observer_factory=lambda: PollingObserver(timeout=0.05))
    running.append(w)
    w.start()
    assert w.idle(10), "a file the handler left in place kept the watcher busy (watch --until-idle never returned)"
    assert calls == [["huge.bin", "ok.txt"]]
    assert w.parked() == [inbox / "huge.bin"]
    (inbox / "huge.bin").write_text("changed: look again")
    assert again.wait(10)
    assert calls[-1] == ["huge.bin"]
