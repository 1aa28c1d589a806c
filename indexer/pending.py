"""Arrivals encrypted without the vault's secret: `pending/<random>.age`.

An unattended watcher holds only the vault's public recipient, so it cannot
compute keyed blob ids or open the index. It encrypts each arrival at once
into one age file under a random name (the envelope: a magic line, the
length of a JSON header, the header, then the file's bytes), checks the
ciphertext on disk against what it wrote, and only then removes the
plaintext. The next unlocked session decrypts the envelope in memory and
runs the normal pipeline on it.

Never writes plaintext to disk: the temp file holds ciphertext only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
from pathlib import Path
from typing import Any, BinaryIO

from vault.atomic import fsync_dir, open_private, private_dir
from vault.errors import ChartvaultError, StoreError, TamperDetected

MAGIC = b"chartvault-pending/1\n"
MAX_HEADER = 1 << 20


class _Envelope(io.RawIOBase):
    """Reads MAGIC + header length + header, then the file's bytes."""

    def __init__(self, header: bytes, body: BinaryIO | None) -> None:
        self.prefix = io.BytesIO(MAGIC + len(header).to_bytes(4, "big") + header)
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        data = self.prefix.read(len(buffer))
        if not data and self.body is not None:
            data = self.body.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


class _HashingSink(io.RawIOBase):
    def __init__(self, sink: BinaryIO) -> None:
        self.sink = sink
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def,override]
        view = bytes(data)
        self.digest.update(view)
        self.sink.write(view)
        return len(view)


def write_pending(
    pending_dir: Path, recipient: str, header: dict[str, Any], body: bytes | BinaryIO | None
) -> Path:
    """Encrypt `header` + `body` to `recipient` into a new pending file; return its path.

    The file appears under its final name only when complete, fsynced and
    read back (its ciphertext re-read and compared with what was written).
    """
    from pyrage import encrypt_io

    from vault.keys import recipient_from_str

    private_dir(pending_dir)
    tmp = pending_dir / f".{secrets.token_hex(8)}.tmp"
    final = pending_dir / f"{secrets.token_hex(16)}.age"
    head = json.dumps(header, ensure_ascii=False).encode()
    stream = io.BytesIO(body) if isinstance(body, bytes) else body
    source = io.BufferedReader(_Envelope(head, stream), 1 << 20)
    try:
        with open_private(tmp) as out:
            sink = _HashingSink(out)
            encrypt_io(source, sink, [recipient_from_str(recipient)])
            out.flush()
            os.fsync(out.fileno())
        written = sink.digest.hexdigest()
        if _sha256_of(tmp) != written:
            raise StoreError("An encrypted arrival did not read back as written.", "Check the disk.")
        os.replace(tmp, final)
        fsync_dir(pending_dir)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise StoreError(
            f"Could not write to {pending_dir}: {exc.strerror}.", "Check free disk space and permissions."
        ) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return final


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_pending(path: Path, identity: Any) -> tuple[dict[str, Any], bytes | None]:
    """Decrypt one pending file in memory; return its header and the file's bytes."""
    from pyrage import DecryptError, decrypt_io

    out = io.BytesIO()
    try:
        with open(path, "rb") as fh:
            decrypt_io(fh, out, [identity.age_identity()])
    except DecryptError:
        raise TamperDetected(f"{path.name} does not decrypt with this vault's identity.", "") from None
    blob = out.getvalue()
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 4:
        raise TamperDetected(f"{path.name} is not a chartvault arrival.", "")
    size = int.from_bytes(blob[len(MAGIC) : len(MAGIC) + 4], "big")
    start = len(MAGIC) + 4
    if size > MAX_HEADER or start + size > len(blob):
        raise TamperDetected(f"{path.name} has a damaged header.", "")
    try:
        header = json.loads(blob[start : start + size])
    except ValueError:
        raise TamperDetected(f"{path.name} has a damaged header.", "") from None
    body = blob[start + size :] if header.get("has_data", True) else None
    return header, body


def pending_files(pending_dir: Path) -> list[Path]:
    """Complete arrivals, oldest first (temp files are hidden and never listed)."""
    if not pending_dir.is_dir():
        return []
    found = []
    for path in pending_dir.glob("*.age"):
        if path.name.startswith("."):
            continue
        try:
            found.append((path.stat().st_mtime, path.name, path))
        except FileNotFoundError:  # another session took it meanwhile
            continue
    return [path for _, _, path in sorted(found)]


def stash_paths(
    paths: list[Path],
    *,
    inbox: Path,
    pending_dir: Path,
    recipient: str,
    overdue: set[Path] | frozenset[Path] = frozenset(),
    orphan_sidecar_grace: float = 60.0,
) -> list[tuple[str, str, Path]]:
    """Locked mode: encrypt each ready inbox file (and its sidecar) into `pending_dir`, then remove it.

    Returns (status, path shown to people, path on disk) per input: "stashed",
    "changing" (left for later), "skipped" (left in place: too large, or a
    temporary file still being written) or "vanished". Checks that need the vault's secret
    (duplicates, extraction, quarantine) happen when a session drains
    `pending_dir`; problems found here (a symlink, an unsafe name) travel in
    the header so that session quarantines the file with the reason.
    """
    import datetime as dt

    from indexer.inputs import collect, read_settled

    present = [p for p in paths if os.path.lexists(p)]
    results: list[tuple[str, str, Path]] = []
    try:
        items = collect(present, orphan_sidecar_grace=orphan_sidecar_grace, base=inbox, hidden_folders=True)
    except ChartvaultError:  # a path vanished between the check and the walk: the next round sees it
        return results
    for item in items:
        raw = read_settled(item, settle=0.0, via="watch", changing="quarantine" if item.path in overdue else "report")
        if raw.skipped is not None:
            results.append(("skipped", raw.rel, item.path))
            continue
        if raw.changing:
            results.append(("changing", raw.rel, item.path))
            continue
        if raw.vanished:
            results.append(("vanished", raw.rel, item.path))
            continue
        header = {
            "name": raw.name,
            "name_bytes": raw.name_bytes,
            "rel": raw.rel,
            "problem": raw.problem,
            "sidecar": raw.sidecar,
            "sidecar_problem": raw.sidecar_problem,
            "sidecar_raw": raw.sidecar_raw,
            "mtime": raw.mtime,
            "arrived": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "has_data": True,
        }
        if raw.data is not None:
            write_pending(pending_dir, recipient, header, raw.data)
        else:  # too large to hold in memory: stream it
            with open(item.path, "rb") as fh:
                write_pending(pending_dir, recipient, header, fh)
        for path in (raw.path, raw.sidecar_path):
            if path is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    fsync_dir(path.parent)
        results.append(("stashed", raw.rel, item.path))
    return results
