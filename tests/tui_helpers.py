"""Helpers shared by the Textual pilot tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


async def wait_until(pilot: Any, condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll `condition` every 50 ms until it holds; after `timeout` s fail, naming `what` and the screen."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what} (screen: {type(pilot.app.screen).__name__})")
