"""Thread workers over the app's one Session: their archive calls run one at a time.

The app holds one Session (one SQLCipher connection) and every screen calls
archive in a thread worker. Two archive calls at once on one connection can
collide (each audit entry takes the next seq; the ICD-10-CM table fills on
first use), which surfaced as rare `UNIQUE constraint failed` crashes once
tests stopped being re-run. `session_work` is `textual.work(thread=True)`
with the session's own lock (`Session.lock`) held around the call; a worker cancelled while it
waited (an `exclusive` newer one replaced it) does not run. The UI thread
never blocks on this lock: a worker may be waiting on it in `call_from_thread`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec

from textual import work
from textual.worker import Worker, get_current_worker

P = ParamSpec("P")


def session_work(
    group: str, exclusive: bool = True, exit_on_error: bool = True
) -> Callable[[Callable[Concatenate[Any, P], None]], Callable[Concatenate[Any, P], Worker[None]]]:
    """A thread worker of a screen with a `session`, holding that session's lock while it runs."""

    def decorate(method: Callable[Concatenate[Any, P], None]) -> Callable[Concatenate[Any, P], Worker[None]]:
        @functools.wraps(method)
        def locked(self: Any, *args: P.args, **kwargs: P.kwargs) -> None:
            with self.session.lock:
                if get_current_worker().is_cancelled:
                    return
                method(self, *args, **kwargs)

        return work(locked, thread=True, group=group, exclusive=exclusive, exit_on_error=exit_on_error)

    return decorate
