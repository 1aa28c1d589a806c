"""HL7/FHIR imports land on the chart: entries and encounters with their source record, counted
against the bundle's own resources; idempotent re-import and backfill; filing lands a record's facts."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.charts.encounters import encounter_for_record, load_encounters
from archive.charts.entries import add_entry, correct_entry, load_entries, patient_chart
from archive.charts.landing import backfill_charts, land_record
from archive.errors import ValidationError
from tests.conftest import VaultTemplate, shared_data

BUNDLE = "Adalberto_Hartmann_44ec4447-9e2c-4eb9-bd4f-0bdb416b806e.json"  # 22 encounters, 13 conditions, ...


@pytest.fixture(scope="module")
def tess(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Any]:
    """A technician's session (a user row sharing the admin's unlocked vault: no keyslot to derive)."""
    yield from admin_vault_template.technician(tmp_path_factory.mktemp("chart-import") / "v")


def _import(session: Any, *paths: Path) -> Any:
    from archive.intake import import_paths

    return import_paths(session, list(paths), settle=0)


def _resources(path: Path) -> list[dict[str, Any]]:
    return [e["resource"] for e in json.loads(path.read_text())["entry"]]


def _day(value: str | None) -> str | None:
    return value[:10] if value else None


def test_a_synthea_bundle_lands_every_medication_condition_procedure_and_encounter(tess: Any) -> None:
    path = shared_data("fhir-r4") / BUNDLE
    resources = _resources(path)
    by_type = Counter(r["resourceType"] for r in resources)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    report = _import(tess, path)
    [out] = report.outcomes
    assert out.status == "imported" and not out.warnings
    mrn, rid = out.patient, out.record_id

    entries = load_entries(tess, mrn, include_retracted=True)
    kinds = Counter(e.kind for e in entries)
    expected = {
        "medication": by_type["MedicationRequest"] + by_type["MedicationStatement"],
        "diagnosis": by_type["Condition"],
        "procedure": by_type["Procedure"],
    }
    assert all(expected.values()), expected  # the bundle really has each kind
    assert dict(kinds) == expected
    assert all(e.source_record == rid and e.imported for e in entries)
    # the dates are the resources' own, resource by resource
    assert Counter(e.date for e in entries if e.kind == "medication") == Counter(
        _day(r.get("authoredOn")) for r in resources if r["resourceType"] == "MedicationRequest")
    assert Counter(e.date for e in entries if e.kind == "diagnosis") == Counter(
        _day(r.get("onsetDateTime")) for r in resources if r["resourceType"] == "Condition")
    codes = {c["code"] for r in resources if r["resourceType"] == "Condition" for c in r["code"]["coding"]}
    assert {e.code for e in entries if e.kind == "diagnosis"} <= codes

    encounters = load_encounters(tess, mrn)
    fhir_encounters = [r for r in resources if r["resourceType"] == "Encounter"]
    assert len(encounters) == len(fhir_encounters) == by_type["Encounter"]
    assert Counter(e.kind for e in encounters)["admission"] == sum(
        r["class"]["code"] == "IMP" for r in fhir_encounters)
    assert Counter(e.start for e in encounters) == Counter(_day(r["period"]["start"]) for r in fhir_encounters)
    assert all(e.source_record == rid for e in encounters)
    # entries attach to the encounter of their day
    on_encounter_days = [e for e in entries if any(enc.covers(e.date) for enc in encounters)]
    assert on_encounter_days and all(e.encounter_id for e in on_encounter_days)
    assert encounter_for_record(tess, rid) in {e.id for e in encounters}

    chart = patient_chart(tess, mrn)
    assert chart.patient.name == " ".join(patient["name"][0]["given"][:1] + [patient["name"][0]["family"]])
    assert [r.record_id for r in chart.records] == [rid]
    audit = list(tess.db.query("SELECT * FROM audit WHERE action = 'chart_import' AND record = ?", [rid]))
    assert json.loads(audit[0]["details"])["entries"] == sum(expected.values())

    # Importing the same file again is a duplicate record; landing it again adds nothing.
    again = _import(tess, path)
    assert again.outcomes[0].status == "duplicate"
    result = land_record(tess, rid)
    assert (result.entries_added, result.encounters_added) == (0, 0)
    assert result.already == sum(expected.values()) + len(fhir_encounters)
    assert len(load_entries(tess, mrn, include_retracted=True)) == len(entries)


def test_imported_entries_are_corrected_like_any_and_typed_duplicates_are_refused(tess: Any) -> None:
    path = shared_data("fhir-r4") / BUNDLE
    rid = _import(tess, path).outcomes[0].record_id
    mrn = tess.db.execute("SELECT patient_mrn FROM records WHERE id = ?", [rid]).fetchone()[0]
    med = next(e for e in load_entries(tess, mrn) if e.kind == "medication")
    with pytest.raises(ValidationError, match=f"--text: entry {med.id} already records this medication"):
        add_entry(tess, mrn, "medication", med.text, med.date)
    fixed = correct_entry(tess, med.id, "dose confirmed with pharmacy", expect_version=1, dose="1 tablet")
    assert (fixed.version, fixed.dose, fixed.source_record) == (2, "1 tablet", rid)


def test_hl7_messages_about_one_visit_make_one_encounter_and_medications_keep_dose_and_route(
    tess: Any, tmp_path: Path
) -> None:
    from indexer.extract.dispatch import extract

    folder = shared_data("hl7v2")
    names = ["ADT-A01-01.hl7", "ADT-A08-01.hl7", "RDE-O11-01.hl7"]
    for name in names:
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    extracted = {n: extract((folder / n).read_bytes(), n) for n in names}
    mrns = {e.patient.mrn for e in extracted.values() if e.patient}
    assert len(mrns) == 1, mrns  # the three messages are about one patient
    visits = {f.extra.get("visit") for e in extracted.values() for f in e.facts if f.kind == "encounter"}
    report = _import(tess, tmp_path)
    mrn = mrns.pop()
    assert {o.status for o in report.outcomes} == {"imported"}
    encounters = [e for e in load_encounters(tess, mrn) if e.external_id]
    assert sorted(e.external_id for e in encounters) == sorted(v for v in visits if v)
    meds = [e for e in load_entries(tess, mrn) if e.kind == "medication"]
    rde_meds = [f for f in extracted["RDE-O11-01.hl7"].facts if f.kind == "medication"]
    assert len(meds) == len(rde_meds) > 0
    assert {(m.text, m.dose, m.route) for m in meds} == {
        (f.text, f.extra.get("dose"), f.extra.get("route")) for f in rde_meds}
    # the diagnosis in both ADT messages is on the chart once
    dx = [e for e in load_entries(tess, mrn) if e.kind == "diagnosis"]
    assert len(dx) == len({(e.text, e.date) for e in dx}) > 0


def _unidentified_bundle() -> bytes:
    """A FHIR bundle whose patient has no identifier: it waits for filing."""
    return json.dumps({
        "resourceType": "Bundle", "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "name": [{"given": ["Wren"], "family": "Quill"}],
                          "birthDate": "1990-04-04", "gender": "female"}},
            {"resource": {"resourceType": "MedicationRequest", "status": "active", "authoredOn": "2024-01-02",
                          "medicationCodeableConcept": {"text": "Ibuprofen 400 MG Oral Tablet"}}},
            {"resource": {"resourceType": "Condition", "onsetDateTime": "2024-01-02",
                          "code": {"text": "Sprain of ankle"}}},
        ],
    }).encode()


def test_a_record_waiting_for_filing_lands_when_filed(tess: Any, tmp_path: Path) -> None:
    from archive.filing import file_record

    (tmp_path / "wren.json").write_bytes(_unidentified_bundle())
    [out] = _import(tess, tmp_path).outcomes
    assert out.filing == "needs_filing"
    assert land_record(tess, out.record_id).note == "waiting for filing"
    file_record(tess, out.record_id, "WQ-1")
    entries = load_entries(tess, "WQ-1")
    assert sorted((e.kind, e.text, e.source_record) for e in entries) == [
        ("diagnosis", "Sprain of ankle", out.record_id),
        ("medication", "Ibuprofen 400 MG Oral Tablet", out.record_id),
    ]


def test_backfill_lands_records_imported_before_charts_and_is_idempotent(
    tess: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archive.intake

    bundles = sorted(shared_data("fhir-r4").glob("*.json"))[:3]
    bundles = [b for b in bundles if b.name != BUNDLE][:2]
    monkeypatch.setattr(archive.intake, "land_outcomes", lambda session, outcomes: None)  # as before charts
    report = _import(tess, *bundles)
    monkeypatch.undo()
    rids = [o.record_id for o in report.outcomes]
    assert all(o.status == "imported" for o in report.outcomes)
    expected = sum(
        sum(r["resourceType"] in ("MedicationRequest", "Condition", "Procedure") for r in _resources(b))
        for b in bundles
    )
    placeholders = ",".join("?" * len(rids))
    landed = f"SELECT count(*) FROM chart_entries WHERE source_record IN ({placeholders})"
    assert tess.db.execute(landed, rids).fetchone()[0] == 0
    first = backfill_charts(tess)
    assert tess.db.execute(landed, rids).fetchone()[0] == expected == first.entries_added
    second = backfill_charts(tess)
    assert (second.entries_added, second.encounters_added) == (0, 0)
    assert second.already >= expected


def test_encounter_for_record_finds_the_visit_covering_a_filed_note(tess: Any, tmp_path: Path) -> None:
    from archive.charts.encounters import add_encounter
    from archive.charts.patients import add_patient

    add_patient(tess, "NOTE-9", "Ivy Nettle", "1975-03-03", "F")
    visit = add_encounter(tess, "NOTE-9", "visit", "2023-04-05")
    (tmp_path / "NOTE-9__clinic.txt").write_text("Date: 2023-04-05\n\nClinic review: knee pain improving.\n")
    [out] = _import(tess, tmp_path).outcomes
    assert out.patient == "NOTE-9"
    assert encounter_for_record(tess, out.record_id) == visit.id
