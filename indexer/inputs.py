"""Finding and reading input files safely: folders, sidecars, symlinks, files still being written.

`collect` turns the paths a person named into a list of inputs (folders are
walked recursively, symlinks are never followed, `X.meta.json` sidecars are
attached to `X`). `read_input` reads one input into memory and says what is
wrong with it, if anything (a symlink, an unsafe name, a file that changed or
vanished while being read), so the pipeline can quarantine it with a reason.

Never writes anything; never follows a symbolic link.
"""

from __future__ import annotations

import errno
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


@dataclass
class InputFile:
    """One file to ingest, as found on disk (not yet read)."""

    path: Path
    rel: str  # the path shown to people: relative to the folder that was named
    sidecar: Path | None = None  # its `<file>.meta.json`, if present
    orphan_sidecar: bool = False  # a `<file>.meta.json` whose document is not there


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
    paths: list[Path], *, orphan_sidecar_grace: float = 0.0, base: Path | None = None
) -> list[InputFile]:
    """The inputs named by `paths` (files, or folders walked recursively), in a stable order.

    Hidden files (names starting with '.', e.g. editors' temp files) are not
    inputs. A sidecar whose document exists is attached to it; an orphan
    sidecar older than `orphan_sidecar_grace` seconds is an input of its own
    (it will be quarantined), a younger one is left for later.
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
                dirnames[:] = [d for d in dirnames if d not in links and not d.startswith(".")]
                for name in sorted(filenames + links):
                    _add(found, seen, here / name, root, orphan_sidecar_grace)
        else:
            _add(found, seen, given, root, orphan_sidecar_grace)
    return found


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return path.name


def _add(found: list[InputFile], seen: set[str], path: Path, root: Path, grace: float) -> None:
    if path.name.startswith("."):
        return
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
    raw = RawInput(name=item.path.name, rel=item.rel, data=None, path=item.path, via=via)
    raw.problem = name_problem(item.rel)
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
    if st.st_size > MAX_INPUT_BYTES:
        # Not read into memory: the pipeline streams it into quarantine.
        raw.problem = f"file is too large ({st.st_size // (1024 * 1024)} MB; the limit is 256 MB)"
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
        limit = MAX_INPUT_BYTES + 1
        while True:
            chunk = os.read(fd, min(1 << 20, limit))
            if not chunk:
                break
            chunks.append(chunk)
            limit -= len(chunk)
            if limit <= 0:
                break
        after = os.fstat(fd)
    finally:
        os.close(fd)
    raw.data = b"".join(chunks)
    if len(raw.data) > MAX_INPUT_BYTES:  # it grew while we read
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
        if not raw.vanished:
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
        if not raw.vanished:
            raw.changing = False
            raw.problem = raw.problem or "the file kept changing while it was being read (still being written?)"
    return raw
