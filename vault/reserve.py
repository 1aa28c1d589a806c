"""A little disk space held back for a full disk: `space.reserve` in the vault folder.

Reading the vault needs almost no space, but every read is audited, and an
audit entry is a write. So the vault keeps a few megabytes of zeros in
reserve while there is room; when a session opens on a full disk the reserve
is given back to the file system, so that logging in and the audited reads
after it (status, search, show) keep working while the person frees space.
It is made again once there is room.

Holds zeros only, never anything of the vault's content.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from vault.atomic import open_private
from vault.db import no_space_left

RESERVE_NAME = "space.reserve"
RESERVE_BYTES = 4 * 1024 * 1024
# Made again only when this much is free besides it: never the thing that fills a disk.
ROOM_FOR_RESERVE = 64 * 1024 * 1024
# Below this much free space, imports are refused at once (DiskFull) rather than eat the reserve.
ROOM_FOR_WRITES = 2 * RESERVE_BYTES


def low_on_space(root: Path) -> bool:
    """Too little space to import or write anything big: what is left is for the audited reads."""
    return no_space_left(root, margin=ROOM_FOR_WRITES)


def keep_reserve(root: Path) -> bool:
    """Give the reserve back if the disk is full (True), else make it if it is missing and there is room."""
    path = Path(root) / RESERVE_NAME
    if no_space_left(root):
        if path.exists():
            with contextlib.suppress(OSError):
                path.unlink()
                return True
        return False
    if not path.exists():
        _make(path)
    return False


def _make(path: Path) -> None:
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return
    if st.f_bavail * st.f_frsize < ROOM_FOR_RESERVE + RESERVE_BYTES:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.unlink(missing_ok=True)  # a killed run's leftover: open_private refuses an existing name
        with open_private(tmp) as fh:  # owner-only like everything in a vault (zeros, but still)
            try:
                os.posix_fallocate(fh.fileno(), 0, RESERVE_BYTES)  # real blocks, not a sparse file
            except OSError:
                fh.write(b"\0" * RESERVE_BYTES)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
