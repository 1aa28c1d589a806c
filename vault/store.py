"""Encrypted blob store: `objects/xx/<id>.age`, standard age files.

A blob's id is HMAC-SHA256(id key, plaintext), so equal content is stored once
and nobody without the key can test whether a known document is in the vault.
Blobs are streamed through pyrage (`encrypt_io`/`decrypt_io`), written
atomically, and checked on every read: age authenticates the ciphertext and we
recompute the keyed id, so a corrupted or swapped blob is always detected.

Never writes plaintext to disk: temp files here hold ciphertext only.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from vault.atomic import fsync_dir, remove_stale_temps, temp_path_for
from vault.errors import NotFound, StoreError, TamperDetected
from vault.keys import Identity, recipient_from_str

BLOB_ID_LENGTH = 64
CHUNK = 1 << 20


class _HashingReader(io.RawIOBase):
    """Reads from `source` while feeding an HMAC (and counting bytes)."""

    def __init__(self, source: BinaryIO, mac: hmac.HMAC) -> None:
        self.source = source
        self.mac = mac
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        data = self.source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.mac.update(data)
        self.size += n
        return n


class _HashingWriter(io.RawIOBase):
    """Writes to `sink` (may be None) while feeding an HMAC."""

    def __init__(self, sink: BinaryIO | None, mac: hmac.HMAC) -> None:
        self.sink = sink
        self.mac = mac
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def,override]
        view = bytes(data)
        self.mac.update(view)
        self.size += len(view)
        if self.sink is not None:
            self.sink.write(view)
        return len(view)


@dataclass(frozen=True)
class PutResult:
    blob_id: str
    size: int  # plaintext bytes
    existed: bool  # the same content was already stored


@dataclass(frozen=True)
class BlobProblem:
    blob_id: str
    path: Path
    reason: str


def valid_blob_id(blob_id: str) -> bool:
    return len(blob_id) == BLOB_ID_LENGTH and all(c in "0123456789abcdef" for c in blob_id)


class BlobStore:
    """Put, get and verify encrypted blobs under `root` (the `objects/` folder)."""

    def __init__(self, root: Path, identity: Identity, id_key: bytes) -> None:
        self.root = root
        self.identity = identity
        self._id_key = id_key
        self._recipient = recipient_from_str(identity.recipient)
        self._tmp = root / "tmp"

    # -- naming --
    def _mac(self) -> hmac.HMAC:
        return hmac.new(self._id_key, digestmod=hashlib.sha256)

    def blob_id_of(self, data: bytes) -> str:
        mac = self._mac()
        mac.update(data)
        return mac.hexdigest()

    def path_of(self, blob_id: str) -> Path:
        if not valid_blob_id(blob_id):
            raise NotFound(f"'{blob_id}' is not a blob id.", "Blob ids are 64 hexadecimal characters.")
        return self.root / blob_id[:2] / f"{blob_id}.age"

    def exists(self, blob_id: str) -> bool:
        return self.path_of(blob_id).exists()

    def ids(self) -> Iterator[str]:
        for path in sorted(self.root.glob("??/*.age")):
            if valid_blob_id(path.stem):
                yield path.stem

    # -- writing --
    def put_bytes(self, data: bytes, verify: bool = True) -> PutResult:
        return self.put_stream(io.BytesIO(data), verify=verify)

    def put_file(self, path: Path, verify: bool = True) -> PutResult:
        with open(path, "rb") as fh:
            return self.put_stream(fh, verify=verify)

    def put_stream(self, source: BinaryIO, verify: bool = True) -> PutResult:
        """Encrypt `source` into the store; with `verify`, read the blob back before returning.

        The blob becomes visible under its final name only once complete and
        fsynced; a crash leaves at most a temp file, removed by `cleanup()`.
        """
        self._tmp.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp / f".{secrets.token_hex(8)}.tmp"
        reader = _HashingReader(source, self._mac())
        try:
            from pyrage import encrypt_io

            with open(tmp, "xb") as out:
                encrypt_io(io.BufferedReader(reader, CHUNK), out, [self._recipient])
                out.flush()
                os.fsync(out.fileno())
            blob_id = reader.mac.hexdigest()
            final = self.path_of(blob_id)
            if final.exists():
                tmp.unlink()
                return PutResult(blob_id, reader.size, existed=True)
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            fsync_dir(final.parent)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise StoreError(
                f"Could not write to the vault: {exc.strerror}.", "Check free disk space and permissions."
            ) from None
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        if verify:
            self.verify(blob_id)
        return PutResult(blob_id, reader.size, existed=False)

    def delete(self, blob_id: str) -> None:
        path = self.path_of(blob_id)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            fsync_dir(path.parent)

    # -- reading --
    def get_to(self, blob_id: str, sink: BinaryIO | None) -> int:
        """Decrypt blob `blob_id` into `sink`, checking its integrity; return its size.

        Raises TamperDetected if the blob is corrupt or is not the content its
        id names. Callers writing to a file must discard it on that error.
        """
        path = self.path_of(blob_id)
        if not path.exists():
            raise NotFound(f"Blob {blob_id[:12]}… is missing from the vault.", "Restore objects/ from a backup.")
        from pyrage import DecryptError, decrypt_io

        writer = _HashingWriter(sink, self._mac())
        try:
            with open(path, "rb") as fh:
                decrypt_io(fh, writer, [self.identity.age_identity()])
        except (DecryptError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:  # a real I/O error, not bad ciphertext
                raise StoreError(f"Could not read blob {blob_id}: {exc.strerror}.", "Check the disk.") from None
            raise TamperDetected(
                f"Blob {blob_id} does not decrypt: it is corrupt or was replaced.",
                "Restore it from a backup; run 'chartvault verify' to check the rest.",
            ) from None
        if not hmac.compare_digest(writer.mac.hexdigest(), blob_id):
            raise TamperDetected(
                f"Blob {blob_id} decrypts to different content than its id names (swapped or replaced).",
                "Restore it from a backup; run 'chartvault verify' to check the rest.",
            )
        return writer.size

    def get_bytes(self, blob_id: str) -> bytes:
        buf = io.BytesIO()
        self.get_to(blob_id, buf)
        return buf.getvalue()

    def verify(self, blob_id: str) -> int:
        """Decrypt and check one blob without keeping its content."""
        return self.get_to(blob_id, None)

    def verify_all(self) -> tuple[int, list[BlobProblem]]:
        """Check every blob; return how many were checked and the problems found."""
        checked = 0
        problems: list[BlobProblem] = []
        for path in sorted(self.root.glob("??/*.age")):
            checked += 1
            blob_id = path.stem
            if not valid_blob_id(blob_id) or path.parent.name != blob_id[:2]:
                problems.append(BlobProblem(blob_id, path, "unexpected file name in objects/"))
                continue
            try:
                self.verify(blob_id)
            except TamperDetected as exc:
                problems.append(BlobProblem(blob_id, path, exc.message))
        return checked, problems

    def cleanup(self) -> int:
        """Remove ciphertext temp files left by a crash."""
        return remove_stale_temps(self._tmp)


def encrypt_to_recipient(data: bytes, recipient: str) -> bytes:
    """age-encrypt small `data` (keys, heads) to a public recipient."""
    from pyrage import encrypt

    return encrypt(data, [recipient_from_str(recipient)])


def decrypt_with_identity(blob: bytes, identity: Identity, what: str) -> bytes:
    """age-decrypt small `blob` with the vault identity; TamperDetected names `what`."""
    from pyrage import DecryptError, decrypt

    try:
        return decrypt(blob, [identity.age_identity()])
    except DecryptError:
        raise TamperDetected(
            f"{what} does not decrypt with this vault's identity: it is corrupt or was replaced.",
            "Restore it from a backup.",
        ) from None


__all__ = [
    "BlobProblem",
    "BlobStore",
    "PutResult",
    "decrypt_with_identity",
    "encrypt_to_recipient",
    "temp_path_for",
]
