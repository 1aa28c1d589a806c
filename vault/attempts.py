"""Counting wrong passphrases for the back-off, in two places so that deleting one resets nothing.

Unlocking happens before any secret is known, so the count cannot live in the
encrypted index. It is kept twice:
  keys/attempts.json                 in the vault, seen by every client of it;
  <state dir>/attempts/<vault>.json  on this machine, in the OS account's own state
                                     folder ($CHARTVAULT_STATE_DIR, or the platform's
                                     user state folder), outside the vault.
The back-off uses the larger count and the later failure of the two, so deleting
or rewriting `keys/attempts.json` (anyone with write access to the vault folder can)
does not lift it for this machine, and a client's lost state does not lift it either.
A success clears the count in both and notes its time in the vault copy; a vault copy
that holds fewer failures than this machine saw, with no success since, was erased or
rewritten: `erased()` says so and the login that follows writes a flagged audit entry.

What it cannot do: someone who copies a keyslot can guess passphrases offline at the
cost of age's scrypt, which no counter sees; against them the passphrase's strength is
the defence. Every wrong passphrase is also noted, encrypted, in pending/failed-logins/
and becomes an audit entry at the next unlock (archive/login.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from vault.atomic import private_dir, write_atomic
from vault.client_state import state_dir as client_state_dir  # this OS account's state folder, outside vaults


def client_attempts_file(vault_root: Path) -> Path:
    """This machine's copy of the failed-attempt counts of the vault at `vault_root`."""
    name = hashlib.sha256(str(Path(vault_root).resolve()).encode()).hexdigest()[:24]
    return client_state_dir() / "attempts" / f"{name}.json"


def _read(path: Path | None) -> dict[str, dict[str, float]]:
    if path is None:
        return {}
    try:
        data: Any = json.loads(path.read_text())
    except (FileNotFoundError, ValueError, OSError):
        return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, dict[str, float]] = {}
    for user, entry in data.items():
        if isinstance(user, str) and isinstance(entry, dict):
            try:
                out[user] = {k: float(entry.get(k, 0) or 0) for k in ("failures", "last", "ok")}
            except (TypeError, ValueError):
                continue
    return out


class FailedAttempts:
    """Consecutive wrong passphrases per user, from the vault's copy and (if given) this machine's."""

    def __init__(self, vault_file: Path, client_file: Path | None = None) -> None:
        self.vault_file = vault_file
        self.client_file = client_file

    def read(self) -> dict[str, dict[str, float]]:
        """{user: {"failures", "last"}} of users with failures: the larger count, the later time."""
        vault, client = _read(self.vault_file), _read(self.client_file)
        merged: dict[str, dict[str, float]] = {}
        for user in {*vault, *client}:
            a, b = vault.get(user, {}), client.get(user, {})
            failures = max(a.get("failures", 0), b.get("failures", 0))
            if failures > 0:
                merged[user] = {"failures": int(failures), "last": max(a.get("last", 0), b.get("last", 0))}
        return merged

    def erased(self, user: str) -> bool:
        """Whether this machine saw more failures for `user` than the vault's copy holds, with no success since."""
        client = _read(self.client_file).get(user)
        if not client or client.get("failures", 0) <= 0:
            return False
        vault = _read(self.vault_file).get(user, {})
        if vault.get("ok", 0) >= client.get("last", 0):  # a login elsewhere cleared it, after our failures
            return False
        return vault.get("failures", 0) < client["failures"]

    def record(self, user: str) -> int:
        """Count one more wrong passphrase for `user` in both copies; return the count."""
        failures = int(self.read().get(user, {}).get("failures", 0)) + 1
        now = time.time()
        for path in self._files():
            data = _read(path)
            data[user] = {**data.get(user, {}), "failures": failures, "last": now}
            self._write(path, data)
        return failures

    def clear(self, user: str) -> None:
        """A success: no failures left in either copy; the vault's copy notes when."""
        if not any(_read(path).get(user, {}).get("failures", 0) for path in self._files()):
            return  # nothing to clear: no write on an ordinary unlock
        for path in self._files():
            data = _read(path)
            if path == self.vault_file:
                data[user] = {"failures": 0, "last": 0, "ok": time.time()}
            elif user in data:
                del data[user]
            else:
                continue
            self._write(path, data)

    def _files(self) -> list[Path]:
        return [self.vault_file, *([self.client_file] if self.client_file else [])]

    @staticmethod
    def _write(path: Path, data: dict[str, dict[str, float]]) -> None:
        private_dir(path.parent)
        write_atomic(path, json.dumps(data).encode())
