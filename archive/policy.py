"""Who may do what: the one choke point for every read and write.

Decisions only: nothing here reads a table or writes anything. `decide(user,
action)` is the role table below. `decide_record` / `decide_patient` add the
per-record rules (break-glass grants, disclosures, the physician scope setting)
over the facts the caller reads for them (`RecordFacts`). `Session.require`,
`require_record` and `require_patient` call them, audit the outcome and raise
AccessDenied; granting break-glass and disclosing are `archive.access`. Nothing
outside `archive/` decides access.

Roles (issue 5; 45 CFR 164.312):
- admin: users, keys, settings, audit. No patient content, unless an admin is
  also given a clinical role (`user set-clinical-role NAME technician|physician`),
  in which case they hold both roles' rights (a physician role needs a licence).
- technician: import, file, search, view, correct, code, statistics, export,
  disclose (to a registered physician only); never the assistant on a patient.
- physician: only while registered (licence on file, active): view, search,
  export, code, statistics, the assistant on a patient's files.
- everyone signed in: break-glass, i.e. open one record they may not see by
  typing a reason; flagged, time-limited, reviewed by an admin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from archive.store.access import Grant
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
    VIEW_ACCOUNTING = "view_accounting"
    MANAGE_SETTINGS = "manage_settings"
    BREAK_GLASS = "break_glass"
    BACKUP = "backup"  # back up / restore / rotate: ciphertext only, no patient content shown
    RETENTION = "retention"  # report and purge records past their retention date; legal holds


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
        Action.VIEW_ACCOUNTING,
        Action.MANAGE_SETTINGS,
        Action.BREAK_GLASS,
        Action.BACKUP,
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
        # Technicians answer a patient's request for an accounting of disclosures.
        Action.VIEW_ACCOUNTING,
        Action.BREAK_GLASS,
        Action.BACKUP,
        Action.RETENTION,
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
        Action.BREAK_GLASS,
    },
}

REASONS: dict[Action, str] = {
    Action.MANAGE_USERS: "Only an admin manages users.",
    Action.EXPORT_IDENTITY: "Only an admin may export the vault identity.",
    Action.VIEW_AUDIT: "Only an admin reads the audit log.",
    Action.VIEW_ACCOUNTING: "Only an admin or a technician prepares a patient's accounting of disclosures.",
    Action.MANAGE_SETTINGS: "Only an admin changes settings.",
    Action.BACKUP: "Only an admin or a technician backs up or restores the vault.",
    Action.RETENTION: "Only a technician applies retention schedules and legal holds.",
    Action.ASK_ABOUT_PATIENT: (
        "The assistant discusses patient files only with registered, active physicians."
    ),
    Action.DISCLOSE: "Only a technician releases a patient's file, and only to a registered physician.",
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    # How access was granted: "role", "attending", "disclosure" or "break_glass".
    via: str = "role"
    grant: int | None = None  # audit seq of the break-glass entry that opened the record


def decide(user: User, action: Action) -> Decision:
    """Whether `user` may perform `action` (role and registration only)."""
    if not user.active:
        return Decision(False, f"User '{user.name}' is disabled.")
    roles = user.roles
    # A physician role counts only while registered (licence on file, active).
    effective = [r for r in roles if r != "physician" or user.registered]
    if any(action in ALLOWED.get(r, set()) for r in effective):
        return Decision(True)
    if "physician" in roles and "physician" not in effective and action in ALLOWED["physician"]:
        return Decision(False, f"'{user.name}' is not a registered physician (no licence number on file).")
    article = "An" if user.role[0] in "aeiou" else "A"
    reason = REASONS.get(action) or f"{article} {user.role} may not {action.value.replace('_', ' ')}."
    return Decision(False, reason)


# -- per-record rules --------------------------------------------------------

# What a break-glass grant opens: reading that one record, nothing more (not the
# assistant, not an export, not a disclosure).
BREAK_GLASS_OPENS = frozenset({Action.VIEW_RECORD})
# What the "assigned" physician scope restricts, and what a disclosure opens.
SCOPED = frozenset({Action.VIEW_RECORD, Action.SEARCH, Action.EXPORT, Action.ASK_ABOUT_PATIENT})


class RecordFacts(Protocol):
    """What the per-record rules need to know, read from the index by the caller (the Session)."""

    def attending(self, patient: str) -> str | None:
        """The user name of the patient's attending physician."""

    def disclosed_to(self, user: str, record: str) -> bool:
        """Whether `record` was disclosed to `user`."""

    def active_grant(self, user: str, record: str, now: dt.datetime) -> Grant | None:
        """The break-glass grant of `record` to `user` still open at `now`."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def patient_scoped(user: User, action: Action, physician_scope: str = "all") -> bool:
    """Whether `user`'s right to `action` reaches only some records (`decide_record`): a physician under the
    "assigned" scope sees their patients' records, those disclosed to them and those break-glass granted."""
    clinical_by_technician = "technician" in user.roles and action in ALLOWED["technician"]
    return physician_scope == "assigned" and action in SCOPED and not clinical_by_technician


def _attends(facts: RecordFacts, user: User, patient: str | None) -> bool:
    return bool(patient) and facts.attending(patient or "") == user.name


def decide_record(
    facts: RecordFacts,
    user: User,
    action: Action,
    *,
    record: str,
    patient: str | None,
    physician_scope: str = "all",
    now: dt.datetime | None = None,
) -> Decision:
    """Whether `user` may perform `action` on one record of one patient.

    Role first (`decide`); then, for a physician under the "assigned" scope,
    the record must be their patient's, disclosed to them, or break-glass
    granted; and a role denial of viewing is lifted by an active break-glass
    grant of that record to that user. A disabled user gets nothing.
    """
    base = decide(user, action)
    if not user.active:
        return base
    if base.allowed:
        if not patient_scoped(user, action, physician_scope):
            return base
        if _attends(facts, user, patient):
            return Decision(True, via="attending")
        if facts.disclosed_to(user.name, record):
            return Decision(True, via="disclosure")
        grant = facts.active_grant(user.name, record, now or _utcnow()) if action in BREAK_GLASS_OPENS else None
        if grant is not None:
            return Decision(True, reason=grant.reason, via="break_glass", grant=grant.audit_seq)
        return Decision(
            False,
            f"Record {record} belongs to a patient who is not yours, and it was not disclosed to you.",
        )
    if action in BREAK_GLASS_OPENS:
        grant = facts.active_grant(user.name, record, now or _utcnow())
        if grant is not None:
            return Decision(True, reason=grant.reason, via="break_glass", grant=grant.audit_seq)
    return base


def decide_patient(
    facts: RecordFacts,
    user: User,
    action: Action,
    *,
    patient: str,
    physician_scope: str = "all",
) -> Decision:
    """Whether `user` may perform `action` on a patient's chart (not one record).

    Role first; under the "assigned" physician scope a physician sees only
    the charts of patients they attend. Disclosures and break-glass grants
    open single records, never a whole chart.
    """
    base = decide(user, action)
    if not base.allowed or not user.active:
        return base
    if not patient_scoped(user, action, physician_scope):
        return base
    if _attends(facts, user, patient):
        return Decision(True, via="attending")
    return Decision(False, f"Patient {patient} is not yours; under the 'assigned' scope you see your patients' charts.")
