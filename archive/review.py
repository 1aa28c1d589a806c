"""The review queue: what does not add up waits for a technician, kept and searchable, out of charts and stats.

Beside "needs filing" and "needs transcription". `check_record` looks at one
imported or filed record and queues what a careful technician would stop at:
- conflicting demographics for one MRN across sources (birth date, sex, and a
  name that differs beyond spelling variants), each item citing both sources;
- placeholders and malformed values: an identifier or code equal to its field
  name ("MRN", `code^Diagnosis`), a code absent from the ICD-10-CM code set;
- impossible or implausible dates: before 1900, in the future, an admission
  before birth, a discharge before its admission;
- a record whose patient name does not match the chart it is filed to.

What is held while an item is open: a questionable fact is not landed on the
chart (`holds = 'fact'`, by its source key); a record that may be misfiled
lands nothing and its confirmed codes are left out of statistics
(`holds = 'record'`); a questionable demographic is emptied on the patient
(`holds = 'patient'`; both values are kept in the item). The record itself stays
filed and searchable. `resolve_review` accepts a value, corrects it, refiles the
record to another patient, or rejects a fact for good; every decision is audited.
Above archive.charts and archive.records; imported by archive.intake and archive.filing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Any

from archive.audit import now_iso
from archive.charts import rules
from archive.charts.changes import record_change
from archive.charts.landing import FACT_KINDS, ICD10_SYSTEMS, fact_keys, land_record
from archive.errors import BadInput, ConcurrentEdit, NotFound
from archive.plural import counted
from archive.policy import Action
from archive.review_rules import date_problem, is_placeholder, same_person_name, sex_code
from indexer import icd10

if TYPE_CHECKING:
    from archive.session import Session

ACTIONS = ("accept", "correct", "refile", "reject")
STATUSES = ("open", "accepted", "corrected", "refiled", "rejected")


@dataclass(frozen=True)
class ReviewItem:
    """One thing that does not add up: what conflicts with what, and where each value came from."""

    id: int
    record_id: str
    patient: str | None
    kind: str  # demographics | placeholder | code | date | misfiled | encounter
    field: str  # dob, sex, name, mrn, code, date, end_date, record_date, encounter
    value: str | None  # this record's word
    other_value: str | None  # what it conflicts with (None: a rule, e.g. "before 1900")
    other_source: str | None  # a record id, "chart", "code set", "today", ...
    message: str
    holds: str  # fact | record | patient
    fact_key: str
    status: str
    created_at: str
    resolved_by: str | None = None
    resolved_at: str | None = None
    resolution: dict[str, Any] = dataclass_field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SourceCite:
    """A source an item cites: a record (id, file name, type, date), or a named rule."""

    label: str
    record_id: str | None = None
    filename: str | None = None
    doc_type: str | None = None
    date: str | None = None

    def describe(self) -> str:
        if self.record_id is None:
            return self.label
        parts = [f"record {self.record_id}", self.filename or "", self.doc_type or "", self.date or ""]
        return f"{self.label}: " + ", ".join(p for p in parts if p)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReviewDetail:
    item: ReviewItem
    this: SourceCite
    other: SourceCite | None

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item.to_json(), "this": self.this.to_json(),
                "other": self.other.to_json() if self.other else None}


def _item(row: dict[str, Any]) -> ReviewItem:
    return ReviewItem(
        id=int(row["id"]), record_id=row["record_id"], patient=row["patient_mrn"], kind=row["kind"],
        field=row["field"], value=row["value"], other_value=row["other_value"], other_source=row["other_source"],
        message=row["message"], holds=row["holds"], fact_key=row["fact_key"] or "", status=row["status"],
        created_at=row["created_at"], resolved_by=row["resolved_by"], resolved_at=row["resolved_at"],
        resolution=json.loads(row["resolution"] or "{}"),
    )


# -- the checks ----------------------------------------------------------------------------------------


def code_problem(session: Session, fact: dict[str, Any]) -> tuple[str, str, str] | None:
    """(kind, field, why) when a condition's code or text is a placeholder, or its ICD-10-CM code is not in
    the code set; None when it is fine (or not an ICD-10-CM coded condition)."""
    code, text = fact.get("code"), fact.get("text")
    if is_placeholder(code):
        return "placeholder", "code", f"the code '{code}' is the name of its field, not a code"
    if is_placeholder(text):
        return "placeholder", "code", f"the diagnosis text '{text}' is the name of its field"
    if not code or str(fact.get("system") or "").lower() not in ICD10_SYSTEMS:
        return None
    norm = icd10.normalize_code(str(code))
    if norm is None or "-" in norm:
        return "code", "code", f"'{code}' is not shaped like an ICD-10-CM code"
    if not _code_known(session, norm):
        return "code", "code", f"{norm} is not in the ICD-10-CM code set"
    return None


def _code_known(session: Session, code: str) -> bool:
    if session.store.coding.code_set_loaded():
        info = session.store.coding.lookup(code)
        return info is not None and info.kind not in ("chapter", "block")
    return code in icd10.known_codes()


# -- finding and holding -----------------------------------------------------------------------------


def check_record(session: Session, record_id: str) -> list[ReviewItem]:
    """Queue what does not add up in one record (inside the caller's transaction; idempotent: an item is
    queued once per record, fact and field). Holds what it queues. No policy check of its own: it is part
    of importing or filing, which the caller checked. Returns the new items."""
    row = session.store.records.get(record_id)
    if row is None:
        return []
    meta = json.loads(row["metadata"] or "{}")
    content = meta.get("patient_in_content") or {}
    mrn = row["patient_mrn"]
    today = rules.today()
    found: list[dict[str, Any]] = []

    def queue(kind: str, fld: str, message: str, holds: str, value: Any = None, other: Any = None,
              other_source: str | None = None, fact_key: str = "") -> None:
        found.append({"record_id": row["id"], "patient_mrn": mrn, "kind": kind, "field": fld,
                      "value": None if value is None else str(value), "other_value": None if other is None
                      else str(other), "other_source": other_source, "message": message, "holds": holds,
                      "fact_key": fact_key})

    content_mrn = content.get("mrn")
    if mrn:
        _close_filed_placeholders(session, row["id"], mrn)
    if is_placeholder(content_mrn) and not mrn:
        queue("placeholder", "mrn", f"the MRN '{content_mrn}' is the name of its field, not an MRN",
              "record", content_mrn, None, "the MRN field")
    problem = date_problem(row["date"], today)
    if problem:
        queue("date", "record_date", f"the record's date {problem}", "record", row["date"], None, "the calendar")
    patient = session.store.patients.row(mrn) if mrn else None
    content_is_patient = bool(mrn) and content_mrn == mrn
    dob = content.get("dob") if content_is_patient else None
    if patient is not None:
        _check_demographics(session, row, patient, content if content_is_patient else {}, queue, today)
        if not content_is_patient and content.get("name"):
            chart_name = patient["name"]
            if chart_name and not same_person_name(content["name"], chart_name):
                queue("misfiled", "name", f"the record is about '{content['name']}' but is filed to "
                      f"{mrn} ({chart_name})", "record", content["name"], chart_name, "chart")
    birth = rules.stored_day(dob if dob and not date_problem(dob, today) else
                             (patient["dob"] if patient is not None else None))
    _check_facts(session, row, birth, queue, today)
    new: list[ReviewItem] = []
    at = now_iso()
    for values in found:
        item_id = session.store.review.add(values, at)
        if item_id is None:
            continue
        stored = session.store.review.item(item_id)
        assert stored is not None
        new.append(_item(stored))
    if mrn:
        for fld in session.store.review.held_patient_fields(mrn):
            _hold_patient_field(session, mrn, fld)
    if new:
        session.audit("review_queued", record=row["id"], patient=mrn,
                      details={"items": [i.id for i in new], "kinds": sorted({i.kind for i in new})})
    return new


def _close_filed_placeholders(session: Session, record_id: str, mrn: str) -> None:
    """A record queued for its placeholder MRN was filed (from needs filing): that item is decided."""
    for row in session.store.review.of_record(record_id):
        if row["field"] == "mrn" and row["status"] == "open":
            resolution = {"action": "refile", "mrn": mrn, "via": "filed"}
            if session.store.review.resolve(int(row["id"]), "refiled", session.user.name, now_iso(), resolution):
                session.audit("review_resolve", record=record_id, patient=mrn,
                              details={"item": int(row["id"]), "kind": row["kind"], "field": "mrn", **resolution})


def _hold_patient_field(session: Session, mrn: str, fld: str) -> None:
    before = session.store.patients.hold_field(mrn, fld)
    if before is not None:
        record_change(session, mrn, "patient", mrn, _patient_version(session, mrn), "held",
                      {fld: before}, {fld: None}, "held for review: sources disagree")


def _patient_version(session: Session, mrn: str) -> int:
    row = session.store.patients.row(mrn)
    return int(row["version"]) if row is not None and row["version"] is not None else 1


def _check_demographics(session: Session, row: dict[str, Any], patient: dict[str, Any], content: dict[str, Any],
                        queue: Any, today: dt.date) -> None:
    """The content's birth date, sex and name against the patient's (and whoever gave those)."""
    mrn = patient["mrn"]
    dob = content.get("dob")
    if dob:
        problem = date_problem(dob, today)
        if problem:
            queue("date", "dob", f"birth date {problem}", "patient", dob, None, "the calendar")
    others = _other_sources(session, mrn, row["id"])
    for fld, label in (("dob", "birth date"), ("sex", "sex"), ("name", "name")):
        mine = content.get(fld)
        if not mine or (fld == "dob" and date_problem(mine, today)):
            continue
        for other_id, theirs in others.get(fld, []):
            if _agree(fld, mine, theirs):
                continue
            holds = "record" if fld == "name" else "patient"
            queue("demographics", fld, f"{label} {mine} here, {theirs} in record {other_id} (same MRN {mrn})",
                  holds, mine, theirs, other_id)
            break
        else:
            chart = patient[fld]
            if chart and not others.get(fld) and not _agree(fld, mine, chart):
                holds = "record" if fld == "name" else "patient"
                queue("demographics", fld, f"{label} {mine} here, {chart} on the chart of {mrn}", holds, mine,
                      chart, "chart")


def _agree(fld: str, a: str, b: str) -> bool:
    if fld == "name":
        return same_person_name(a, b)
    if fld == "sex":
        return sex_code(a) == sex_code(b) or "U" in (sex_code(a), sex_code(b))
    return str(a)[:10] == str(b)[:10]


def _other_sources(session: Session, mrn: str, record_id: str) -> dict[str, list[tuple[str, str]]]:
    """field -> [(record id, value)] the patient's records imported before this one gave, in import order
    (a conflict is this record's to explain: the earlier source stood first)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for rid, _name, meta_json in session.store.records.demographics_of(mrn):
        if rid == record_id:
            break
        content = json.loads(meta_json).get("patient_in_content") or {}
        if content.get("mrn") != mrn:
            continue
        for fld in ("dob", "sex", "name"):
            value = content.get(fld)
            if value and not (fld == "dob" and date_problem(value, rules.today())):
                out.setdefault(fld, []).append((rid, str(value)))
    return out


def _check_facts(session: Session, row: dict[str, Any], birth: dt.date | None, queue: Any, today: dt.date) -> None:
    facts = [f for f in json.loads(row["facts"] or "[]") if isinstance(f, dict)]
    for fact, key in zip(facts, fact_keys(facts), strict=True):
        if key is None:
            continue
        what = "admission" if fact.get("kind") == "encounter" else FACT_KINDS.get(str(fact.get("kind")), "fact")
        label = f"{what} '{fact.get('text') or ''}'"
        start, end = fact.get("date"), fact.get("end_date")
        problem = date_problem(start, today) or date_problem(end, today)
        if problem:
            queue("date", "date", f"{label}: date {problem}", "fact", start if date_problem(start, today) else end,
                  None, "the calendar", key)
            continue
        s_day, e_day = rules.stored_day(start), rules.stored_day(end)
        if s_day and e_day and e_day < s_day:
            ends = "discharge" if fact.get("kind") == "encounter" else "end"
            queue("date", "end_date", f"{label}: {ends} {end} is before its start {start}", "fact", end, start,
                  "the same fact", key)
            continue
        if birth and s_day and s_day < birth:
            queue("date", "date", f"{label}: {start} is before the patient's birth {birth.isoformat()}", "fact",
                  start, birth.isoformat(), "the patient's birth date", key)
            continue
        if fact.get("kind") == "condition":
            problem_code = code_problem(session, fact)
            if problem_code:
                kind, fld, why = problem_code
                queue(kind, fld, f"{label}: {why}", "fact", fact.get("code"), None, "the ICD-10-CM code set", key)


def check_outcomes(session: Session, outcomes: list[Any]) -> None:
    """Ingest hook (inside the import's commit, before the landing): check each imported record; a failure
    is contained in a savepoint and noted on the outcome, never failing the import."""
    for out in outcomes:
        if getattr(out, "status", None) != "imported" or not out.record_id:
            continue
        try:
            with session.store.chart_entries.savepoint("review_check"):
                items = check_record(session, out.record_id)
        except Exception as exc:  # noqa: BLE001 - the record is safely imported; the check can be re-run
            out.warnings.append(f"review check failed ({type(exc).__name__})")
            continue
        if items:
            out.warnings.append(f"{counted(len(items), 'item')} for review: 'chartvault queue review list'")


def queue_undecided_encounter(session: Session, record_id: str, mrn: str | None, code: str, why: str) -> None:
    """Ask the technician which encounter a confirmed code belongs to (inside the caller's transaction)."""
    new = session.store.review.add(
        {"record_id": record_id, "patient_mrn": mrn, "kind": "encounter", "field": "encounter", "value": code,
         "other_value": None, "other_source": "the record's encounters",
         "message": f"which encounter does {code} belong to? {why}", "holds": "fact", "fact_key": f"code:{code}"},
        now_iso(),
    )
    if new is not None:
        session.audit("review_queued", record=record_id, patient=mrn, details={"items": [new], "kinds": ["encounter"]})


# -- the technician's side ---------------------------------------------------------------------------


def list_review(session: Session, status: str = "open", limit: int = 500) -> list[ReviewItem]:
    """Items of the review queue (open ones by default; 'all' for every decision too)."""
    session.require(Action.FILE_RECORD)
    if status != "all" and status not in STATUSES:
        raise BadInput(f"No review status '{status}'.", f"Use one of: {', '.join(STATUSES)}, all.")
    items = [_item(r) for r in session.store.review.items(None if status == "all" else status, limit)]
    return [i for i in items if session.may_see_record(i.record_id, i.patient, Action.FILE_RECORD)]


def _load(session: Session, item_id: int | str) -> ReviewItem:
    try:
        number = int(str(item_id).lstrip("#q"))
    except ValueError:
        raise BadInput(f"'{item_id}' is not a review item number.",
                       "See the numbers with 'chartvault queue review list'.") from None
    row = session.store.review.item(number)
    if row is None:
        raise NotFound(f"No review item {number}.", "See the open items with 'chartvault queue review list'.")
    return _item(row)


def _cite(session: Session, label: str, record_id: str | None) -> SourceCite:
    row = session.store.records.get(record_id) if record_id else None
    if row is None:
        return SourceCite(label if record_id is None else f"{label}: {record_id}")
    return SourceCite(label, row["id"], row["filename"], row["doc_type"], row["date"])


def show_review(session: Session, item_id: int | str) -> ReviewDetail:
    """One item with both sources cited (this record, and the record or rule it conflicts with); audited."""
    item = _load(session, item_id)
    session.require(Action.FILE_RECORD, record=item.record_id, patient=item.patient)
    other = None
    if item.other_source:
        is_record = session.store.records.get(item.other_source) is not None
        other = _cite(session, "conflicts with", item.other_source if is_record else None) if is_record \
            else SourceCite(f"conflicts with {item.other_source}")
    with session.transaction():
        session.audit("review_show", record=item.record_id, patient=item.patient, details={"item": item.id})
    return ReviewDetail(item, _cite(session, "this record", item.record_id), other)


def resolve_review(session: Session, item_id: int | str, action: str, value: str | None = None,
                   reason: str | None = None, use_other: bool = False) -> ReviewItem:
    """Decide an item: `accept` this record's value (or, `use_other`, the value it conflicts with), `correct`
    it to `value`, `refile` the record to the patient `value` (an MRN), or `reject` a held fact for good.
    What was held joins the chart; the decision is audited."""
    if action not in ACTIONS:
        raise BadInput(f"No review action '{action}'.", f"Use one of: {', '.join(ACTIONS)}.")
    item = _load(session, item_id)
    session.require(Action.FILE_RECORD, record=item.record_id, patient=item.patient)
    if item.status != "open":
        raise BadInput(f"Review item {item.id} was decided already ({item.status} by {item.resolved_by}).",
                       "See it with 'chartvault queue review show'.")
    text = (value or "").strip()
    if action in ("correct", "refile") and not text:
        what = "the corrected value" if action == "correct" else "the MRN to file the record to"
        raise BadInput(f"'{action}' needs {what}.", f"Give it with --value, e.g. --value {_example(item, action)}.")
    if action == "reject" and item.holds != "fact":
        raise BadInput(f"Only a held fact can be rejected; item {item.id} is about the {item.field}.",
                       "Accept a value, correct it, or refile the record.")
    why = rules.check_text("reason", reason, "the reason", required=False)
    with session.transaction():
        status = {"accept": "accepted", "correct": "corrected", "refile": "refiled", "reject": "rejected"}[action]
        chosen = item.other_value if use_other else item.value
        resolution: dict[str, Any] = {"action": action}
        if action == "correct":
            resolution["value"] = _checked_value(session, item, text)
            if item.field == "code":
                info = session.store.coding.lookup(str(resolution["value"]))
                resolution["text"] = info.description if info is not None else None
                resolution["system"] = "ICD-10-CM"
        elif action == "accept":
            resolution["value"] = chosen
        elif action == "refile":
            resolution["mrn"] = text
        if not session.store.review.resolve(item.id, status, session.user.name, now_iso(), resolution):
            raise ConcurrentEdit(f"Review item {item.id} was decided by someone else meanwhile.",
                                 "See it with 'chartvault queue review show'.")
        if item.kind == "encounter":
            _place_code(session, item, str(resolution.get("value") or "") if action == "correct" else None)
        elif action == "refile":
            if item.holds == "patient" and item.patient and item.other_value:
                session.store.patients.fill_field(item.patient, item.field, item.other_value)
            refile_record(session, item.record_id, text)
        elif item.holds == "patient" and item.patient and action in ("accept", "correct"):
            _set_patient_field(session, item, str(resolution["value"]) if resolution["value"] else None, why)
        elif item.field == "mrn" and action in ("accept", "correct"):
            refile_record(session, item.record_id, str(resolution["value"]))
        elif item.holds == "record" and item.field == "name" and action == "correct" and item.patient:
            _set_patient_field(session, item, str(resolution["value"]), why)
        if action != "refile" and item.field != "mrn" and item.kind != "encounter":
            land_record(session, item.record_id)
        session.audit("review_resolve", record=item.record_id, patient=item.patient, reason=why,
                      details={"item": item.id, "kind": item.kind, "field": item.field, "action": action,
                               **resolution})
    return _load(session, item.id)


def _place_code(session: Session, item: ReviewItem, encounter_id: str | None) -> None:
    """The technician told which encounter a code belongs to (a new decision row; None: as it was)."""
    if not encounter_id or item.value is None:
        return
    from archive.charts.encounters import load_encounter

    enc = load_encounter(session, encounter_id)
    session.store.coding.add_decision(item.record_id, item.value, "confirmed", session.user.name, now_iso(), None,
                                      None, enc.id, [(rules.iso(rules.stored_day(enc.start)), enc.id)])


def refile_record(session: Session, record_id: str, mrn: str) -> None:
    """File a held record to another patient (inside the caller's transaction), check it there, land it."""
    from archive.records import assign_patient

    result = assign_patient(session, record_id, mrn)
    check_record(session, result.record_id)
    land_record(session, result.record_id)


def _example(item: ReviewItem, action: str) -> str:
    if action == "refile" or item.field == "mrn":
        return "MRN123"
    return {"dob": "1980-04-02", "date": "2021-03-04", "end_date": "2021-03-09", "record_date": "2021-03-04",
            "code": "J02.0", "sex": "F", "name": "'Jane Doe'", "encounter": "e12"}.get(item.field, "VALUE")


def _checked_value(session: Session, item: ReviewItem, text: str) -> str:
    """A technician's correction, held to the rules a typed chart entry meets."""
    if item.field in ("dob", "date", "end_date", "record_date"):
        day = rules.parse_day("value", text, "the corrected date", required=True)
        if item.field == "dob":
            rules.check_birth_date("value", day)
        rules.check_not_future("value", day, "the corrected date")
        return str(rules.iso(day))
    if item.field == "code":
        code = rules.check_diagnosis_code(session.store, "value", text)
        return str(code)
    if item.field == "sex":
        sex = sex_code(text)
        if sex is None:
            raise BadInput(f"'{text}' is not a sex.", "Use F, M, X or U.")
        return sex
    if item.field == "mrn":
        return rules.check_mrn(text)
    if item.field == "encounter":
        from archive.charts.encounters import load_encounter

        enc = load_encounter(session, text)
        if enc.patient != item.patient:
            raise BadInput(f"Encounter {enc.id} is not one of {item.patient}'s.",
                           f"See the encounters with 'chartvault patient show {item.patient}'.")
        return enc.id
    return rules.check_name("value", text)


def _set_patient_field(session: Session, item: ReviewItem, value: str | None, reason: str | None) -> None:
    from archive.charts.patients import update_patient

    assert item.patient is not None
    if value is None:
        return
    changes: dict[str, Any] = {item.field: value}
    update_patient(session, item.patient, reason=reason or f"review item {item.id}", force=True, **changes)


def count_open(session: Session) -> int:
    """Open review items (for status lines; no audit)."""
    return session.store.review.count_open()


__all__ = [
    "ReviewDetail",
    "ReviewItem",
    "SourceCite",
    "check_outcomes",
    "check_record",
    "count_open",
    "refile_record",
    "list_review",
    "queue_undecided_encounter",
    "resolve_review",
    "show_review",
]
