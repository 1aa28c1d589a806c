"""ICD-10-CM coding of records: code search, suggestions, confirm/reject, cross-indexes.

The code set itself is reference data (indexer.icd10), so searching it needs no
patient right. Everything that touches a record asks policy first: suggestions
and decisions need Action.CODE on that record (`session.require_record`), the
cross-indexes need Action.SEARCH and only list records the user may see. Every
suggestion run, decision and cross-index query is an audit entry; the record's
text is decrypted in memory only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from archive.errors import BadInput, NotFound
from archive.policy import Action
from indexer import icd10
from indexer.code_suggest import UNCERTAIN_RULE, Suggestion

if TYPE_CHECKING:
    from archive.session import Session

STATUSES = ("confirmed", "rejected")


@dataclass(frozen=True)
class CodeDetail:
    """One code with where it sits in the hierarchy."""

    info: icd10.CodeInfo
    ancestors: list[icd10.CodeInfo]
    children: list[icd10.CodeInfo]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.info.to_json(),
            "ancestors": [{"code": a.code, "description": a.description, "kind": a.kind} for a in self.ancestors],
            "children": [{"code": c.code, "description": c.description, "billable": c.billable} for c in self.children],
        }


@dataclass(frozen=True)
class CodeDecision:
    record_id: str
    code: str
    description: str
    status: str
    decided_by: str
    decided_at: str
    patient: str | None = None
    encounter_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RecordSuggestions:
    record_id: str | None
    patient: str | None
    suggestions: list[Suggestion]
    decided: dict[str, str] = field(default_factory=dict)  # code -> confirmed | rejected
    # What the text only doubts ("possible pneumonia", "rule out PE"): never suggestions; coded only under the
    # inpatient rule (ICD-10-CM Official Guidelines II.H), never for an outpatient visit (IV.H).
    uncertain: list[Suggestion] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "patient": self.patient,
            "suggestions": [{**s.to_json(), "status": self.decided.get(s.code)} for s in self.suggestions],
            "uncertain": [{**s.to_json(), "status": self.decided.get(s.code)} for s in self.uncertain],
            "uncertain_rule": UNCERTAIN_RULE,
        }


@dataclass(frozen=True)
class IndexEntry:
    """A record found by a cross-index, with the codes confirmed for it."""

    record_id: str
    patient: str | None
    date: str | None
    author: str | None
    title: str | None
    codes: list[str]
    why: str  # what matched: a code, the author, or the text

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChartHit:
    """A chart entry found by a cross-index (current version)."""

    entry_id: str
    patient: str
    kind: str
    text: str
    date: str | None
    code: str | None
    source_record: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CrossIndex:
    kind: str  # by-code | by-physician | by-treatment
    query: str
    records: list[IndexEntry]
    note: str = ""
    entries: list[ChartHit] = field(default_factory=list)
    attended: list[str] = field(default_factory=list)  # by-physician: patients they attend

    @property
    def patients(self) -> list[str]:
        found = {r.patient for r in self.records if r.patient} | {e.patient for e in self.entries}
        return sorted(found | set(self.attended))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "query": self.query,
            "patients": self.patients,
            "records": [r.to_json() for r in self.records],
            "chart_entries": [e.to_json() for e in self.entries],
            "note": self.note,
        }


# -- the code set ----------------------------------------------------------------------------------


def ensure_code_set(session: Session, progress: icd10.LoadProgress | None = None) -> icd10.LoadReport:
    """Load the ICD-10-CM code set into the index on first use (a few seconds, once per vault); `progress`
    hears (done, total, what) while it loads."""
    return session.store.coding.ensure_code_set(progress)


def search_codes(session: Session, query: str, limit: int = 20, billable_only: bool = False) -> list[icd10.CodeHit]:
    """Search the code set by code or words (reference data: no patient right needed)."""
    if limit < 1:
        raise BadInput("--limit must be at least 1.", "For example --limit 20.")
    if not query.strip():
        raise BadInput("Nothing to search for.", "Give a code such as E11.9 or words such as 'type 2 diabetes'.")
    ensure_code_set(session)
    return session.store.coding.search_codes(query, limit=limit, billable_only=billable_only)


def code_detail(session: Session, code: str) -> CodeDetail:
    """A code, block or chapter with its ancestors and children."""
    ensure_code_set(session)
    codes = session.store.coding
    info = codes.lookup(code) or require_code(session, code)
    return CodeDetail(info, codes.ancestors(info.code), codes.children(info.code))


def require_code(session: Session, code: str) -> icd10.CodeInfo:
    """The code, or NotFound naming the nearest existing codes."""
    ensure_code_set(session)
    info = session.store.coding.lookup(code)
    if info is not None and info.kind not in ("chapter", "block"):
        return info
    near = session.store.coding.near_codes(code)
    hint = (
        "Nearest codes: " + ", ".join(f"{c.code} ({c.description})" for c in near[:4]) + "."
        if near
        else "Search with 'chartvault code search WORDS'."
    )
    if info is not None:
        raise BadInput(f"{info.code} is a {info.kind} ({info.description}), not a code.", hint)
    raise NotFound(f"There is no ICD-10-CM code '{code.strip()}'.", hint)


# -- records ---------------------------------------------------------------------------------------


def _record(session: Session, record_id: str) -> dict[str, Any]:
    record_id = record_id.strip()
    row = session.store.records.coding_target(record_id)
    if row is None:
        raise NotFound(f"No record '{record_id}'.", "Find record ids with 'chartvault search QUERY'.")
    return {"id": row[0], "patient": row[1], "text_blob_id": row[2]}


def suggest_for_record(session: Session, record_id: str, limit: int = 10) -> RecordSuggestions:
    """Codes suggested for a record's text, each with its supporting passage, and apart from them the codes of
    what the text only doubts (`uncertain`); audited."""
    session.require(Action.CODE)
    row = _record(session, record_id)
    ensure_code_set(session)
    session.store.coding.prepare_matcher()  # built (seconds, once per process) before the write transaction opens
    with session.transaction():
        session.require_record(Action.CODE, record=row["id"], patient=row["patient"], audit=False)
        text = session.blobs.get_bytes(row["text_blob_id"]).decode("utf-8", "replace") if row["text_blob_id"] else ""
        found = session.store.coding.suggest_all(text, limit)
        session.audit(
            "code_suggest",
            record=row["id"],
            patient=row["patient"],
            details={"codes": [s.code for s in found.suggestions], "uncertain": [s.code for s in found.uncertain]},
        )
    return RecordSuggestions(row["id"], row["patient"], found.suggestions, session.store.coding.decisions(row["id"]),
                             found.uncertain)


def suggest_for_text(session: Session, text: str, limit: int = 10) -> RecordSuggestions:
    """Codes for free text typed by the user (no record); the text itself is not audited."""
    session.require(Action.CODE)
    if not text.strip():
        raise BadInput("No text to code.", "Give the text with --text, e.g. --text 'type 2 diabetes, HTN'.")
    ensure_code_set(session)
    found = session.store.coding.suggest_all(text, limit)
    with session.transaction():
        session.audit("code_suggest", details={"free_text": True, "codes": [s.code for s in found.suggestions],
                                               "uncertain": [s.code for s in found.uncertain]})
    return RecordSuggestions(None, None, found.suggestions, uncertain=found.uncertain)


def _decide(session: Session, record_id: str, code: str, status: str, passage: str | None,
            score: float | None, start: int | None = None) -> CodeDecision:
    session.require(Action.CODE)
    row = _record(session, record_id)
    info = require_code(session, code)
    from archive.charts.encounters import encounter_for_record, places_for_passage
    from archive.review import queue_undecided_encounter

    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with session.transaction():
        session.require_record(Action.CODE, record=row["id"], patient=row["patient"], audit=False)
        occurrences: list[tuple[str | None, str | None]] | None = None
        undecided = None
        if status == "confirmed":
            # The code goes to the encounter its passage belongs to, each occurrence with its own date.
            text = session.blobs.get_bytes(row["text_blob_id"]).decode("utf-8", "replace") \
                if passage and row["text_blob_id"] else None
            places = places_for_passage(session, row["id"], passage, info.code, text, start)
            occurrences = places.occurrences or None
            encounter = places.encounter
            if not places.decided:
                undecided = places.why
        else:
            encounter = encounter_for_record(session, row["id"])
        session.store.coding.add_decision(row["id"], info.code, status, session.user.name, now, score, passage,
                                          encounter, occurrences)
        if undecided is not None:
            queue_undecided_encounter(session, row["id"], row["patient"], info.code, undecided)
        action = "code_confirm" if status == "confirmed" else "code_reject"
        session.audit(action, record=row["id"], patient=row["patient"],
                      details={"code": info.code, "encounter": encounter,
                               "dates": sorted({d for d, _e in occurrences or [] if d})})
    return CodeDecision(row["id"], info.code, info.description, status, session.user.name, now, row["patient"],
                        encounter)


def confirm_code(session: Session, record_id: str, code: str, passage: str | None = None,
                 score: float | None = None, start: int | None = None) -> CodeDecision:
    """Attach `code` to the record, with who confirmed it and when; each decision is a new row, so the
    history is kept. The code goes to the encounter its passage (at offset `start` of the record's text)
    belongs to, with the date of each fact of the record the passage names (archive.charts.encounters.
    places_for_passage); when that cannot be told, the review queue asks the technician."""
    return _decide(session, record_id, code, "confirmed", passage, score, start)


def reject_code(session: Session, record_id: str, code: str) -> CodeDecision:
    """Record that `code` does not apply to the record (it is no longer suggested as open)."""
    return _decide(session, record_id, code, "rejected", None, None)


def record_codes(session: Session, record_id: str, include_history: bool = False) -> list[CodeDecision]:
    """The decisions in force for a record (or every decision, oldest first, with include_history)."""
    row = _record(session, record_id)
    session.require_record(Action.VIEW_RECORD, record=row["id"], patient=row["patient"])
    rows = session.store.coding.decisions_of(row["id"], include_history)
    return [CodeDecision(r[0], r[1], r[2], r[3], r[4], r[5], row["patient"], r[6]) for r in rows]


# -- cross-indexes ---------------------------------------------------------------------------------


def _entries(session: Session, rows: list[tuple[Any, ...]], why: dict[str, str]) -> list[IndexEntry]:
    """IndexEntry per visible record (rows: id, patient, date, author, title)."""
    visible = [r for r in rows if session.may_see_record(r[0], r[1], Action.SEARCH)]
    codes = session.store.coding.confirmed_codes([r[0] for r in visible])
    return [IndexEntry(r[0], r[1], r[2], r[3], r[4], codes.get(r[0], []), why.get(r[0], "")) for r in visible]


def _chart_hits(session: Session, rows: list[tuple[Any, ...]]) -> list[ChartHit]:
    """The chart entries (current versions) of `rows` whose patient the user may see."""
    return [ChartHit(*r) for r in rows if session.may_see_patient(r[1], Action.SEARCH)]


def _audit_index(session: Session, result: CrossIndex) -> None:
    with session.transaction():
        session.audit(
            "index_" + result.kind.replace("-", "_"),
            details={"query": result.query, "records": [r.record_id for r in result.records],
                     "entries": [e.entry_id for e in result.entries], "patients": result.patients},
        )


def by_code(session: Session, code: str, limit: int = 500) -> CrossIndex:
    """Records (and their patients) with a confirmed code equal to or under `code` (E11 -> E11.*)."""
    session.require(Action.SEARCH)
    ensure_code_set(session)
    norm = icd10.normalize_code(code)
    if norm is None or "-" in norm:
        raise BadInput(f"'{code}' is not an ICD-10-CM code or category.", "For example: E11, E11.9 or I10.")
    if session.store.coding.lookup(norm) is None:
        require_code(session, norm)  # raises NotFound with the nearest codes
    compact = norm.replace(".", "")
    why: dict[str, str] = {}
    for rid, c in session.store.coding.confirmed_under(compact):
        why.setdefault(rid, f"confirmed {c}")
    records = session.store.records.index_rows(list(why), limit)
    entries = _chart_hits(session, session.store.chart_entries.coded_diagnoses_under(compact, limit))
    result = CrossIndex("by-code", norm, _entries(session, records, why), entries=entries,
                        note="Confirmed record codes and coded chart diagnoses/complications.")
    _audit_index(session, result)
    return result


def by_physician(session: Session, name: str, limit: int = 500) -> CrossIndex:
    """Records written by a physician (author: the user name or full name) and the records of
    the patients they attend (patients' and encounters' attending physician), with their codes."""
    session.require(Action.SEARCH)
    needle = " ".join(name.split())
    if not needle:
        raise BadInput("Which physician?", "Give a user name or part of a name, e.g. 'Lopez'.")
    names = {needle}
    physicians = session.store.users.physicians_matching(needle)
    for user, full in physicians:
        names.update(n for n in (user, full) if n)
    users = [user for user, _full in physicians]
    attended_all = session.store.patients.attended_by(users) | session.store.encounters.patients_attended_by(users)
    attended = sorted(m for m in attended_all if session.may_see_patient(m, Action.SEARCH))
    rows = session.store.records.by_author_or_patient(sorted(names), attended, limit)
    lowered = [n.lower() for n in names]
    why = {
        r[0]: f"author: {r[3]}" if r[3] and any(n in r[3].lower() for n in lowered) else f"attending of {r[1]}"
        for r in rows
    }
    result = CrossIndex(
        "by-physician", needle, _entries(session, rows, why), attended=attended,
        note="Records the physician wrote (author), and records of the patients they attend (chart).",
    )
    _audit_index(session, result)
    return result


def by_treatment(session: Session, text: str, limit: int = 100) -> CrossIndex:
    """Records, chart entries and patients for a treatment (procedure or medication).

    Matches the charts' medication/procedure entries (current versions), the
    medication/procedure facts extracted at import (HL7/FHIR), and the records'
    full text (FTS) for the treatment words.
    """
    session.require(Action.SEARCH)
    needle = " ".join(text.split())
    if not needle:
        raise BadInput("Which treatment?", "Give a medication or procedure, e.g. 'metformin'.")
    from indexer import fts

    why: dict[str, str] = {}
    for record_id, snippet in session.store.records.fulltext_hits(needle, limit):
        why.setdefault(record_id, "text: " + fts.mark(snippet, "", "").strip()[:120])
    low = needle.lower()
    import json

    for rid, facts in session.store.records.facts_containing(f"%{_like(low)}%", limit):
        for fact in json.loads(facts or "[]"):
            if fact.get("kind") in ("medication", "procedure") and low in str(fact.get("text", "")).lower():
                why[rid] = f"{fact['kind']}: {fact.get('text')}"
                break
    entries = _chart_hits(session, session.store.chart_entries.treatments_like(f"%{_like(needle)}%", limit))
    for e in entries:
        if e.source_record:
            why.setdefault(e.source_record, f"chart {e.kind}: {e.text}")
    rows = session.store.records.index_rows(list(why), limit)
    result = CrossIndex(
        "by-treatment", needle, _entries(session, rows, why), entries=entries,
        note="Chart medication/procedure entries, imported medication/procedure facts, and full text of the records.",
    )
    _audit_index(session, result)
    return result


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
