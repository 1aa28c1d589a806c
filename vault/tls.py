"""The facility server's self-signed TLS certificate: made once, checked by its SHA-256 fingerprint.

`chartvault serve --make-certificate` writes `<vault>/tls/server.crt` (public)
and `<vault>/tls/server.key` (owner-only, 0600, in a 0700 folder). The key is
not encrypted: the server must start unattended, and a passphrase for it would
have to be typed at every start or stored beside it. It protects the traffic,
not the records (those stay age- and SQLCipher-encrypted at rest); whoever reads
it can pose as the server to a workstation, hence owner-only. Backups never
carry it (they copy the vault's ciphertext only). An existing certificate or key
is never replaced unless asked (`force`). Never logs or prints the key.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from vault.atomic import private_dir, write_atomic
from vault.errors import BadInput, UserError

TLS_DIR = "tls"
CERT_NAME = "server.crt"
KEY_NAME = "server.key"
VALID_DAYS = 825  # about two years; renew with --make-certificate --force (workstations re-check the fingerprint)


@dataclass(frozen=True)
class FacilityCertificate:
    cert: Path
    key: Path
    fingerprint: str  # SHA-256 of the DER certificate, colon-separated hex (as browsers show it)
    names: tuple[str, ...]  # the host names and addresses it is valid for
    not_after: datetime.datetime


def tls_dir(vault_root: Path) -> Path:
    return Path(vault_root) / TLS_DIR


def certificate_paths(vault_root: Path) -> tuple[Path, Path]:
    folder = tls_dir(vault_root)
    return folder / CERT_NAME, folder / KEY_NAME


def _alt_name(host: str) -> object:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return x509.DNSName(host)


def make_certificate(vault_root: Path, hosts: list[str], *, force: bool = False) -> FacilityCertificate:
    """A new self-signed certificate for `hosts` (names or addresses) and its key in `<vault>/tls/`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    names = tuple(dict.fromkeys(h.strip() for h in hosts if h.strip()))
    if not names:
        raise BadInput("No host name or address for the certificate.", "Give --host with the server's address.")
    for host in names:
        if "/" in host or " " in host:
            raise BadInput(f"{host!r} is not a host name or address.", "Give --host 192.168.1.10 or a name.")
    cert_path, key_path = certificate_paths(vault_root)
    existing = [p for p in (cert_path, key_path) if p.exists()]
    if existing and not force:
        raise UserError(
            f"A facility certificate already exists: {', '.join(str(p) for p in existing)}.",
            "Nothing was changed. Give --force to replace it (workstations must then check the new fingerprint).",
        )
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chartvault facility server"),
        x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64]),
    ])
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    not_after = now + datetime.timedelta(days=VALID_DAYS)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([_alt_name(h) for h in names]), critical=False)  # type: ignore[misc]
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    private_dir(cert_path.parent)
    os.chmod(cert_path.parent, 0o700)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomic(key_path, key_pem, mode=0o600)  # the key first: a certificate is never there without it
    write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
    return FacilityCertificate(cert_path, key_path, fingerprint_of(cert_path), names, not_after)


def fingerprint_of(cert_path: Path) -> str:
    """SHA-256 fingerprint of a PEM certificate, as `AB:CD:...` (what a browser's certificate viewer shows)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    except (OSError, ValueError) as exc:
        raise BadInput(f"Cannot read the certificate {cert_path}: {exc}.", "Give a PEM certificate.") from None
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
