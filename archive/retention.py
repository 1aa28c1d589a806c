"""Retention schedules, legal holds, and purging records past their retention date.

Rules (documented in README "Retention"):
- Each record belongs to a patient; the patient's *last activity* is the
  latest of their discharge dates and record dates (record date, else the
  day it was imported).
- Adults: kept `adult_years` after the last activity.
- Minors (younger than `majority_age` at the last activity): kept until
  `minor_years` after they reach the age of majority, or `adult_years` after
  the last activity, whichever is later. Unknown birth date: treated as adult.
- The rule that applies is the most specific facility rule whose pattern
  (shell-style, e.g. `hl7:*`, `scan`) matches the record's document type,
  else the default rule `*` (10 years; minors 10 years past majority at 18;
  facilities change them with `chartvault retention rule`).
- Records not filed to a patient are never purged (no rule can be applied).
- A legal hold on a patient blocks purging any of their records.

A purge deletes the record's blobs (original, text, transcriptions), its
index rows (its FTS row and its rows in every table of
`archive.store.schema.CONTENT_TABLES`: chunks, codes, transcriptions...) with
SQLite's secure_delete on and the FTS index rebuilt, and leaves one audit entry
per record that names the record, the patient and the rule, never the content.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from archive.audit import now_iso
from archive.errors import BadInput, NotFound, UserError
from archive.policy import Action

if TYPE_CHECKING:
    from archive.session import Session

DEFAULT_ADULT_YEARS = 10
DEFAULT_MINOR_YEARS = 10
MAJORITY_AGE = 18
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RetentionRule:
    pattern: str
    adult_years: int
    minor_years: int
    note: str = ""

    def describe(self) -> str:
        return (
            f"rule '{self.pattern}': adults {self.adult_years} y after last activity; "
            f"minors {self.minor_years} y after age {MAJORITY_AGE}"
        )


DEFAULT_RULE = RetentionRule("*", DEFAULT_ADULT_YEARS, DEFAULT_MINOR_YEARS, "built-in default")


@dataclass(frozen=True)
class DueRecord:
    record_id: str
    patient: str
    doc_type: str | None
    last_activity: str
    retain_until: str
    rule: str
    held: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PurgeReport:
    purged: list[DueRecord]
    held: list[DueRecord]
    blobs_deleted: int


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def list_rules(session: Session) -> list[RetentionRule]:
    session.require(Action.VIEW_STATUS)
    rules = [RetentionRule(*row) for row in session.store.retention.rules()]
    if not any(r.pattern == "*" for r in rules):
        rules.append(DEFAULT_RULE)
    return rules


def set_rule(session: Session, pattern: str, adult_years: int, minor_years: int, note: str = "") -> RetentionRule:
    """Add or change the facility rule for document types matching `pattern` (admin)."""
    session.require(Action.MANAGE_SETTINGS)
    if not pattern.strip():
        raise BadInput("--type must not be empty.", "Use a document type such as 'note' or a pattern like 'hl7:*'.")
    for name, value in (("--adult-years", adult_years), ("--minor-years", minor_years)):
        if not 1 <= value <= 100:
            raise BadInput(f"{name} must be between 1 and 100 years, not {value}.", "Check your facility's policy.")
    with session.transaction():
        session.store.retention.set_rule(pattern, adult_years, minor_years, note, session.user.name, now_iso())
        session.audit(
            "retention_rule",
            details={"pattern": pattern, "adult_years": adult_years, "minor_years": minor_years},
        )
    return RetentionRule(pattern, adult_years, minor_years, note)


def _rule_for(doc_type: str | None, rules: list[RetentionRule]) -> RetentionRule:
    matching = [r for r in rules if r.pattern != "*" and fnmatch.fnmatchcase(doc_type or "", r.pattern)]
    if matching:  # the most specific: longest pattern without wildcards counted
        return max(matching, key=lambda r: len(r.pattern.replace("*", "")))
    return next((r for r in rules if r.pattern == "*"), DEFAULT_RULE)


def place_hold(session: Session, mrn: str, reason: str) -> None:
    session.require(Action.RETENTION, patient=mrn)
    if not reason.strip():
        raise BadInput("A legal hold needs a reason.", "Add --reason TEXT (e.g. the case number).")
    if not session.store.patients.mrn_known(mrn):
        raise NotFound(f"No patient with MRN '{mrn}'.", "Check the MRN with 'chartvault patient list'.")
    if _held(session, mrn):
        raise UserError(f"Patient '{mrn}' is already on legal hold.", "Release it first to change the reason.")
    with session.transaction():
        session.store.retention.place_hold(mrn, reason, session.user.name, now_iso())
        session.audit("legal_hold", patient=mrn, reason=reason)


def release_hold(session: Session, mrn: str) -> None:
    session.require(Action.RETENTION, patient=mrn)
    if not _held(session, mrn):
        raise UserError(f"Patient '{mrn}' is not on legal hold.", "'chartvault retention report' lists holds.")
    with session.transaction():
        session.store.retention.release_hold(mrn, session.user.name, now_iso())
        session.audit("legal_hold_release", patient=mrn)


def _held(session: Session, mrn: str) -> bool:
    return session.store.retention.is_held(mrn)


def _last_activity(session: Session) -> dict[str, dt.date]:
    """Per patient: the latest discharge or record date (imported-at when a record has no date)."""
    last: dict[str, dt.date] = {}

    def bump(mrn: str, value: str | None) -> None:
        day = _date(value)
        if mrn and day and (mrn not in last or day > last[mrn]):
            last[mrn] = day

    for mrn, day in session.store.records.activity_dates():
        bump(mrn, day)
    for mrn, day in session.store.patients.discharge_dates():
        bump(mrn, day)
    for mrn, day in session.store.encounters.end_dates():
        bump(mrn, day)
    return last


def due_records(session: Session, today: dt.date | None = None) -> list[DueRecord]:
    """Records past their retention date (held ones included, marked `held`)."""
    session.require(Action.RETENTION)
    today = today or dt.date.today()
    rules = list_rules(session)
    last = _last_activity(session)
    dobs = {mrn: _date(dob) for mrn, dob in session.store.patients.birth_dates().items()}
    held = session.store.retention.held_patients()
    due: list[DueRecord] = []
    for record_id, mrn, doc_type in session.store.records.filed_to_patients():
        if mrn not in last:
            continue
        rule = _rule_for(doc_type, rules)
        until = _years_after(last[mrn], rule.adult_years)
        dob = dobs.get(mrn)
        if dob is not None and _years_after(dob, MAJORITY_AGE) > last[mrn]:  # a minor at the last activity
            until = max(until, _years_after(_years_after(dob, MAJORITY_AGE), rule.minor_years))
        if until < today:
            due.append(
                DueRecord(
                    record_id=record_id,
                    patient=mrn,
                    doc_type=doc_type,
                    last_activity=last[mrn].isoformat(),
                    retain_until=until.isoformat(),
                    rule=rule.describe(),
                    held=mrn in held,
                )
            )
    return due


def retention_report(session: Session, today: dt.date | None = None) -> list[DueRecord]:
    due = due_records(session, today)
    with session.transaction():
        session.audit("retention_report", details={"due": len(due), "held": sum(d.held for d in due)})
    return due


def purge(session: Session, today: dt.date | None = None, progress: Progress | None = None) -> PurgeReport:
    """Destroy every record past its retention date that is not on legal hold."""
    due = due_records(session, today)
    to_purge = [d for d in due if not d.held]
    session.store.retention.secure_delete_on()  # freed pages are zeroed, not left with old text
    for n, item in enumerate(to_purge, start=1):
        with session.transaction():
            _purge_one(session, item)
        if progress:
            progress(n, len(to_purge))
    if to_purge:
        # FTS5 keeps a deleted document's tokens in its segments until they are merged.
        with session.transaction():
            session.store.records.optimize_fulltext()
        session.store.retention.checkpoint()
    deleted = delete_pending_blobs(session)
    return PurgeReport(purged=to_purge, held=[d for d in due if d.held], blobs_deleted=deleted)


def _purge_one(session: Session, item: DueRecord) -> None:
    """Queue the record's blobs for deletion, then delete its rows in every content table
    (`archive.store.schema.CONTENT_TABLES`), its full-text row and its record row."""
    target = session.store.records.purge_target(item.record_id)
    if target is None:
        return
    n, blobs = target
    session.store.retention.add_pending_blobs(blobs)
    session.store.records.erase(item.record_id, n)
    session.audit(
        "purge",
        record=item.record_id,
        patient=item.patient,
        reason=item.rule,
        details={"doc_type": item.doc_type, "retain_until": item.retain_until, "last_activity": item.last_activity},
    )


def delete_pending_blobs(session: Session) -> int:
    """Delete the blobs of purged records (also those a crash left pending); return how many."""
    rows = session.store.retention.pending_blobs()
    for blob in rows:
        if not session.store.records.blob_in_use(blob):
            session.blobs.delete(blob)
        session.store.retention.drop_pending_blob(blob)
    return len(rows)
