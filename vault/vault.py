"""A vault folder: public metadata, keyslots, blobs and the encrypted index.

`Vault.open(path)` reads only public metadata (no secret needed); it is enough
for an unattended watcher that encrypts to the public recipient.
`Vault.unlock(user, passphrase)` opens a keyslot and returns an
`UnlockedVault` with the blob store and the index.

On-disk layout (see DESIGN.md "On disk"):
    vault.json, keys/<user>.age, objects/xx/<id>.age, index.db, index.key.age,
    inbox/, quarantine/, pending/
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault.atomic import write_atomic
from vault.attempts import client_attempts_file
from vault.errors import BadInput, TamperDetected, VaultExists, VaultNotFound
from vault.index_key import INDEX_KEY, unpack_index_key
from vault.keys import (
    Identity,
    Keyslots,
    UserSlot,
    check_passphrase_strength,
    check_user_name,
    generate_identity,
)
from vault.store import BlobStore, decrypt_with_identity, encrypt_to_recipient

FORMAT_NAME = "chartvault-vault"
FORMAT_VERSION = 1
METADATA = "vault.json"
INDEX = "index.db"


def _derive(key: bytes, purpose: str) -> bytes:
    """A sub-key for one purpose, so no key is used for two jobs."""
    return hmac.new(key, f"chartvault/{purpose}/v1".encode(), hashlib.sha256).digest()


@dataclass
class Vault:
    """A vault on disk, opened without any secret."""

    root: Path
    metadata: dict[str, Any] = field(default_factory=dict)
    created_slot: UserSlot | None = field(default=None, repr=False)

    # -- paths --
    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def objects_dir(self) -> Path:
        return self.root / "objects"

    @property
    def index_path(self) -> Path:
        return self.root / INDEX

    @property
    def inbox_dir(self) -> Path:
        return self.root / "inbox"

    @property
    def quarantine_dir(self) -> Path:
        return self.root / "quarantine"

    @property
    def pending_dir(self) -> Path:
        return self.root / "pending"

    @property
    def recipient(self) -> str:
        return str(self.metadata["recipient"])

    @property
    def format_version(self) -> int:
        return int(self.metadata["format_version"])

    @property
    def rotation_dir(self) -> Path:
        return self.root / "rotation"

    def rotation_state(self) -> dict[str, Any] | None:
        """The public state of an unfinished key rotation, or None."""
        path = self.rotation_dir / "state.json"
        try:
            return dict(json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except ValueError:
            raise TamperDetected(f"{path} is not valid JSON.", "Rerun 'chartvault key rotate' to finish.") from None

    @property
    def keyslots(self) -> Keyslots:
        state = self.rotation_state()
        accepted = (state["old_recipient"], state["new_recipient"]) if state else ()
        return Keyslots(self.keys_dir, self.recipient, accepted, client_attempts_file(self.root))

    def save_metadata(self) -> None:
        write_atomic(self.root / METADATA, json.dumps(self.metadata, indent=2).encode() + b"\n")

    def loose_modes(self) -> list[tuple[Path, int]]:
        """(path, mode) of every folder or file in the vault that group or others may use.

        Everything in a vault is the owner's only: folders 0700, files 0600. The files a
        user drops into inbox/ are theirs, so only the inbox folder itself is checked.
        """
        found = []
        for path in [self.root, *sorted(self.root.rglob("*"))]:
            if path.is_symlink() or (self.inbox_dir in path.parents):
                continue
            try:
                mode = path.stat().st_mode & 0o777
            except FileNotFoundError:  # a temp file renamed or removed meanwhile
                continue
            if mode & 0o077:
                found.append((path, mode))
        return found

    # -- lifecycle --
    @staticmethod
    def exists_at(root: Path) -> bool:
        return (root / METADATA).is_file()

    @classmethod
    def open(cls, root: Path) -> Vault:
        root = Path(root).expanduser()
        meta_path = root / METADATA
        if not meta_path.is_file():
            raise VaultNotFound(
                f"No vault at {root}.",
                "Create one with 'chartvault init', or point --vault / CHARTVAULT_VAULT at an existing vault.",
            )
        try:
            metadata = json.loads(meta_path.read_text())
        except ValueError:
            raise TamperDetected(f"{meta_path} is not valid JSON.", "Restore vault.json from a backup.") from None
        if metadata.get("format") != FORMAT_NAME:
            raise TamperDetected(f"{meta_path} is not a chartvault vault.", "Check the --vault folder.")
        version = int(metadata.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise BadInput(
                f"This vault has format version {version}; this chartvault reads up to {FORMAT_VERSION}.",
                "Upgrade chartvault.",
            )
        return cls(root=root, metadata=metadata)

    @property
    def signing_root(self) -> dict[str, Any] | None:
        """The founding admin's name and public signing key, and the first signed audit seq (None: an older vault).

        Roster signatures lead back to this key; every client pins it on first
        sight (`vault.client_state`), so replacing it is noticed.
        """
        root = self.metadata.get("signing")
        return dict(root) if isinstance(root, dict) else None

    @classmethod
    def create(cls, root: Path, admin: str, passphrase: str) -> tuple[Vault, Identity]:
        """Create a new vault with `admin`'s keyslot; return it and its identity.

        The caller (archive) then creates the index schema and the admin user.
        The admin's keys (`Vault.unlock_with_identity(..., slot=...)`) are in `created_slot`.
        """
        root = Path(root).expanduser()
        check_user_name(admin)
        check_passphrase_strength(passphrase, admin)
        if (root / METADATA).exists():
            raise VaultExists(f"A vault already exists at {root}.", "Use it, or choose another folder with --vault.")
        if root.exists() and any(p.name not in {"inbox"} for p in root.iterdir()):
            raise VaultExists(
                f"{root} is not empty.", "Choose an empty or new folder for the vault."
            )
        identity = generate_identity()
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)
        for sub in ("keys", "objects", "inbox", "quarantine", "pending"):
            (root / sub).mkdir(mode=0o700, exist_ok=True)
        vault = cls(root=root, metadata={})
        vault.metadata = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "recipient": identity.recipient,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        slot = vault.keyslots.write(admin, passphrase, identity)
        assert slot.signing is not None
        vault.metadata["signing"] = {"founder": admin, "public_key": slot.signing.public, "signed_from": 1}
        vault.created_slot = slot
        index_key = secrets.token_bytes(32)
        write_atomic(root / INDEX_KEY, encrypt_to_recipient(index_key, identity.recipient))
        # vault.json last: a crash before this leaves no half-vault that opens.
        write_atomic(root / METADATA, json.dumps(vault.metadata, indent=2).encode() + b"\n")
        return vault, identity

    def unlock(self, user: str, passphrase: str) -> UnlockedVault:
        identity, slot = self.keyslots.open(user, passphrase)
        return self.unlock_with_identity(identity, slot=slot)

    def unlock_with_identity(
        self, identity: Identity, create_index: bool = False, slot: UserSlot | None = None
    ) -> UnlockedVault:
        from vault.db import open_index
        from vault.rotation import identities_during_rotation, next_index_key

        primary, also = identities_during_rotation(self, identity)
        key_path = self.root / INDEX_KEY
        if not key_path.exists():
            raise TamperDetected(f"{key_path} is missing.", "Restore index.key.age from a backup.")
        db_key, root_key = unpack_index_key(
            decrypt_with_identity(key_path.read_bytes(), (primary, *also), INDEX_KEY)
        )
        create = create_index or not self.index_path.exists()
        try:
            db = open_index(self.index_path, db_key, create=create)
        except TamperDetected:
            # A rotation killed after `PRAGMA rekey` committed and before index.key.age was
            # replaced: the index opens with the rotation's new key (never with both).
            pending = next_index_key(self, (primary, *also))
            if pending is None or pending[1] != root_key:
                raise
            db_key = pending[0]
            db = open_index(self.index_path, db_key)
        store = BlobStore(self.objects_dir, primary, _derive(root_key, "blob-id"), also)
        return UnlockedVault(
            vault=self,
            identity=primary,
            db=db,
            store=store,
            audit_key=_derive(root_key, "audit"),
            index_key=db_key,
            root_key=root_key,
            also=also,
            slot=slot,
        )


@dataclass
class UnlockedVault:
    """A vault with its secret in memory: blob store and index are usable."""

    vault: Vault
    identity: Identity
    db: Any  # sqlite_utils.Database over SQLCipher
    store: BlobStore
    audit_key: bytes = field(repr=False)
    index_key: bytes = field(repr=False, default=b"")  # the SQLCipher key (a rotation changes it)
    root_key: bytes = field(repr=False, default=b"")  # the root of the sub-keys (kept across rotations)
    also: tuple[Identity, ...] = ()  # the old identity while a key rotation is unfinished
    slot: UserSlot | None = field(default=None, repr=False)  # the unlocking user's own keys (age, signing)

    @property
    def identities(self) -> tuple[Identity, ...]:
        """Every identity that may decrypt something in this vault right now."""
        return (self.identity, *self.also)

    def add_keyslot(self, user: str, passphrase: str, keep: UserSlot | None = None) -> UserSlot:
        """Write `user`'s keyslot: new keys, or `keep` (their own, on a passphrase change)."""
        check_passphrase_strength(passphrase, user)
        return self.vault.keyslots.write(user, passphrase, self.identity, keep=keep)

    def export_identity(self, path: Path) -> None:
        """Write the identity in age's identity-file format, created 0600."""
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        text = (
            f"# chartvault vault identity, exported {created}\n"
            f"# public key: {self.identity.recipient}\n"
            f"{self.identity.secret}\n"
        )
        path = Path(path)
        if path.exists():
            raise VaultExists(f"{path} already exists.", "Choose a new file name; an identity is never overwritten.")
        write_atomic(path, text.encode(), mode=0o600)
        os.chmod(path, 0o600)

    def close(self) -> None:
        import contextlib

        from sqlcipher3 import dbapi2

        from vault.db import forget_reader

        with contextlib.suppress(dbapi2.ProgrammingError):  # closing twice is harmless
            self.db.conn.close()
        forget_reader(self.db)
