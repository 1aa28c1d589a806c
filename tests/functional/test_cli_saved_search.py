"""CLI: saved searches, patient lists, the patients view of a search and the weak-match notice (pinned output).

One vault for the module, the fake embedder (tests/conftest.py): hybrid search works on shared words.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cli_helpers import import_notes, invoke, ok, ok_json
from tests.conftest import ADMIN_PASS, PHYS_PASS, VaultFixture

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")

NOTES = {
    "s1.txt": "MRN: 1001\nPatient: Ann Lee\nDate: 2023-01-10\n\nSepsis from a urinary source; blood cultures grew"
              " E. coli bacteremia. Ceftriaxone started.\n",
    "s2.txt": "MRN: 1001\nPatient: Ann Lee\nDate: 2024-02-01\n\nFollow-up visit after septic shock; fully recovered,"
              " kidney function normal.\n",
    "p1.txt": "MRN: 1002\nPatient: Bo Chen\nDate: 2022-05-05\n\nCommunity acquired pneumonia of the right lower lobe;"
              " amoxicillin for seven days.\n",
    "u1.txt": "MRN: 1003\nPatient: Cy Diaz\nDate: 2023-07-07\n\nPeptic ulcer disease with epigastric burning; started"
              " on cimetadine 400 mg at night.\n",
    "h1.txt": "MRN: 1004\nPatient: Di Evans\nDate: 2021-03-03\n\nElderly woman fell at home. Right hip fracture treated"
              " with hemiarthroplasty.\n",
}


@pytest.fixture(scope="module")
def records(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return import_notes(shared_vault.root, tmp_path_factory.mktemp("notes"), NOTES)


def audit_actions(fx: VaultFixture, action: str) -> list[dict[str, Any]]:
    """The audit entries of one action, as an admin reads them."""
    return list(ok_json(invoke(fx.root, "audit", "log", "--action", action, "--json", user="admin",
                               passphrase=ADMIN_PASS)))


def _details(entry: dict[str, Any]) -> dict[str, Any]:
    details = entry["details"]
    return dict(json.loads(details) if isinstance(details, str) else details)


def test_save_rerun_list_and_forget_a_search(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    root = shared_vault.root
    saved = ok(invoke(root, "search", "sepsis OR septic OR bacteremia", "--mode", "fts", "--save", "sepsis"))
    assert saved.stderr == "Saved search 'sepsis'.\n"
    first = {line.split()[0] for line in saved.stdout.splitlines() if line.startswith("r")}
    assert first == {records["s1.txt"], records["s2.txt"]}
    rerun = ok_json(invoke(root, "search", "--saved", "sepsis", "--json"))
    assert {h["record_id"] for h in rerun} == first
    # Filters given on the command line win over the saved ones.
    narrowed = ok_json(invoke(root, "search", "--saved", "sepsis", "--from", "2024", "--json"))
    assert [h["record_id"] for h in narrowed] == [records["s2.txt"]]
    ok(invoke(root, "search", "hip", "--mode", "fts", "--type", "note", "--save", "hips", "--share", "drmaria"))
    assert ok(invoke(root, "search", "--saved-list")).stdout == (
        "hips: hip  (fts; doc-type note)  shared with drmaria\n"
        "sepsis: sepsis OR septic OR bacteremia  (fts)\n"
    )
    # drmaria sees the shared one under its owner's name, and can run it; not the other.
    assert ok(invoke(root, "search", "--saved-list", user="drmaria", passphrase=PHYS_PASS)).stdout == (
        "tess/hips: hip  (fts; doc-type note)\n"
    )
    missing = invoke(root, "search", "--saved", "sepsis", user="drmaria", passphrase=PHYS_PASS)
    assert missing.exit_code == 2
    assert "No saved search 'sepsis'." in missing.stderr
    assert ok(invoke(root, "search", "--forget", "hips")).stdout == "Deleted saved search 'hips'.\n"
    assert ok(invoke(root, "search", "--saved-list", user="drmaria", passphrase=PHYS_PASS)).stdout == (
        "No saved searches. Save one with 'chartvault search QUERY --save NAME'.\n"
    )
    events = [e for e in audit_actions(shared_vault, "search_save") if e["user"] == "tess"]
    assert [_details(e)["name"] for e in events] == ["sepsis", "hips"]


def test_bad_saved_search_names_and_queries_are_refused(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    bad = invoke(shared_vault.root, "search", "x", "--save", "../etc")
    assert bad.exit_code == 2
    assert "'../etc' cannot name a saved search." in bad.stderr
    unbalanced = invoke(shared_vault.root, "search", '"sepsis', "--save", "broken")
    assert unbalanced.exit_code == 2 and "unbalanced quote" in unbalanced.stderr
    nothing = invoke(shared_vault.root, "search")
    assert nothing.exit_code == 2 and "Give a QUERY, or --saved NAME." in nothing.stderr


def test_patient_list_from_a_search_by_mrn_search_within_and_delete(
    shared_vault: VaultFixture, records: dict[str, str]
) -> None:
    root = shared_vault.root
    assert ok(invoke(root, "list", "create", "study", "--note", "sepsis audit")).stdout == (
        "Created patient list 'study'.\n"
    )
    added = ok(invoke(root, "list", "add", "study", "--query", "sepsis OR septic", "--mode", "fts"))
    assert added.stdout == "Added 1 patient to 'study': 1001; it has 1 patient.\n"
    assert ok(invoke(root, "list", "add", "study", "1002", "1001")).stdout == (
        "Added 1 patient to 'study': 1002 (1 already on it); it has 2 patients.\n"
    )
    unknown = invoke(root, "list", "add", "study", "9999")
    assert unknown.exit_code == 2 and "No patient '9999' you may see." in unknown.stderr
    shown = ok(invoke(root, "list", "show", "study")).stdout.splitlines()
    assert shown[0] == "Patient list 'study' of tess: 2 patients  (sepsis audit)"
    assert shown[1].split()[:3] == ["1001", "Ann", "Lee"] and shown[1].endswith("by tess (search: sepsis OR septic)")
    assert shown[2].split()[:3] == ["1002", "Bo", "Chen"] and shown[2].endswith("by tess (mrn)")
    assert ok(invoke(root, "list", "show")).stdout == "study: 2 patients  (sepsis audit)\n"
    # Searching within the list leaves out the patients not on it (1003's and 1004's records).
    within = ok(invoke(root, "search", "pneumonia OR sepsis OR fracture OR ulcer", "--mode", "fts", "--list",
                       "study", "--json"))
    assert within.stderr == "Within list 'study' (2 patients you may see).\n"
    assert {h["patient"] for h in json.loads(within.stdout)} == {"1001", "1002"}
    assert ok(invoke(root, "list", "remove", "study", "1002")).stdout == (
        "Removed 1 patient from 'study'; it has 1 patient.\n"
    )
    # Another user reads a list only when it is shared, and never changes it.
    assert invoke(root, "list", "show", "study", user="drmaria", passphrase=PHYS_PASS).exit_code == 2
    assert ok(invoke(root, "list", "delete", "study")).stdout == "Deleted patient list 'study' (1 patient).\n"
    assert ok(invoke(root, "list", "show")).stdout == (
        "No patient lists. Create one with 'chartvault list create NAME'.\n"
    )
    actions = [e["action"] for e in audit_actions(shared_vault, "list_add")]
    assert actions == ["list_add", "list_add"]


def test_a_shared_list_is_read_not_changed(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    root = shared_vault.root
    ok(invoke(root, "list", "create", "handover", "--share", "drmaria"))
    ok(invoke(root, "list", "add", "handover", "1004"))
    shown = ok(invoke(root, "list", "show", "tess/handover", user="drmaria", passphrase=PHYS_PASS)).stdout
    assert shown.startswith("Patient list 'handover' of tess: 1 patient\n  1004")
    change = invoke(root, "list", "add", "handover", "1001", user="drmaria", passphrase=PHYS_PASS)
    assert change.exit_code == 2
    assert "The list 'handover' is shared with you; only its owner changes it." in change.stderr


def test_patients_view_of_a_search(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    out = ok(invoke(shared_vault.root, "search", "sepsis OR septic OR pneumonia", "--mode", "fts", "--by-patient"))
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["patient", "name", "records", "first", "last", "types"]
    assert lines[1].split()[:6] == ["1001", "Ann", "Lee", "2", "2023-01-10", "2024-02-01"]
    assert lines[2].split()[:6] == ["1002", "Bo", "Chen", "1", "2022-05-05", "2022-05-05"]
    assert lines[-1] == "2 patients, 3 records."
    data = ok_json(invoke(shared_vault.root, "search", "sepsis OR septic", "--mode", "fts", "--by-patient", "--json"))
    assert data["weak"] is False and data["unfiled_records"] == 0
    assert [(p["patient"], p["records"], p["first"], p["last"]) for p in data["patients"]] == [
        ("1001", 2, "2023-01-10", "2024-02-01")
    ]
    assert sorted(data["patients"][0]["record_ids"]) == sorted([records["s1.txt"], records["s2.txt"]])


def test_patients_view_respects_the_physician_scope(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    from archive.settings import set_setting

    set_setting(shared_vault.session, "policy.physician_scope", "assigned")  # type: ignore[arg-type]
    try:
        data = ok_json(invoke(shared_vault.root, "search", "sepsis OR pneumonia", "--mode", "fts", "--by-patient",
                              "--json", user="drmaria", passphrase=PHYS_PASS))
    finally:
        set_setting(shared_vault.session, "policy.physician_scope", "all")  # type: ignore[arg-type]
    assert data["patients"] == []  # none of these patients is drmaria's


def test_weak_matches_are_said_to_be_weak(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    root = shared_vault.root
    out = ok(invoke(root, "search", "cimetidine tablets", "--mode", "hybrid"))
    # The only mention is misspelled ("cimetadine"): the closest record is listed, as a weak match.
    lines = out.stdout.splitlines()
    assert lines[0] == "No record matches well; the closest is (weak matches):"
    assert lines[1].startswith(f"{records['u1.txt']}  2023-07-07  note  1003  score ") and lines[1].endswith("(weak)")
    assert len(lines) == 3
    hits = ok_json(invoke(root, "search", "cimetidine tablets", "--mode", "hybrid", "--json"))
    assert hits and all(h["weak"] is True for h in hits) and len(hits) <= 5
    # A list is not filled from weak matches.
    ok(invoke(root, "list", "create", "ulcers"))
    refused = invoke(root, "list", "add", "ulcers", "--query", "cimetidine tablets", "--mode", "hybrid")
    assert refused.exit_code == 2
    assert "No record matches 'cimetidine tablets' well; no patient was added." in refused.stderr
    assert ok(invoke(root, "list", "show", "ulcers")).stdout == "Patient list 'ulcers' of tess: 0 patients\n"
    good = ok_json(invoke(root, "search", "hip fracture after a fall", "--mode", "hybrid", "--json"))
    assert good[0]["record_id"] == records["h1.txt"] and good[0]["weak"] is False
    assert "weak" not in ok(invoke(root, "search", "hip fracture after a fall", "--mode", "hybrid")).stdout
