"""Reading the audit log: verify, filter, review flagged entries, who saw a record.

Reading the log is an admin's job (Action.VIEW_AUDIT); verifying it is open to
anyone who may verify the vault, since it shows no entries. The log is never
edited: an acknowledgement is a new entry (`review_ack`) that names the one it
acknowledges.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from archive.audit import AuditEntry
from archive.errors import AccessDenied, BadInput, NotFound, UserError
from archive.policy import Action, decide
from vault.client_state import remembered_head

if TYPE_CHECKING:
    from archive.session import Session
    from archive.store import Store

ACK = "review_ack"
TAMPER = "audit_tamper"


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return asdict(entry)


def parse_since(text: str | None) -> str | None:
    """'2026-01-31', an ISO date-time, or a span back from now ('30m', '12h', '7d') -> ISO UTC."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    span = re.fullmatch(r"(\d+)\s*([mhd])", text)
    if span:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[span.group(2)]
        start = dt.datetime.now(dt.UTC) - dt.timedelta(**{unit: int(span.group(1))})
        return start.isoformat(timespec="microseconds")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"'{text}' is not a date.", "Use YYYY-MM-DD, an ISO date-time, or a span such as 30m, 12h or 7d."
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


# -- verify --------------------------------------------------------------------


@dataclass
class AuditVerifyReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""
    # tampering detected earlier (at an unlock) and not yet acknowledged by an admin
    recorded: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def acknowledged_seqs(store: Store) -> dict[int, int]:
    """{acknowledged entry seq: seq of the acknowledgement}."""
    out: dict[int, int] = {}
    for seq, details in store.audit.details_of(ACK):
        try:
            target = int(json.loads(details or "{}").get("ack"))
        except (TypeError, ValueError):
            continue
        out.setdefault(target, seq)
    return out


def verify_audit(session: Session, anchor: str | None = None) -> AuditVerifyReport:
    """`audit_integrity`, for those who may verify the vault; the verification
    itself is an audit entry, flagged when it fails. With `anchor` (a file from
    `make_anchor`, or its code) the log must also still contain the anchored entry."""
    session.require(Action.VERIFY_VAULT)
    report = audit_integrity(session)
    if anchor is not None and report.ok:
        from archive.anchors import check_anchor

        found = check_anchor(session, anchor)
        if found:
            report.ok, report.first_bad_seq, report.problem = False, found[0], f"{found[1]} [anchor {anchor}]"
    session.audit(
        "audit_verify",
        outcome="ok" if report.ok else "failed",
        flagged=not report.ok,
        reason=None if report.ok else report.problem,
        details={"entries": report.entries, "first_bad_seq": report.first_bad_seq},
    )
    return report


def audit_integrity(session: Session) -> AuditVerifyReport:
    """Walk the chain and compare with the saved head; also report unacknowledged
    tampering that an earlier unlock detected (a truncated tail is hidden from the
    chain walk once new entries are appended, so it is kept as an entry).
    No policy check and no entry: callers do both."""
    chain = session.audit_log.verify()
    report = AuditVerifyReport(chain.ok, chain.entries, chain.first_bad_seq, chain.problem)
    acked = acknowledged_seqs(session.store)
    for entry in session.audit_log.entries(action=TAMPER):
        if entry.seq in acked:
            continue
        report.recorded.append(
            {"seq": entry.seq, "ts": entry.ts, "problem": entry.reason,
             "first_bad_seq": entry.details.get("first_bad_seq")}
        )
    behind = session.audit_log.behind_client()
    if report.ok and behind:
        report.ok = False
        report.problem = behind
        seen = remembered_head(session.vault.root)
        report.first_bad_seq = seen[0] if seen else None
    if report.ok and report.recorded:
        first = report.recorded[0]
        report.ok = False
        report.first_bad_seq = first["first_bad_seq"]
        report.problem = f"{first['problem']} (detected at an unlock, recorded as entry {first['seq']})"
    return report


# -- log -----------------------------------------------------------------------


def read_audit_log(
    session: Session,
    *,
    patient: str | None = None,
    user: str | None = None,
    since: str | None = None,
    action: str | None = None,
    flagged: bool | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Entries matching the filters, oldest first (admin only; the reading is audited)."""
    session.require(Action.VIEW_AUDIT, patient=patient)
    since_iso = parse_since(since)
    entries = session.audit_log.entries(
        user=user, patient=patient, since=since_iso, action=action, flagged=flagged
    )
    if limit:
        entries = entries[-int(limit):]
    filters = {k: v for k, v in (("patient", patient), ("user", user), ("since", since), ("action", action)) if v}
    session.audit("audit_read", patient=patient, details={"filters": filters, "entries": len(entries)})
    return entries


# -- review of flagged entries ---------------------------------------------------


@dataclass(frozen=True)
class FlaggedEntry:
    entry: AuditEntry
    acknowledged_by: int | None  # seq of the acknowledgement, if any
    uses: int  # for a break-glass grant: accesses made under it

    def to_json(self) -> dict[str, Any]:
        data = entry_json(self.entry)
        data["acknowledged_by"] = self.acknowledged_by
        data["uses"] = self.uses
        return data


def flagged_entries(session: Session, *, include_acknowledged: bool = False) -> list[FlaggedEntry]:
    """Flagged entries (break-glass, key exports, integrity failures) for an admin's review."""
    session.require(Action.VIEW_AUDIT)
    acked = acknowledged_seqs(session.store)
    uses: dict[int, int] = {}
    for details in session.store.audit.break_glass_details():
        parsed = json.loads(details or "{}")
        grant = parsed.get("grant")
        if parsed.get("via") == "break_glass" and isinstance(grant, int):
            uses[grant] = uses.get(grant, 0) + 1
    out = []
    for entry in session.audit_log.entries(flagged=True):
        ack = acked.get(entry.seq)
        if ack is not None and not include_acknowledged:
            continue
        out.append(FlaggedEntry(entry, ack, uses.get(entry.seq, 0)))
    return out


def acknowledge(session: Session, seq: int, note: str = "") -> int:
    """Acknowledge flagged entry `seq` (admin only): appends a `review_ack` entry; returns its seq."""
    session.require(Action.VIEW_AUDIT)
    found = session.audit_log.entries(seq=seq)
    if not found:
        raise NotFound(f"No audit entry {seq}.", "Run 'chartvault audit review' to see flagged entries.")
    target = found[0]
    if not target.flagged:
        raise BadInput(f"Audit entry {seq} is not flagged; only flagged entries are reviewed.",
                       "Run 'chartvault audit review' to see flagged entries.")
    acked = acknowledged_seqs(session.store)
    if seq in acked:
        raise UserError(f"Audit entry {seq} was already acknowledged (entry {acked[seq]}).",
                        "Nothing to do; 'chartvault audit review --all' shows acknowledged entries.")
    note = " ".join(note.split())
    return session.audit(
        ACK,
        patient=target.patient,
        record=target.record,
        reason=note or None,
        details={"ack": seq, "ack_action": target.action, "ack_user": target.user},
    )


# -- who has seen this record ---------------------------------------------------


@dataclass(frozen=True)
class AccessEvent:
    seq: int
    ts: str
    user: str | None
    role: str | None
    action: str
    outcome: str
    reason: str | None
    via: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# Entries about a record that are bookkeeping, not access to it.
NOT_ACCESS = frozenset({ACK, "audit_read"})


def record_access_history(session: Session, record_id: str) -> list[AccessEvent]:
    """Who has seen (or tried to see) this record, oldest first.

    Shown beside the record to those who may view it, and to admins (who read
    the whole log anyway). Reading the history is not itself an access to the
    record's content, so it writes no entry.
    """
    exists, patient = session.store.records.patient_of(record_id)
    if not exists:
        raise NotFound(f"No record '{record_id}'.", "Check the id with 'chartvault search'.")
    session.refresh_user()
    if not (decide(session.user, Action.VIEW_AUDIT).allowed or session.may_see_record(record_id, patient)):
        session.require_record(Action.VIEW_RECORD, record=record_id, patient=patient, audit=False)
        raise AccessDenied("You may not see this record's access history.", "Ask an admin.")  # pragma: no cover
    out = []
    for entry in session.audit_log.entries(record=record_id):
        if entry.action in NOT_ACCESS:
            continue
        out.append(
            AccessEvent(entry.seq, entry.ts, entry.user, entry.role, entry.action, entry.outcome, entry.reason,
                        entry.details.get("via"))
        )
    return out
