"""Encrypted, incremental, consistent backups of a vault folder; and restore.

A backup is a vault folder plus `manifest.json` (keyed blob ids and sizes,
nothing in the clear), written either to a folder or appended to one `.tar`
file. Everything copied is already ciphertext; the index is copied with
SQLite's online backup API (same SQLCipher key), so it is consistent while
the TUI or a watcher keeps writing.

Order matters: the audit head is copied before the index snapshot (the
snapshot may then be ahead of the head, which `audit verify` accepts, never
behind it), and blobs after the snapshot (every blob the snapshot references
was on disk before its row committed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import shutil
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault.atomic import fsync_dir, temp_path_for, write_atomic
from vault.errors import BadInput, NotFound, TamperDetected, VaultExists

if TYPE_CHECKING:
    from vault.vault import UnlockedVault

MANIFEST = "manifest.json"
FORMAT = "chartvault-backup"
FORMAT_VERSION = 1
SMALL_FILES = ("vault.json", "index.key.age", "audit.head.age")
BLOB_FOLDERS = ("objects", "pending", "quarantine")
Progress = Callable[[int, int], None]


@dataclass
class BackupReport:
    dest: Path
    files_total: int
    files_copied: int
    bytes_copied: int
    files_removed: int
    index_bytes: int
    manifest: dict[str, Any] = field(repr=False, default_factory=dict)


def _is_tar(dest: Path) -> bool:
    return dest.suffix == ".tar"


def _vault_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative path, path) of every ciphertext file a backup carries, besides the index."""
    for name in SMALL_FILES:
        if (root / name).exists():
            yield name, root / name
    keys = root / "keys"
    for path in sorted(keys.iterdir()) if keys.exists() else []:
        if path.suffix in (".age", ".pub") and not path.name.startswith("."):
            yield f"keys/{path.name}", path
    for folder in BLOB_FOLDERS:
        base = root / folder
        if not base.exists():
            continue
        for path in sorted(base.rglob("*.age")):
            if path.name.startswith(".") or "tmp" in path.relative_to(base).parts[:-1]:
                continue
            yield path.relative_to(root).as_posix(), path


def _read_manifest(dest: Path) -> dict[str, Any]:
    try:
        if _is_tar(dest):
            if not dest.exists():
                return {}
            with tarfile.open(dest, "r") as tar:
                members = [m for m in tar.getmembers() if m.name == MANIFEST]
                if not members:
                    return {}
                fh = tar.extractfile(members[-1])
                return dict(json.loads(fh.read())) if fh else {}
        return dict(json.loads((dest / MANIFEST).read_text()))
    except FileNotFoundError:
        return {}
    except (ValueError, tarfile.TarError):
        raise TamperDetected(f"The backup manifest in {dest} is unreadable.", "Use a new destination.") from None


def backup(unlocked: UnlockedVault, dest: Path, progress: Progress | None = None) -> BackupReport:
    """Back up the vault of `unlocked` into `dest` (a folder, or a `.tar` file), incrementally."""
    root = unlocked.vault.root
    dest = Path(dest).expanduser().resolve()
    if dest == root.resolve() or root.resolve() in dest.parents:
        raise BadInput("The backup destination is inside the vault.", "Choose a folder on another disk.")
    previous = _read_manifest(dest)
    if previous and previous.get("format") != FORMAT:
        raise BadInput(f"{dest} holds something that is not a chartvault backup.", "Choose another destination.")
    if not previous and not _is_tar(dest) and dest.exists() and any(dest.iterdir()):
        raise VaultExists(f"{dest} is not empty and holds no chartvault backup.", "Choose an empty or new folder.")
    old_files: dict[str, dict[str, int]] = previous.get("files", {}) if previous else {}

    # The audit head is read before the index snapshot (see module doc), blobs after it.
    staging = dest.parent if _is_tar(dest) else dest
    staging.mkdir(parents=True, exist_ok=True)
    snapshot = temp_path_for(staging / "index.db")
    head_copy = (root / "audit.head.age").read_bytes() if (root / "audit.head.age").exists() else None
    _snapshot_index(unlocked, snapshot)
    files = list(_vault_files(root))  # blobs committed up to now, a superset of what the snapshot names

    entries: dict[str, dict[str, int]] = {}
    to_copy: list[tuple[str, Path]] = []
    for rel, path in files:
        st = path.stat()
        entries[rel] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
        if rel in SMALL_FILES or rel.startswith("keys/") or old_files.get(rel) != entries[rel]:
            to_copy.append((rel, path))
    removed = [rel for rel in old_files if rel not in entries]
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "vault_recipient": unlocked.vault.recipient,
        "files": entries,
        "index_size": snapshot.stat().st_size,
    }
    copied_bytes = 0
    try:
        if _is_tar(dest):
            copied_bytes = _append_tar(dest, to_copy, snapshot, head_copy, manifest, progress)
        else:
            copied_bytes = _copy_folder(dest, to_copy, removed, snapshot, head_copy, manifest, progress)
    finally:
        snapshot.unlink(missing_ok=True)
    return BackupReport(
        dest=dest,
        files_total=len(entries),
        files_copied=len(to_copy),
        bytes_copied=copied_bytes,
        files_removed=len(removed),
        index_bytes=int(manifest["index_size"]),
        manifest=manifest,
    )


def _snapshot_index(unlocked: UnlockedVault, target: Path) -> None:
    from sqlcipher3 import dbapi2 as sqlcipher

    conn = sqlcipher.connect(str(target))
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{unlocked.index_key.hex()}'\"")
        unlocked.db.conn.backup(conn)
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())


def _copy_folder(
    dest: Path,
    to_copy: list[tuple[str, Path]],
    removed: list[str],
    snapshot: Path,
    head: bytes | None,
    manifest: dict[str, Any],
    progress: Progress | None,
) -> int:
    copied = 0
    for n, (rel, src) in enumerate(to_copy, start=1):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if rel == "audit.head.age" and head is not None:
            write_atomic(target, head)
        else:
            with open(src, "rb") as fin:
                write_atomic(target, lambda out, fin=fin: shutil.copyfileobj(fin, out, 1 << 20))  # type: ignore[misc]
        copied += target.stat().st_size
        if progress:
            progress(n, len(to_copy))
    for rel in removed:
        (dest / rel).unlink(missing_ok=True)
    os.replace(snapshot, dest / "index.db")
    fsync_dir(dest)
    write_atomic(dest / MANIFEST, json.dumps(manifest, indent=1).encode(), mode=0o644)
    return copied + int(manifest["index_size"])


def _append_tar(
    dest: Path,
    to_copy: list[tuple[str, Path]],
    snapshot: Path,
    head: bytes | None,
    manifest: dict[str, Any],
    progress: Progress | None,
) -> int:
    """Append changed files, the index and the manifest; on restore the last copy of a name wins."""
    copied = 0
    with tarfile.open(dest, "a") if dest.exists() else tarfile.open(dest, "w") as tar:
        for n, (rel, src) in enumerate(to_copy, start=1):
            if rel == "audit.head.age" and head is not None:
                _add_bytes(tar, rel, head)
                copied += len(head)
            else:
                tar.add(src, arcname=rel, recursive=False)
                copied += src.stat().st_size
            if progress:
                progress(n, len(to_copy))
        tar.add(snapshot, arcname="index.db", recursive=False)
        _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
    with open(dest, "rb") as fh:
        os.fsync(fh.fileno())
    return copied + int(manifest["index_size"])


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(dt.datetime.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


def materialise(src: Path, to: Path) -> dict[str, Any]:
    """Lay the backup `src` (folder or .tar) out as a vault folder at `to`; return its manifest."""
    src = Path(src).expanduser()
    to = Path(to).expanduser()
    if not src.exists():
        raise NotFound(f"No backup at {src}.", "Check the path.")
    manifest = _read_manifest(src)
    if manifest.get("format") != FORMAT:
        raise NotFound(f"{src} is not a chartvault backup (no manifest).", "Check the path.")
    if to.exists() and any(to.iterdir()):
        raise VaultExists(f"{to} is not empty.", "Restore into a new or empty folder.")
    to.mkdir(parents=True, exist_ok=True)
    os.chmod(to, 0o700)
    wanted = set(manifest["files"]) | {"index.db"}
    if _is_tar(src):
        with tarfile.open(src, "r") as tar:
            for member in tar.getmembers():  # later members replace earlier ones
                if member.name not in wanted or not member.isfile():
                    continue
                target = to / member.name
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fh = tar.extractfile(member)
                if fh is None:
                    continue
                with contextlib.closing(fh):
                    write_atomic(target, lambda out, fh=fh: shutil.copyfileobj(fh, out, 1 << 20))  # type: ignore[misc]
    else:
        for rel in sorted(wanted):
            source = src / rel
            if not source.exists():
                raise TamperDetected(f"The backup lacks {rel}, which its manifest lists.", "Use another backup.")
            target = to / rel
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(source, "rb") as fin:
                write_atomic(target, lambda out, fin=fin: shutil.copyfileobj(fin, out, 1 << 20))  # type: ignore[misc]
    for sub in ("inbox", "quarantine", "pending", "objects", "keys"):
        (to / sub).mkdir(exist_ok=True, mode=0o700)
    return manifest


def check_manifest(root: Path, manifest: dict[str, Any]) -> list[str]:
    """Files the manifest lists that are missing or of the wrong size under `root`."""
    problems = []
    for rel, meta in sorted(manifest.get("files", {}).items()):
        path = root / rel
        if not path.exists():
            problems.append(f"{rel}: missing")
        elif path.stat().st_size != meta["size"] and rel != "audit.head.age":
            problems.append(f"{rel}: size {path.stat().st_size}, manifest says {meta['size']}")
    return problems
