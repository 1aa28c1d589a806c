"""What `index.key.age` holds: the index's SQLCipher key and the root of the vault's sub-keys.

Kept apart from `vault.vault` so that a key rotation (`vault.rotation`) can write it
without importing the vault it is called from.
"""

from __future__ import annotations

from vault.errors import TamperDetected

INDEX_KEY = "index.key.age"


def pack_index_key(db_key: bytes, root_key: bytes) -> bytes:
    """What `index.key.age` holds: the SQLCipher key, then (when it differs) the root of the sub-keys.

    A vault starts with one 32-byte key that is both. A key rotation gives the index a
    new SQLCipher key (`PRAGMA rekey`) but keeps the root, because the keyed blob ids
    and the audit chain are derived from it; the file then holds 64 bytes.
    """
    if len(db_key) != 32 or len(root_key) != 32:
        raise ValueError("index keys are 32 bytes")
    return db_key if db_key == root_key else db_key + root_key


def unpack_index_key(raw: bytes, source: str = "index.key.age") -> tuple[bytes, bytes]:
    """(SQLCipher key, sub-key root) from what `pack_index_key` wrote."""
    if len(raw) == 32:
        return raw, raw
    if len(raw) == 64:
        return raw[:32], raw[32:]
    raise TamperDetected(f"{source} holds a key of the wrong size.", "Restore it from a backup.")
