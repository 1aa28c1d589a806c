"""The facility server: textual-serve with chartvault's own page, TLS and the client's address.

Imported lazily by `chartvault serve` (archive/cli/serve_cmds.py), never at start-up.
textual-serve (1.1.3) runs the app command once per browser connection, as its own
process. Three things it does not do are added here, each by a small override:

- its stock page links a web font from another host: `templates_path` points at
  serve_templates/, a page that loads only what this server serves;
- `Server.serve()` runs aiohttp without TLS: `serve()` passes the admin's
  certificate to aiohttp (aiohttp and Python's ssl module terminate TLS; there is
  no TLS code of ours);
- the app process is not told who connected: `handle_websocket` gives each process
  CHARTVAULT_REMOTE_ADDRESS (the peer address aiohttp saw), which the TUI passes to
  the login so every audit entry of that session carries it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from pathlib import Path

from aiohttp import web
from aiohttp.web_runner import GracefulExit
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from archive.cli.base import REMOTE_ENV

log = logging.getLogger("chartvault.serve")

TEMPLATES = Path(__file__).resolve().parent / "serve_templates"
# Never handed from the server's environment to a browser's app process: each
# connection logs in on the unlock screen with its own user and passphrase.
WITHHELD_ENV = ("CHARTVAULT_PASSPHRASE", "CHARTVAULT_USER", "CHARTVAULT_NEW_PASSPHRASE")


class ConnectionAppService(AppService):
    """One browser connection's app process, told the connection's remote address."""

    def __init__(self, *args: object, remote: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.remote = remote

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        for name in WITHHELD_ENV:
            environment.pop(name, None)
        environment[REMOTE_ENV] = self.remote
        return environment


def remote_address(request: web.Request) -> str:
    """host:port of the peer (behind a reverse proxy: the proxy's address)."""
    peer = request.transport.get_extra_info("peername") if request.transport is not None else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = str(peer[0]), peer[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return request.remote or "unknown"


class FacilityServer(Server):
    """textual-serve's Server with our page, optional TLS and per-connection remote addresses."""

    def __init__(self, command: str, host: str, port: int, title: str, ssl_context: ssl.SSLContext | None) -> None:
        scheme = "https" if ssl_context is not None else "http"
        shown = f"[{host}]" if ":" in host else host
        super().__init__(
            command, host=host, port=port, title=title, public_url=f"{scheme}://{shown}:{port}",
            templates_path=TEMPLATES,
        )
        self.ssl_context = ssl_context

    def serve(self, debug: bool = False) -> None:
        """As Server.serve, with the certificate handed to aiohttp."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        def request_exit() -> None:
            raise GracefulExit()

        loop.add_signal_handler(signal.SIGINT, request_exit)
        loop.add_signal_handler(signal.SIGTERM, request_exit)
        web.run_app(
            self._make_app(), host=self.host, port=self.port, ssl_context=self.ssl_context,
            handle_signals=False, loop=loop, print=lambda *args: None,
        )

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """As Server.handle_websocket, with the connection's address given to its app process."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        remote = remote_address(request)
        app_service: ConnectionAppService | None = None
        try:
            await websocket.prepare(request)
            log.info("connection from %s: app process started", remote)
            app_service = ConnectionAppService(
                self.command, remote=remote, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                close=websocket.close, download_manager=self.download_manager, debug=self.debug,
            )
            await app_service.start(width, height)
            try:
                await self._process_messages(websocket, app_service)
            finally:
                await app_service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # one connection's failure must not stop the server
            log.exception(error)
        finally:
            if app_service is not None:
                await app_service.stop()
            log.info("connection from %s: closed", remote)
        return websocket
