"""The review queue: what does not add up at filing waits for a technician (issue 17's "Found" examples first).

Each item is kept with both sources; the questionable fact stays out of the chart and the statistics until a
technician accepts a value, corrects it, refiles the record or rejects the fact; every decision is audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.charts.encounters import load_encounters
from archive.charts.entries import load_entries
from archive.errors import BadInput, ValidationError
from archive.review import list_review, resolve_review, show_review
from archive.review_rules import same_person_name
from tests.conftest import VaultTemplate
from tests.hl7_fixture import adt


@pytest.fixture(scope="module")
def tess(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Any]:
    yield from admin_vault_template.technician(tmp_path_factory.mktemp("review") / "v")


def _import(session: Any, folder: Path, name: str, data: bytes) -> Any:
    from archive.intake import import_paths

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    [out] = import_paths(session, [path], settle=0).outcomes
    assert out.status == "imported", out
    return out


def _items(session: Any, record_id: str) -> list[Any]:
    return [i for i in list_review(session, "all") if i.record_id == record_id]


def _audit_actions(session: Any, record_id: str) -> list[str]:
    return [e.action for e in session.audit_log.entries() if e.record == record_id]


def test_two_birth_dates_for_one_mrn_wait_for_review_with_both_sources(tess: Any, tmp_path: Path) -> None:
    first = _import(tess, tmp_path, "a.hl7", adt("11102779", "Doe^Jane", "20240630", sender="SENDER_A",
                                                  admitted="20240701", control="A1"))
    second = _import(tess, tmp_path, "b.hl7", adt("11102779", "Doe^Jane", "20230504", sender="SENDER_B",
                                                   admitted="20230504", control="B1"))
    assert first.patient == second.patient == "11102779"
    [item] = _items(tess, second.record_id)
    assert (item.kind, item.field, item.value, item.other_value) == ("demographics", "dob", "2023-05-04",
                                                                    "2024-06-30")
    assert item.other_source == first.record_id and item.status == "open"
    assert "2023-05-04" in item.message and "2024-06-30" in item.message
    # neither birth date stands on the patient while the sources disagree
    assert tess.store.patients.row("11102779")["dob"] is None
    detail = show_review(tess, item.id)
    assert detail.this.record_id == second.record_id and detail.other is not None
    assert detail.other.record_id == first.record_id and detail.other.filename == "a.hl7"
    # a third message from the first sender does not quietly put its date back
    _import(tess, tmp_path, "c.hl7", adt("11102779", "Doe^Jane", "20240630", sender="SENDER_A",
                                         admitted="20240801", control="A2"))
    assert tess.store.patients.row("11102779")["dob"] is None

    resolved = resolve_review(tess, item.id, "accept", reason="birth certificate seen")
    assert resolved.status == "accepted" and resolved.resolved_by == "tess"
    assert tess.store.patients.row("11102779")["dob"] == "2023-05-04"
    assert "review_resolve" in _audit_actions(tess, second.record_id)
    assert "review_queued" in _audit_actions(tess, second.record_id)
    with pytest.raises(BadInput, match="decided already"):
        resolve_review(tess, item.id, "accept")


def test_the_literal_mrn_makes_no_patient_and_waits_for_review(tess: Any, tmp_path: Path) -> None:
    out = _import(tess, tmp_path, "mrn.hl7", adt("MRN", "Roe^Rita", "19700101", control="P1"))
    assert out.patient is None and out.filing == "needs_filing"
    assert tess.store.patients.row("MRN") is None
    [item] = _items(tess, out.record_id)
    assert (item.kind, item.field, item.value, item.holds) == ("placeholder", "mrn", "MRN", "record")
    with pytest.raises(BadInput, match="needs the MRN"):
        resolve_review(tess, item.id, "refile")
    resolve_review(tess, item.id, "refile", value="RR-1970")
    assert tess.store.records.patient_and_date(out.record_id)[0] == "RR-1970"
    assert [e.text for e in load_entries(tess, "RR-1970")] == []  # the ADT has no entries, only the visit
    assert len(load_encounters(tess, "RR-1970")) == 1
    # filed from the needs-filing queue instead, the item is decided by that filing
    from archive.filing import file_record

    other = _import(tess, tmp_path, "mrn2.hl7", adt("MRN", "Roe^Ron", "19710101", control="P2"))
    file_record(tess, other.record_id, "RR-1971")
    [item2] = _items(tess, other.record_id)
    assert item2.status == "refiled" and item2.resolution["mrn"] == "RR-1971"
    assert len(load_encounters(tess, "RR-1971")) == 1  # its visit landed


def test_a_code_diagnosis_filler_stays_off_the_chart_and_out_of_statistics(tess: Any, tmp_path: Path) -> None:
    from archive import stats
    from archive.coding import ensure_code_set

    ensure_code_set(tess)
    out = _import(tess, tmp_path, "dg1.hl7", adt("DG-1", "Poe^Paul", "19600202", control="D1",
                                                 diagnoses=("code^Diagnosis^I10C", "E10.9^Diabetes^I10",
                                                            "Q99.99^Made up^I10")))
    items = {i.value: i for i in _items(tess, out.record_id)}
    assert set(items) == {"code", "Q99.99"}
    assert (items["code"].kind, items["code"].field) == ("placeholder", "code")
    assert items["Q99.99"].kind == "code" and "not in the ICD-10-CM code set" in items["Q99.99"].message
    chart = [(e.text, e.code) for e in load_entries(tess, "DG-1")]
    assert chart == [("Diabetes", "E10.9")]  # the clean one landed; the record is searchable and filed
    groups = {g.key for g in stats.frequency(tess, by="code").groups}
    assert "CODE" not in groups and "Q99.99" not in groups and "E10.9" in groups

    resolve_review(tess, items["code"].id, "correct", value="e109", reason="the sender's DG1 was a template")
    resolve_review(tess, items["Q99.99"].id, "reject", reason="no such code")
    chart = sorted((e.text, e.code) for e in load_entries(tess, "DG-1"))
    assert chart == [("Diabetes", "E10.9"), ("Type 1 diabetes mellitus without complications", "E10.9")]


def test_a_birth_date_in_1013_is_held_and_must_be_corrected(tess: Any, tmp_path: Path) -> None:
    out = _import(tess, tmp_path, "old.hl7", adt("OLD-1", "Loe^Lara", "10131113", admitted="20200101",
                                                 control="O1"))
    [item] = [i for i in _items(tess, out.record_id) if i.field == "dob"]
    assert (item.kind, item.value) == ("date", "1013-11-13") and "before 1900" in item.message
    assert tess.store.patients.row("OLD-1")["dob"] is None
    with pytest.raises(ValidationError):
        resolve_review(tess, item.id, "accept")
    with pytest.raises(BadInput, match="Only a held fact"):
        resolve_review(tess, item.id, "reject")
    resolve_review(tess, item.id, "correct", value="1983-11-13", reason="typing slip")
    assert tess.store.patients.row("OLD-1")["dob"] == "1983-11-13"


def test_discharge_before_admission_and_future_dates_hold_the_visit(tess: Any, tmp_path: Path) -> None:
    out = _import(tess, tmp_path, "dis.hl7", adt("DIS-1", "Hoe^Hal", "19500505", admitted="20220310",
                                                 discharged="20220301", control="X1"))
    [item] = _items(tess, out.record_id)
    assert (item.kind, item.field, item.value, item.other_value) == ("date", "end_date", "2022-03-01",
                                                                    "2022-03-10")
    assert load_encounters(tess, "DIS-1") == []
    resolve_review(tess, item.id, "correct", value="2022-03-21")
    [enc] = load_encounters(tess, "DIS-1")
    assert (enc.start, enc.end) == ("2022-03-10", "2022-03-21")

    future = _import(tess, tmp_path, "fut.hl7", adt("FUT-1", "Foe^Fay", "19900101", admitted="29990101",
                                                    control="F1"))
    kinds = {(i.kind, i.field) for i in _items(tess, future.record_id)}
    assert ("date", "date") in kinds
    assert load_encounters(tess, "FUT-1") == []


def test_a_note_filed_to_a_chart_of_another_name_is_held(tess: Any, tmp_path: Path) -> None:
    _import(tess, tmp_path, "owner.hl7", adt("NM-1", "Smith^John", "19610615", control="N1"))
    note = b"Patient: Maria Gonzalez\nDate: 2021-05-05\n\nFollow-up visit. Doing well.\n"
    out = _import(tess, tmp_path, "NM-1__note.txt", note)
    [item] = _items(tess, out.record_id)
    assert (item.kind, item.field, item.value, item.other_value) == ("misfiled", "name", "Maria Gonzalez",
                                                                    "John Smith")
    assert tess.store.review.record_held(out.record_id)
    resolve_review(tess, item.id, "refile", value="NM-2")
    assert tess.store.records.patient_and_date(out.record_id)[0] == "NM-2"
    assert not tess.store.review.record_held(out.record_id)


def test_clean_messages_and_spelling_variants_queue_nothing(tess: Any, tmp_path: Path) -> None:
    a = _import(tess, tmp_path, "ok1.hl7", adt("OK-1", "Smith^Jon", "19610615", diagnoses=("E10.9^Diabetes^I10",),
                                               control="K1"))
    b = _import(tess, tmp_path, "ok2.hl7", adt("OK-1", "SMYTH^John^Q", "19610615", sender="SENDER_B",
                                               admitted="20230601", control="K2"))
    assert _items(tess, a.record_id) == [] and _items(tess, b.record_id) == []
    assert tess.store.patients.row("OK-1")["dob"] == "1961-06-15"
    assert same_person_name("José García", "Garcia, Jose") and same_person_name("J. Smith", "John Smith")
    assert not same_person_name("Maria Gonzalez", "John Smith")
