"""`chartvault serve` (issue 21): the app to web browsers through textual-serve, run for real.

The server runs as a subprocess on a free port; a browser is played by an HTTP
client and a websocket client speaking textual-serve's protocol (keystrokes in,
terminal output out). tests/functional/test_serve_browser.py drives headless Chromium.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import re
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import TECH_PASS, VaultFixture, VaultTemplate
from tests.serve_helpers import foreign_urls, served, urls_in


@pytest.fixture
def vault(tmp_path: Path, users_vault_template: VaultTemplate) -> Any:
    fx = users_vault_template.copy(tmp_path / "v")
    yield fx
    fx.session.close()  # type: ignore[attr-defined]


def get(url: str, context: ssl.SSLContext | None = None) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30, context=context) as resp:  # noqa: S310 (our own test server)
        return resp.status, resp.read().decode("utf-8", errors="replace")


# -- refusals ---------------------------------------------------------------------------------------


def test_a_network_address_without_tls_is_refused(vault: VaultFixture, cli_env: None) -> None:
    result = CliRunner().invoke(cli, ["--vault", str(vault.root), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "Refusing to serve on 0.0.0.0 without TLS" in result.output
    assert "--cert FILE --key FILE" in result.output
    assert "Traceback" not in result.output


def test_a_certificate_without_its_key_is_refused(vault: VaultFixture, tmp_path: Path, cli_env: None) -> None:
    cert, _key = make_certificate(tmp_path)
    result = CliRunner().invoke(cli, ["--vault", str(vault.root), "serve", "--cert", str(cert)])
    assert result.exit_code == 2
    assert "--cert and --key go together" in result.output


def test_no_vault_is_refused_rather_than_offered_for_creation_to_a_browser(tmp_path: Path, cli_env: None) -> None:
    result = CliRunner().invoke(cli, ["--vault", str(tmp_path / "none"), "serve"])
    assert result.exit_code == 2
    assert "No vault at" in result.output


# -- the page -------------------------------------------------------------------------------------


def test_the_served_page_loads_only_what_this_server_serves(vault: VaultFixture) -> None:
    with served(vault.root) as (port, _proc):
        own = f"127.0.0.1:{port}"
        status, page = get(f"http://{own}/")
        assert status == 200
        assert "textual-terminal" in page
        assert foreign_urls(page, own) == []
        local = [u for u in urls_in(page) if u.startswith("/static/")]
        assert "/static/js/textual.js" in local and "/static/fonts/RobotoMono-VariableFont_wght.ttf" in local
        for path in local:  # what the page asks for is really there
            assert get(f"http://{own}{path}")[0] == 200, path


def test_the_check_finds_the_stock_page_s_outside_font() -> None:
    """The check above can fail: on textual-serve's own template it finds the web font's host."""
    import textual_serve

    stock = (Path(textual_serve.__file__).parent / "templates" / "app_index.html").read_text()
    assert any("fonts.googleapis.com" in u for u in foreign_urls(stock, "127.0.0.1:8000"))


# -- TLS ------------------------------------------------------------------------------------------


def make_certificate(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chartvault test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_with_a_certificate_the_page_is_served_over_tls_only(vault: VaultFixture, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    with served(vault.root, "--cert", str(cert), "--key", str(key)) as (port, _proc):
        trusting = ssl.create_default_context(cafile=str(cert))
        status, page = get(f"https://127.0.0.1:{port}/", trusting)
        assert status == 200 and "textual-terminal" in page
        with pytest.raises(urllib.error.URLError) as refused:  # a workstation not trusting the certificate
            get(f"https://127.0.0.1:{port}/", ssl.create_default_context())
        assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
        with pytest.raises((urllib.error.URLError, ConnectionError)):  # no clear-text http on that port
            get(f"http://127.0.0.1:{port}/")


# -- a connection: its own process, its own login, its remote address in the audit log -----------------


# The passphrase field's placeholder with the cursor (another colour) on its first letter: the field has the focus.
PASSPHRASE_FOCUSED = re.compile(rb"p(?:\x1b\[[0-9;]*m)+assphrase")


async def _connect_and_log_in(port: int, user: str, passphrase: str, vault: VaultFixture) -> str:
    """Open the websocket as the page does, log in on the unlock screen, close the tab.
    Returns the remote address the login entry recorded."""
    session: Any = vault.session
    async with aiohttp.ClientSession() as client:
        async with client.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as ws:
            local = ws.get_extra_info("sockname")
            screen = b""
            deadline = time.monotonic() + 60
            while b"Passphrase" not in screen:  # the unlock screen is drawn
                assert time.monotonic() < deadline, "no unlock screen"
                msg = await ws.receive(timeout=60)
                assert msg.type == aiohttp.WSMsgType.BINARY, msg
                screen += msg.data
            await ws.send_json(["stdin", user + "\r"])  # Enter in the User field moves to the passphrase
            screen = b""
            while not PASSPHRASE_FOCUSED.search(screen):  # drawn with the cursor on its placeholder
                assert time.monotonic() < deadline, "the passphrase field never had the focus"
                screen += (await ws.receive(timeout=60)).data
            await ws.send_json(["stdin", passphrase + "\r"])
            while True:  # the login entry, written by the connection's own process
                logins = [e for e in session.audit_log.entries(action="login", user=user) if "origin" in e.details]
                if logins:
                    break
                assert time.monotonic() < deadline, "no login entry"
                try:
                    await ws.receive(timeout=0.2)  # keep reading the screen meanwhile
                except TimeoutError:
                    pass
            origin = logins[-1].details["origin"]
            assert origin == f"{local[0]}:{local[1]}"
        # the tab is closed: the app process quits and logs the user out
        while True:
            quits = [e for e in session.audit_log.entries(action="logout", user=user) if e.details.get("origin")]
            if quits:
                assert quits[-1].details["origin"] == origin
                assert quits[-1].reason == "quit"
                return str(origin)
            assert time.monotonic() < deadline, "no logout entry after the tab closed"
            await asyncio.sleep(0.2)


def test_a_served_session_logs_in_with_its_remote_address_and_the_closed_tab_logs_out(
    vault: VaultFixture,
) -> None:
    with served(vault.root) as (port, proc):
        origin = asyncio.run(_connect_and_log_in(port, "tess", TECH_PASS, vault))
    assert origin.startswith("127.0.0.1:")
    log = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    assert f"connection from {origin}: app process started" in log
    assert TECH_PASS not in log  # the server's log: addresses and requests, never what was typed


def test_the_origin_is_in_every_entry_of_the_session_and_a_failed_attempt_keeps_its_own(
    vault: VaultFixture,
) -> None:
    from archive.errors import WrongPassphrase
    from archive.login import open_session

    with pytest.raises(WrongPassphrase):
        open_session(vault.root, "tess", "not her passphrase", origin="10.0.0.7:50001")
    session = open_session(vault.root, "tess", TECH_PASS, origin="10.0.0.9:50002")
    try:
        session.audit("search", details={"results": 0})
        failed = session.audit_log.entries(action="login_failed", user="tess")
        assert failed[-1].details["origin"] == "10.0.0.7:50001"  # the attempt's connection, not the importer's
        assert session.audit_log.entries(action="login", user="tess")[-1].details["origin"] == "10.0.0.9:50002"
        assert session.audit_log.entries(action="search", user="tess")[-1].details == {
            "results": 0, "origin": "10.0.0.9:50002",
        }
        assert session.audit_log.verify().ok  # the origin is inside what the chain signs
    finally:
        session.logout()
    admin: Any = vault.session
    assert all("origin" not in e.details for e in admin.audit_log.entries(user="admin"))  # a local session: none
