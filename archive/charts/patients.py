"""Patients: add (with duplicate detection), update, show, list, and the history of a chart.

A patient row may first appear through ingest (MRN, name, birth date, sex
from a document); here a technician adds or completes it: attending
physician (a registered physician user), admission and discharge dates,
status. Every write asks policy (Action.EDIT_CHART) and is an audit entry;
every change keeps who, when, before and after in `chart_changes`, and an
update names the version it started from (optimistic concurrency). Reads of a
chart are audited as `chart_view`; a chart's history is `archive.charts.history`.
Above `encounters` (a patient's admission dates open or move an admission
encounter); its SQL is in archive.store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from archive.audit import now_iso
from archive.charts import rules
from archive.charts.changes import check_version, patient_row, record_change
from archive.charts.encounters import insert_encounter, sync_admission
from archive.errors import ConcurrentEdit, UserError, ValidationError
from archive.policy import Action

if TYPE_CHECKING:
    from archive.session import Session

PATIENT_FIELDS = ("name", "dob", "sex", "attending", "admitted", "discharged", "status")


@dataclass(frozen=True)
class Patient:
    mrn: str
    name: str | None
    dob: str | None
    sex: str | None
    attending: str | None
    admitted: str | None
    discharged: str | None
    status: str
    version: int
    created_at: str
    source: str | None
    updated_at: str | None = None
    updated_by: str | None = None
    legal_hold: bool = False

    def fields(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in PATIENT_FIELDS}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DuplicateCandidate:
    """An existing patient who may be the same person as one about to be created."""

    mrn: str
    name: str | None
    dob: str | None
    similarity: float
    why: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class LikelyDuplicatePatient(ValidationError):
    """A patient with the same (or a near-identical) name and the same birth date exists already."""

    title = "Possible duplicate patient"

    def __init__(self, candidates: list[DuplicateCandidate]) -> None:
        first = candidates[0]
        others = f" (and {len(candidates) - 1} more)" if len(candidates) > 1 else ""
        super().__init__(
            "name",
            f"this looks like patient {first.mrn} '{first.name}', born {first.dob} ({first.why}){others}.",
            "Check that it is not the same person; if it is a different patient, add it again with --force.",
        )
        self.candidates = candidates


# ---------------------------------------------------------------- reading


def _patient(session: Session, row: dict[str, Any]) -> Patient:
    return Patient(
        mrn=row["mrn"], name=row["name"], dob=row["dob"], sex=row["sex"], attending=row["attending"],
        admitted=row["admitted"], discharged=row["discharged"], status=row["status"] or "active",
        version=int(row["version"] or 1), created_at=row["created_at"], source=row["source"],
        updated_at=row["updated_at"], updated_by=row["updated_by"],
        legal_hold=session.store.retention.on_hold(row["mrn"]),
    )


def load_patient(session: Session, mrn: str) -> Patient:
    """The patient row, unaudited: for callers that check policy and audit themselves."""
    return _patient(session, patient_row(session, mrn))


def get_patient(session: Session, mrn: str) -> Patient:
    """One patient's details (policy checked, audited as chart_view)."""
    patient = load_patient(session, mrn)
    with session.transaction():
        session.require_patient(Action.VIEW_RECORD, patient=patient.mrn, audit="chart_view",
                                details={"what": "patient"})
    return patient


def list_patients(session: Session, limit: int = 1000) -> list[Patient]:
    """Patients the user may see, by MRN (audited with the MRNs listed)."""
    session.require(Action.VIEW_RECORD)
    rows = session.store.patients.rows(limit)
    patients = [_patient(session, r) for r in rows if session.may_see_patient(r["mrn"])]
    with session.transaction():
        session.audit("patient_list", details={"count": len(patients), "patients": [p.mrn for p in patients]})
    return patients


def find_similar_patients(session: Session, name: str | None, dob: str | None,
                          exclude: str | None = None) -> list[DuplicateCandidate]:
    """Patients born on `dob` whose name is the same or nearly so (policy: the caller's)."""
    if not name or not dob:
        return []
    out: list[DuplicateCandidate] = []
    for mrn, other, other_dob in session.store.patients.born_on(dob, exclude):
        score = rules.name_similarity(name, other)
        if rules.fold(name) == rules.fold(other):
            why = "same name and birth date"
        elif sorted(rules.fold(name).split()) == sorted(rules.fold(other).split()):
            why = "same name in another order, same birth date"
        elif score >= rules.NAME_SIMILARITY:
            why = f"near-identical name ({score:.0%} alike), same birth date"
        else:
            continue
        out.append(DuplicateCandidate(mrn, other, other_dob, round(score, 3), why))
    return sorted(out, key=lambda c: -c.similarity)


# ---------------------------------------------------------------- validation


def _validate(session: Session, values: dict[str, Any], *, complete: bool = True) -> dict[str, Any]:
    """Clean and check a patient's fields (all of them, as they will be stored).

    `complete=False` (an update): name, birth date and sex may stay empty when
    they were empty before (a patient first seen in an imported document).
    """
    out: dict[str, Any] = {}
    out["name"] = rules.check_name("name", values.get("name")) if complete or values.get("name") else None
    dob = rules.parse_day("dob", values.get("dob"), "the birth date", required=complete)
    rules.check_birth_date("dob", dob)
    out["dob"] = rules.iso(dob)
    sex = values.get("sex")
    out["sex"] = rules.check_choice("sex", sex or "", rules.SEXES, "sex") if complete or sex else None
    out["attending"] = rules.check_physician(session.store, "physician", values.get("attending"))
    admitted = rules.parse_day("admitted", values.get("admitted"), "the admission date")
    discharged = rules.parse_day("discharged", values.get("discharged"), "the discharge date")
    rules.check_not_future("admitted", admitted, "admission date")
    rules.check_not_future("discharged", discharged, "discharge date")
    rules.check_after("admitted", admitted, dob, "admission date", "the birth date")
    if discharged is not None and admitted is None:
        raise ValidationError("discharged", "a discharge date needs an admission date.", "Give --admitted too.")
    rules.check_after("discharged", discharged, admitted, "discharge date", "the admission date")
    out["admitted"], out["discharged"] = rules.iso(admitted), rules.iso(discharged)
    out["status"] = rules.check_choice("status", values.get("status") or "active", rules.PATIENT_STATUSES, "status")
    return out


# ---------------------------------------------------------------- writing


def add_patient(
    session: Session,
    mrn: str,
    name: str,
    dob: str,
    sex: str,
    *,
    physician: str | None = None,
    admitted: str | None = None,
    discharged: str | None = None,
    force: bool = False,
) -> Patient:
    """Create a patient. A likely duplicate (same or near-identical name, same birth date) is refused
    with LikelyDuplicatePatient unless `force`. An admission date also opens an admission encounter."""
    try:
        clean_mrn = rules.check_mrn(mrn)
    except UserError as exc:
        raise ValidationError("mrn", exc.message, exc.hint) from None
    session.require(Action.EDIT_CHART, patient=clean_mrn)
    values = _validate(session, {"name": name, "dob": dob, "sex": sex, "attending": physician,
                                 "admitted": admitted, "discharged": discharged})
    _refuse_existing(session, clean_mrn)
    candidates = find_similar_patients(session, values["name"], values["dob"])
    if candidates and not force:
        # The candidates' names were shown to this user: that is worth an audit entry.
        with session.transaction():
            session.audit("patient_add", outcome="refused", patient=clean_mrn, reason="likely duplicate",
                          details={"candidates": [c.mrn for c in candidates]})
        raise LikelyDuplicatePatient(candidates)
    with session.transaction():
        _refuse_existing(session, clean_mrn)  # again, inside the write lock
        session.store.patients.insert_chart_patient(clean_mrn, values, now_iso(), session.user.name)
        record_change(session, clean_mrn, "patient", clean_mrn, 1, "created", None, values,
                       "forced past a likely duplicate" if candidates else None)
        if values["admitted"]:
            insert_encounter(session, clean_mrn, "admission", values["admitted"], values["discharged"],
                             values["attending"], "Admission")
        session.audit("patient_add", patient=clean_mrn,
                      details={"forced_past": [c.mrn for c in candidates]} if candidates else None)
    return load_patient(session, clean_mrn)


def _refuse_existing(session: Session, mrn: str) -> None:
    existing = session.store.patients.row(mrn)
    if existing is not None:
        raise ValidationError(
            "mrn", f"a patient with MRN {mrn} already exists ({existing['name'] or 'no name on file'}).",
            f"See it with 'chartvault patient show {mrn}'; change it with 'chartvault patient update {mrn}'.",
        )


def update_patient(
    session: Session,
    mrn: str,
    *,
    reason: str | None = None,
    expect_version: int | None = None,
    force: bool = False,
    **changes: Any,
) -> Patient:
    """Change a patient's fields (name, dob, sex, attending, admitted, discharged, status).

    `expect_version` is the version the edit started from: if someone saved in
    between, ConcurrentEdit is raised and nothing is saved. Changing the name or
    birth date is checked for likely duplicates like `add_patient`. A change to
    the admission/discharge dates is carried to the patient's latest admission
    encounter (or opens one).
    """
    unknown = set(changes) - set(PATIENT_FIELDS)
    if unknown:
        raise UserError(f"Patients have no field {', '.join(sorted(unknown))}.",
                        f"Fields: {', '.join(PATIENT_FIELDS)}.")
    patient = load_patient(session, mrn)
    session.require_patient(Action.EDIT_CHART, patient=patient.mrn)
    text_reason = rules.check_text("reason", reason, "the reason for the change", required=False)
    with session.transaction():
        current = load_patient(session, patient.mrn)
        check_version(f"Patient {current.mrn}", current.version, expect_version, current.updated_by,
                       current.updated_at, f"chartvault patient history {current.mrn}")
        before = current.fields()
        merged = {**before, **{k: v for k, v in changes.items() if v is not None}}
        values = _validate(session, merged, complete=False)
        diff = {k: [before[k], values[k]] for k in PATIENT_FIELDS if before[k] != values[k]}
        if not diff:
            raise UserError(f"Nothing to change for patient {current.mrn}.", "Give at least one new value.")
        if ("name" in diff or "dob" in diff) and not force:
            candidates = find_similar_patients(session, values["name"], values["dob"], exclude=current.mrn)
            if candidates:
                raise LikelyDuplicatePatient(candidates)
        version = current.version + 1
        # False: another connection won the race between our read and this write.
        if not session.store.patients.update_chart_patient(current.mrn, current.version, values, now_iso(),
                                                           session.user.name):
            raise ConcurrentEdit(f"Patient {current.mrn} was changed while you edited it; nothing was saved.",
                                 f"Review it with 'chartvault patient history {current.mrn}' and try again.")
        record_change(session, current.mrn, "patient", current.mrn, version, "updated",
                       {k: v[0] for k, v in diff.items()}, {k: v[1] for k, v in diff.items()}, text_reason)
        if "admitted" in diff or "discharged" in diff:
            sync_admission(session, current.mrn, before["admitted"], values["admitted"], values["discharged"],
                           values["attending"])
        session.audit("patient_update", patient=current.mrn, reason=text_reason,
                      details={"fields": sorted(diff), "version": version})
    return load_patient(session, current.mrn)


__all__ = [
    "DuplicateCandidate",
    "LikelyDuplicatePatient",
    "Patient",
    "add_patient",
    "find_similar_patients",
    "get_patient",
    "list_patients",
    "load_patient",
    "update_patient",
]
