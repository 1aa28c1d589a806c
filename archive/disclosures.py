"""Disclosures (a technician releases a record to a registered physician) and the
accounting of disclosures a patient may request (45 CFR 164.528).

A disclosure is a row in `disclosures` and an audit entry written in the same
transaction; it makes the record available to the recipient (see
`policy.decide_record`). The accounting is built from the audit log, which is
the source of truth: who saw or received which record of the patient, when, why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from archive.audit import now_iso
from archive.audit_review import ACK, parse_since
from archive.errors import AccessDenied, BadInput, NotFound
from archive.policy import Action, lookup_record
from archive.users import get_user

if TYPE_CHECKING:
    from archive.session import Session

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
    exists, patient = lookup_record(session.db, record_id)
    if not exists:
        raise NotFound(f"No record '{record_id}'.", "Check the id with 'chartvault search'.")
    session.require_record(Action.DISCLOSE, record=record_id, patient=patient, audit=False)
    try:
        recipient = get_user(session.db, to)
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
        cur = session.db.execute(
            "INSERT INTO disclosures (ts, record, patient, discloser, recipient, purpose, audit_seq) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [ts, record_id, patient, session.user.name, to, purpose, seq],
        )
        row_id = int(cur.lastrowid or 0)
    return Disclosure(row_id, ts, record_id, patient, session.user.name, to, purpose, seq)


def disclosures_of(session: Session, *, patient: str | None = None, recipient: str | None = None) -> list[Disclosure]:
    """Disclosure rows (for the accounting and the TUI)."""
    session.require(Action.VIEW_ACCOUNTING, patient=patient)
    where, params = [], []
    for col, val in (("patient", patient), ("recipient", recipient)):
        if val is not None:
            where.append(f"{col} = ?")
            params.append(val)
    sql = "SELECT id, ts, record, patient, discloser, recipient, purpose, audit_seq FROM disclosures"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [Disclosure(*row) for row in session.db.execute(sql + " ORDER BY id", params)]


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
    names = {str(r[0]): str(r[1] or "") for r in session.db.execute("SELECT name, full_name FROM users")}
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
    from archive.audit_review import audit_integrity

    chain = audit_integrity(session)
    session.audit("accounting", patient=mrn, details={"entries": len(lines)})
    return Accounting(mrn, lines, chain.ok, chain.problem)
