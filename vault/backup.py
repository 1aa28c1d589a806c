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
import re
import shutil
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault.atomic import TEMP_SUFFIX, fsync_dir, open_private, private_dir, temp_path_for, write_atomic
from vault.errors import BadInput, NotFound, TamperDetected, VaultExists
from vault.keys import USER_NAME
from vault.store import BLOB_ID_LENGTH

if TYPE_CHECKING:
    from vault.vault import UnlockedVault

MANIFEST = "manifest.json"
FORMAT = "chartvault-backup"
FORMAT_VERSION = 1
SMALL_FILES = ("vault.json", "index.key.age", "audit.head.age")
BLOB_FOLDERS = ("objects", "pending", "quarantine")
Progress = Callable[[int, int], None]
# Every name a backup may hold; anything else is refused before a byte is written.
TOP_LEVEL_FILES = frozenset((*SMALL_FILES, "index.db", MANIFEST))
_BLOB_NAME = re.compile(rf"(objects|quarantine)/([0-9a-f]{{2}})/\2[0-9a-f]{{{BLOB_ID_LENGTH - 2}}}\.age")
# Arrivals a locked watcher wrote, and failed logins noted while locked (archive/login.py's
# FAILED_LOGINS folder: named here because vault/ must not import archive/).
_PENDING_NAME = re.compile(r"pending/(failed-logins/)?[0-9a-f]{16,64}\.age")
_KEY_NAME = re.compile(r"keys/(?P<user>[^/]+?)\.(age|grant\.age|pub)")


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


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object that names a key twice is refused (two different files under one name)."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


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
                return dict(json.loads(fh.read(), object_pairs_hook=_unique_keys)) if fh else {}
        return dict(json.loads((dest / MANIFEST).read_text(), object_pairs_hook=_unique_keys))
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
    if unlocked.vault.rotation_state() is not None:
        # Mid-rotation the index key may be in rotation/, which a backup does not carry.
        raise BadInput("A key rotation is unfinished; a backup now might not open.",
                       "Run 'chartvault key rotate' to finish it, then back up.")
    # A backup killed part-way leaves temp files (ciphertext) and, on its first run, no manifest yet:
    # both are ours, so the next run cleans them up and carries on instead of refusing the folder.
    remove_leftovers(dest.parent if _is_tar(dest) else dest, only_index=_is_tar(dest))
    previous = _read_manifest(dest)
    if previous and previous.get("format") != FORMAT:
        raise BadInput(f"{dest} holds something that is not a chartvault backup.", "Choose another destination.")
    if not previous and not _is_tar(dest) and dest.exists() and not _only_backup_members(dest):
        raise VaultExists(f"{dest} is not empty and holds no chartvault backup.", "Choose an empty or new folder.")
    old_files: dict[str, dict[str, int]] = previous.get("files", {}) if previous else {}

    # The audit head is read before the index snapshot (see module doc), blobs after it.
    staging = dest.parent if _is_tar(dest) else dest
    private_dir(staging)
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


# SQLite may leave the snapshot's journal beside it (`-journal`, `-wal`, `-shm`).
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{12}" + re.escape(TEMP_SUFFIX) + r"(-journal|-wal|-shm)?")


def remove_leftovers(folder: Path, *, only_index: bool = False) -> int:
    """Remove the temp files a killed backup left in `folder` (`.<name>.<12 hex>.tmp`, written by
    `temp_path_for`); with `only_index` just the index snapshot's, and only at the top. Returns how many."""
    if not folder.is_dir():
        return 0
    found = folder.glob(".index.db.*") if only_index else folder.rglob(".*")
    removed = 0
    for path in found:
        if path.is_file() and not path.is_symlink() and _LEFTOVER.fullmatch(path.name):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _only_backup_members(dest: Path) -> bool:
    """A folder holding nothing but what a backup writes (a first run that was killed before its manifest)."""
    for path in dest.rglob("*"):
        if path.is_symlink():
            return False
        if path.is_dir():
            continue
        rel = path.relative_to(dest).as_posix()
        # index.db is written last, just before the manifest: a lone one is someone else's database
        if rel == "index.db" or not is_backup_name(rel):
            return False
    return True


def _snapshot_index(unlocked: UnlockedVault, target: Path) -> None:
    from sqlcipher3 import dbapi2 as sqlcipher

    open_private(target).close()  # 0600 before SQLite writes a page into it
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
        private_dir(target.parent)
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
    write_atomic(dest / MANIFEST, json.dumps(manifest, indent=1).encode())
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
    fresh = not dest.exists() or dest.stat().st_size == 0
    if not dest.exists():
        open_private(dest).close()  # created 0600; writing into it keeps the mode
    with tarfile.open(dest, "w" if fresh else "a") as tar:
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


def is_backup_name(name: str) -> bool:
    """Whether `name` is one a vault backup can hold (fixed files, blobs, pending arrivals, keyslots)."""
    if name in TOP_LEVEL_FILES or _BLOB_NAME.fullmatch(name) or _PENDING_NAME.fullmatch(name):
        return True
    key = _KEY_NAME.fullmatch(name)
    return bool(key and USER_NAME.fullmatch(key["user"]))


def _refuse(src: Path, name: str, why: str) -> TamperDetected:
    return TamperDetected(
        f"The backup {src} holds a member {name!r} that {why}; nothing was written.",
        "Do not use this backup: it was altered or is not a chartvault backup. Try another one.",
    )


def _checked_manifest_names(src: Path, manifest: dict[str, Any]) -> set[str]:
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise TamperDetected(f"The backup manifest in {src} lists no files.", "Use another backup.")
    for name in files:
        if not isinstance(name, str) or not is_backup_name(name) or name in (MANIFEST, "index.db"):
            raise _refuse(src, str(name), "is not a file a vault holds")
    return set(files) | {"index.db"}


def _checked_tar_members(src: Path, tar: tarfile.TarFile, wanted: set[str]) -> dict[str, tarfile.TarInfo]:
    """The member to restore for each wanted name; refuses the whole archive on any odd member.

    Every member is checked, listed in the manifest or not: a backup holds nothing but
    regular files under the names a vault has. A name may repeat (incremental appends,
    the last copy wins), but only ever as a regular file.
    """
    chosen: dict[str, tarfile.TarInfo] = {}
    for member in tar.getmembers():
        name = member.name
        if not member.isfile():  # links, devices, fifos, folders: never
            raise _refuse(src, name, "is not a regular file (a link, device or folder)")
        if not is_backup_name(name):
            raise _refuse(src, name, "is not a file a vault holds")
        if name in wanted:
            chosen[name] = member
    missing = sorted(wanted - set(chosen))
    if missing:
        raise TamperDetected(f"The backup lacks {missing[0]}, which its manifest lists.", "Use another backup.")
    return chosen


def _checked_folder_files(src: Path, wanted: set[str]) -> dict[str, Path]:
    """The source file for each wanted name; refuses links and anything that leaves `src`."""
    base = src.resolve()
    chosen: dict[str, Path] = {}
    for rel in sorted(wanted):
        source = src / rel
        parts = Path(rel).parts
        for depth in range(1, len(parts) + 1):  # no link anywhere on the way, not only at the end
            if (src.joinpath(*parts[:depth])).is_symlink():
                raise _refuse(src, rel, "is a link")
        if not source.exists():
            raise TamperDetected(f"The backup lacks {rel}, which its manifest lists.", "Use another backup.")
        if not source.is_file():
            raise _refuse(src, rel, "is not a regular file")
        if base not in source.resolve().parents:
            raise _refuse(src, rel, "lies outside the backup")
        chosen[rel] = source
    return chosen


def materialise(src: Path, to: Path) -> dict[str, Any]:
    """Lay the backup `src` (folder or .tar) out as a vault folder at `to`; return its manifest.

    Every name is checked before anything is written (see `is_backup_name`); links are
    never followed, and a refusal leaves `to` as it was.
    """
    src = Path(src).expanduser()
    to = Path(to).expanduser()
    if not src.exists():
        raise NotFound(f"No backup at {src}.", "Check the path.")
    manifest = _read_manifest(src)
    if manifest.get("format") != FORMAT:
        raise NotFound(f"{src} is not a chartvault backup (no manifest).", "Check the path.")
    _refuse_occupied(to)
    wanted = _checked_manifest_names(src, manifest)
    if _is_tar(src):
        with tarfile.open(src, "r") as tar:
            members = _checked_tar_members(src, tar, wanted)
            _prepare(to)
            for rel, member in sorted(members.items()):
                fh = tar.extractfile(member)
                if fh is None:
                    raise _refuse(src, rel, "has no content")
                with contextlib.closing(fh):
                    _write_into(to, rel, lambda out, fh=fh: shutil.copyfileobj(fh, out, 1 << 20))  # type: ignore[misc]
    else:
        sources = _checked_folder_files(src, wanted)
        _prepare(to)
        for rel, source in sources.items():
            # O_NOFOLLOW: a file swapped for a link after the check above is still not followed.
            with os.fdopen(os.open(source, os.O_RDONLY | os.O_NOFOLLOW), "rb") as fin:
                _write_into(to, rel, lambda out, fin=fin: shutil.copyfileobj(fin, out, 1 << 20))  # type: ignore[misc]
    for sub in ("inbox", "quarantine", "pending", "objects", "keys"):
        (to / sub).mkdir(exist_ok=True, mode=0o700)
    return manifest


def _refuse_occupied(to: Path) -> None:
    """A restore writes only into a new or empty folder: it never mixes with, or replaces, what is there."""
    if to.is_symlink():
        raise VaultExists(f"{to} is a link; nothing was written.", "Restore into a new or empty folder.")
    if not to.exists():
        return
    if not to.is_dir():
        raise VaultExists(f"{to} is a file, not a folder; nothing was written.", "Restore into a new or empty folder.")
    names = sorted(p.name for p in to.iterdir())
    if not names:
        return
    what = "a chartvault vault" if "vault.json" in names else ", ".join(names[:3]) + (
        f" and {len(names) - 3} more" if len(names) > 3 else "")
    raise VaultExists(
        f"{to} is not empty (it holds {what}); nothing was written.",
        "Restore into a new or empty folder; to replace a vault, restore beside it, check it, then swap the "
        "folders. A folder left by an interrupted restore can be deleted and the restore run again.",
    )


def _prepare(to: Path) -> None:
    private_dir(to)
    os.chmod(to, 0o700)


def _write_into(to: Path, rel: str, write: Callable[[Any], None]) -> None:
    """Write one checked name under `to`, refusing (again, as a last guard) any path that leaves it."""
    target = to / rel
    if to.resolve() not in target.parent.resolve().parents and target.parent.resolve() != to.resolve():
        raise TamperDetected(f"{rel} would be written outside {to}.", "Use another backup.")
    private_dir(target.parent)
    write_atomic(target, write)


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
