"""CLI: `chartvault serve`, the app to web browsers on the facility network (textual-serve).

Each browser connection runs the terminal UI as its own process with its own
login; nothing is shared between connections but the vault. Loopback only by
default; any other address needs TLS (--cert and --key).
"""

from __future__ import annotations

import ipaddress
import shlex
import ssl
import sys
from pathlib import Path

import click

from archive.cli.base import CliState, cli, pass_state
from archive.errors import UserError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The server's TLS context from the admin's certificate and key (None for neither)."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise UserError("--cert and --key go together.", "Give both the certificate (PEM) and its private key (PEM).")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    except (OSError, ssl.SSLError) as exc:
        raise UserError(
            f"Cannot use the certificate {cert} with the key {key}: {exc}.",
            "Give a PEM certificate and its unencrypted PEM private key.",
        ) from None
    return context


def app_command(vault_dir: Path) -> str:
    """The shell command textual-serve runs once per browser connection: the terminal UI."""
    return shlex.join([sys.executable, "-m", "tui", "--vault", str(vault_dir), "tui"])


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs --cert and --key.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--cert", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="TLS certificate (PEM) for https; with --key.")
@click.option("--key", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Private key (PEM) of the certificate; with --cert.")
@pass_state
def serve(state: CliState, host: str, port: int, cert: Path | None, key: Path | None) -> None:
    """Serve the app to web browsers on the facility network (one process and login per connection).

    Workstations open http(s)://HOST:PORT/ in a browser and log in on the unlock
    screen. Each audit entry of a served session records the connection's
    remote address. Listens on loopback unless --host says otherwise; a
    non-loopback address is refused without --cert and --key (TLS).
    """
    from archive.login import vault_exists

    if not vault_exists(state.vault_dir):
        raise UserError(
            f"No vault at {state.vault_dir}.",
            "Create it at the server first (run 'chartvault' in a terminal there), or give --vault DIR.",
        )
    context = tls_context(cert, key)
    if not is_loopback(host) and context is None:
        raise UserError(
            f"Refusing to serve on {host} without TLS: passphrases and records would cross the network in clear.",
            "Give --cert FILE --key FILE, or serve on 127.0.0.1 (the default).",
        )
    from archive.cli.facility_server import FacilityServer

    FacilityServer(app_command(state.vault_dir), host=host, port=port, title="chartvault",
                   ssl_context=context).serve()
