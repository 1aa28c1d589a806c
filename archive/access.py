"""Per-record access beyond the role table: break-glass grants, disclosures, the accounting.

- Break-glass: a user without the right opens one record by typing a reason;
  the grant is a flagged audit entry (reviewed by an admin) and an
  `access_grants` row that `policy.decide_record` honours until it expires.
- Disclosures: a technician releases a record to a registered physician; a
  row in `disclosures` and an audit entry written in the same transaction,
  which make the record available to the recipient (see `policy.decide_record`).
- The accounting of disclosures a patient may request (45 CFR 164.528), built
  from the audit log, which is the source of truth: who saw or received which
  record of the patient, when, why.

The decisions themselves are `archive.policy` (pure); this module writes the
grants and disclosures they read, through `session.store.access`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from archive.audit import now_iso
from archive.audit_review import ACK, audit_integrity, parse_since
from archive.errors import AccessDenied, BadInput, NotFound
from archive.policy import Action
from archive.settings import get_setting
from archive.signed_rows import access_rows_holding, sign_access_row
from archive.store.access import Grant
from archive.users import get_user

if TYPE_CHECKING:
    from archive.session import Session
    from archive.store import Store


class IndexFacts:
    """The facts `policy.decide_record` needs, read from the index (`policy.RecordFacts`)."""

    def __init__(self, store: Store, root: dict[str, Any] | None = None) -> None:
        self.store = store
        self.root = root  # the vault's signing root: only grants and disclosures whose signature holds count

    def attending(self, patient: str) -> str | None:
        return self.store.patients.attending(patient)

    def disclosed_to(self, user: str, record: str) -> bool:
        rows = self.store.access.disclosures_of(user, record)
        return bool(access_rows_holding(self.store, self.root, "disclosure", rows))

    def active_grant(self, user: str, record: str, now: dt.datetime) -> Grant | None:
        rows = access_rows_holding(self.store, self.root, "grant", self.store.access.open_grants(user, record, now))
        if not rows:
            return None
        row = rows[0]
        return Grant(row["id"], row["user"], row["record"], row["patient"], row["reason"], row["granted_at"],
                     row["expires_at"], row["audit_seq"])


# -- break-glass -----------------------------------------------------------------

MIN_REASON = 8


def break_glass(
    session: Session, record: str, patient: str | None, reason: str, minutes: int | None = None
) -> Grant | None:
    """Emergency access: grant the session's user `record` for a limited time.

    Returns None when the user may already view the record (no grant needed).
    The grant is an audit entry flagged for an admin's review (`audit review`).
    """
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise BadInput(
            "Break-glass needs a reason of a few words.",
            'Say why, e.g. --break-glass "patient in ED, unconscious, allergies unknown".',
        )
    session.require(Action.BREAK_GLASS, record=record, patient=patient)
    exists, found_patient = session.store.records.patient_of(record)
    if not exists:
        raise NotFound(f"No record '{record}'.", "Check the id with 'chartvault search'.")
    patient = patient or found_patient
    if session.may_see_record(record, patient):
        return None
    minutes = int(minutes if minutes is not None else get_setting(session.store, "break_glass.minutes"))
    granted = dt.datetime.now(dt.UTC)
    expires = granted + dt.timedelta(minutes=minutes)
    granted_at = granted.isoformat(timespec="microseconds")
    expires_at = expires.isoformat(timespec="microseconds")
    with session.transaction():
        seq = session.audit(
            Action.BREAK_GLASS.value,
            patient=patient,
            record=record,
            reason=reason,
            flagged=True,
            details={"minutes": minutes, "expires_at": expires.isoformat(timespec="seconds")},
        )
        row = {"user": session.user.name, "record": record, "patient": patient, "reason": reason,
               "granted_at": granted_at, "expires_at": expires_at, "audit_seq": seq}
        signer, sig = sign_access_row(session, "grant", row)
        grant_id = session.store.access.add_grant(
            session.user.name, record, patient, reason, granted_at, expires_at, seq, signer, sig
        )
    return Grant(grant_id, session.user.name, record, patient, reason, granted_at, expires_at, seq)


# -- disclosures -------------------------------------------------------------------

MIN_PURPOSE = 3


@dataclass(frozen=True)
class Disclosure:
    id: int
    ts: str
    record: str
    patient: str | None
    discloser: str
    recipient: str
    purpose: str
    audit_seq: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def disclose(session: Session, record_id: str, to: str, purpose: str) -> Disclosure:
    """Release `record_id` to the registered physician `to` for `purpose` (technicians)."""
    purpose = " ".join((purpose or "").split())
    if len(purpose) < MIN_PURPOSE:
        raise BadInput("A disclosure needs a purpose.", 'Say why, e.g. --purpose "continuing care after discharge".')
    exists, patient = session.store.records.patient_of(record_id)
    if not exists:
        raise NotFound(f"No record '{record_id}'.", "Check the id with 'chartvault search'.")
    session.require_record(Action.DISCLOSE, record=record_id, patient=patient, audit=False)
    try:
        recipient = get_user(session.store, to)
    except NotFound:
        hint = "The recipient must be a registered physician user."
        raise NotFound(f"No user '{to}' to disclose to.", hint) from None
    if not recipient.registered:
        why = "is disabled" if not recipient.active else (
            "has no licence number on file" if "physician" in recipient.roles else f"is a {recipient.role}"
        )
        reason = f"'{to}' is not a registered physician ({why}); records are released only to registered physicians."
        session.audit(
            Action.DISCLOSE.value, outcome="denied", patient=patient, record=record_id, reason=reason,
            details={"recipient": to},
        )
        raise AccessDenied(reason, "Choose a registered physician; 'chartvault user list' shows who is registered.")
    ts = now_iso()
    with session.transaction():
        seq = session.audit(
            Action.DISCLOSE.value,
            patient=patient,
            record=record_id,
            reason=purpose,
            details={"recipient": to, "recipient_licence": recipient.licence},
        )
        row = {"ts": ts, "record": record_id, "patient": patient, "discloser": session.user.name,
               "recipient": to, "purpose": purpose, "audit_seq": seq}
        signer, sig = sign_access_row(session, "disclosure", row)
        row_id = session.store.access.add_disclosure(
            ts, record_id, patient, session.user.name, to, purpose, seq, signer, sig
        )
    return Disclosure(row_id, ts, record_id, patient, session.user.name, to, purpose, seq)


# -- accounting ----------------------------------------------------------------

# Bookkeeping about the log itself is not an access to the patient's records.
NOT_ACCOUNTED = frozenset({ACK, "audit_read", "accounting", "audit_verify"})


@dataclass(frozen=True)
class AccountingLine:
    seq: int
    ts: str
    user: str | None
    full_name: str
    role: str | None
    action: str
    record: str | None
    why: str | None  # the purpose of a disclosure, the reason of a break-glass
    recipient: str | None  # for disclosures

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Accounting:
    patient: str
    lines: list[AccountingLine]
    chain_ok: bool
    chain_problem: str

    def to_json(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "chain_ok": self.chain_ok,
            "chain_problem": self.chain_problem,
            "entries": [line.to_json() for line in self.lines],
        }


def accounting_of_disclosures(session: Session, mrn: str, since: str | None = None) -> Accounting:
    """Everything the log says about who saw or received this patient's records.

    Admins and technicians (who answer a patient's request) may read it. It
    names users, records and reasons, never record content. The reading is audited.
    """
    session.require(Action.VIEW_ACCOUNTING, patient=mrn)
    mrn = mrn.strip()
    names = session.store.users.full_names()
    lines = []
    for entry in session.audit_log.entries(patient=mrn, since=parse_since(since)):
        if entry.outcome != "ok" or entry.action in NOT_ACCOUNTED:
            continue
        lines.append(
            AccountingLine(
                seq=entry.seq,
                ts=entry.ts,
                user=entry.user,
                full_name=names.get(entry.user or "", ""),
                role=entry.role,
                action=entry.action,
                record=entry.record,
                why=entry.reason,
                recipient=entry.details.get("recipient"),
            )
        )
    chain = audit_integrity(session)
    session.audit("accounting", patient=mrn, details={"entries": len(lines)})
    return Accounting(mrn, lines, chain.ok, chain.problem)
