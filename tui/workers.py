"""Thread workers over the app's one Session: their archive calls run one at a time.

The app holds one Session (one SQLCipher connection) and every screen calls
archive in a thread worker. Two archive calls at once on one connection can
collide (each audit entry takes the next seq; the ICD-10-CM table fills on
first use), which surfaced as rare `UNIQUE constraint failed` crashes once
tests stopped being re-run. `session_work` is `textual.work(thread=True)`
run as one of the session's operations (`Session.operation()`: counted, under
`Session.lock`); a worker cancelled while it waited (an `exclusive` newer one
replaced it) does not run. Locking the app logs the session out: a worker
still running finishes first (the session closes after it), one that starts
later gets VaultLocked and ends quietly, with nothing to show on screens that
are gone. What a worker of a locked session hands to the UI thread
(`app.call_from_thread`) is dropped: awaiting a callback on a screen that is
gone could block that thread for good, and the process could then never exit.
The UI thread never blocks on this lock: a worker may be waiting on it in
`call_from_thread`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from textual import work
from textual.worker import Worker, get_current_worker

from archive.errors import VaultLocked

P = ParamSpec("P")


class _Current(threading.local):
    session: Any = None  # the session of the worker running in this thread, if any


_current = _Current()


def worker_session() -> Any:
    """The session of the `session_work` worker running in this thread (None elsewhere)."""
    return _current.session


def session_work(
    group: str, exclusive: bool = True, exit_on_error: bool = True
) -> Callable[[Callable[Concatenate[Any, P], None]], Callable[Concatenate[Any, P], Worker[None]]]:
    """A thread worker of a screen with a `session`, run as one of that session's operations."""

    def decorate(method: Callable[Concatenate[Any, P], None]) -> Callable[Concatenate[Any, P], Worker[None]]:
        @functools.wraps(method)
        def locked(self: Any, *args: P.args, **kwargs: P.kwargs) -> None:
            session = self.session
            _current.session = session  # the app drops this worker's results once the session is locked
            try:
                with session.operation():
                    if get_current_worker().is_cancelled:
                        return
                    method(self, *args, **kwargs)
            except VaultLocked:
                if not session.closed:
                    raise
                # Locked meanwhile: the screen that asked is gone or going; nothing to report.
            finally:
                _current.session = None

        return work(locked, thread=True, group=group, exclusive=exclusive, exit_on_error=exit_on_error)

    return decorate
