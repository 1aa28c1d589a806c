"""Helpers shared by the Textual pilot tests: wait for a real condition or a posted message, never a fixed pause."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from textual.message import Message

M = TypeVar("M", bound=Message)


def text(widget: Any) -> str:
    """What `widget` shows, as plain text."""
    return str(widget.render())


def vault_with_notes(template: Any, dest: Path, src: Path, notes: dict[str, str]) -> Path:
    """A copy of `template` (a tests.conftest.VaultTemplate) at `dest` with `notes` (file name -> text) written
    into `src` and imported by its admin, not embedded (the TUI's background embedder does that)."""
    from archive.intake import import_paths

    admin = template.copy(dest).session
    src.mkdir(parents=True, exist_ok=True)
    for name, text in notes.items():
        (src / name).write_text(text)
    assert import_paths(admin, [src]).counts["imported"] == len(notes)
    admin.close()
    return dest


async def wait_until(pilot: Any, condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `condition` every 50 ms until it holds; after `timeout` s fail, naming `what` and the screen."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what} (screen: {type(pilot.app.screen).__name__})")


class Posted:
    """Every message the app's message pumps receive: pass as `run_test(message_hook=posted)`.

    The TUI's workers post typed messages (tui/messages.py) when their archive call is done; a
    test waits for one with `wait_for`, instead of sleeping and hoping the worker has finished.
    """

    def __init__(self) -> None:
        self.seen: list[Message] = []

    def __call__(self, message: Message) -> None:
        self.seen.append(message)

    def of(self, kind: type[M]) -> list[M]:
        """The messages of `kind` seen so far, oldest first (a bubbled message once)."""
        out: list[M] = []
        for message in self.seen:
            if isinstance(message, kind) and not any(m is message for m in out):
                out.append(message)
        return out

    async def wait_for(self, pilot: Any, kind: type[M], what: str, where: Callable[[M], bool] = lambda m: True,
                       after: int = 0, timeout: float = 30.0) -> M:
        """The first message of `kind` (past the first `after` of them) that satisfies `where`, once
        the app has handled it (the hook sees a message before its handler runs)."""
        found: list[M] = []

        def arrived() -> bool:
            found[:] = [m for m in self.of(kind)[after:] if where(m)]
            return bool(found)

        await wait_until(pilot, arrived, what, timeout)
        await pilot.pause()  # let the handlers of the message run
        return found[0]


async def unlock(pilot: Any, passphrase: str, timeout: float = 30.0) -> Any:
    """Wait for the unlock screen, type `passphrase` and Enter; the main screen, once it is up."""
    from textual.widgets import Input

    from tui.screens.main import MainScreen
    from tui.screens.unlock import UnlockScreen

    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, UnlockScreen), "unlock screen", timeout)
    app.screen.query_one("#passphrase", Input).value = passphrase
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "main screen", timeout)
    return app.screen


async def signed_in(pilot: Any, session: Any) -> Any:
    """Sign in with a fork of `session` (no KDF) and wait for the search screen."""
    from archive.intake import fork_session
    from tui.screens.main import MainScreen

    app = pilot.app
    await wait_until(pilot, lambda: len(app.screen_stack) > 1 and bool(app.screen.children), "first screen", 60.0)
    app.unlocked(fork_session(session))
    await wait_until(pilot, lambda: isinstance(app.screen, MainScreen) and bool(app.screen.children), "main", 60.0)
    return app.screen


async def transcription_tab(pilot: Any, session: Any) -> Any:
    """Sign in with a fork of `session`, open the queues (F2) and their transcription tab; the queue screen."""
    from textual.widgets import TabbedContent

    from tui.screens.queue import QueueScreen

    app = pilot.app
    await signed_in(pilot, session)
    await pilot.press("f2")
    await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.loads > 0, "queues", 60.0)
    queue = app.screen
    queue.query_one("#queues", TabbedContent).active = "tab-transcription"
    return queue


async def keys_handled(pilot: Any, *keys: str) -> list[str]:
    """Press `keys`, then F1 as a marker, and return the names of the screens under the help screen it opens.

    A key this user may not use leaves no trace, so a test cannot wait for its effect; but keys are
    handled in order, so once help is up every key before F1 was handled. Help is closed again.
    """
    from tui.screens.help import HelpScreen

    app = pilot.app
    await pilot.press(*keys, "f1")
    await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "help (the marker key after the keys)")
    under = [type(screen).__name__ for screen in app.screen_stack[1:-1]]
    app.screen.dismiss()
    await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help closed")
    return under


async def press_at_once(pilot: Any, *keys: str) -> None:
    """Deliver `keys` the way a busy app receives keys typed meanwhile: all queued before the first is handled
    (`pilot.press` waits for the app to go idle after each key, so it never sees what happens under load)."""
    from textual import events

    app = pilot.app
    named = {"enter": "\r", "tab": "\t", "space": " "}
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else named.get(key))
        event.set_sender(app)
        app._driver.send_message(event)
    await pilot.pause()
