"""Finding and reading input files safely: folders, sidecars, symlinks, files still being written.

`collect` turns the paths a person named into a list of inputs (folders are
walked recursively, symlinks are never followed, `X.meta.json` sidecars are
attached to `X`). Every file found is an input, hidden ones too: a file left
in the inbox is plaintext left on disk, so each one is imported, quarantined
or skipped with a reason the person sees. `read_input` reads one input into
memory and says what is wrong with it, if anything (a symlink, an unsafe
name, a file that changed or vanished while being read, a temporary file
still being written, a file over the size limit), so the pipeline can
quarantine it, or leave it where it is, with a reason.

Never writes anything; never follows a symbolic link.
"""

from __future__ import annotations

import errno
import fnmatch
import json
import os
import stat
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault.errors import BadInput

SIDECAR_SUFFIX = ".meta.json"
MAX_INPUT_BYTES = 256 * 1024 * 1024
MAX_SIDECAR_BYTES = 64 * 1024
# The setting that admits larger files (in MB): named in the message of every file refused as too large.
MAX_INPUT_ENV = "CHARTVAULT_MAX_INPUT_MB"
# An editor's or a download's temporary file younger than this is left alone (it is still being written);
# one left unchanged for longer is taken (quarantined), so no plaintext stays in the inbox for good.
TEMP_FILE_GRACE = 60.0
TEMP_FILE_PATTERNS = (
    ".#*",  # emacs lock
    "#*#",  # emacs auto-save
    "*~",  # emacs / gedit backup
    ".*.sw?",  # vim swap
    "~$*",  # Microsoft Office owner file
    ".~lock.*#",  # LibreOffice lock
    ".goutputstream-*",  # GNOME's atomic save
    "*.part",  # Firefox, KDE
    "*.partial",
    "*.crdownload",  # Chrome
    "*.download",  # Safari
    "*.tmp",
)


def max_input_bytes() -> int:
    """The size limit of one input: 256 MB, or CHARTVAULT_MAX_INPUT_MB."""
    value = os.environ.get(MAX_INPUT_ENV, "").strip()
    if value:
        try:
            mb = float(value)
        except ValueError:
            raise BadInput(
                f"{MAX_INPUT_ENV}={value!r} is not a number of megabytes.", "Set it to e.g. 512, or unset it."
            ) from None
        if mb > 0:
            return int(mb * 1024 * 1024)
    return MAX_INPUT_BYTES


def too_large_reason(size: int, limit: int) -> str:
    """Why a file is refused for its size, and the setting that would admit it."""
    need = -(-size // (1024 * 1024))
    return (
        f"file is too large ({size / (1024 * 1024):,.0f} MB; the limit is {limit // (1024 * 1024)} MB): "
        f"left in place, not read; set {MAX_INPUT_ENV}={need} to admit it"
    )


def is_temporary(name: str) -> bool:
    """An editor's lock/swap/backup file or a browser's partial download, by its name."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in TEMP_FILE_PATTERNS)


def printable_name(name: str) -> str:
    """`name` as text that can be stored and shown: bytes that are not UTF-8 become `\\xNN` escapes.

    File names are bytes on Linux; Python decodes undecodable ones to lone
    surrogates, which SQLite, JSON and terminals refuse.
    """
    if not any(0xDC80 <= ord(ch) <= 0xDCFF for ch in name):
        return name
    return os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass
class InputFile:
    """One file to ingest, as found on disk (not yet read)."""

    path: Path
    rel: str  # the path shown to people: relative to the folder that was named
    sidecar: Path | None = None  # its `<file>.meta.json`, if present
    orphan_sidecar: bool = False  # a `<file>.meta.json` whose document is not there
    skip: str | None = None  # not read at all, for this reason (shown to the person)


@dataclass
class RawInput:
    """One input read into memory, with what is wrong with it (if anything)."""

    name: str  # the original file name (no folders)
    rel: str
    data: bytes | None  # None: nothing could be read (it vanished before opening)
    problem: str | None = None  # a reason to quarantine, found before extraction
    sidecar: dict[str, Any] | None = None
    sidecar_problem: str | None = None
    sidecar_raw: str | None = None  # the sidecar's text when it could not be used
    mtime: float | None = None
    path: Path | None = None  # the file to remove after commit (inbox semantics)
    sidecar_path: Path | None = None
    pending_path: Path | None = None  # the pending/ arrival this came from
    via: str = "import"
    changing: bool = False  # changed while being read: try again after a quiet period
    vanished: bool = False
    skipped: str | None = None  # left where it is, unread, for this reason (the person is told)
    name_bytes: str | None = None  # the original name's bytes (hex) when it is not valid UTF-8
    extra: dict[str, Any] = field(default_factory=dict)


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX) and len(path.name) > len(SIDECAR_SUFFIX)


def sidecar_target(path: Path) -> Path:
    return path.with_name(path.name[: -len(SIDECAR_SUFFIX)])


def _exists_nofollow(path: Path) -> bool:
    try:
        os.lstat(path)
    except OSError:
        return False
    return True


def collect(
    paths: list[Path],
    *,
    orphan_sidecar_grace: float = 0.0,
    base: Path | None = None,
    hidden_folders: bool = False,
) -> list[InputFile]:
    """The inputs named by `paths` (files, or folders walked recursively), in a stable order.

    Every file is an input, hidden ones included (whether it is imported,
    quarantined or skipped is decided when it is read). A hidden folder (e.g.
    `.git`) met in a walk is walked only with `hidden_folders` (the inbox,
    where nothing may stay); otherwise it is one input, skipped with a reason.
    A sidecar whose document exists is attached to it; an orphan sidecar older
    than `orphan_sidecar_grace` seconds is an input of its own (it will be
    quarantined), a younger one is left for later.
    `base`: show paths relative to this folder (the inbox).
    """
    found: list[InputFile] = []
    seen: set[str] = set()
    for given in paths:
        given = Path(given)
        try:
            st = os.lstat(given)
        except FileNotFoundError:
            raise BadInput(f"{given} does not exist.", "Check the path and try again.") from None
        root = base if base is not None else given.parent
        if stat.S_ISDIR(st.st_mode):
            for dirpath, dirnames, filenames in os.walk(given, followlinks=False):
                dirnames.sort()
                here = Path(dirpath)
                # os.walk lists a symlink to a folder among dirnames and does not follow it: it is an input.
                links = [d for d in dirnames if os.path.islink(here / d)]
                hidden = [] if hidden_folders else [d for d in dirnames if d.startswith(".") and d not in links]
                dirnames[:] = [d for d in dirnames if d not in links and d not in hidden]
                for name in sorted(filenames + links):
                    _add(found, seen, here / name, root, orphan_sidecar_grace)
                for name in sorted(hidden):
                    path = here / name
                    found.append(
                        InputFile(
                            path=path,
                            rel=_rel(path, root),
                            skip="a hidden folder, not walked: name it to import what it holds",
                        )
                    )
        else:
            _add(found, seen, given, root, orphan_sidecar_grace)
    return found


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return path.name


def _add(found: list[InputFile], seen: set[str], path: Path, root: Path, grace: float) -> None:
    key = os.path.abspath(path)
    if key in seen:
        return
    if is_sidecar(path):
        if _exists_nofollow(sidecar_target(path)):
            return  # attached to its document
        if grace > 0:
            try:
                age = time.time() - os.lstat(path).st_mtime
            except OSError:
                return
            if age < grace:
                return  # its document may still arrive
    seen.add(key)
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    found.append(
        InputFile(
            path=path,
            rel=_rel(path, root),
            sidecar=sidecar if _exists_nofollow(sidecar) else None,
            orphan_sidecar=is_sidecar(path),
        )
    )


def name_problem(rel: str) -> str | None:
    """Why a file name is unsafe to keep or to write back out, or None."""
    for part in Path(rel).parts:
        if ".." in part:
            return "unsafe file name: it contains '..'"
        if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in part):
            return "unsafe file name: it is not valid UTF-8"
        if any(unicodedata.category(ch) in ("Cc", "Cf") and ch != "\u200d" for ch in part):
            return "unsafe file name: it contains control characters"
    if len(rel.encode("utf-8", "surrogateescape")) > 1024:
        return "unsafe file name: longer than 1024 bytes"
    return None


def read_input(item: InputFile, *, settle: float = 0.0, via: str = "import") -> RawInput:
    """Read one input without following links; report why it cannot be imported, if so.

    `settle`: a file modified less than this many seconds ago counts as still
    being written (`changing`), so the caller waits and tries again.
    """
    raw = RawInput(
        name=printable_name(item.path.name), rel=printable_name(item.rel), data=None, path=item.path, via=via
    )
    raw.problem = name_problem(item.rel)
    if raw.name != item.path.name:
        raw.name_bytes = os.fsencode(item.path.name).hex()
    if item.skip is not None:
        raw.skipped = item.skip
        return raw
    if item.orphan_sidecar and raw.problem is None:
        raw.problem = f"a sidecar whose document ({sidecar_target(item.path).name}) is not there"
    _read_sidecar(item, raw)
    try:
        st = os.lstat(item.path)
    except FileNotFoundError:
        raw.vanished = True
        raw.problem = "the file vanished before it could be read"
        return raw
    raw.mtime = st.st_mtime
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(item.path)
        raw.data = os.fsencode(target)
        raw.problem = f"symbolic link (not followed; it points to {target!r})"
        return raw
    if not stat.S_ISREG(st.st_mode):
        raw.data = b""
        raw.problem = "not a regular file (a device, pipe or socket)"
        return raw
    if settle and time.time() - st.st_mtime < settle:
        raw.changing = True
        return raw
    if is_temporary(item.path.name) and time.time() - st.st_mtime < TEMP_FILE_GRACE:
        raw.skipped = (
            "a temporary file of an editor or a download, still being written: "
            f"taken once it is left unchanged for {TEMP_FILE_GRACE:.0f} s"
        )
        return raw
    if is_temporary(item.path.name) and raw.problem is None:
        raw.problem = (
            f"a temporary file of an editor or a download, left unchanged for over {TEMP_FILE_GRACE:.0f} s "
            "(kept encrypted in quarantine: release it if it is a document)"
        )
    limit = max_input_bytes()
    if st.st_size > limit:
        # Never read, never copied: one drop must not fill the disk. It stays where it is.
        raw.skipped = too_large_reason(st.st_size, limit)
        return raw
    try:
        fd = os.open(item.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raw.vanished = True
        raw.problem = "the file vanished before it could be read"
        return raw
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink after lstat
            raw.changing = True
            return raw
        raw.data = b""
        raw.problem = f"the file cannot be read ({exc.strerror})"
        return raw
    try:
        before = os.fstat(fd)
        chunks = []
        left = limit + 1
        while True:
            chunk = os.read(fd, min(1 << 20, left))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
            if left <= 0:
                break
        after = os.fstat(fd)
    finally:
        os.close(fd)
    raw.data = b"".join(chunks)
    del chunks
    if len(raw.data) > limit:  # it grew while we read
        raw.changing = True
        return raw
    try:
        now = os.lstat(item.path)
    except FileNotFoundError:
        raw.problem = "the file vanished while it was being read (moved or deleted by another program)"
        raw.path = None  # nothing left to remove
        return raw
    if now.st_ino != before.st_ino:
        raw.changing = True  # replaced while we read: read the new one after it settles
        return raw
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(raw.data) != after.st_size:
        raw.changing = True
    return raw


def _read_sidecar(item: InputFile, raw: RawInput) -> None:
    if item.sidecar is None:
        return
    raw.sidecar_path = item.sidecar
    try:
        fd = os.open(item.sidecar, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            blob = fh.read(MAX_SIDECAR_BYTES + 1)
    except OSError as exc:
        raw.sidecar_problem = f"its sidecar {item.sidecar.name} cannot be read ({exc.strerror or exc})"
        return
    text = blob[:MAX_SIDECAR_BYTES].decode("utf-8", "replace")
    if len(blob) > MAX_SIDECAR_BYTES:
        raw.sidecar_problem = f"its sidecar {item.sidecar.name} is larger than 64 KB"
        raw.sidecar_raw = text
        return
    try:
        value = json.loads(text)
    except RecursionError:
        raw.sidecar_problem = f"its sidecar {item.sidecar.name} is JSON nested too deeply"
        raw.sidecar_raw = text
        return
    except json.JSONDecodeError as exc:
        raw.sidecar_problem = f"its sidecar {item.sidecar.name} is not valid JSON ({exc.msg}, line {exc.lineno})"
        raw.sidecar_raw = text
        return
    if not isinstance(value, dict):
        raw.sidecar_problem = f"its sidecar {item.sidecar.name} is not a JSON object"
        raw.sidecar_raw = text
        return
    raw.sidecar = value


def read_settled(
    item: InputFile,
    *,
    settle: float,
    via: str,
    changing: str = "wait",
    retries: int = 5,
    sleep: Callable[[float], None] = time.sleep,
) -> RawInput:
    """`read_input`, with a policy for a file that is still being written.

    changing="wait": try again after the settle period (up to `retries`
    times), then keep a snapshot and mark it for quarantine; "report": return
    it marked `changing` (a watcher tries later); "quarantine": snapshot now.
    """
    if changing == "quarantine":  # the caller waited long enough: keep what is there, in quarantine
        raw = read_input(item, settle=0.0, via=via)
        if not raw.vanished and raw.skipped is None:
            raw.changing = False
            raw.problem = raw.problem or "the file was still changing after the longest wait (still being written?)"
        return raw
    raw = read_input(item, settle=settle, via=via)
    attempts = 0
    while raw.changing and changing == "wait" and attempts < retries:
        attempts += 1
        sleep(max(settle, 0.2))
        raw = read_input(item, settle=settle, via=via)
    if raw.changing and changing != "report":
        # Given up waiting: keep a snapshot of what is there now, in quarantine, rather than a half file.
        raw = read_input(item, settle=0.0, via=via)
        if not raw.vanished and raw.skipped is None:
            raw.changing = False
            raw.problem = raw.problem or "the file kept changing while it was being read (still being written?)"
    return raw
