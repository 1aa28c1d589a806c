"""Patients, encounters and chart entries: validation (each rule), versioning and history,
concurrent edits refused, duplicate patients, policy and audit.

One vault for the module. Its technician and physicians are user rows only
(no keyslots: the passphrase KDF costs seconds each); their Sessions share the
admin's unlocked vault, which is all the domain functions and policy look at.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.charts.encounters import add_encounter, correct_encounter
from archive.charts.entries import add_entry, correct_entry, entry_history, get_entry, list_entries, patient_chart
from archive.charts.history import patient_history
from archive.charts.patients import (
    LikelyDuplicatePatient,
    add_patient,
    get_patient,
    list_patients,
    update_patient,
)
from archive.errors import AccessDenied, ConcurrentEdit, NotFound, UserError, ValidationError
from tests.conftest import VaultTemplate, session_beside

TODAY = dt.date.today()


def days_ahead(n: int) -> str:
    """n days after today, read when called: a run that passes midnight would find the module's TODAY + 1 is
    today, no longer in the future."""
    return (dt.date.today() + dt.timedelta(days=n)).isoformat()


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


@dataclass
class Env:
    root: Path
    admin: Any
    tess: Any  # technician
    maria: Any  # registered physician

    def session_as(self, name: str) -> Any:
        return session_beside(self.admin, name)

    def audits(self, action: str) -> list[dict[str, Any]]:
        return list(self.admin.db.query("SELECT * FROM audit WHERE action = ? ORDER BY seq", [action]))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Env]:
    from archive.users import User, insert_user
    from vault.db import transaction

    root = tmp_path_factory.mktemp("charts") / "v"
    admin: Any = admin_vault_template.copy(root).session
    with transaction(admin.db):
        insert_user(admin.store, User("tess", "technician", "Tess Tech", created_by="admin"), sign_as=admin)
        insert_user(
            admin.store, User("drmaria", "physician", "Maria Lopez", licence="MD-12345", created_by="admin"),
            sign_as=admin,
        )
        insert_user(
            admin.store, User("drbob", "physician", "Bob Byers", licence="MD-777", created_by="admin"), sign_as=admin
        )
        insert_user(admin.store, User("drnolic", "physician", "No Licence", created_by="admin"), sign_as=admin)
        insert_user(admin.store, User("drgone", "physician", "Gone Away", licence="MD-9", active=False), sign_as=admin)
    fx = Env(root, admin, None, None)
    fx.tess, fx.maria = fx.session_as("tess"), fx.session_as("drmaria")
    yield fx
    admin.close()


_mrn = iter(range(1000, 99999))


def _letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 26)
        out += "bcdfghjklmnpqrstvwxzaeiouy"[r]
    return out.capitalize()


def new_patient(env: Env, **kw: Any) -> Any:
    """A fresh patient with a unique MRN and name (so duplicate checks do not interfere)."""
    n = next(_mrn)
    dob = (dt.date(1970, 1, 1) + dt.timedelta(days=n)).isoformat()  # one birthday each: no look-alikes
    args: dict[str, Any] = {"mrn": f"T{n}", "name": f"Pat {_letters(n)}", "dob": dob, "sex": "F"}
    args.update(kw)
    return add_patient(env.tess, args.pop("mrn"), args.pop("name"), args.pop("dob"), args.pop("sex"), **args)


def patient_count(env: Env) -> int:
    return int(env.admin.db.execute("SELECT count(*) FROM patients").fetchone()[0])


# ---------------------------------------------------------------- patients


def test_add_patient_stores_fields_opens_the_admission_and_audits(env: Env) -> None:
    p = new_patient(env, physician="drmaria", admitted=days_ago(10), discharged=days_ago(2))
    assert (p.attending, p.admitted, p.discharged, p.status, p.version) == (
        "drmaria", days_ago(10), days_ago(2), "active", 1)
    chart = patient_chart(env.tess, p.mrn)
    [admission] = chart.encounters
    assert (admission.kind, admission.start, admission.end, admission.attending) == (
        "admission", days_ago(10), days_ago(2), "drmaria")
    added = [a for a in env.audits("patient_add") if a["patient"] == p.mrn]
    assert [(a["user"], a["outcome"]) for a in added] == [("tess", "ok")]


PATIENT_RULES = [
    ({"dob": days_ahead(400)}, "dob", "is in the future"),
    ({"dob": "1980-02-30"}, "dob", "not a real date"),
    ({"dob": "03/04/1980"}, "dob", "is not a date"),
    ({"dob": ""}, "dob", "required"),
    ({"dob": "1850-01-01"}, "dob", "over 125"),
    ({"name": "  "}, "name", "required"),
    ({"name": "Ann 7"}, "name", "digits"),
    ({"sex": "female"}, "sex", "one of F, M, X, U"),
    ({"mrn": "../etc"}, "mrn", "not a valid MRN"),
    ({"physician": "nobody"}, "physician", "no user 'nobody'"),
    ({"physician": "tess"}, "physician", "is a technician, not a physician"),
    ({"physician": "drnolic"}, "physician", "not a registered physician"),
    ({"physician": "drgone"}, "physician", "disabled"),
    ({"discharged": days_ago(1)}, "discharged", "needs an admission date"),
    ({"admitted": days_ago(3), "discharged": days_ago(5)}, "discharged", "before the admission date"),
    ({"admitted": "1960-01-01"}, "admitted", "before the birth date"),
    ({"admitted": days_ahead(2)}, "admitted", "in the future"),
]


@pytest.mark.parametrize(("kw", "field", "problem"), PATIENT_RULES, ids=[f"{r[1]}-{r[2]}" for r in PATIENT_RULES])
def test_add_patient_refuses_each_rule_naming_the_field(env: Env, kw: dict[str, Any], field: str,
                                                         problem: str) -> None:
    before = patient_count(env)
    with pytest.raises(ValidationError) as err:
        new_patient(env, **kw)
    assert err.value.field == field
    assert problem in err.value.problem
    assert err.value.message.startswith(f"--{field}: ")
    assert patient_count(env) == before


def test_an_existing_mrn_is_refused(env: Env) -> None:
    p = new_patient(env)
    with pytest.raises(ValidationError, match=f"--mrn: a patient with MRN {p.mrn} already exists"):
        new_patient(env, mrn=p.mrn)


@pytest.mark.parametrize(
    ("existing", "typed", "why"),
    [
        ("Johanna Smithers", "Johanna Smithers", "same name"),
        ("Johanna Smithers", "JOHANNA  SMITHERS", "same name"),
        ("Johanna Smithers", "Johana Smithers", "near-identical"),
        ("Johanna Smithers", "Smithers, Johanna", "another order"),
    ],
)
def test_likely_duplicate_patient_is_flagged_before_it_is_created(env: Env, existing: str, typed: str,
                                                                   why: str) -> None:
    dob = f"19{next(_mrn) % 90 + 10:02d}-0{next(_mrn) % 9 + 1}-1{next(_mrn) % 9}"
    first = new_patient(env, name=existing, dob=dob)
    before = patient_count(env)
    with pytest.raises(LikelyDuplicatePatient) as err:
        new_patient(env, name=typed, dob=dob)
    assert err.value.field == "name" and "--force" in err.value.hint
    assert [c.mrn for c in err.value.candidates] == [first.mrn]
    assert why in err.value.candidates[0].why
    assert patient_count(env) == before
    refused = [a for a in env.audits("patient_add") if a["outcome"] == "refused"]
    assert json.loads(refused[-1]["details"])["candidates"] == [first.mrn]
    forced = new_patient(env, name=typed, dob=dob, force=True)
    assert patient_count(env) == before + 1
    assert any(e.reason == "forced past a likely duplicate" for e in patient_history(env.tess, forced.mrn))


def test_similar_names_with_other_birth_dates_or_different_names_are_not_duplicates(env: Env) -> None:
    before = patient_count(env)
    refused = [a for a in env.audits("patient_add") if a["outcome"] == "refused"]
    added = [
        new_patient(env, name="Harold Finch", dob="1961-07-08"),
        new_patient(env, name="Harold Finch", dob="1961-07-09"),  # another birth date
        new_patient(env, name="Harriet Fisher", dob="1961-07-08"),  # another person, same birthday
    ]
    assert [(p.name, p.dob) for p in added] == [
        ("Harold Finch", "1961-07-08"), ("Harold Finch", "1961-07-09"), ("Harriet Fisher", "1961-07-08")]
    assert patient_count(env) == before + 3
    assert [a for a in env.audits("patient_add") if a["outcome"] == "refused"] == refused
    events = [e for p in added for e in patient_history(env.tess, p.mrn) if e.entity == "patient"]
    assert [e.reason for e in events] == [None, None, None]  # none was forced past a likely duplicate


def test_update_patient_keeps_before_and_after_and_checks_the_version(env: Env) -> None:
    p = new_patient(env, admitted=days_ago(20))
    updated = update_patient(env.tess, p.mrn, attending="drmaria", reason="assigned on ward round",
                             expect_version=1)
    assert (updated.attending, updated.version) == ("drmaria", 2)
    with pytest.raises(ConcurrentEdit) as err:
        update_patient(env.tess, p.mrn, attending="drbob", expect_version=1)
    assert "version 2" in err.value.message and "not saved" in err.value.message
    assert get_patient(env.tess, p.mrn).attending == "drmaria"
    discharged = update_patient(env.tess, p.mrn, discharged=days_ago(1), reason="home")
    assert discharged.version == 3
    [admission] = patient_chart(env.tess, p.mrn).encounters
    assert (admission.start, admission.end, admission.version) == (days_ago(20), days_ago(1), 2)
    events = [e for e in patient_history(env.tess, p.mrn) if e.entity == "patient"]
    assert [(e.action, e.version) for e in events] == [("created", 1), ("updated", 2), ("updated", 3)]
    assert events[1].changes == {"attending": [None, "drmaria"]} and events[1].reason == "assigned on ward round"
    assert events[2].changes == {"discharged": [None, days_ago(1)]}
    with pytest.raises(UserError, match="Nothing to change"):
        update_patient(env.tess, p.mrn, attending="drmaria")


def test_update_validates_the_merged_patient(env: Env) -> None:
    p = new_patient(env, admitted=days_ago(5))
    with pytest.raises(ValidationError) as err:
        update_patient(env.tess, p.mrn, discharged=days_ago(9))
    assert err.value.field == "discharged"
    assert get_patient(env.tess, p.mrn).version == 1


def test_a_patient_first_seen_in_a_document_can_be_completed(env: Env) -> None:
    from archive.filing import file_record  # noqa: F401  (the ingest path that creates bare patients)
    from indexer.extract.types import PatientInfo
    from indexer.pipeline import upsert_patient
    from vault.db import transaction

    with transaction(env.admin.db):
        upsert_patient(env.admin.db, PatientInfo(mrn="DOC-1"), "content:hl7v2")
    p = update_patient(env.tess, "DOC-1", attending="drmaria", reason="attending known")
    assert (p.attending, p.name, p.dob) == ("drmaria", None, None)
    first = patient_history(env.tess, "DOC-1")[0]
    assert (first.action, first.by) == ("imported", "content:hl7v2")


def test_list_patients_is_audited(env: Env) -> None:
    p = new_patient(env)
    assert p.mrn in [x.mrn for x in list_patients(env.tess)]
    assert p.mrn in json.loads(env.audits("patient_list")[-1]["details"])["patients"]


# ---------------------------------------------------------------- encounters


def test_encounters_validate_dates_duplicates_and_overlapping_stays(env: Env) -> None:
    p = new_patient(env, physician="drmaria", admitted=days_ago(30), discharged=days_ago(25))
    visit = add_encounter(env.tess, p.mrn, "visit", days_ago(40))
    assert (visit.kind, visit.attending, visit.end) == ("visit", "drmaria", None)  # the patient's attending
    cases = [
        (("visit", days_ago(40)), {}, "start", "already starts that day"),
        (("admission", days_ago(27)), {"end": days_ago(20)}, "start", "overlaps admission"),
        (("admission", days_ago(10)), {"end": days_ago(12)}, "end", "before the start date"),
        (("visit", days_ahead(1)), {}, "start", "in the future"),
        (("visit", "1969-01-01"), {}, "start", "birth date"),
        (("ward round", days_ago(3)), {}, "kind", "admission, visit"),
        (("visit", days_ago(3)), {"physician": "drnolic"}, "physician", "not a registered physician"),
    ]
    for (kind, start), kw, field, problem in cases:
        with pytest.raises(ValidationError) as err:
            add_encounter(env.tess, p.mrn, kind, start, **kw)
        assert (err.value.field, problem in err.value.problem) == (field, True), err.value.message
    later = add_encounter(env.tess, p.mrn, "admission", days_ago(10), days_ago(8))
    assert get_patient(env.tess, p.mrn).admitted == days_ago(10)  # the stay follows the latest admission
    fixed = correct_encounter(env.tess, later.id, "discharge date typed wrong", expect_version=1, end=days_ago(7))
    assert (fixed.version, fixed.end) == (2, days_ago(7))
    with pytest.raises(ConcurrentEdit):
        correct_encounter(env.tess, later.id, "someone else's edit", expect_version=1, end=days_ago(6))
    changes = [e for e in patient_history(env.tess, p.mrn) if e.entity == "encounter" and e.entity_id == later.id]
    assert changes[-1].changes == {"end": [days_ago(8), days_ago(7)]}
    assert changes[-1].reason == "discharge date typed wrong"


# ---------------------------------------------------------------- entries


@pytest.fixture(scope="module")
def stay(env: Env) -> Any:
    """A patient in hospital since 20 days ago (admission e.g. e7), with a visit 60 days ago."""
    p = new_patient(env, physician="drmaria", admitted=days_ago(20))
    add_encounter(env.tess, p.mrn, "visit", days_ago(60))
    return p


def test_each_kind_is_added_with_its_own_fields(env: Env, stay: Any) -> None:
    med = add_entry(env.tess, stay.mrn, "medication", "Amoxicillin 500 mg capsule", days_ago(5), dose="500 mg",
                    route="oral", frequency="three times daily", stop=days_ago(1))
    assert (med.version, med.start, med.stop, med.status, med.author) == (1, days_ago(5), days_ago(1), "active",
                                                                          "tess")
    admission = next(e for e in patient_chart(env.tess, stay.mrn).encounters if e.kind == "admission")
    assert med.encounter_id == admission.id  # attached to the stay covering its date
    ref = add_entry(env.tess, stay.mrn, "referral", "Cardiology opinion", days_ago(4),
                    referral_to="St Mary's Cardiology", referral_to_kind="facility", referral_reason="new murmur")
    assert (ref.referral_to, ref.referral_to_kind, ref.referral_reason) == (
        "St Mary's Cardiology", "facility", "new murmur")
    dx = add_entry(env.tess, stay.mrn, "diagnosis", "Type 2 diabetes mellitus", days_ago(4), code="e119")
    assert (dx.code, dx.code_system) == ("E11.9", "ICD-10-CM")
    proc = add_entry(env.tess, stay.mrn, "procedure", "Chest X-ray", days_ago(60))
    assert proc.status == "completed" and proc.encounter_id != admission.id  # the earlier visit
    comp = add_entry(env.tess, stay.mrn, "complication", "Phlebitis at the cannula site", days_ago(3))
    assert comp.kind == "complication"
    kinds = {e.kind for e in list_entries(env.tess, stay.mrn)}
    assert kinds == {"medication", "referral", "diagnosis", "procedure", "complication"}
    assert [e.id for e in list_entries(env.tess, stay.mrn, ["medication"])] == [med.id]
    assert {e.id for e in list_entries(env.tess, stay.mrn, date_from=days_ago(4), date_to=days_ago(3))} == {
        ref.id, dx.id, comp.id}


ENTRY_RULES: list[tuple[str, dict[str, Any], str, str]] = [
    ("procedure", {"text": ""}, "text", "required"),
    ("surgery", {}, "kind", "procedure, medication"),
    ("procedure", {"date": days_ahead(3)}, "date", "in the future"),
    ("procedure", {"date": "2024-02-31"}, "date", "not a real date"),
    ("procedure", {"date": "1960-01-01"}, "date", "birth date"),
    ("procedure", {"date": days_ago(40)}, "date", "outside the patient's stay"),
    ("procedure", {"status": "done-ish"}, "status", "must be one of"),
    ("procedure", {"dose": "5 mg"}, "dose", "only medication entries"),
    ("diagnosis", {"referral_to": "Dr Who"}, "to", "only referral entries"),
    ("medication", {"start": days_ago(2), "stop": days_ago(6)}, "stop", "before the start date"),
    ("medication", {"start": days_ahead(9)}, "start", "in the future"),
    ("referral", {"referral_reason": "x ray"}, "to", "required"),
    ("referral", {"referral_to": "Dr Who"}, "referral_reason", "required"),
    ("referral", {"referral_to": "Dr Who", "referral_reason": "r", "referral_to_kind": "shop"}, "to_kind",
     "doctor, facility"),
    ("diagnosis", {"code": "diabetes"}, "code", "not an ICD-10-CM code"),
    ("procedure", {"source_record": "rnothere"}, "source", "no record"),
    ("procedure", {"encounter_id": "e99999"}, "encounter", "no encounter"),
    ("medication", {"stop_reason": "upper GI bleed"}, "stop_reason", "needs a stop date or status stopped"),
    ("medication", {"stop_reason": "x" * 201, "stop": days_ago(1)}, "stop_reason", "at most 200"),
    ("procedure", {"stop_reason": "upper GI bleed"}, "stop_reason", "only medication entries have a stop reason"),
    ("referral", {"referral_to": "Dr Who", "referral_reason": "review", "stop_reason": "bleed"}, "stop_reason",
     "only medication entries"),
]


@pytest.mark.parametrize(("kind", "kw", "field", "problem"), ENTRY_RULES,
                         ids=[f"{r[0]}-{r[2]}-{r[3]}" for r in ENTRY_RULES])
def test_add_entry_refuses_each_rule_naming_the_field(env: Env, stay: Any, kind: str, kw: dict[str, Any],
                                                       field: str, problem: str) -> None:
    args = {"text": "Lumbar puncture", "date": days_ago(2)} | kw
    before = len(list_entries(env.tess, stay.mrn, include_retracted=True))
    with pytest.raises(ValidationError) as err:
        add_entry(env.tess, stay.mrn, kind, args.pop("text"), args.pop("date"), **args)
    assert err.value.field == field, err.value.message
    assert problem in err.value.problem
    assert len(list_entries(env.tess, stay.mrn, include_retracted=True)) == before


def test_encounter_named_must_be_this_patients_and_contain_the_date(env: Env, stay: Any) -> None:
    other = new_patient(env, admitted=days_ago(5))
    other_enc = patient_chart(env.tess, other.mrn).encounters[0]
    with pytest.raises(ValidationError, match=f"--encounter: encounter {other_enc.id} belongs to patient"):
        add_entry(env.tess, stay.mrn, "procedure", "Ultrasound", days_ago(2), encounter_id=other_enc.id)
    visit = next(e for e in patient_chart(env.tess, stay.mrn).encounters if e.kind == "visit")
    with pytest.raises(ValidationError, match=f"--date: {days_ago(2)} is outside encounter {visit.id}"):
        add_entry(env.tess, stay.mrn, "procedure", "Ultrasound", days_ago(2), encounter_id=visit.id)


def test_source_record_must_belong_to_the_patient(env: Env, stay: Any, tmp_path: Path) -> None:
    from archive.intake import import_paths

    (tmp_path / "ZZ9__note.txt").write_text("Clinic letter for another patient entirely.\n")
    report = import_paths(env.tess, [tmp_path], settle=0)
    rid = report.outcomes[0].record_id
    with pytest.raises(ValidationError, match=f"--source: record {rid} belongs to patient ZZ9"):
        add_entry(env.tess, stay.mrn, "procedure", "Ultrasound", days_ago(2), source_record=rid)


def test_duplicate_entries_are_refused_unless_forced(env: Env, stay: Any) -> None:
    first = add_entry(env.tess, stay.mrn, "procedure", "Blood transfusion", days_ago(6))
    with pytest.raises(ValidationError) as err:
        add_entry(env.tess, stay.mrn, "procedure", "blood  transfusion.", days_ago(6))
    assert err.value.field == "text" and first.id in err.value.problem and "--force" in err.value.hint
    second = add_entry(env.tess, stay.mrn, "procedure", "Blood transfusion", days_ago(6), force=True)
    assert second.id != first.id
    add_entry(env.tess, stay.mrn, "procedure", "Blood transfusion", days_ago(7))  # another day is not a duplicate


def test_corrections_are_new_versions_and_nothing_is_overwritten(env: Env, stay: Any) -> None:
    med = add_entry(env.tess, stay.mrn, "medication", "Metformin 500 mg tablet", days_ago(9), dose="500 mg")
    v2 = correct_entry(env.tess, med.id, "dose misread from the drug chart", expect_version=1, dose="850 mg")
    v3 = correct_entry(env.tess, med.id, "stopped for contrast scan", expect_version=2, stop=days_ago(2),
                       status="stopped")
    assert (v2.version, v3.version, v3.dose, v3.stop, v3.status) == (2, 3, "850 mg", days_ago(2), "stopped")
    versions = entry_history(env.tess, med.id)
    assert [(v.version, v.dose, v.status, v.correction_reason) for v in versions] == [
        (1, "500 mg", "active", None),
        (2, "850 mg", "active", "dose misread from the drug chart"),
        (3, "850 mg", "stopped", "stopped for contrast scan"),
    ]
    assert all(v.saved_by == "tess" and v.saved_at for v in versions)
    events = [e for e in patient_history(env.tess, stay.mrn) if e.entity_id == med.id]
    assert [(e.action, e.version) for e in events] == [("created", 1), ("corrected", 2), ("corrected", 3)]
    assert events[1].changes == {"dose": ["500 mg", "850 mg"]}
    assert events[2].changes == {"status": ["active", "stopped"], "stop": [None, days_ago(2)]}


def test_a_correction_needs_a_reason_and_a_change_and_meets_the_rules(env: Env, stay: Any) -> None:
    entry = add_entry(env.tess, stay.mrn, "procedure", "Wound dressing", days_ago(8))
    with pytest.raises(ValidationError, match="--reason: the reason for the correction is required"):
        correct_entry(env.tess, entry.id, "", text="Wound dressing change")
    with pytest.raises(ValidationError, match="--reason: 'ok' does not say why"):
        correct_entry(env.tess, entry.id, "ok", text="Wound dressing change")
    with pytest.raises(UserError, match="Nothing to correct"):
        correct_entry(env.tess, entry.id, "no change really", text="Wound dressing")
    with pytest.raises(ValidationError) as err:
        correct_entry(env.tess, entry.id, "date was wrong", date=days_ahead(1))
    assert err.value.field == "date"
    other = add_entry(env.tess, stay.mrn, "procedure", "Suture removal", days_ago(8))
    with pytest.raises(ValidationError, match=f"--text: entry {entry.id} already records"):
        correct_entry(env.tess, other.id, "renamed", text="wound dressing")
    assert get_entry(env.tess, entry.id).version == 1 and get_entry(env.tess, other.id).version == 1


def test_a_second_save_from_an_old_version_is_refused_with_a_clear_message(env: Env, stay: Any) -> None:
    from archive.intake import fork_session

    entry = add_entry(env.tess, stay.mrn, "complication", "Pressure sore, sacrum", days_ago(4))
    other = fork_session(env.tess)  # a second person's connection, both started from version 1
    try:
        saved = correct_entry(other, entry.id, "grade 2 on review", expect_version=1,
                              text="Pressure sore grade 2, sacrum")
        assert saved.version == 2
        with pytest.raises(ConcurrentEdit) as err:
            correct_entry(env.tess, entry.id, "spelling", expect_version=1, text="Pressure sore, sacral")
    finally:
        other.close()
    assert "changed by tess" in err.value.message and "now version 2" in err.value.message
    assert "not saved" in err.value.message and f"chartvault chart history {entry.id}" in err.value.hint
    current = get_entry(env.tess, entry.id)
    assert (current.version, current.text) == (2, "Pressure sore grade 2, sacrum")
    assert len(entry_history(env.tess, entry.id)) == 2


def test_retracting_keeps_the_entry_in_the_history_only(env: Env, stay: Any) -> None:
    entry = add_entry(env.tess, stay.mrn, "diagnosis", "Gout", days_ago(3), code="M10.9")
    gone = correct_entry(env.tess, entry.id, "wrong patient's result", status="entered_in_error")
    assert gone.retracted and gone.version == 2
    assert entry.id not in [e.id for e in list_entries(env.tess, stay.mrn)]
    assert entry.id in [e.id for e in list_entries(env.tess, stay.mrn, include_retracted=True)]
    again = add_entry(env.tess, stay.mrn, "diagnosis", "Gout", days_ago(3))  # no longer a duplicate
    assert again.id != entry.id


def test_a_medication_records_why_it_was_stopped_and_a_correction_sets_or_clears_it(env: Env, stay: Any) -> None:
    med = add_entry(env.tess, stay.mrn, "medication", "Warfarin 5 mg tablet", days_ago(12), status="stopped",
                    stop=days_ago(2), stop_reason="upper GI bleed")
    assert (med.stop_reason, med.stop, med.status) == ("upper GI bleed", days_ago(2), "stopped")
    assert med.summary() == f"Warfarin 5 mg tablet, stopped {days_ago(2)}: upper GI bleed"
    assert med.to_json()["stop_reason"] == "upper GI bleed"
    by_status = add_entry(env.tess, stay.mrn, "medication", "Simvastatin 40 mg tablet", days_ago(10),
                          status="stopped", stop_reason="myalgia")
    assert by_status.summary() == "Simvastatin 40 mg tablet, stopped: myalgia"
    v2 = correct_entry(env.tess, med.id, "reason was more specific in the letter", expect_version=1,
                       stop_reason="upper GI bleed on day 10")
    assert get_entry(env.tess, med.id).stop_reason == "upper GI bleed on day 10"
    with pytest.raises(ValidationError) as err:  # the stop date goes but the reason would stay
        correct_entry(env.tess, med.id, "still taking it", stop="", status="active")
    assert err.value.field == "stop" and "--stop-reason ''" in err.value.hint
    v3 = correct_entry(env.tess, med.id, "restarted: not stopped after all", stop="", status="active",
                       stop_reason="")
    assert (v3.stop, v3.stop_reason, v3.summary()) == (None, None, "Warfarin 5 mg tablet")
    versions = entry_history(env.tess, med.id)
    assert [v.stop_reason for v in versions] == ["upper GI bleed", "upper GI bleed on day 10", None]
    events = [e for e in patient_history(env.tess, stay.mrn) if e.entity_id == med.id]
    assert events[1].changes == {"stop_reason": ["upper GI bleed", "upper GI bleed on day 10"]}
    assert events[2].changes["stop_reason"] == ["upper GI bleed on day 10", None]
    audited = [json.loads(a["details"]) for a in env.audits("chart_correct")]
    # the save records the digest of what was signed (session 9: verify holds each version to it)
    from archive.signed_rows import version_digest

    signed = version_digest(env.tess.store.chart_entries.version_for_signing(med.id, 2))
    assert {"entry": med.id, "version": 2, "fields": ["stop_reason"], "signed": signed} in audited
    assert v2.version == 2 and any(a["entry"] == med.id and "stop_reason" in a["fields"] and a["version"] == 3
                                   for a in audited)
    # retracting an entry stopped by status alone keeps its reason and is not refused
    gone = correct_entry(env.tess, by_status.id, "wrong patient", status="entered_in_error")
    assert gone.retracted and gone.stop_reason == "myalgia"


def test_timeline_orders_encounters_before_what_happened_in_them(env: Env) -> None:
    p = new_patient(env, admitted=days_ago(12))
    add_entry(env.tess, p.mrn, "procedure", "Appendicectomy", days_ago(11))
    add_encounter(env.tess, p.mrn, "visit", days_ago(100), text="Pre-op clinic")
    chart = patient_chart(env.tess, p.mrn)
    assert [(i.type, i.kind) for i in chart.timeline()] == [
        ("encounter", "visit"), ("encounter", "admission"), ("entry", "procedure")]
    assert chart.to_json()["entries"][0]["encounter_id"] == chart.encounters[1].id


# ---------------------------------------------------------------- policy and audit


def test_physicians_view_charts_but_do_not_edit_them(env: Env, stay: Any) -> None:
    chart = patient_chart(env.maria, stay.mrn)
    assert chart.patient.mrn == stay.mrn
    with pytest.raises(AccessDenied):
        add_entry(env.maria, stay.mrn, "procedure", "Echo", days_ago(1))
    denied = [a for a in env.audits("edit_chart") if a["outcome"] == "denied"]
    assert denied and denied[-1]["user"] == "drmaria" and denied[-1]["patient"] == stay.mrn


def test_admin_without_clinical_role_sees_no_chart(env: Env, stay: Any) -> None:
    with pytest.raises(AccessDenied):
        patient_chart(env.admin, stay.mrn)
    with pytest.raises(AccessDenied):
        list_patients(env.admin)


def test_assigned_scope_limits_physicians_to_their_patients(env: Env, stay: Any) -> None:
    from archive.settings import set_setting

    bob = env.session_as("drbob")
    set_setting(env.admin, "policy.physician_scope", "assigned")
    try:
        with pytest.raises(AccessDenied, match="not yours"):
            patient_chart(bob, stay.mrn)
        assert patient_chart(env.maria, stay.mrn).patient.attending == "drmaria"
        assert stay.mrn not in [p.mrn for p in list_patients(bob)]
    finally:
        set_setting(env.admin, "policy.physician_scope", "all")


def test_reads_and_writes_are_audited_with_the_patient(env: Env, stay: Any) -> None:
    entry = add_entry(env.tess, stay.mrn, "procedure", "ECG", days_ago(1))
    correct_entry(env.tess, entry.id, "12-lead, not 3-lead", text="12-lead ECG")
    entry_history(env.tess, entry.id)
    assert env.audits("chart_add")[-1]["patient"] == stay.mrn
    assert json.loads(env.audits("chart_correct")[-1]["details"])["entry"] == entry.id
    assert env.audits("chart_correct")[-1]["reason"] == "12-lead, not 3-lead"
    assert json.loads(env.audits("chart_history")[-1]["details"]) == {"entry": entry.id}
    assert env.audits("chart_view")[-1]["patient"] == stay.mrn


def test_unknown_ids_say_where_to_look(env: Env) -> None:
    with pytest.raises(NotFound, match="No chart entry 'c999999'"):
        get_entry(env.tess, "999999")
    with pytest.raises(NotFound, match="No patient with MRN 'NOPE'"):
        patient_chart(env.tess, "NOPE")


@pytest.mark.parametrize(("system", "shown"), [
    ("http://snomed.info/sct", "Hypertension, [SNOMED CT 38341003]"),  # a FHIR bundle's condition
    ("http://www.nlm.nih.gov/research/umls/rxnorm", "Hypertension, [RxNorm 38341003]"),
    ("ICD-10-CM", "Hypertension, [38341003]"),  # the archive's own code system stays bare
    (None, "Hypertension, [38341003]"),
])
def test_a_code_of_another_system_says_which(system: str | None, shown: str) -> None:
    """A bare SNOMED or RxNorm code beside a chart entry reads as an ICD-10-CM code."""
    from archive.charts.entries import ChartEntry

    entry = ChartEntry(id="e1", patient="MRN1", version=1, kind="diagnosis", text="Hypertension", date=None,
                       status="active", code="38341003", code_system=system)
    assert entry.summary() == shown
