"""`chartvault serve --make-certificate` (issue 21): the self-signed facility certificate, made and used.

The certificate and key go to <vault>/tls/ (key 0600, folder 0700, key not
encrypted so the server starts unattended); an existing one is never replaced
without --force; the printed fingerprint is the one a TLS client sees.
"""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
import stat
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import VaultFixture, VaultTemplate
from tests.serve_helpers import served

FINGERPRINT = re.compile(r"SHA-256 fingerprint: ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")


@pytest.fixture
def vault(tmp_path: Path, admin_vault_template: VaultTemplate) -> Any:
    fx = admin_vault_template.copy(tmp_path / "v")
    yield fx
    fx.session.close()  # type: ignore[attr-defined]


def make(vault: VaultFixture, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--vault", str(vault.root), "serve", "--make-certificate", *args])


def test_make_certificate_writes_an_owner_only_key_and_prints_the_fingerprint(
    vault: VaultFixture, cli_env: None
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    result = make(vault, "--host", "192.168.1.10", "--name", "records.clinic.lan")
    assert result.exit_code == 0, result.output
    cert_path, key_path = vault.root / "tls" / "server.crt", vault.root / "tls" / "server.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    der = cert.public_bytes(serialization.Encoding.DER)
    printed = FINGERPRINT.search(result.output)
    assert printed is not None, result.output
    assert printed.group(1) == ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(a) for a in alt.get_values_for_type(x509.IPAddress)] == ["192.168.1.10"]
    assert alt.get_values_for_type(x509.DNSName) == ["records.clinic.lan"]
    assert cert.issuer == cert.subject  # self-signed
    # the key is the certificate's, and is stored unencrypted (the server starts unattended)
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert key.public_key() == cert.public_key()
    assert "PRIVATE KEY-----" not in result.output  # the key is never printed


def test_an_existing_certificate_is_not_replaced_without_force(vault: VaultFixture, cli_env: None) -> None:
    first = make(vault, "--host", "10.0.0.5")
    assert first.exit_code == 0
    key_path = vault.root / "tls" / "server.key"
    before = (key_path.read_bytes(), (vault.root / "tls" / "server.crt").read_bytes())
    again = make(vault, "--host", "10.0.0.5")
    assert again.exit_code == 2
    assert "A facility certificate already exists" in again.output
    assert "Give --force to replace it" in again.output
    assert "Traceback" not in again.output
    assert (key_path.read_bytes(), (vault.root / "tls" / "server.crt").read_bytes()) == before
    forced = make(vault, "--host", "10.0.0.5", "--force")
    assert forced.exit_code == 0
    assert key_path.read_bytes() != before[0]
    assert FINGERPRINT.search(forced.output).group(1) != FINGERPRINT.search(first.output).group(1)  # type: ignore[union-attr]


def test_a_certificate_for_every_address_is_refused(vault: VaultFixture, cli_env: None) -> None:
    result = make(vault, "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert "A certificate cannot be made for 0.0.0.0" in result.output
    assert not (vault.root / "tls").exists()


def test_force_without_make_certificate_is_refused(vault: VaultFixture, cli_env: None) -> None:
    result = CliRunner().invoke(cli, ["--vault", str(vault.root), "serve", "--force"])
    assert result.exit_code == 2
    assert "--name and --force go with --make-certificate" in result.output


def test_the_server_uses_the_facility_certificate_and_a_client_sees_the_printed_fingerprint(
    vault: VaultFixture, cli_env: None
) -> None:
    made = make(vault)  # loopback: valid for 127.0.0.1 and localhost
    assert made.exit_code == 0, made.output
    printed = FINGERPRINT.search(made.output).group(1)  # type: ignore[union-attr]
    cert_path = vault.root / "tls" / "server.crt"
    with served(vault.root) as (port, proc):  # no --cert/--key: the facility certificate in <vault>/tls/
        trusting = ssl.create_default_context(cafile=str(cert_path))
        with urllib.request.urlopen(f"https://localhost:{port}/", timeout=30, context=trusting) as resp:  # noqa: S310
            assert resp.status == 200
        # what a workstation checks: the fingerprint of the certificate the server presents
        unchecked = ssl.create_default_context()
        unchecked.check_hostname = False
        unchecked.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw, \
                unchecked.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            der = tls.getpeercert(binary_form=True)
        assert der is not None
        seen = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        assert seen == printed
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    assert f"SHA-256 fingerprint {printed}" in out  # the server says at start which certificate it presents
    assert "PRIVATE KEY" not in out
