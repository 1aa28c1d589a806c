"""Who may do what: the one choke point for every read and write.

`decide(user, action)` is pure (no I/O); `Session.require` calls it, audits
denials and raises AccessDenied. Nothing outside `archive/` decides access.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archive.users import User


class Action(StrEnum):
    MANAGE_USERS = "manage_users"
    EXPORT_IDENTITY = "export_identity"
    VIEW_STATUS = "view_status"
    VERIFY_VAULT = "verify_vault"
    VIEW_AUDIT = "view_audit"
    IMPORT = "import"
    FILE_RECORD = "file_record"
    TRANSCRIBE = "transcribe"
    VIEW_RECORD = "view_record"
    SEARCH = "search"
    EXPORT = "export"
    DISCLOSE = "disclose"
    EDIT_CHART = "edit_chart"
    CODE = "code"
    STATS = "stats"
    ASK_ABOUT_PATIENT = "ask_about_patient"
    ASK_GENERAL = "ask_general"
    MANAGE_QUARANTINE = "manage_quarantine"


CLINICAL_CONTENT = {
    Action.VIEW_RECORD,
    Action.SEARCH,
    Action.EXPORT,
    Action.ASK_ABOUT_PATIENT,
}

ALLOWED: dict[str, set[Action]] = {
    "admin": {
        Action.MANAGE_USERS,
        Action.EXPORT_IDENTITY,
        Action.VIEW_STATUS,
        Action.VERIFY_VAULT,
        Action.VIEW_AUDIT,
        Action.IMPORT,  # encrypting arrivals shows no content to the admin
    },
    "technician": {
        Action.VIEW_STATUS,
        Action.VERIFY_VAULT,
        Action.IMPORT,
        Action.FILE_RECORD,
        Action.TRANSCRIBE,
        Action.VIEW_RECORD,
        Action.SEARCH,
        Action.EXPORT,
        Action.DISCLOSE,
        Action.EDIT_CHART,
        Action.CODE,
        Action.STATS,
        Action.ASK_GENERAL,
        Action.MANAGE_QUARANTINE,
    },
    "physician": {
        Action.VIEW_STATUS,
        Action.VIEW_RECORD,
        Action.SEARCH,
        Action.EXPORT,
        Action.CODE,
        Action.STATS,
        Action.ASK_ABOUT_PATIENT,
        Action.ASK_GENERAL,
    },
}

REASONS: dict[Action, str] = {
    Action.MANAGE_USERS: "Only an admin manages users.",
    Action.EXPORT_IDENTITY: "Only an admin may export the vault identity.",
    Action.VIEW_AUDIT: "Only an admin reads the audit log.",
    Action.ASK_ABOUT_PATIENT: (
        "The assistant discusses patient files only with registered, active physicians."
    ),
    Action.DISCLOSE: "Only a technician releases a patient's file, and only to a registered physician.",
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


def decide(user: User, action: Action) -> Decision:
    """Whether `user` may perform `action` (role and registration only)."""
    if not user.active:
        return Decision(False, f"User '{user.name}' is disabled.")
    if user.role == "physician" and not user.registered and action in ALLOWED["physician"]:
        return Decision(False, f"'{user.name}' is not a registered physician (no licence number on file).")
    if action in ALLOWED.get(user.role, set()):
        return Decision(True)
    reason = REASONS.get(action) or f"A {user.role} may not {action.value.replace('_', ' ')}."
    return Decision(False, reason)
