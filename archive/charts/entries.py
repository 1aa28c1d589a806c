"""Chart entries: procedures, medications, complications, referrals and diagnoses, versioned.

An entry is an id plus versions. Adding writes version 1; a correction writes
version n+1 with the reason, who and when; nothing is ever overwritten, so
the history of an entry is its versions and "before" is simply the previous
one. An edit names the version it started from (`expect_version`): if
someone saved in between, ConcurrentEdit is raised and nothing is saved.
Retracting an entry is a correction to status `entered_in_error`.

Reading functions for other features (assistant, statistics):
`list_entries(session, mrn, kinds, date_from, date_to)`,
`patient_chart(session, mrn)` / `patient_timeline(session, mrn)`,
`get_entry`, `entry_history`. All ask policy and are audited. Above
`patients` and `encounters`; its SQL is in archive.store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from archive.audit import now_iso
from archive.charts import rules
from archive.charts.changes import ChangeEvent, check_version, next_id, normalise_id
from archive.charts.encounters import Encounter, covering_encounter, load_encounter, load_encounters
from archive.charts.patients import Patient, load_patient
from archive.errors import ConcurrentEdit, NotFound, UserError, ValidationError
from archive.policy import Action
from archive.signed_rows import saved_digest, sign_version
from indexer.extract.render import system_label

if TYPE_CHECKING:
    from archive.session import Session

# Stored fields of a version, in the order of the table's columns.
ENTRY_FIELDS = (
    "kind", "text", "date", "status", "encounter_id", "source_record", "code", "code_system", "dose", "route",
    "frequency", "start", "stop", "referral_to", "referral_to_kind", "referral_reason", "details", "author",
    "stop_reason",  # added later (migration medication_stop_reason): the last column
)
# The option a person types for a field (errors are named after it; the TUI's form fields carry these names).
OPTION = {"encounter_id": "encounter", "source_record": "source", "referral_to": "to", "referral_to_kind": "to_kind"}
FIELD_OF_OPTION = {option: name for name, option in OPTION.items()}
MEDICATION_ONLY = ("dose", "route", "frequency", "start", "stop", "stop_reason")
STOP_REASON_LIMIT = 200
REFERRAL_ONLY = ("referral_to", "referral_to_kind", "referral_reason")
DEFAULT_STATUS = {"procedure": "completed", "referral": "active"}
ICD10 = "ICD-10-CM"
MIN_REASON = 4


@dataclass(frozen=True)
class ChartEntry:
    """One version of a chart entry (the current one, unless read from its history)."""

    id: str
    patient: str
    version: int
    kind: str
    text: str
    date: str | None
    status: str
    encounter_id: str | None = None
    source_record: str | None = None
    code: str | None = None
    code_system: str | None = None
    dose: str | None = None
    route: str | None = None
    frequency: str | None = None
    start: str | None = None
    stop: str | None = None
    stop_reason: str | None = None  # why a medication was stopped (adverse reaction, dose change, course completed)
    referral_to: str | None = None
    referral_to_kind: str | None = None
    referral_reason: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    author: str | None = None
    correction_reason: str | None = None
    saved_at: str = ""  # when this version was saved
    saved_by: str = ""
    imported: bool = False  # landed from an HL7/FHIR record
    source_purged: bool = False  # its source record was deleted by a retention purge (the id stays as provenance)

    @property
    def retracted(self) -> bool:
        return self.status == "entered_in_error"

    def fields(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ENTRY_FIELDS}

    def summary(self) -> str:
        """One line for lists: the text plus what matters for its kind."""
        parts = [self.text]
        if self.kind == "medication":
            parts += [p for p in (self.dose, self.route, self.frequency) if p]
            if self.stop_reason:
                parts.append(f"stopped {self.stop}: {self.stop_reason}" if self.stop else
                             f"stopped: {self.stop_reason}")
            elif self.stop:
                parts.append(f"until {self.stop}")
        elif self.kind == "referral":
            parts.append(f"to {self.referral_to}" + (f" ({self.referral_to_kind})" if self.referral_to_kind else ""))
            if self.referral_reason:
                parts.append(f"for {self.referral_reason}")
        if self.code:
            # A code of another system says which ("[SNOMED CT 38341003]"): bare, it reads as an ICD-10-CM code.
            other = self.code_system not in (None, "", "ICD-10-CM")
            parts.append(f"[{system_label(self.code_system)} {self.code}]" if other else f"[{self.code}]")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["retracted"] = self.retracted
        return data


@dataclass(frozen=True)
class RecordRef:
    record_id: str
    date: str | None
    title: str | None
    type: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TimelineItem:
    """An encounter or an entry on a patient's timeline."""

    date: str | None
    end: str | None
    type: str  # encounter | entry
    id: str
    kind: str
    text: str
    status: str
    version: int
    encounter_id: str | None = None
    source_record: str | None = None
    source_purged: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PatientChart:
    patient: Patient
    encounters: list[Encounter]
    entries: list[ChartEntry]
    records: list[RecordRef]

    def timeline(self) -> list[TimelineItem]:
        """Encounters and entries by date (undated last); an encounter before what happened during it."""
        items = [
            TimelineItem(e.start, e.end, "encounter", e.id, e.kind, e.text, e.status, e.version,
                         e.id, e.source_record, e.source_purged)
            for e in self.encounters
        ] + [
            TimelineItem(x.date, x.stop, "entry", x.id, x.kind, x.summary(), x.status, x.version,
                         x.encounter_id, x.source_record, x.source_purged)
            for x in self.entries
        ]
        return sorted(items, key=lambda i: (i.date is None, i.date or "", i.type != "encounter", _num(i.id)))

    def to_json(self) -> dict[str, Any]:
        return {
            "patient": self.patient.to_json(),
            "encounters": [e.to_json() for e in self.encounters],
            "entries": [e.to_json() for e in self.entries],
            "records": [r.to_json() for r in self.records],
        }


def default_status(kind: str) -> str:
    """The status an entry of `kind` gets when none is given (a procedure is recorded once done)."""
    return DEFAULT_STATUS.get(kind, "active")


def _num(entity_id: str) -> int:
    digits = "".join(ch for ch in entity_id if ch.isdigit())
    return int(digits) if digits else 0


# ---------------------------------------------------------------- reading rows


def _entry(row: dict[str, Any]) -> ChartEntry:
    return ChartEntry(
        id=row["id"], patient=row["patient_mrn"], version=int(row["version"]), kind=row["kind"], text=row["text"],
        date=row["date"], status=row["status"], encounter_id=row["encounter_id"],
        source_record=row["source_record"], code=row["code"], code_system=row["code_system"], dose=row["dose"],
        route=row["route"], frequency=row["frequency"], start=row["start_date"], stop=row["stop_date"],
        stop_reason=row["stop_reason"],
        referral_to=row["referral_to"], referral_to_kind=row["referral_to_kind"],
        referral_reason=row["referral_reason"], details=json.loads(row["details"] or "{}"), author=row["author"],
        correction_reason=row["correction_reason"], saved_at=row["created_at"], saved_by=row["created_by"],
        imported=row["source_key"] is not None, source_purged=bool(row["source_purged"]),
    )


def load_entry(session: Session, entry_id: str) -> ChartEntry:
    """The current version of an entry (unaudited)."""
    wanted = normalise_id(entry_id, "c")
    row = session.store.chart_entries.current(wanted)
    if row is None:
        raise NotFound(f"No chart entry '{wanted}'.", "See a patient's entries with 'chartvault patient show MRN'.")
    return _entry(row)


def load_entries(
    session: Session,
    mrn: str,
    kinds: Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    include_retracted: bool = False,
) -> list[ChartEntry]:
    """Current versions of a patient's entries, by date (unaudited: callers check policy and audit)."""
    wanted = [k for k in (kinds or []) if k]
    rows = session.store.chart_entries.current_of_patient(mrn, wanted, date_from, date_to, include_retracted)
    return [_entry(r) for r in rows]


def _records_of(session: Session, mrn: str) -> list[RecordRef]:
    rows = session.store.records.filed_to(mrn)
    return [RecordRef(r[0], r[1], r[2], r[3]) for r in rows if session.may_see_record(r[0], mrn, Action.SEARCH)]


# ---------------------------------------------------------------- reading (policy + audit)


def _check_kinds(kinds: Iterable[str] | None) -> list[str]:
    return [rules.check_choice("kind", k, rules.KINDS, "the entry kind") for k in (kinds or [])]


def list_entries(
    session: Session,
    mrn: str,
    kinds: Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    include_retracted: bool = False,
) -> list[ChartEntry]:
    """A patient's chart entries (current versions), optionally of some kinds and in a date range."""
    patient = load_patient(session, mrn)
    wanted = _check_kinds(kinds)
    day_from = rules.iso(rules.parse_day("from", date_from, "the first date"))
    day_to = rules.iso(rules.parse_day("to", date_to, "the last date"))
    with session.transaction():
        session.require_patient(Action.VIEW_RECORD, patient=patient.mrn, audit="chart_view",
                                details={"what": "entries", "kinds": wanted or None})
    return load_entries(session, patient.mrn, wanted, day_from, day_to, include_retracted)


def patient_chart(session: Session, mrn: str, include_retracted: bool = False) -> PatientChart:
    """A patient with encounters, entries and the records filed to them (audited once as chart_view)."""
    patient = load_patient(session, mrn)
    with session.transaction():
        session.require_patient(Action.VIEW_RECORD, patient=patient.mrn, audit="chart_view",
                                details={"what": "chart"})
    return PatientChart(
        patient=patient,
        encounters=load_encounters(session, patient.mrn, include_retracted),
        entries=load_entries(session, patient.mrn, include_retracted=include_retracted),
        records=_records_of(session, patient.mrn),
    )


def patient_timeline(session: Session, mrn: str, include_retracted: bool = False) -> list[TimelineItem]:
    """Encounters and entries of a patient in date order (audited as chart_view)."""
    return patient_chart(session, mrn, include_retracted).timeline()


def get_entry(session: Session, entry_id: str) -> ChartEntry:
    """The current version of one entry (audited)."""
    entry = load_entry(session, entry_id)
    with session.transaction():
        session.require_patient(Action.VIEW_RECORD, patient=entry.patient, audit="chart_view",
                                details={"what": "entry", "entry": entry.id})
    return entry


def entry_history(session: Session, entry_id: str) -> list[ChartEntry]:
    """Every version of an entry, oldest first: who saved each, when, and why (audited)."""
    current = load_entry(session, entry_id)
    with session.transaction():
        session.require_patient(Action.VIEW_RECORD, patient=current.patient, audit="chart_history",
                                details={"entry": current.id})
    return [_entry(r) for r in session.store.chart_entries.versions(current.id)]


def entry_change_events(session: Session, mrn: str) -> list[ChangeEvent]:
    """Each saved version of the patient's entries as a change (unaudited; for history.patient_history)."""
    events: list[ChangeEvent] = []
    previous: dict[str, dict[str, Any]] = {}
    for row in session.store.chart_entries.versions_of_patient(mrn):
        entry = _entry(row)
        before = previous.get(entry.id, {})
        after = entry.fields()
        changes = {k: [before.get(k), after[k]] for k in ENTRY_FIELDS if before.get(k) != after[k]
                   and not (before == {} and after[k] in (None, {}, ""))}
        action = "corrected" if entry.version > 1 else ("imported" if entry.imported else "created")
        events.append(ChangeEvent(entry.saved_at, entry.saved_by, "entry", entry.id, entry.version, action,
                                  entry.correction_reason, changes))
        previous[entry.id] = after
    return events


# ---------------------------------------------------------------- validation


def _fail(field_name: str, problem: str, hint: str = "") -> ValidationError:
    return ValidationError(OPTION.get(field_name, field_name), problem, hint)


def _parse(field_name: str, values: dict[str, Any], changed: set[str], what: str, required: bool = False) -> Any:
    """A date field: strictly parsed when the person gave it, leniently when it was stored before."""
    if field_name in changed:
        return rules.parse_day(OPTION.get(field_name, field_name), values.get(field_name), what, required=required)
    return rules.stored_day(values.get(field_name))


def validate_entry(
    session: Session,
    patient: Patient,
    values: dict[str, Any],
    changed: set[str],
    *,
    exclude: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Check an entry's fields as they will be stored; rules run for what changed (all, for a new entry).

    Returns the cleaned values (dates as YYYY-MM-DD, the covering encounter filled in).
    """
    out = dict(values)
    if "kind" in changed:
        out["kind"] = rules.check_choice("kind", values.get("kind"), rules.KINDS, "the entry kind")
    kind = out["kind"]
    if "text" in changed:
        what = "the medication's name" if kind == "medication" else f"the {kind}'s description"
        out["text"] = rules.check_text("text", values.get("text"), what)
    if "status" in changed or "kind" in changed:
        status = values.get("status") or _stopped_by_reason(kind, values) or default_status(kind)
        out["status"] = rules.check_choice("status", status, rules.ENTRY_STATUSES, "status")
    dob = rules.stored_day(patient.dob)
    date = _parse("date", values, changed, "the date", required="date" in changed)
    if "date" in changed:
        rules.check_not_future("date", date, "the date")
        rules.check_after("date", date, dob, "the date", "the patient's birth date")
        out["date"] = rules.iso(date)
    for name in ("author",):
        if name in changed:
            out[name] = rules.check_text(name, values.get(name), "the author", required=False, limit=rules.MAX_FIELD)
    _check_kind_fields(kind, values, changed)
    if kind == "medication":
        _check_medication(values, changed, out, date, dob)
    if kind == "referral":
        _check_referral(values, changed, out)
    if "code" in changed or "kind" in changed:
        out["code"], out["code_system"] = _check_code(session, kind, values.get("code"), values.get("code_system"))
    if "source_record" in changed and values.get("source_record"):
        out["source_record"] = _check_source(session, patient, str(values["source_record"]))
    if changed & {"encounter_id", "date"} and out["status"] != "entered_in_error":
        out["encounter_id"] = _check_encounter(session, patient, out.get("date"), values.get("encounter_id"),
                                               explicit="encounter_id" in changed and bool(values.get("encounter_id")))
    if changed & {"kind", "text", "date", "status"} and out["status"] != "entered_in_error" and not force:
        _refuse_duplicate(session, patient.mrn, out, exclude)
    return out


def _kind_only_fields(kind: str) -> tuple[str, ...]:
    """The fields of other kinds that an entry of `kind` may not have."""
    return (() if kind == "medication" else MEDICATION_ONLY) + (() if kind == "referral" else REFERRAL_ONLY)


def _stopped_by_reason(kind: str, values: dict[str, Any]) -> str | None:
    """A medication given a stop reason and a stop date (today or before) but no status was stopped: it is not
    shown as active beside its reason. Without a stop date the reason is refused as before (_check_stop_reason)."""
    stop = values.get("stop")
    if kind != "medication" or not values.get("stop_reason") or not stop:
        return None
    try:
        day = rules.parse_day("stop", str(stop), "the stop date")
    except ValidationError:
        return None  # the stop date's own check names it
    return "stopped" if day is not None and day <= rules.today() else None


def _check_kind_fields(kind: str, values: dict[str, Any], changed: set[str]) -> None:
    for name in MEDICATION_ONLY:
        if kind != "medication" and values.get(name) and (name in changed or "kind" in changed):
            raise _fail(name, f"only medication entries have a {name.replace('_', ' ')} (this is a {kind}).",
                        "Leave it out, or use --kind medication.")
    for name in REFERRAL_ONLY:
        if kind != "referral" and values.get(name) and (name in changed or "kind" in changed):
            label = {"referral_to": "referral target", "referral_to_kind": "referral target kind"}.get(name, name)
            raise _fail(name, f"only referral entries have a {label.replace('_', ' ')} (this is a {kind}).",
                        "Leave it out, or use --kind referral.")


def _check_medication(values: dict[str, Any], changed: set[str], out: dict[str, Any], date: Any, dob: Any) -> None:
    for name, limit in (("dose", 60), ("route", 60), ("frequency", 60)):
        if name in changed:
            out[name] = rules.check_text(name, values.get(name), f"the {name}", required=False, limit=limit)
    if changed & {"stop_reason", "kind"}:
        out["stop_reason"] = rules.check_text("stop_reason", values.get("stop_reason"), "the stop reason",
                                              required=False, limit=STOP_REASON_LIMIT)
    if changed & {"start", "stop", "date", "kind"}:
        _check_medication_dates(values, changed, out, date, dob)
    if changed & {"stop_reason", "stop", "status", "kind"}:
        _check_stop_reason(changed, out)


def _check_medication_dates(values: dict[str, Any], changed: set[str], out: dict[str, Any], date: Any,
                            dob: Any) -> None:
    start = _parse("start", values, changed, "the start date")
    if start is None and "date" in changed:
        start = date  # a medication starts on its date unless told otherwise
    stop = _parse("stop", values, changed, "the stop date")
    rules.check_not_future("start", start, "the start date")
    rules.check_after("start", start, dob, "the start date", "the patient's birth date")
    if stop is not None and start is not None and stop < start:
        raise _fail("stop", f"the stop date {stop.isoformat()} is before the start date {start.isoformat()}.",
                    "Check both dates.")
    if "start" in changed or out.get("start") is None:
        out["start"] = rules.iso(start)
    if "stop" in changed:
        out["stop"] = rules.iso(stop)


def _check_stop_reason(changed: set[str], out: dict[str, Any]) -> None:
    """A stop reason says why a medication was stopped: it needs a stop date or status stopped."""
    if not out.get("stop_reason") or out.get("stop") or out.get("status") in ("stopped", "entered_in_error"):
        return
    if "stop_reason" in changed:
        raise _fail("stop_reason", "a stop reason needs a stop date or status stopped (this medication has neither).",
                    "Give the stop date with it (--stop DATE) or --status stopped, or leave the reason out.")
    name = "stop" if "stop" in changed else "status"
    raise _fail(name, f"the medication keeps its stop reason '{out['stop_reason']}', which needs a stop date or "
                "status stopped.", "Keep the stop date or the status, or clear the reason too (--stop-reason '').")


def _check_referral(values: dict[str, Any], changed: set[str], out: dict[str, Any]) -> None:
    if changed & {"referral_to", "kind"}:
        target = rules.check_text("to", values.get("referral_to"), "the referral target (a doctor or a facility)",
                                  limit=rules.MAX_FIELD)
        out["referral_to"] = target
    if changed & {"referral_to_kind", "kind"}:
        out["referral_to_kind"] = rules.check_choice(
            "to_kind", values.get("referral_to_kind") or "doctor", rules.REFERRAL_TARGETS, "the referral target kind"
        )
    if changed & {"referral_reason", "kind"}:
        out["referral_reason"] = rules.check_text("referral_reason", values.get("referral_reason"),
                                                  "the reason for the referral")


def _check_code(session: Session, kind: str, code: str | None, system: str | None) -> tuple[str | None, str | None]:
    if not code:
        return None, None
    if kind in ("diagnosis", "complication") and system in (None, "", ICD10):
        return rules.check_diagnosis_code(session.store, "code", code), ICD10
    return rules.check_procedure_code("code", code), system or None


def _check_source(session: Session, patient: Patient, record_id: str) -> str:
    rid = record_id.strip()
    row = session.store.records.patient_and_date(rid)
    if row is None:
        raise _fail("source_record", f"no record '{rid}'.", "Find record ids with 'chartvault search'.")
    owner_mrn = row[0]
    if owner_mrn != patient.mrn:
        owner = f"patient {owner_mrn}" if owner_mrn else "no patient (it needs filing)"
        raise _fail("source_record", f"record {rid} belongs to {owner}, not to {patient.mrn}.",
                    "Cite a record of this patient, or file the record first.")
    return rid


def _check_encounter(session: Session, patient: Patient, date: str | None, encounter_id: str | None,
                     explicit: bool) -> str | None:
    """The encounter the entry belongs to; its date must fall in it (and in the stay, if the patient has one)."""
    if explicit and encounter_id:
        try:
            encounter = load_encounter(session, encounter_id)
        except NotFound:
            raise _fail("encounter_id", f"no encounter '{encounter_id}'.",
                        f"See the encounters with 'chartvault patient show {patient.mrn}'.") from None
        if encounter.patient != patient.mrn:
            raise _fail("encounter_id", f"encounter {encounter.id} belongs to patient {encounter.patient}.",
                        "Name an encounter of this patient.")
        if encounter.status != "active":
            raise _fail("encounter_id", f"encounter {encounter.id} was entered in error.", "Name another encounter.")
        if date and not encounter.covers(date):
            raise _fail("date", f"{date} is outside encounter {encounter.describe()}.",
                        "Check the date, or name the right encounter.")
        return encounter.id
    found = covering_encounter(session, patient.mrn, date)
    if found is None and date and patient.admitted:
        day, admitted = rules.stored_day(date), rules.stored_day(patient.admitted)
        last = rules.stored_day(patient.discharged) or rules.today()
        if day is not None and admitted is not None and not admitted <= day <= last:
            raise _fail(
                "date",
                f"{date} is outside the patient's stay ({patient.admitted} to {patient.discharged or 'now'}) "
                "and outside every encounter.",
                f"Check the date; for another visit, add it first with 'chartvault encounter add {patient.mrn} "
                f"--kind visit --start {date}'.",
            )
    return found


def _refuse_duplicate(session: Session, mrn: str, values: dict[str, Any], exclude: str | None) -> None:
    folded = rules.fold(values.get("text"))
    kind, date = values["kind"], values.get("date")
    for entry_id, text, _source in session.store.chart_entries.same_day(mrn, kind, date):
        if entry_id != exclude and rules.fold(text) == folded:
            raise _fail(
                "text",
                f"entry {entry_id} already records this {kind} on {date or 'an unknown date'}.",
                f"Correct {entry_id} instead (chartvault chart correct {entry_id}), or add with --force "
                "if it really happened twice.",
            )


# ---------------------------------------------------------------- writing


def insert_entry(session: Session, mrn: str, values: dict[str, Any], *, source_key: str | None = None) -> str:
    """Insert version 1 of an entry (already validated); inside the caller's transaction."""
    n, entry_id = next_id(session, "entry")
    now = now_iso()
    session.store.chart_entries.insert(n, entry_id, mrn, values.get("source_record"), source_key, now,
                                       session.user.name)
    _insert_version(session, entry_id, 1, values, None, now)
    return entry_id


def _insert_version(session: Session, entry_id: str, version: int, values: dict[str, Any], reason: str | None,
                    now: str) -> None:
    session.store.chart_entries.insert_version(entry_id, version, {k: values.get(k) for k in ENTRY_FIELDS},
                                               reason, now, session.user.name)
    sign_version(session, entry_id, version)  # the writer's signature, checked by `verify`


def add_entry(
    session: Session,
    mrn: str,
    kind: str,
    text: str,
    date: str,
    *,
    force: bool = False,
    **fields: Any,
) -> ChartEntry:
    """Add an entry to a patient's chart (validated, audited). `fields` are ChartEntry field names:
    status, encounter_id, source_record, code, dose, route, frequency, start, stop, referral_to,
    referral_to_kind, referral_reason. A likely duplicate (same kind, text and date) is refused unless `force`."""
    unknown = set(fields) - set(ENTRY_FIELDS) - {"details"}
    if unknown:
        raise UserError(f"Chart entries have no field {', '.join(sorted(unknown))}.", "")
    patient = load_patient(session, mrn)
    session.require_patient(Action.EDIT_CHART, patient=patient.mrn)
    values: dict[str, Any] = {k: None for k in ENTRY_FIELDS}
    values.update({k: v for k, v in fields.items() if v not in (None, "")})
    values.update(kind=kind, text=text, date=date, author=fields.get("author") or session.user.name)
    with session.transaction():
        clean = validate_entry(session, patient, values, set(ENTRY_FIELDS), force=force)
        entry_id = insert_entry(session, patient.mrn, clean)
        session.audit("chart_add", patient=patient.mrn, record=clean.get("source_record"),
                      details={"entry": entry_id, "kind": clean["kind"], "forced": force or None,
                               "signed": saved_digest(session, entry_id, 1)})  # what verify holds it to
    return load_entry(session, entry_id)


def correct_entry(
    session: Session,
    entry_id: str,
    reason: str,
    expect_version: int | None = None,
    *,
    force: bool = False,
    **changes: Any,
) -> ChartEntry:
    """Save a corrected version of an entry, with the reason.

    `changes` are ChartEntry field names with their new values (None: unchanged;
    "" clears an optional field). `expect_version` is the version the edit
    started from; if another version was saved since, ConcurrentEdit is raised
    and nothing is saved. To retract an entry, set status="entered_in_error".
    """
    unknown = set(changes) - set(ENTRY_FIELDS)
    if unknown:
        raise UserError(f"Chart entries have no field {', '.join(sorted(unknown))}.", "")
    current = load_entry(session, entry_id)
    patient = load_patient(session, current.patient)
    session.require_patient(Action.EDIT_CHART, patient=patient.mrn)
    why = rules.check_text("reason", reason, "the reason for the correction")
    assert why is not None
    if len(why) < MIN_REASON:
        raise ValidationError("reason", f"'{why}' does not say why.", "Say in a few words why the entry was wrong.")
    with session.transaction():
        current = load_entry(session, current.id)
        check_version(f"Entry {current.id}", current.version, expect_version, current.saved_by, current.saved_at,
                      f"chartvault chart history {current.id}")
        before = current.fields()
        given = {k: (None if v == "" else v) for k, v in changes.items() if v is not None}
        if given.get("kind") not in (None, before.get("kind")):
            # It never was a medication (or a referral): what only the old kind has goes with it (the old version
            # keeps it), unless given again; otherwise every medication, its start at least, refused the new kind.
            for name in _kind_only_fields(str(given["kind"])):
                if before.get(name) and name not in given:
                    given[name] = None
        merged = {**before, **given}
        changed = {k for k in given if before.get(k) != given[k]}
        if not changed:
            raise UserError(f"Nothing to correct in entry {current.id}: the values are the ones it has.",
                            "Give at least one new value.")
        clean = validate_entry(session, patient, merged, changed, exclude=current.id, force=force)
        version = current.version + 1
        if not session.store.chart_entries.advance(current.id, current.version):
            raise ConcurrentEdit(f"Entry {current.id} was changed while you edited it; nothing was saved.",
                                 f"Review it with 'chartvault chart history {current.id}' and try again.")
        _insert_version(session, current.id, version, clean, why, now_iso())
        session.audit("chart_correct", patient=patient.mrn, reason=why,
                      details={"entry": current.id, "version": version,
                               "fields": sorted(k for k in ENTRY_FIELDS if before.get(k) != clean.get(k)),
                               "signed": saved_digest(session, current.id, version)})
    return load_entry(session, current.id)


__all__ = [
    "ChartEntry",
    "PatientChart",
    "RecordRef",
    "TimelineItem",
    "add_entry",
    "correct_entry",
    "default_status",
    "entry_history",
    "get_entry",
    "list_entries",
    "load_entries",
    "load_entry",
    "patient_chart",
    "patient_timeline",
]
