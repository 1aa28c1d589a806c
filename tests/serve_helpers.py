"""A real `chartvault serve` in a subprocess on a free port, for tests (issue 21)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO
from vault.locks import try_hold

STARTUP = 60.0  # seconds: the server imports textual-serve and aiohttp (a shared 2-core machine)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(vault: Path, *args: str, env: dict[str, str] | None = None,
           startup: float = STARTUP) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`chartvault --vault VAULT serve --port P ARGS` running until the block ends; yields (port, process).

    `env` replaces the environment (PYTHONPATH is always set to the checkout); bench/serve.py uses it too."""
    port = free_port()
    env = {**(os.environ if env is None else env), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "--vault", str(vault), "serve", "--port", str(port), *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + startup
        while True:  # wait for the event (the port accepts), not a fixed time
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise AssertionError(f"the server exited with {proc.returncode}: {out}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("the server did not listen within the time allowed") from None
                time.sleep(0.1)
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def held_elsewhere(root: Path, name: str) -> bool:
    """Whether another process holds the vault's lock `name` (an inbox watcher, an embedder)."""
    held = try_hold(root, name)
    if held is None:
        return True
    held.release()
    return False


URL_IN_PAGE = re.compile(
    r"""(?:\b(?:src|href|action|data-[\w-]+)\s*=\s*["']([^"']*)["'])"""  # attributes
    r"""|(?:url\(\s*["']?([^"')]+)["']?\s*\))"""  # CSS url(...)
    r"""|(?:@import\s+["']([^"']+)["'])"""
    r"""|((?:[a-z][a-z0-9+.-]*:)?//[^\s"'<>)]+)""",  # any absolute or scheme-relative address in text or script
    re.I,
)


def urls_in(page: str) -> list[str]:
    return sorted({next(g for g in m.groups() if g) for m in URL_IN_PAGE.finditer(page)})


def foreign_urls(page: str, own: str) -> list[str]:
    """Addresses in `page` that point to a host other than `own` (host:port); relative ones are ours."""
    out = []
    for url in urls_in(page):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("data", "blob", "javascript") and not parts.netloc:
            continue
        if parts.netloc and parts.netloc != own:
            out.append(url)
    return out
