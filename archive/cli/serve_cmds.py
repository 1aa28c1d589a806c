"""CLI: `chartvault serve`, the app to web browsers on the facility network (textual-serve).

Each browser connection runs the terminal UI as its own process with its own
login; nothing is shared between connections but the vault. Loopback only by
default; any other address needs TLS: --cert and --key, or the facility
certificate that `--make-certificate` wrote to <vault>/tls/ (used when present).
"""

from __future__ import annotations

import ipaddress
import logging
import shlex
import ssl
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive.cli.base import CliState, cli, pass_state
from archive.errors import UserError

if TYPE_CHECKING:
    from archive.intake import ServerWatcher

log = logging.getLogger("chartvault.serve")


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


ANY_ADDRESS = ("0.0.0.0", "::", "[::]", "")


def certificate_names(host: str, extra: tuple[str, ...]) -> list[str]:
    """What the facility certificate is made for: the listening address (loopback: both spellings) and --name."""
    if host in ANY_ADDRESS:
        raise UserError(
            f"A certificate cannot be made for {host or 'every address'}: workstations connect to one address.",
            "Give --host with the address workstations use (e.g. --host 192.168.1.10), and --name for a host name.",
        )
    names = ["127.0.0.1", "localhost"] if is_loopback(host) else [host]
    return [*names, *extra]


def make_facility_certificate(vault_dir: Path, host: str, extra: tuple[str, ...], force: bool) -> None:
    from vault.tls import make_certificate

    made = make_certificate(vault_dir, certificate_names(host, extra), force=force)
    click.echo(f"Certificate: {made.cert}")
    click.echo(f"Private key: {made.key} (owner-only, not encrypted; never copy it to a workstation)")
    click.echo(f"Valid for:   {', '.join(made.names)} until {made.not_after:%Y-%m-%d}")
    click.echo(f"SHA-256 fingerprint: {made.fingerprint}")
    click.echo("Give each workstation the certificate file and this fingerprint; the browser's certificate view "
               "must show the same fingerprint before anyone logs in.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs TLS (--cert and --key, or the facility "
                   "certificate made by --make-certificate).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--cert", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="TLS certificate (PEM) for https; with --key. Default: <vault>/tls/server.crt if it exists.")
@click.option("--key", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Private key (PEM) of the certificate; with --cert.")
@click.option("--make-certificate", "make_cert", is_flag=True,
              help="Make a self-signed facility certificate for --host (and each --name) in <vault>/tls/, "
                   "print its SHA-256 fingerprint, and exit (does not serve).")
@click.option("--name", "names", multiple=True, metavar="HOSTNAME",
              help="With --make-certificate: another name or address workstations use (repeatable).")
@click.option("--force", is_flag=True, help="With --make-certificate: replace an existing certificate and key.")
@pass_state
def serve(state: CliState, host: str, port: int, cert: Path | None, key: Path | None, make_cert: bool,
          names: tuple[str, ...], force: bool) -> None:
    """Serve the app to web browsers on the facility network (one process and login per connection).

    Workstations open http(s)://HOST:PORT/ in a browser and log in on the unlock
    screen. Each audit entry of a served session records the connection's
    remote address. Listens on loopback unless --host says otherwise; a
    non-loopback address is refused without TLS. `serve --make-certificate
    --host ADDRESS` makes the facility certificate once; `serve --host ADDRESS`
    then uses it. The inbox watcher runs once, in this server process.
    """
    from archive.login import vault_exists

    if not vault_exists(state.vault_dir):
        raise UserError(
            f"No vault at {state.vault_dir}.",
            "Create it at the server first (run 'chartvault' in a terminal there), or give --vault DIR.",
        )
    if make_cert:
        if cert is not None or key is not None:
            raise UserError("--make-certificate makes its own certificate and key.", "Leave out --cert and --key.")
        make_facility_certificate(state.vault_dir, host, names, force)
        return
    if names or force:
        raise UserError("--name and --force go with --make-certificate.", "Add --make-certificate, or leave them out.")
    if cert is None and key is None:
        from vault.tls import certificate_paths

        made_cert, made_key = certificate_paths(state.vault_dir)
        if made_cert.exists() and made_key.exists():
            cert, key = made_cert, made_key
    context = tls_context(cert, key)
    if not is_loopback(host) and context is None:
        raise UserError(
            f"Refusing to serve on {host} without TLS: passphrases and records would cross the network in clear.",
            "Give --cert FILE --key FILE, make the facility certificate once with 'chartvault serve "
            "--make-certificate --host ADDRESS', or serve on 127.0.0.1 (the default).",
        )
    from archive.cli.facility_server import FacilityServer

    scheme = "https" if context is not None else "http"
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving {scheme}://{shown}:{port}/ (Ctrl+C stops)", err=True)
    if cert is not None:
        from vault.tls import fingerprint_of

        click.echo(f"Certificate {cert}, SHA-256 fingerprint {fingerprint_of(cert)}", err=True)
    server = FacilityServer(app_command(state.vault_dir), host=host, port=port, title="chartvault",
                            ssl_context=context)
    watcher = start_inbox_watcher(state.vault_dir)
    try:
        server.serve()
    finally:
        if watcher is not None:
            watcher.stop()


def start_inbox_watcher(vault_dir: Path) -> ServerWatcher | None:
    """The server's one inbox watcher (public key only); None, said on stderr, when it cannot run here."""
    from archive.errors import ChartvaultError
    from archive.intake import ServerWatcher

    def stashed(n: int) -> None:  # counts only: file names may be patient content
        from archive.plural import counted

        log.info("inbox: %s encrypted into pending/", counted(n, "arrival"))

    def failed(exc: BaseException) -> None:
        log.warning("inbox watcher: %s", exc.message if isinstance(exc, ChartvaultError) else type(exc).__name__)

    try:
        watcher = ServerWatcher(vault_dir, on_stashed=stashed, on_error=failed).start()
    except ChartvaultError as exc:
        click.echo(f"The inbox is not watched by the server: {exc.message} {exc.hint}".rstrip(), err=True)
        return None
    if watcher.elsewhere:
        click.echo("The inbox is watched by another process; this server takes over when it stops.", err=True)
    else:
        folder = watcher.watcher.folders[0] if watcher.watcher is not None else vault_dir
        click.echo(f"Watching {folder} (arrivals are encrypted at once; a technician's session "
                   "indexes them).", err=True)
    return watcher
