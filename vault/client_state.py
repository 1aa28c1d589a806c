"""What this computer remembers about each vault, in its own state folder outside the vault.

Per vault (keyed by the vault folder's resolved path) it keeps:
  - the age recipients it has seen authenticated (by a successful unlock): an
    unattended watcher encrypts only to a pinned recipient, so editing
    vault.json cannot redirect it (`check_recipient`);
  - the founding admin's public signing key (the roster's trust root), pinned on first sight;
  - the highest audit head (seq, chain hash) it has seen, so a vault folder put
    back to an older copy, or a log cut at the end, is noticed (`remembered_head`).
Someone who can write this folder can reset it; an anchor kept off the machine
(`chartvault audit anchor`) does not depend on it.

The folder is platformdirs' user state dir, or CHARTVAULT_STATE_DIR. Holds no secret.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from vault.atomic import write_atomic
from vault.errors import TamperDetected

ENV = "CHARTVAULT_STATE_DIR"


def state_dir() -> Path:
    """This OS account's chartvault state folder, outside every vault (pins, heads, attempts, last user)."""
    configured = os.environ.get(ENV)
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_state_dir

    return Path(user_state_dir("chartvault", appauthor=False))


def _path(vault_root: Path) -> Path:
    key = hashlib.sha256(str(Path(vault_root).expanduser().resolve()).encode()).hexdigest()[:32]
    return state_dir() / "vaults" / f"{key}.json"


def load(vault_root: Path) -> dict[str, Any]:
    try:
        data = json.loads(_path(vault_root).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(vault_root: Path, data: dict[str, Any]) -> None:
    path = _path(vault_root)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data["vault"] = str(Path(vault_root).expanduser().resolve())
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode(), mode=0o600)


# -- the age recipient --------------------------------------------------------------


def pin_recipients(vault_root: Path, recipients: list[str], *, replace: bool = False) -> None:
    """Remember `recipients` as this vault's (after an unlock proved them, or an admin's re-pin)."""
    data = load(vault_root)
    known = [] if replace else list(data.get("recipients") or [])
    changed = replace
    for r in recipients:
        if r not in known:
            known.append(r)
            changed = True
    if changed:
        data["recipients"] = known
        _save(vault_root, data)


def check_recipient(vault_root: Path, recipient: str) -> None:
    """Refuse a vault.json recipient this computer has not seen proven; pin it on first use."""
    known = load(vault_root).get("recipients") or []
    if not known:
        pin_recipients(vault_root, [recipient])
        return
    if recipient not in known:
        raise TamperDetected(
            f"vault.json names an encryption key ({recipient[:16]}…) this computer has never seen unlock this vault.",
            "Someone may have edited vault.json to redirect arrivals to their own key. Nothing was encrypted. "
            "If an admin rotated the key, run 'chartvault key pin' once (it unlocks and pins the proven key).",
        )


# -- the roster's trust root ----------------------------------------------------------


def check_signing_root(vault_root: Path, root: dict[str, Any] | None) -> None:
    """Pin the founding admin's key on first sight; refuse a vault whose root changed later."""
    if root is None:
        return
    data = load(vault_root)
    pinned = data.get("signing")
    if not pinned:
        data["signing"] = {"founder": root.get("founder"), "public_key": root.get("public_key"),
                           "signed_from": root.get("signed_from")}
        _save(vault_root, data)
        return
    for field in ("founder", "public_key", "signed_from"):
        if pinned.get(field) != root.get(field):
            raise TamperDetected(
                f"vault.json's signing root changed ({field}): this computer pinned another one.",
                "Someone replaced the roster's trust root. Keep the vault as evidence and restore it from a backup; "
                "if this vault was really re-created, an admin runs 'chartvault key pin'.",
            )


def repin_signing_root(vault_root: Path, root: dict[str, Any] | None) -> None:
    data = load(vault_root)
    data["signing"] = dict(root) if root else None
    _save(vault_root, data)


# -- the highest audit head seen ---------------------------------------------------------


def remembered_head(vault_root: Path) -> tuple[int, str] | None:
    head = load(vault_root).get("head")
    if not isinstance(head, dict):
        return None
    try:
        return int(head["seq"]), str(head["hash"])
    except (KeyError, TypeError, ValueError):
        return None


def remember_head(vault_root: Path, seq: int, chain_hash: str) -> None:
    """Remember (seq, hash) if it is further than what is remembered (the caller checked it extends it)."""
    data = load(vault_root)
    head = data.get("head") if isinstance(data.get("head"), dict) else None
    if head is not None and int(head.get("seq", 0)) >= seq:
        return
    data["head"] = {"seq": int(seq), "hash": chain_hash}
    _save(vault_root, data)


def forget_head(vault_root: Path) -> None:
    """Drop the remembered head (an admin accepted the vault as it is: `chartvault key pin`)."""
    data = load(vault_root)
    if data.pop("head", None) is not None:
        _save(vault_root, data)
