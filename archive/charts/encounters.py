"""Encounters: a patient's admissions and visits, with dates and the attending physician.

Chart entries and confirmed ICD-10-CM codes attach to an encounter. Added by
a technician (`add_encounter`, validated), opened by `patients.add_patient`
when an admission date is given, or landed from HL7/FHIR imports
(`archive.charts.landing`). Corrections are versioned like everything in a chart:
each change is a `chart_changes` row with before and after, and an edit names
the version it started from. Above `changes` and `rules`, below `patients`
(which opens and moves admissions through this module): it reads the patient
row itself and never imports `patients`. Its SQL is in archive.store.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from archive.audit import now_iso
from archive.charts import rules
from archive.charts.changes import check_version, next_id, normalise_id, patient_row, record_change
from archive.errors import ConcurrentEdit, NotFound, UserError, ValidationError
from archive.policy import Action

if TYPE_CHECKING:
    from archive.session import Session

ENCOUNTER_FIELDS = ("kind", "start", "end", "attending", "text", "status")


@dataclass(frozen=True)
class Encounter:
    id: str
    patient: str
    kind: str  # admission | visit
    start: str
    end: str | None
    attending: str | None
    text: str
    status: str  # active | entered_in_error
    version: int
    source_record: str | None = None
    external_id: str | None = None  # e.g. the HL7 visit number
    details: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    created_by: str = ""
    updated_at: str | None = None
    updated_by: str | None = None
    source_purged: bool = False  # its source record was deleted by a retention purge (the id stays as provenance)

    def fields(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ENCOUNTER_FIELDS}

    def covers(self, day: str | None) -> bool:
        """Whether the day (YYYY-MM-DD) falls within this encounter.

        An admission without an end runs to today (the patient is still in); a
        visit without an end is that one day.
        """
        when = rules.stored_day(day)
        start = rules.stored_day(self.start)
        if when is None or start is None:
            return False
        return start <= when <= self._last_day(start)

    def _last_day(self, start: Any) -> Any:
        end = rules.stored_day(self.end)
        if end is not None:
            return end
        return rules.today() if self.kind == "admission" else start

    def span_days(self) -> int:
        start = rules.stored_day(self.start)
        return (self._last_day(start) - start).days if start else 0

    def describe(self) -> str:
        return f"{self.id} ({self.kind} {self.start} to {self.end or 'now'})"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _encounter(row: dict[str, Any]) -> Encounter:
    return Encounter(
        id=row["id"], patient=row["patient_mrn"], kind=row["kind"], start=row["start_date"], end=row["end_date"],
        attending=row["attending"], text=row["text"] or "", status=row["status"], version=int(row["version"]),
        source_record=row["source_record"], external_id=row["external_id"],
        details=json.loads(row["details"] or "{}"), created_at=row["created_at"], created_by=row["created_by"],
        updated_at=row["updated_at"], updated_by=row["updated_by"], source_purged=bool(row["source_purged"]),
    )


def load_encounters(session: Session, mrn: str, include_retracted: bool = False) -> list[Encounter]:
    """A patient's encounters, oldest first (unaudited: callers check policy and audit)."""
    return [_encounter(r) for r in session.store.encounters.of_patient(mrn, include_retracted)]


def load_encounter(session: Session, encounter_id: str) -> Encounter:
    wanted = normalise_id(encounter_id, "e")
    row = session.store.encounters.row(wanted)
    if row is None:
        raise NotFound(f"No encounter '{wanted}'.",
                       "See a patient's encounters with 'chartvault patient show MRN'.")
    return _encounter(row)


def covering_encounter(session: Session, mrn: str, day: str | None) -> str | None:
    """The encounter of `mrn` whose dates contain `day`: the shortest one (a visit inside a stay wins)."""
    if not day:
        return None
    covering = [e for e in load_encounters(session, mrn) if e.covers(day)]
    if not covering:
        return None
    covering.sort(key=lambda e: (e.span_days(), e.start), reverse=False)
    return covering[0].id


def encounter_for_record(session: Session, record_id: str) -> str | None:
    """The encounter a record belongs to, for attaching confirmed codes (None when there is none).

    In order: the encounter the record's own chart entries attach to most often;
    an encounter landed from the record; the patient's encounter covering the
    record's date. Read-only, no audit (the caller's action is audited).
    """
    found = session.store.chart_entries.encounter_most_cited_by(record_id)
    if found is not None:
        return found
    found = session.store.encounters.landed_from(record_id)
    if found is not None:
        return found
    rec = session.store.records.patient_and_date(record_id)
    if rec is None or not rec[0]:
        return None
    return covering_encounter(session, rec[0], rec[1])


_ISO_IN_LINE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_PASSAGE_KINDS = ("condition", "procedure", "medication", "observation", "allergy", "immunization")


@dataclass(frozen=True)
class CodePlaces:
    """Where a code confirmed from a passage belongs: one (day, encounter id) per occurrence of the passage's
    fact in the record; `decided` is False when the record has several encounters and nothing tells which."""

    occurrences: list[tuple[str | None, str | None]]
    decided: bool
    why: str

    @property
    def encounter(self) -> str | None:
        return next((enc for _day, enc in self.occurrences if enc), None)


def places_for_passage(session: Session, record_id: str, passage: str | None, code: str | None = None,
                       text: str | None = None, start: int | None = None) -> CodePlaces:
    """The dates and encounters a code confirmed from `passage` belongs to (read-only, no audit).

    The passage's line in the record's `text` (at offset `start` when given) names a structured fact of the
    record (an HL7/FHIR rendering has one line per fact): the code goes to every fact of that same text
    (a condition that recurs is coded at each occurrence), each with the encounter it references (FHIR
    `encounter`, HL7 visit) or else the one covering its own date. A line without a fact: a date on the line,
    else the record's date. Facts carrying the code itself count too. Undecided when the record brought
    several encounters and neither a fact nor a dated line tells which.
    """
    src = session.store.records.chart_source(record_id)
    if src is None or not src[1]:
        return CodePlaces([], True, "the record is not filed to a patient")
    _rid, _mrn, record_date, _author, facts_json = src
    mrn = str(_mrn)
    facts = [f for f in json.loads(facts_json or "[]") if isinstance(f, dict) and f.get("kind") in _PASSAGE_KINDS]
    line = _line_of(text, passage, start) if passage else None
    folded_line = rules.fold(line) if line is not None else rules.fold(passage)
    named = [rules.fold(str(f.get("text") or "")) for f in facts]
    on_line = max((t for t in named if t and t in folded_line), key=len, default="")
    if not on_line and line is None and folded_line:
        on_line = next((t for t in named if t and folded_line in t), "")  # no text: the passage within a fact
    compact = (code or "").replace(".", "").upper()
    found: list[tuple[str | None, str | None]] = []
    for fact, said in zip(facts, named, strict=True):
        by_code = bool(compact) and str(fact.get("code") or "").replace(".", "").upper() == compact
        if not ((on_line and said == on_line) or by_code):
            continue
        day = rules.iso(rules.stored_day(fact.get("date")))
        enc = session.store.encounters.by_external_id(mrn, str(fact["encounter"])) if fact.get("encounter") else None
        place = (day, enc or covering_encounter(session, mrn, day))
        if place not in found:
            found.append(place)
    if found:
        return CodePlaces(found, True, "the passage's facts in the record")
    if line:
        dated = _ISO_IN_LINE.search(line)
        if dated and rules.stored_day(dated.group(1)):
            day = dated.group(1)
            return CodePlaces([(day, covering_encounter(session, mrn, day))], True, "the date on the passage's line")
    landed = session.store.encounters.landed_from_record(record_id)
    day = rules.iso(rules.stored_day(record_date))
    if len(landed) > 1:
        return CodePlaces([(day, None)], False,
                          f"the record brought {len(landed)} encounters and the passage names no date")
    enc = covering_encounter(session, mrn, day) or (landed[0] if landed else None)
    return CodePlaces([(day, enc)], True, "the record's date")


def _line_of(text: str | None, passage: str, start: int | None) -> str | None:
    """The line of `text` holding `passage` (at `start` when it is there), or None."""
    if not text:
        return None
    at = start if start is not None and text[start:start + len(passage)] == passage else text.find(passage)
    if at < 0:
        return None
    end = text.find("\n", at)
    return text[text.rfind("\n", 0, at) + 1: end if end >= 0 else len(text)]


# ---------------------------------------------------------------- writing


def insert_encounter(
    session: Session,
    mrn: str,
    kind: str,
    start: str,
    end: str | None,
    attending: str | None,
    text: str,
    *,
    source_record: str | None = None,
    source_key: str | None = None,
    external_id: str | None = None,
    details: dict[str, Any] | None = None,
    reason: str | None = None,
) -> str:
    """Insert an encounter (already validated) with its change row; inside the caller's transaction."""
    n, encounter_id = next_id(session, "encounter")
    session.store.encounters.insert(
        n, encounter_id, mrn,
        {"kind": kind, "start": start, "end": end, "attending": attending, "text": text,
         "source_record": source_record, "source_key": source_key, "external_id": external_id, "details": details},
        now_iso(), session.user.name,
    )
    after = {"kind": kind, "start": start, "end": end, "attending": attending, "text": text, "status": "active"}
    if source_record:
        after["source_record"] = source_record
    record_change(session, mrn, "encounter", encounter_id, 1, "imported" if source_key else "created",
                  None, after, reason)
    return encounter_id


def _validate(session: Session, mrn: str, values: dict[str, Any], exclude: str | None = None) -> dict[str, Any]:
    patient = session.store.patients.row(mrn)
    out: dict[str, Any] = {}
    out["kind"] = rules.check_choice("kind", values.get("kind"), rules.ENCOUNTER_KINDS, "the encounter kind")
    start = rules.parse_day("start", values.get("start"), "the start date", required=True)
    end = rules.parse_day("end", values.get("end"), "the end date")
    rules.check_not_future("start", start, "start date")
    rules.check_not_future("end", end, "end date")
    rules.check_after("start", start, rules.stored_day(patient["dob"] if patient else None), "start date",
                      "the patient's birth date")
    rules.check_after("end", end, start, "end date", "the start date")
    out["start"], out["end"] = rules.iso(start), rules.iso(end)
    out["attending"] = rules.check_physician(session.store, "physician", values.get("attending"))
    out["text"] = rules.check_text("text", values.get("text"), "the description", required=False) or (
        "Admission" if out["kind"] == "admission" else "Visit"
    )
    out["status"] = rules.check_choice("status", values.get("status") or "active",
                                       ("active", "entered_in_error"), "status")
    if out["status"] != "active":
        return out
    for other in load_encounters(session, mrn):
        if other.id == exclude:
            continue
        if other.kind == out["kind"] and other.start == out["start"]:
            raise ValidationError(
                "start", f"encounter {other.describe()} already starts that day.",
                f"Correct {other.id} instead, or check the date.",
            )
        if out["kind"] == "admission" == other.kind and _overlap(out["start"], out["end"], other):
            raise ValidationError(
                "start", f"this stay overlaps admission {other.describe()}.",
                "A patient is admitted once at a time; check the dates, or correct the other admission.",
            )
    return out


def _overlap(start: str, end: str | None, other: Encounter) -> bool:
    """Whether a stay from `start` to `end` (open: to today) overlaps the admission `other`."""
    a0, a1 = rules.stored_day(start), rules.stored_day(end) or rules.today()
    b0 = rules.stored_day(other.start)
    if a0 is None or b0 is None:
        return False
    return a0 <= other._last_day(b0) and b0 <= a1


def add_encounter(
    session: Session,
    mrn: str,
    kind: str,
    start: str,
    end: str | None = None,
    physician: str | None = None,
    text: str | None = None,
) -> Encounter:
    """Add an admission or visit (validated). A new latest admission becomes the patient's stay."""
    patient = patient_row(session, mrn)
    clean_mrn = patient["mrn"]
    session.require_patient(Action.EDIT_CHART, patient=clean_mrn)
    with session.transaction():
        values = _validate(session, clean_mrn, {"kind": kind, "start": start, "end": end,
                                                "attending": physician or patient["attending"], "text": text})
        encounter_id = insert_encounter(session, clean_mrn, values["kind"], values["start"], values["end"],
                                        values["attending"], values["text"])
        if values["kind"] == "admission":
            _maybe_set_stay(session, clean_mrn, values["start"], values["end"])
        session.audit("encounter_add", patient=clean_mrn, details={"encounter": encounter_id,
                                                                   "kind": values["kind"]})
    return load_encounter(session, encounter_id)


def _maybe_set_stay(session: Session, mrn: str, start: str, end: str | None) -> None:
    """The patient's admitted/discharged dates follow their latest admission."""
    admitted, discharged, version = session.store.patients.stay(mrn)
    if admitted and admitted > start:
        return
    if (admitted, discharged) == (start, end):
        return
    session.store.patients.set_stay(mrn, start, end, version + 1, now_iso(), session.user.name)
    record_change(session, mrn, "patient", mrn, version + 1, "updated",
                  {"admitted": admitted, "discharged": discharged}, {"admitted": start, "discharged": end},
                  "stay follows the latest admission")


def sync_admission(session: Session, mrn: str, old_admitted: str | None, admitted: str | None,
                   discharged: str | None, attending: str | None) -> None:
    """The patient's stay changed: carry it to the admission encounter it describes (or open one)."""
    if not admitted:
        return
    admissions = [e for e in load_encounters(session, mrn) if e.kind == "admission"]
    target = next((e for e in admissions if old_admitted and e.start == old_admitted), None)
    if target is None:
        target = next((e for e in admissions if e.start == admitted), None)
    if target is None:
        insert_encounter(session, mrn, "admission", admitted, discharged, attending, "Admission",
                         reason="from the patient's admission date")
        return
    changes = {"start": admitted, "end": discharged}
    _apply(session, target, changes, "from the patient's admission/discharge dates")


def _apply(session: Session, current: Encounter, values: dict[str, Any], reason: str | None) -> Encounter | None:
    before = current.fields()
    after = {**before, **values}
    diff = {k: [before[k], after[k]] for k in ENCOUNTER_FIELDS if before[k] != after[k]}
    if not diff:
        return None
    version = current.version + 1
    if not session.store.encounters.update(current.id, current.version, after, now_iso(), session.user.name):
        raise ConcurrentEdit(f"Encounter {current.id} was changed while you edited it; nothing was saved.",
                             f"Review it with 'chartvault patient history {current.patient}' and try again.")
    record_change(session, current.patient, "encounter", current.id, version, "corrected",
                  {k: v[0] for k, v in diff.items()}, {k: v[1] for k, v in diff.items()}, reason)
    return load_encounter(session, current.id)


def correct_encounter(
    session: Session,
    encounter_id: str,
    reason: str,
    expect_version: int | None = None,
    **changes: Any,
) -> Encounter:
    """Correct an encounter's kind, dates, attending, description or status (a new version, with a reason)."""
    unknown = set(changes) - set(ENCOUNTER_FIELDS)
    if unknown:
        raise UserError(f"Encounters have no field {', '.join(sorted(unknown))}.",
                        f"Fields: {', '.join(ENCOUNTER_FIELDS)}.")
    current = load_encounter(session, encounter_id)
    session.require_patient(Action.EDIT_CHART, patient=current.patient)
    why = rules.check_text("reason", reason, "the reason for the correction")
    with session.transaction():
        current = load_encounter(session, current.id)
        check_version(f"Encounter {current.id}", current.version, expect_version, current.updated_by,
                      current.updated_at, f"chartvault patient history {current.patient}")
        merged = {**current.fields(), **{k: v for k, v in changes.items() if v is not None}}
        values = _validate(session, current.patient, merged, exclude=current.id)
        saved = _apply(session, current, values, why)
        if saved is None:
            raise UserError(f"Nothing to correct in encounter {current.id}.", "Give at least one new value.")
        session.audit("encounter_correct", patient=current.patient, reason=why,
                      details={"encounter": current.id, "version": saved.version})
    return saved


__all__ = [
    "CodePlaces",
    "Encounter",
    "add_encounter",
    "correct_encounter",
    "covering_encounter",
    "encounter_for_record",
    "load_encounter",
    "load_encounters",
    "places_for_passage",
]
