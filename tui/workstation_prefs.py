"""What this workstation remembers between launches: the last user name per vault, nothing else.

Kept in the client state folder (platformdirs' user state dir, or
CHARTVAULT_STATE_DIR), in its own file `last_user` (JSON: vault path -> user
name), apart from anything else chartvault keeps there. Never a passphrase,
never patient content. Reading or writing it may fail (a read-only home): the
unlock screen then simply starts with an empty User field.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from vault.client_state import state_dir  # the one client state folder (not created here)

LAST_USER_FILE = "last_user"


def _key(vault_dir: Path) -> str:
    return str(Path(vault_dir).expanduser().resolve())


def _read() -> dict[str, str]:
    try:
        data = json.loads((state_dir() / LAST_USER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def last_user(vault_dir: Path) -> str | None:
    """The user who last unlocked this vault on this workstation, if known."""
    return _read().get(_key(vault_dir))


def remember_user(vault_dir: Path, user: str) -> None:
    """Remember `user` as the last to unlock this vault here (best effort; the name only)."""
    data = _read()
    if data.get(_key(vault_dir)) == user:
        return
    data[_key(vault_dir)] = user
    folder = state_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = folder / f".{LAST_USER_FILE}.{os.getpid()}.tmp"
        temp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temp, folder / LAST_USER_FILE)
    except OSError:
        pass  # nothing to remember with: the next launch asks for the name again
