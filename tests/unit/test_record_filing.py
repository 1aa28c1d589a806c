"""Filing a record (archive.filing): the record is tied to its patient and its chart facts land, in one
transaction; archive.records alone files the record and knows nothing of charts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.charts.entries import load_entries
from tests.conftest import VaultTemplate


@pytest.fixture(scope="module")
def tess(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Any]:
    """A technician's session (a user row sharing the admin's unlocked vault: no keyslot to derive)."""
    yield from admin_vault_template.technician(tmp_path_factory.mktemp("record-filing") / "v")


def _waiting_record(session: Any, folder: Path, given: str) -> str:
    """Import a FHIR bundle whose patient has no identifier: it waits for filing."""
    from archive.intake import import_paths

    bundle = {
        "resourceType": "Bundle", "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "name": [{"given": [given], "family": "Quill"}]}},
            {"resource": {"resourceType": "Condition", "onsetDateTime": "2024-01-02",
                          "code": {"text": "Sprain of ankle"}}},
        ],
    }
    (folder / f"{given}.json").write_text(json.dumps(bundle), encoding="utf-8")
    [out] = import_paths(session, [folder], settle=0).outcomes
    assert out.filing == "needs_filing"
    return str(out.record_id)


def test_assigning_a_patient_files_the_record_and_lands_nothing(tess: Any, tmp_path: Path) -> None:
    from archive.records import assign_patient, list_queue

    rid = _waiting_record(tess, tmp_path, "Ash")
    result = assign_patient(tess, rid, "RF-1")
    assert (result.record_id, result.mrn, result.previous, result.patient_created) == (rid, "RF-1", None, True)
    assert rid not in [q.record_id for q in list_queue(tess, "needs_filing")]
    assert load_entries(tess, "RF-1") == []


def test_filing_lands_the_chart_facts_once(tess: Any, tmp_path: Path) -> None:
    from archive.filing import file_record

    rid = _waiting_record(tess, tmp_path, "Birch")
    file_record(tess, rid, "RF-2")
    assert [(e.kind, e.text, e.source_record) for e in load_entries(tess, "RF-2")] == [
        ("diagnosis", "Sprain of ankle", rid)
    ]
    again = file_record(tess, rid, "RF-3")  # a second filing moves the record; its facts stay where they landed
    assert again.previous == "RF-2"
    assert load_entries(tess, "RF-3") == []


def test_a_failed_landing_leaves_the_record_unfiled(
    tess: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archive.filing
    from archive.records import list_queue

    rid = _waiting_record(tess, tmp_path, "Cedar")

    def broken(session: Any, record_id: str) -> None:
        raise RuntimeError("chart unavailable")

    monkeypatch.setattr(archive.filing, "land_record", broken)
    with pytest.raises(RuntimeError):
        archive.filing.file_record(tess, rid, "RF-4")
    assert rid in [q.record_id for q in list_queue(tess, "needs_filing")]
