"""Key operations an admin asks for: exporting the identity, rotating it, removing users."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from archive.policy import Action

if TYPE_CHECKING:
    from archive.session import Session
    from vault.rotation import RotationReport


def export_identity(session: Session, path: Path) -> None:
    """Write the vault identity to `path` (0600) so the plain `age` CLI can decrypt blobs."""
    session.require(Action.EXPORT_IDENTITY)
    session.unlocked.export_identity(Path(path))
    session.audit("key_export", flagged=True, details={"file": str(Path(path).resolve())})


def pin_vault(session: Session) -> str:
    """Make this computer trust the vault as it is now (admin only, audited); return the pinned recipient.

    After a key rotation done elsewhere the unattended watcher refuses the new
    recipient until this runs; after an admin restored index.db from a backup
    the vault is behind what this computer saw until this runs.
    """
    from vault import client_state

    session.require(Action.MANAGE_USERS)
    root = session.vault.root
    client_state.pin_recipients(root, [i.recipient for i in session.unlocked.identities], replace=True)
    client_state.repin_signing_root(root, session.vault.signing_root)
    client_state.forget_head(root)
    session.audit("key_pin", flagged=True, details={"recipient": session.unlocked.identity.recipient})
    session.audit_log.remember_on_client()
    return session.unlocked.identity.recipient


def rotate_key(session: Session, progress: Callable[[int, int], None] | None = None) -> RotationReport:
    """Give the vault a new identity and index key, and re-encrypt everything to them (admin only; resumable).

    Only active users' grants are re-issued (a disabled user's is deleted); the
    index is re-keyed (`PRAGMA rekey`), so the old identity, the old index key,
    and any copy of a removed or disabled user's keyslot open nothing afterwards.
    """
    from vault.rotation import rotate

    session.require(Action.MANAGE_USERS)
    session.audit("key_rotate_start", flagged=True)
    active = {row["name"] for row in session.store.users.all() if row["active"]}
    report = rotate(session.unlocked, progress, keep=active)
    from vault.client_state import pin_recipients

    pin_recipients(session.vault.root, [session.unlocked.identity.recipient])  # proven: this session made it
    session.audit_log.identity = session.unlocked.identity
    session.audit_log.also = ()
    session.audit(
        "key_rotate",
        flagged=True,
        details={
            "files_reencrypted": report.files_reencrypted,
            "users_regranted": report.users_regranted,
            "grants_dropped": report.grants_dropped,
            "index_rekeyed": report.index_rekeyed,
            "resumed": report.resumed,
        },
    )
    return report


def remove_user(
    session: Session, name: str, rotate: bool = False, progress: Callable[[int, int], None] | None = None
) -> RotationReport | None:
    """Remove `name`'s keyslot (their row stays, disabled, for the audit history); optionally rotate.

    Without a rotation the removed user's old key still opens the current
    identity if they kept a copy of their keyslot; `rotate=True` is the real revocation.
    """
    from archive.errors import UserError
    from archive.users import get_user

    session.require(Action.MANAGE_USERS)
    target = get_user(session.store, name)
    if name == session.user.name:
        raise UserError("You cannot remove yourself.", "Ask another admin to do it.")
    if target.role == "admin":
        if target.active and session.store.users.active_admins() <= 1:
            raise UserError("That is the last active admin.", "Add another admin first.")
    from archive.roster import signed_edit

    with session.transaction(), signed_edit(session, name):
        session.store.users.disable(name)
        session.audit("user_remove", details={"target": name, "rotate": rotate})
    if session.vault.keyslots.exists(name):
        session.vault.keyslots.remove(name)
    return rotate_key(session, progress) if rotate else None
