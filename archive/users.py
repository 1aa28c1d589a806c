"""Users of a vault: name, role, licence, active flag; keyslots live in `vault/keys`.

The users table is inside the encrypted index; a user's keyslot is the only
thing on disk that names them in the clear (its file name).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from archive.audit import now_iso
from archive.errors import AccessDenied, BadInput, NotFound, UserError
from archive.policy import Action
from vault.keys import check_passphrase_strength, check_user_name

__all__ = ["User", "add_user", "check_passphrase_strength", "list_users", "disable_user", "change_passphrase"]

if TYPE_CHECKING:
    from archive.session import Session
    from archive.store import Store

ROLES = ("admin", "technician", "physician")
LICENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{2,31}$")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    full_name: str = ""
    licence: str | None = None
    active: bool = True
    created_at: str = ""
    created_by: str | None = None
    # An admin may also hold a clinical role (technician or physician); see policy.roles_of.
    clinical_role: str | None = None

    @property
    def roles(self) -> tuple[str, ...]:
        """The role plus the clinical role, if any."""
        if self.clinical_role and self.clinical_role != self.role:
            return (self.role, self.clinical_role)
        return (self.role,)

    @property
    def registered(self) -> bool:
        """A registered physician: physician (or clinical physician) role, licence on file, active."""
        return "physician" in self.roles and bool(self.licence) and self.active

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["registered"] = self.registered
        return data


def _row_to_user(row: dict[str, Any]) -> User:
    return User(
        name=row["name"],
        role=row["role"],
        full_name=row["full_name"] or "",
        licence=row["licence"],
        active=bool(row["active"]),
        created_at=row["created_at"],
        created_by=row["created_by"],
        clinical_role=row.get("clinical_role"),
    )


def get_user(store: Store, name: str) -> User:
    row = store.users.get(name)
    if row is None:
        raise NotFound(f"No user '{name}' in this vault.", "Run 'chartvault user list' to see users.")
    return _row_to_user(row)


def insert_user(store: Store, user: User, sign_as: Session | None = None) -> None:
    """Insert `user`'s row; with `sign_as` (an admin's session) the row is signed as that admin.

    An unsigned row grants nothing in a signed vault (archive.roster); `add_user` is what admins call.
    """
    store.users.insert(
        {
            "name": user.name,
            "role": user.role,
            "full_name": user.full_name,
            "licence": user.licence,
            "active": 1 if user.active else 0,
            "created_at": user.created_at or now_iso(),
            "created_by": user.created_by,
            "clinical_role": user.clinical_role,
        }
    )
    if sign_as is not None and sign_as.signing_key is not None:
        from archive.roster import sign_row

        sign_row(store, user.name, sign_as.user.name, sign_as.signing_key)


def validate_new_user(name: str, role: str, licence: str | None) -> None:
    check_user_name(name)
    if role not in ROLES:
        raise BadInput(f"Unknown role '{role}'.", f"Choose one of: {', '.join(ROLES)}.")
    if role == "physician" and not licence:
        raise BadInput(
            "A physician needs a licence number to be registered.", "Add --licence NUMBER."
        )
    if licence is not None and not LICENCE.match(licence):
        raise BadInput(
            f"'{licence}' does not look like a licence number.",
            "Use 3-32 letters, digits, spaces, '.', '/' or '-'.",
        )


def add_user(
    session: Session,
    name: str,
    role: str,
    passphrase: str,
    full_name: str = "",
    licence: str | None = None,
) -> User:
    """Create a user with a keyslot (admin only)."""
    session.require(Action.MANAGE_USERS)
    validate_new_user(name, role, licence)
    if session.store.users.exists(name):
        raise UserError(f"User '{name}' already exists.", "Choose another name, or 'chartvault user list'.")
    # Keyslot files without a user row are what an interrupted `user add` left (the row commits last):
    # this add replaces them.
    session.vault.keyslots.remove_files(name)
    check_passphrase_strength(passphrase, name)
    user = User(name=name, role=role, full_name=full_name, licence=licence, created_by=session.user.name)
    from archive.roster import sign_row

    with session.transaction():
        insert_user(session.store, user)
        session.audit("user_add", details={"target": name, "role": role})
        # The keyslot is written inside the transaction: if it fails, the row rolls back.
        slot = session.unlocked.add_keyslot(name, passphrase)
        # The row binds the keyslot's public keys to the user, signed by this admin (archive.roster).
        session.store.users.set_keys(name, slot.age.recipient, slot.signing.public if slot.signing else None)
        key = session.signing_key
        if key is not None and session.vault.signing_root is not None:
            sign_row(session.store, name, session.user.name, key)
    return get_user(session.store, name)


def list_users(session: Session) -> list[User]:
    session.require(Action.MANAGE_USERS)
    return [_row_to_user(r) for r in session.store.users.all()]


REVOCATION_NOTE = (
    "Their key grant is deleted, so their keyslot no longer opens the vault. A copy of the keyslot "
    "and grant taken earlier still leads to the current vault key until 'chartvault key rotate' "
    "gives the vault a new identity and index key: run it to revoke them fully."
)


def disable_user(session: Session, name: str) -> User:
    """Disable a user: they can no longer log in, and a physician is no longer registered.

    Their grant is deleted too (their keyslot then opens nothing); only a key rotation
    revokes a copy of the keyslot and grant taken before (see REVOCATION_NOTE).
    """
    session.require(Action.MANAGE_USERS)
    target = get_user(session.store, name)
    if name == session.user.name:
        raise UserError("You cannot disable yourself.", "Ask another admin to do it.")
    if target.role == "admin" and not target.active:
        return target
    if target.role == "admin":
        if session.store.users.active_admins() <= 1:
            raise UserError("That is the last active admin.", "Add another admin first.")
    from archive.roster import signed_edit

    with session.transaction(), signed_edit(session, name):
        session.store.users.disable(name)
        session.audit("user_disable", details={"target": name, "grant_deleted": True})
        # Inside the transaction: if deleting fails, the row stays active and nothing half-done remains.
        session.vault.keyslots.drop_grant(name)
    return get_user(session.store, name)


def change_passphrase(session: Session, new_passphrase: str) -> None:
    """Re-wrap the current user's keyslot with a new passphrase."""
    check_passphrase_strength(new_passphrase, session.user.name)
    # The same keys under the new passphrase: the signed roster names their public halves.
    session.unlocked.slot = session.unlocked.add_keyslot(session.user.name, new_passphrase, keep=session.unlocked.slot)
    session.audit("passwd")


CLINICAL_ROLES = ("technician", "physician")


def set_clinical_role(session: Session, name: str, clinical_role: str | None, licence: str | None = None) -> User:
    """Give an admin a clinical role (or take it away with None); admin only, audited.

    Only admins hold a second role: technicians and physicians already have one.
    A clinical physician role needs a licence number, like any physician.
    Two-person rule: an admin cannot give themselves a clinical role (which opens patient
    content) while another active admin exists: the request is a flagged audit entry and
    the other admin grants it with the same command. A sole admin may, and that entry is
    flagged for review and raises a high alert (`chartvault audit review`, `audit alerts`).
    """
    session.require(Action.MANAGE_USERS)
    target = get_user(session.store, name)
    if clinical_role is not None and clinical_role not in CLINICAL_ROLES:
        raise BadInput(
            f"Unknown clinical role '{clinical_role}'.", f"Choose one of: {', '.join(CLINICAL_ROLES)}, none."
        )
    if target.role != "admin":
        raise UserError(
            f"'{name}' is a {target.role}; only admins take a second, clinical role.",
            "Add a separate user for the clinical work instead.",
        )
    if licence is not None:
        validate_new_user(name, "physician", licence)  # checks the licence format
    new_licence = licence if licence is not None else target.licence
    if clinical_role == "physician" and not new_licence:
        raise BadInput("A physician needs a licence number to be registered.", "Add --licence NUMBER.")
    details = {"target": name, "clinical_role": clinical_role, "licence_changed": licence is not None}
    self_grant = name == session.user.name and clinical_role is not None
    if self_grant and session.store.users.active_admins() > 1:
        session.audit(
            "user_clinical_role", outcome="denied", flagged=True, reason=SELF_GRANT_REQUEST,
            details={**details, "self_granted": True},
        )
        raise AccessDenied(
            f"You cannot give yourself the {clinical_role} role while another admin can approve it.",
            f"Ask another admin to run 'chartvault user set-clinical-role {name} {clinical_role}"
            + (" --licence NUMBER" if clinical_role == "physician" else "")
            + "'. Your request is recorded for review.",
        )
    from archive.roster import signed_edit

    with session.transaction(), signed_edit(session, name):
        session.store.users.set_clinical_role(name, clinical_role, new_licence)
        if self_grant:  # the sole admin: allowed, but never quietly
            session.audit("user_clinical_role", flagged=True, reason=SELF_GRANT_SOLE,
                          details={**details, "self_granted": True})
        else:
            session.audit("user_clinical_role", details=details)
    return get_user(session.store, name)


def orphan_keyslots(session: Session) -> dict[str, list[str]]:
    """Keyslot files (keys/NAME.age, .grant.age, .pub) of no user: left by an interrupted `user add`."""
    root = session.vault.root
    return {
        name: [path.relative_to(root).as_posix() for path in paths]
        for name, paths in session.vault.keyslots.files_by_user().items()
        if not session.store.users.exists(name)
    }


SELF_GRANT_REQUEST = "asked for a clinical role for themselves: another admin must grant it"
SELF_GRANT_SOLE = "gave themselves a clinical role (sole admin, no second admin to approve): review it"
