"""Ed25519 signing keys: each user's own, kept inside their passphrase keyslot.

A signature says which user wrote something (an audit entry, a roster row, an
anchor). The index key cannot make one: anyone who can log in holds the index
key, but only the user holds their signing key. Public keys are hex strings
(64 characters); signatures are hex strings (128 characters).

Never writes a private key anywhere: `Keyslots` encrypts it with the user's passphrase.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SLOT_PREFIX = "CHARTVAULT-ED25519-SIGNING-KEY "


class SigningKey:
    """A private Ed25519 key with its public half (hex)."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        from cryptography.hazmat.primitives import serialization

        self._private = private
        raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public = raw.hex()

    @classmethod
    def generate(cls) -> SigningKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed_hex(cls, seed: str) -> SigningKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed)))

    def seed_hex(self) -> str:
        from cryptography.hazmat.primitives import serialization

        raw = self._private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return raw.hex()

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()

    def __repr__(self) -> str:  # never print the private key by accident
        return f"SigningKey(public={self.public!r})"


@lru_cache(maxsize=256)
def _public_key(public_hex: str) -> Ed25519PublicKey | None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
    except ValueError:
        return None


def verify_signature(public_hex: str | None, message: bytes, signature_hex: str | None) -> bool:
    """Whether `signature_hex` is `public_hex`'s signature of `message` (False for anything malformed)."""
    from cryptography.exceptions import InvalidSignature

    if not public_hex or not signature_hex:
        return False
    key = _public_key(public_hex)
    if key is None:
        return False
    try:
        key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
