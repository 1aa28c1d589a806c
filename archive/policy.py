"""Who may do what: the one choke point for every read and write.

`decide(user, action)` is pure (no I/O): the role table below. `decide_record`
adds the per-record rules (break-glass grants, disclosures, the physician
scope setting) and reads only the grant, disclosure and patient tables.
`Session.require` / `Session.require_record` call them, audit the outcome and
raise AccessDenied. Nothing outside `archive/` decides access.

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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.session import Session
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


@dataclass(frozen=True)
class Grant:
    """An active break-glass grant: `user` may view `record` until `expires_at`."""

    id: int
    user: str
    record: str
    patient: str | None
    reason: str
    granted_at: str
    expires_at: str
    audit_seq: int

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def active_grant(db: Any, user: str, record: str, now: dt.datetime | None = None) -> Grant | None:
    """The latest unexpired break-glass grant of `record` to `user`, if any."""
    stamp = (now or _utcnow()).isoformat(timespec="microseconds")
    row = db.execute(
        "SELECT id, user, record, patient, reason, granted_at, expires_at, audit_seq FROM access_grants "
        "WHERE user = ? AND record = ? AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
        [user, record, stamp],
    ).fetchone()
    return Grant(*row) if row else None


def disclosed_to(db: Any, user: str, record: str) -> bool:
    row = db.execute("SELECT 1 FROM disclosures WHERE recipient = ? AND record = ? LIMIT 1", [user, record]).fetchone()
    return row is not None


def attending_physician(db: Any, patient: str | None) -> str | None:
    """The patient's attending physician, read defensively (the patients table belongs to charts)."""
    if not patient:
        return None
    cols = _columns(db, "patients")
    col = next((c for c in ("attending", "attending_physician", "physician") if c in cols), None)
    key = next((c for c in ("mrn", "id") if c in cols), None)
    if col is None or key is None:
        return None
    row = db.execute(f"SELECT {col} FROM patients WHERE {key} = ?", [patient]).fetchone()
    return str(row[0]) if row and row[0] else None


def _columns(db: Any, table: str) -> set[str]:
    return {str(r[1]) for r in db.execute(f"PRAGMA table_info({table})")}


def decide_record(
    db: Any,
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
        clinical_by_technician = "technician" in user.roles and action in ALLOWED["technician"]
        if physician_scope != "assigned" or action not in SCOPED or clinical_by_technician:
            return base
        if attending_physician(db, patient) == user.name:
            return Decision(True, via="attending")
        if disclosed_to(db, user.name, record):
            return Decision(True, via="disclosure")
        grant = active_grant(db, user.name, record, now) if action in BREAK_GLASS_OPENS else None
        if grant is not None:
            return Decision(True, reason=grant.reason, via="break_glass", grant=grant.audit_seq)
        return Decision(
            False,
            f"Record {record} belongs to a patient who is not yours, and it was not disclosed to you.",
        )
    if action in BREAK_GLASS_OPENS:
        grant = active_grant(db, user.name, record, now)
        if grant is not None:
            return Decision(True, reason=grant.reason, via="break_glass", grant=grant.audit_seq)
    return base



def decide_patient(
    db: Any,
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
    clinical_by_technician = "technician" in user.roles and action in ALLOWED["technician"]
    if physician_scope != "assigned" or action not in SCOPED or clinical_by_technician:
        return base
    if attending_physician(db, patient) == user.name:
        return Decision(True, via="attending")
    return Decision(False, f"Patient {patient} is not yours; under the 'assigned' scope you see your patients' charts.")

def lookup_record(db: Any, record: str) -> tuple[bool, str | None]:
    """(exists, patient MRN) of a record, read defensively from the `records` table."""
    cols = _columns(db, "records")
    if not cols:
        return False, None
    key = next((c for c in ("id", "record_id") if c in cols), None)
    pcol = next((c for c in ("patient", "mrn", "patient_mrn") if c in cols), None)
    if key is None:
        return False, None
    row = db.execute(f"SELECT {pcol or 'NULL'} FROM records WHERE {key} = ?", [record]).fetchone()
    if row is None:
        return False, None
    return True, (str(row[0]) if row[0] is not None else None)


MIN_REASON = 8


def break_glass(
    session: Session, record: str, patient: str | None, reason: str, minutes: int | None = None
) -> Grant | None:
    """Emergency access: grant the session's user `record` for a limited time.

    Returns None when the user may already view the record (no grant needed).
    The grant is an audit entry flagged for an admin's review (`audit review`).
    """
    from archive.errors import BadInput, NotFound
    from archive.settings import get_setting

    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise BadInput(
            "Break-glass needs a reason of a few words.",
            'Say why, e.g. --break-glass "patient in ED, unconscious, allergies unknown".',
        )
    session.require(Action.BREAK_GLASS, record=record, patient=patient)
    exists, found_patient = lookup_record(session.db, record)
    if not exists:
        raise NotFound(f"No record '{record}'.", "Check the id with 'chartvault search'.")
    patient = patient or found_patient
    scope = str(get_setting(session.db, "policy.physician_scope"))
    if decide_record(session.db, session.user, Action.VIEW_RECORD, record=record, patient=patient,
                     physician_scope=scope).allowed:
        return None
    minutes = int(minutes if minutes is not None else get_setting(session.db, "break_glass.minutes"))
    granted = _utcnow()
    expires = granted + dt.timedelta(minutes=minutes)
    with session.transaction():
        seq = session.audit(
            Action.BREAK_GLASS.value,
            patient=patient,
            record=record,
            reason=reason,
            flagged=True,
            details={"minutes": minutes, "expires_at": expires.isoformat(timespec="seconds")},
        )
        cur = session.db.execute(
            "INSERT INTO access_grants (user, record, patient, reason, granted_at, expires_at, audit_seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [session.user.name, record, patient, reason, granted.isoformat(timespec="microseconds"),
             expires.isoformat(timespec="microseconds"), seq],
        )
        grant_id = int(cur.lastrowid or 0)
    return Grant(grant_id, session.user.name, record, patient, reason,
                 granted.isoformat(timespec="microseconds"), expires.isoformat(timespec="microseconds"), seq)
