"""Landing imported HL7/FHIR records' facts on charts: entries and encounters, with the record as source.

`land_record` turns one filed record's medication, procedure and condition
facts into chart entries (conditions become diagnoses) and its encounter facts
into encounters. It is idempotent: every landed fact carries a source key
(a digest of the fact plus its occurrence in the record), unique per record,
so re-running lands nothing twice; a fact that another record already put
on the chart (same kind, text and date) is counted, not repeated. The
ingest pipeline calls `land_outcomes` inside its commit (archive.intake),
filing a record calls `land_record`, and `backfill_charts` lands records
imported before charts existed (`chartvault chart backfill`). The top of
archive.charts: it reads records through archive.store and never imports
archive.records or archive.intake (they call it).

Imported facts are the source's word: they are not held to the rules a
technician's typed entry meets (a partial date stays partial); a person
corrects them like any entry, as a new version with a reason.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from archive.charts import rules
from archive.charts.encounters import covering_encounter, insert_encounter
from archive.charts.entries import ENTRY_FIELDS, insert_entry
from archive.policy import Action

if TYPE_CHECKING:
    from archive.session import Session

FACT_KINDS = {"medication": "medication", "procedure": "procedure", "condition": "diagnosis"}
# Encounter classes that mean a stay (FHIR v3 ActCode, HL7 v2 PV1-2 patient class).
ADMISSION_CLASSES = {"IMP", "ACUTE", "NONAC", "SS", "I", "P", "inpatient"}
STATUS_MAP = {
    "active": "active", "completed": "completed", "finished": "completed", "resolved": "resolved",
    "remission": "resolved", "inactive": "inactive", "stopped": "stopped", "on-hold": "stopped",
    "cancelled": "cancelled", "entered-in-error": "entered_in_error", "recurrence": "active", "relapse": "active",
    "in-progress": "active", "preparation": "planned", "draft": "planned", "not-done": "cancelled",
    "intended": "planned", "unknown": "unknown",
}
# "I10C" is ICD-10-CM in HL7 v2 table 0396.
ICD10_SYSTEMS = {"icd-10-cm", "i10", "i10c", "icd10", "icd10cm", "http://hl7.org/fhir/sid/icd-10-cm"}


@dataclass
class LandResult:
    record_id: str
    patient: str | None
    entries_added: int = 0
    encounters_added: int = 0
    already: int = 0  # landed before from this record
    duplicates: int = 0  # already on the chart from another record
    skipped: int = 0  # facts of other kinds (observations, allergies, ...) or without what a chart needs
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BackfillReport:
    records: int = 0
    entries_added: int = 0
    encounters_added: int = 0
    already: int = 0
    duplicates: int = 0
    waiting_for_filing: int = 0
    results: list[LandResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["results"] = [r.to_json() for r in self.results if r.entries_added or r.encounters_added]
        return data


def _key(kind: str, fact: dict[str, Any], seen: Counter[str]) -> str:
    digest = hashlib.sha256(
        json.dumps([kind, fact.get("text"), fact.get("date"), fact.get("end_date"), fact.get("code")],
                   ensure_ascii=False).encode()
    ).hexdigest()[:16]
    seen[digest] += 1
    return f"{kind}:{digest}:{seen[digest]}"


def fact_keys(facts: list[dict[str, Any]]) -> list[str | None]:
    """The source key each fact of a record lands under (None: a kind that does not land), as `land_record`
    computes them: the review queue holds a fact by its key."""
    keys: list[str | None] = []
    seen: Counter[str] = Counter()
    for fact in facts:
        keys.append(_key("encounter", fact, seen) if fact.get("kind") == "encounter" else None)
    seen.clear()
    for i, fact in enumerate(facts):
        kind = FACT_KINDS.get(str(fact.get("kind")))
        if kind is not None:
            keys[i] = _key(kind, fact, seen)
    return keys


def _status(value: Any, default: str) -> str:
    text = str(value or "").strip().lower()
    return STATUS_MAP.get(text, default if not text else "unknown")


def _physician_user(session: Session, name: str | None) -> str | None:
    """The registered physician whose user name or full name is `name` (imported attending), if any."""
    if not name:
        return None
    folded = rules.fold(name)
    for user, full, licence, active in session.store.users.physicians():
        if licence and active and folded in (rules.fold(user), rules.fold(full)):
            return str(user)
    return None


def land_record(session: Session, record_id: str, *, audit: bool = True) -> LandResult:
    """Land a record's facts on its patient's chart (inside the caller's transaction if there is one).

    No policy check of its own: it is part of importing or filing, which the
    caller has checked; the landing is audited as `chart_import`.
    """
    row = session.store.records.chart_source(record_id)
    if row is None:
        return LandResult(record_id, None, note="no such record")
    rid, mrn, record_date, author, facts_json = row
    result = LandResult(rid, mrn)
    facts = [f for f in json.loads(facts_json or "[]") if isinstance(f, dict)]
    if not mrn:
        result.note = "waiting for filing"
        result.skipped = len(facts)
        return result
    if session.store.review.record_held(rid):
        result.note = "held for review"
        result.skipped = len(facts)
        return result
    held = session.store.review.held_keys(rid)
    corrected = session.store.review.corrections(rid)
    keys = fact_keys(facts)
    with session.transaction():
        for fact, key in zip(facts, keys, strict=True):
            if fact.get("kind") == "encounter" and key is not None:
                if key in held:
                    result.skipped += 1
                    continue
                _land_encounter(session, result, mrn, rid, record_date, {**fact, **corrected.get(key, {})}, key)
        for fact, key in zip(facts, keys, strict=True):
            kind = FACT_KINDS.get(str(fact.get("kind")))
            if kind is None:
                if fact.get("kind") != "encounter":
                    result.skipped += 1
                continue
            if key is None or key in held:
                result.skipped += 1
                continue
            _land_entry(session, result, mrn, rid, record_date, author, kind, {**fact, **corrected.get(key, {})},
                        key)
        if audit and (result.entries_added or result.encounters_added):
            session.audit("chart_import", record=rid, patient=mrn,
                          details={"entries": result.entries_added, "encounters": result.encounters_added,
                                   "duplicates": result.duplicates})
    return result


def _land_encounter(session: Session, result: LandResult, mrn: str, rid: str, record_date: str | None,
                    fact: dict[str, Any], key: str) -> None:
    if session.store.encounters.is_landed(rid, key):
        result.already += 1
        return
    start = fact.get("date") or record_date
    if not start:
        result.skipped += 1
        return
    extra = dict(fact.get("extra") or {})
    kind = "admission" if str(extra.get("class", "")) in ADMISSION_CLASSES else "visit"
    visit = extra.get("visit") or fact.get("encounter") or None  # HL7 visit number, FHIR Encounter id
    # The same visit told again by another message (same visit number, or same kind and day); two
    # encounters of one record are two encounters, even on one day.
    if session.store.encounters.same_visit(mrn, rid, visit, kind, start):
        result.duplicates += 1
        return
    details = {k: v for k, v in extra.items() if k != "visit"}
    for name in ("code", "system", "status"):
        if fact.get(name):
            details[name] = fact[name]
    insert_encounter(
        session, mrn, kind, str(start), fact.get("end_date"), _physician_user(session, extra.get("attending")),
        str(fact.get("text") or ("Admission" if kind == "admission" else "Visit")),
        source_record=rid, source_key=key, external_id=visit, details=details,
    )
    result.encounters_added += 1


def _land_entry(session: Session, result: LandResult, mrn: str, rid: str, record_date: str | None,
                author: str | None, kind: str, fact: dict[str, Any], key: str) -> None:
    """Land one fact under `key` (the key of the fact as imported: a technician's correction keeps it)."""
    text = " ".join(str(fact.get("text") or "").split())
    if not text:
        result.skipped += 1
        return
    if session.store.chart_entries.is_landed(rid, key):
        result.already += 1
        return
    date = fact.get("date") or record_date
    if _on_chart_from_elsewhere(session, mrn, rid, kind, text, date):
        result.duplicates += 1
        return
    extra = {str(k): v for k, v in (fact.get("extra") or {}).items()}
    values: dict[str, Any] = {k: None for k in ENTRY_FIELDS}
    values.update(kind=kind, text=text, date=date, source_record=rid, author=author or "import",
                  status=_status(fact.get("status"), "completed" if kind == "procedure" else "active"))
    code, system = fact.get("code"), fact.get("system")
    if code:
        values["code"] = str(code)
        values["code_system"] = ("ICD-10-CM" if str(system or "").lower() in ICD10_SYSTEMS else system) or None
    if kind == "medication":
        values.update(dose=extra.pop("dose", None), route=extra.pop("route", None),
                      frequency=extra.pop("frequency", None), start=date, stop=fact.get("end_date"))
    elif fact.get("end_date"):
        extra["end_date"] = fact["end_date"]
    if not fact.get("date"):
        extra["date_from"] = "record"  # the fact had no date of its own
    values["details"] = extra
    # The encounter the fact itself names (FHIR reference, HL7 visit), else the one covering its date.
    values["encounter_id"] = (session.store.encounters.by_external_id(mrn, str(fact["encounter"]))
                              if fact.get("encounter") else None) or covering_encounter(session, mrn, date)
    insert_entry(session, mrn, values, source_key=key)
    result.entries_added += 1


def _on_chart_from_elsewhere(session: Session, mrn: str, rid: str, kind: str, text: str, date: str | None) -> bool:
    folded = rules.fold(text)
    for _entry_id, other_text, source in session.store.chart_entries.same_day(mrn, kind, date):
        if source != rid and rules.fold(other_text) == folded:
            return True
    return False


def land_outcomes(session: Session, outcomes: list[Any]) -> None:
    """Ingest hook (inside the import's commit): land each imported, filed record; never fails the import.

    A failure is contained in a savepoint and noted on the outcome; `chartvault
    chart backfill` lands the record later.
    """
    for out in outcomes:
        if getattr(out, "status", None) != "imported" or not out.record_id or not out.patient:
            continue
        if not _has_chart_facts(session, out.record_id):
            continue
        try:
            with session.store.chart_entries.savepoint("chart_land"):
                land_record(session, out.record_id)
        except Exception as exc:  # noqa: BLE001 - the record is safely imported; its chart can wait
            out.warnings.append(f"chart entries not created ({type(exc).__name__}); run 'chartvault chart backfill'")


def _has_chart_facts(session: Session, record_id: str) -> bool:
    stored = session.store.records.facts_json(record_id)
    facts = json.loads(stored) if stored is not None else []
    return any(isinstance(f, dict) and (f.get("kind") in FACT_KINDS or f.get("kind") == "encounter") for f in facts)


def backfill_charts(session: Session) -> BackfillReport:
    """Land every filed record's facts (records imported before charts existed). Idempotent."""
    session.require(Action.EDIT_CHART)
    report = BackfillReport()
    for rid in session.store.records.with_facts():
        if not _has_chart_facts(session, rid):
            continue
        result = land_record(session, rid)
        report.records += 1
        if result.note == "waiting for filing":
            report.waiting_for_filing += 1
        report.entries_added += result.entries_added
        report.encounters_added += result.encounters_added
        report.already += result.already
        report.duplicates += result.duplicates
        report.results.append(result)
    with session.transaction():
        session.audit("chart_backfill", details={k: v for k, v in report.to_json().items() if k != "results"})
    return report


__all__ = ["BackfillReport", "LandResult", "backfill_charts", "land_outcomes", "land_record"]
