"""Alarms over the audit log: unusual access that an admin should look at.

Rules (thresholds are settings, see `archive.settings`):
- many_patients: one user opens records of many patients within a short time;
- failed_logins: repeated failed logins for one user name;
- denials: one user refused many times within a short time;
- break_glass: every break-glass grant;
- key_export: every export of the vault identity;
- audit_integrity: the chain does not verify now, or a verification/unlock found tampering.
Each alert names the audit entries behind it. Admin only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from archive.audit import AuditEntry
from archive.audit_review import TAMPER, acknowledged_seqs, parse_since
from archive.policy import Action
from archive.settings import get_setting

if TYPE_CHECKING:
    from archive.session import Session

# Actions that open a patient's record (what require_record audits, plus disclosures).
PATIENT_ACCESS = frozenset(
    {Action.VIEW_RECORD.value, Action.EXPORT.value, Action.ASK_ABOUT_PATIENT.value, Action.DISCLOSE.value,
     Action.BREAK_GLASS.value}
)


@dataclass
class Alert:
    kind: str
    severity: str  # "high" | "medium"
    user: str | None
    summary: str
    first_ts: str
    last_ts: str
    seqs: list[int] = field(default_factory=list)
    acknowledged: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _ts(entry: AuditEntry) -> dt.datetime:
    return dt.datetime.fromisoformat(entry.ts)


def _failed_at(entry: AuditEntry) -> dt.datetime:
    # failed logins are imported at the next unlock; `at` is when they happened
    at = entry.details.get("at")
    return dt.datetime.fromisoformat(at) if isinstance(at, str) else _ts(entry)


def _windows(
    entries: list[AuditEntry], minutes: int, hit: Callable[[list[AuditEntry]], bool],
    when: Callable[[AuditEntry], dt.datetime] = _ts,
) -> list[list[AuditEntry]]:
    """Runs of entries (sorted by `when`) in which some window of `minutes` satisfies `hit`.

    Overlapping windows that fire are merged, so one burst is one alert.
    """
    span = dt.timedelta(minutes=minutes)
    runs: list[tuple[int, int]] = []
    left = 0
    for right in range(len(entries)):
        while when(entries[right]) - when(entries[left]) > span:
            left += 1
        if hit(entries[left : right + 1]):
            if runs and left <= runs[-1][1]:
                runs[-1] = (runs[-1][0], right)
            else:
                runs.append((left, right))
    return [entries[a : b + 1] for a, b in runs]


def _by_user(entries: list[AuditEntry]) -> dict[str | None, list[AuditEntry]]:
    out: dict[str | None, list[AuditEntry]] = {}
    for e in entries:
        out.setdefault(e.user, []).append(e)
    return out


def audit_alerts(session: Session, since: str | None = None) -> list[Alert]:
    """Compute the alerts over the log (admin only), oldest first."""
    session.require(Action.VIEW_AUDIT)
    store = session.store
    entries = session.audit_log.entries(since=parse_since(since))
    acked = acknowledged_seqs(store)
    alerts: list[Alert] = []

    def add(kind: str, severity: str, user: str | None, summary: str, group: list[AuditEntry]) -> None:
        alerts.append(
            Alert(kind, severity, user, summary, group[0].ts, group[-1].ts, [e.seq for e in group],
                  acknowledged=all(e.seq in acked for e in group) if severity == "high" else False)
        )

    # one user, many patients
    count = int(get_setting(store, "alert.many_patients.count"))
    minutes = int(get_setting(store, "alert.many_patients.minutes"))
    opens = [e for e in entries if e.outcome == "ok" and e.patient and e.action in PATIENT_ACCESS]
    for user, items in _by_user(opens).items():
        for run in _windows(items, minutes, lambda w: len({e.patient for e in w}) >= count):
            patients = len({e.patient for e in run})
            add("many_patients", "medium", user,
                f"{user} opened records of {patients} patients within {minutes} min (threshold {count}).", run)

    # repeated failed logins
    count = int(get_setting(store, "alert.failed_logins.count"))
    minutes = int(get_setting(store, "alert.failed_logins.minutes"))
    failed = [e for e in entries if e.action == "login_failed"]
    for user, items in _by_user(failed).items():
        items.sort(key=_failed_at)
        for run in _windows(items, minutes, lambda w: len(w) >= count, when=_failed_at):
            who = user or "an unknown user"
            add("failed_logins", "medium", user,
                f"{len(run)} failed logins for {who} within {minutes} min (threshold {count}).", run)

    # bursts of denials
    count = int(get_setting(store, "alert.denials.count"))
    minutes = int(get_setting(store, "alert.denials.minutes"))
    denied = [e for e in entries if e.outcome == "denied" and e.action != "login_failed"]
    for user, items in _by_user(denied).items():
        for run in _windows(items, minutes, lambda w: len(w) >= count):
            add("denials", "medium", user,
                f"{user} was refused {len(run)} times within {minutes} min (threshold {count}).", run)

    for e in entries:
        if e.action == Action.BREAK_GLASS.value and e.outcome == "ok":
            add("break_glass", "high", e.user,
                f"{e.user} broke the glass on record {e.record} (patient {e.patient}): {e.reason}", [e])
        elif e.action == "login_backoff_reset":
            add("backoff_reset", "high", e.user, f"The failed-login count of {e.user} was erased: {e.reason}", [e])
        elif e.action == "key_export" and e.outcome == "ok":
            add("key_export", "high", e.user, f"{e.user} exported the vault identity.", [e])
        elif e.action == "user_clinical_role" and e.flagged and e.details.get("self_granted"):
            role = e.details.get("clinical_role")
            if e.outcome == "ok":
                add("self_clinical_role", "high", e.user, f"{e.user} gave themselves the {role} role.", [e])
            else:
                add("self_clinical_role", "medium", e.user,
                    f"{e.user} tried to give themselves the {role} role (refused: a second admin must).", [e])
        elif e.action in (TAMPER, "audit_verify", "verify") and e.outcome == "failed":
            add("audit_integrity", "high", e.user, f"Integrity check failed: {e.reason or e.details}", [e])

    chain = session.audit_log.verify()
    if not chain.ok:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        alerts.append(
            Alert("audit_integrity", "high", None, f"The audit chain does not verify now: {chain.problem}",
                  now, now, [chain.first_bad_seq] if chain.first_bad_seq else [])
        )
    alerts.sort(key=lambda a: a.first_ts)
    return alerts
