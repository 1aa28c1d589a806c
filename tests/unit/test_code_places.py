"""Codes on the right encounter (issue 17): a code confirmed from a passage goes to the encounter and dates of
the facts the passage names; statistics count each condition in the year of its own onset; a multi-encounter
bundle is dated by its last clinical date; an undecidable passage asks the review queue; `rederive` fixes
codes confirmed the old way and says what moved."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.charts.encounters import load_encounters
from archive.coding import confirm_code, ensure_code_set, record_codes
from archive.rederive import rederive_facts
from archive.review import list_review, resolve_review
from archive.stats import diagnosis_events
from tests.conftest import VaultTemplate, shared_data

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from filing import check_bundle_years  # noqa: E402

# Strep throat in 2016 within 13 encounters; chronic sinusitis of 1984 in a patient followed to 2020.
BUNDLES = ["Alberto_Armstrong_dc9335d0-bbdd-4120-8ae9-baa6604343b6.json",
           "Alfonso_Dietrich_96160268-66b9-4c07-aa11-0a72de133a52.json"]


@pytest.fixture(scope="module")
def tess(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Any]:
    for session in admin_vault_template.technician(tmp_path_factory.mktemp("places") / "v"):
        ensure_code_set(session)
        yield session


def _import(session: Any, path: Path) -> Any:
    from archive.intake import import_paths

    [out] = import_paths(session, [path], settle=0).outcomes
    assert out.status == "imported"
    return out


@pytest.mark.parametrize("name", BUNDLES)
def test_each_condition_counts_in_the_year_of_its_own_onset(tess: Any, name: str) -> None:
    path = shared_data("fhir-r4") / name
    bundle = json.loads(path.read_text())
    out = _import(tess, path)
    encounters = [r["resource"] for r in bundle["entry"] if r["resource"]["resourceType"] == "Encounter"]
    last = max(e["period"]["start"][:10] for e in encounters)
    record_date = tess.store.records.patient_and_date(out.record_id)[1]
    assert record_date >= last  # the record is as recent as its last clinical date, not its first encounter

    result = check_bundle_years(tess, out.record_id, bundle)
    assert result["codes"] >= 3
    assert result["agree"] == result["codes"]  # every condition-derived code in its onset years
    assert result["old_agree"] < result["codes"]  # what the old placement got wrong
    codes = record_codes(tess, out.record_id)
    assert len({c.encounter_id for c in codes if c.encounter_id}) > 1  # not all on one encounter


def test_the_passage_fact_decides_the_encounter(tess: Any) -> None:
    path = shared_data("fhir-r4") / BUNDLES[1]
    bundle = json.loads(path.read_text())
    rid = next(r for r in tess.store.records.all_ids() if tess.store.records.get(r)["filename"] == path.name)
    mrn = tess.store.records.patient_and_date(rid)[0]
    chronic = next(r["resource"] for r in bundle["entry"] if r["resource"]["resourceType"] == "Condition"
                   and "Chronic sinusitis" in r["resource"]["code"]["text"])
    ref = chronic["encounter"]["reference"].removeprefix("urn:uuid:")
    decision = confirm_code(tess, rid, "J32.9", passage="Chronic sinusitis (disorder)")
    enc = next(e for e in load_encounters(tess, mrn) if e.id == decision.encounter_id)
    assert enc.external_id == ref and enc.start[:4] == chronic["onsetDateTime"][:4] == "1984"
    events = [e for e in diagnosis_events(tess.store, ["J32.9"]) if e.mrn == mrn]
    assert {e.episode_day[:4] for e in events} >= {"1984"}


def _bundle_with_a_note(tmp_path: Path) -> Path:
    entries = [
        {"resource": {"resourceType": "Patient", "id": "p", "birthDate": "1950-01-01",
                      "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": "UND-1"}],
                      "name": [{"given": ["Una"], "family": "Decided"}]}},
        {"resource": {"resourceType": "Encounter", "id": "e-a", "class": {"code": "AMB"},
                      "period": {"start": "2019-02-02", "end": "2019-02-02"}}},
        {"resource": {"resourceType": "Encounter", "id": "e-b", "class": {"code": "AMB"},
                      "period": {"start": "2021-06-06", "end": "2021-06-06"}}},
        {"resource": {"resourceType": "DiagnosticReport", "code": {"text": "Clinic letter"},
                      "conclusion": "Assessment: acute gouty arthritis of the left great toe."}},
    ]
    path = tmp_path / "und.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


def test_an_undecidable_passage_asks_the_technician(tess: Any, tmp_path: Path) -> None:
    out = _import(tess, _bundle_with_a_note(tmp_path))
    decision = confirm_code(tess, out.record_id, "M10.072", passage="acute gouty arthritis of the left great toe")
    assert decision.encounter_id is None
    [item] = [i for i in list_review(tess) if i.record_id == out.record_id]
    assert (item.kind, item.value) == ("encounter", "M10.072") and "2 encounters" in item.message
    later = next(e for e in load_encounters(tess, "UND-1") if e.start == "2021-06-06")
    resolve_review(tess, item.id, "correct", value=later.id, reason="the 2021 visit's letter")
    [code] = record_codes(tess, out.record_id)
    assert code.encounter_id == later.id
    assert {e.episode_day for e in diagnosis_events(tess.store, ["M10.072"]) if e.mrn == "UND-1"} == {"2021-06-06"}


def test_rederive_moves_codes_confirmed_the_old_way(tess: Any) -> None:
    path = shared_data("fhir-r4") / BUNDLES[0]
    rid = next(r for r in tess.store.records.all_ids() if tess.store.records.get(r)["filename"] == path.name)
    # an old vault: every code on one encounter, no places, the bundle dated by its first encounter
    rows = tess.store.coding.confirmed_in_force()
    mine = [r for r in rows if r[1] == rid]
    assert mine
    first = load_encounters(tess, tess.store.records.patient_and_date(rid)[0])[0]
    with tess.transaction():
        for decision_id, *_rest in mine:
            tess.store.coding.set_places(decision_id, first.id, [])
        tess.store.records.set_date(rid, first.start)
    with tess.transaction():
        tess.store.settings.put("facts_rederive", "needed")  # as the schema migration marks an old vault
    assert tess.store.count("facts_to_rederive") == 1
    report = rederive_facts(tess)
    assert tess.store.count("facts_to_rederive") == 0
    assert report.records_redated == 1 and report.codes_moved >= len(mine)
    assert report.events_before != report.events_after
    assert report.events_before.get(first.start[:4], 0) > report.events_after.get(first.start[:4], 0)
    again = rederive_facts(tess)
    assert (again.records_redated, again.codes_moved, again.review_items) == (0, 0, 0)
    assert again.events_before == again.events_after == report.events_after


def test_the_upgrade_marks_a_vault_with_records_for_rederiving() -> None:
    import sqlite_utils

    from archive.store.schema import MIGRATIONS, review_queue_and_fact_dates
    from archive.store.status import count
    from vault.db import migrate

    old, empty = sqlite_utils.Database(memory=True), sqlite_utils.Database(memory=True)
    migrate(old, MIGRATIONS[: MIGRATIONS.index(review_queue_and_fact_dates)])
    old.execute("INSERT INTO records (id, blob_id, filename, size, status, imported_at)"
                " VALUES ('r1', 'b1', 'a.json', 1, 'filed', '2020-01-01')")
    migrate(old, MIGRATIONS)
    migrate(empty, MIGRATIONS)
    assert count(old, "facts_to_rederive") == 1
    assert count(empty, "facts_to_rederive") == 0  # a new vault has nothing to re-derive
