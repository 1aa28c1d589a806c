"""CLI: each hit under the weak-match floor is marked weak, also after a good match (the fake embedder).

"amoxicillin rash" in hybrid mode: the rash note matches well, two other skin notes pass the floor by meaning,
and a long diabetes note holding "amoxicillin" only in its allergy line is listed (it holds the rarer word) but
scores under the floor. Before session 14 the floor judged only the best hit, so that one went unmarked. The
patients are filed by Synthea-style MRNs (36-character UUIDs), whose column must keep the table aligned.
"""

from __future__ import annotations

import pytest

from tests.cli_helpers import import_notes, invoke, ok, ok_json
from tests.conftest import VaultFixture

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")

RASH = "3f1c2a9e-5b7d-4c1e-9a2b-6d8e0f4a1b2c"
DIABETES = "a7e4b1d0-2c3f-4e5a-8b9c-0d1e2f3a4b5c"
DERM = "c0ffee00-1111-4222-8333-944445555666"
HEAT = "5"  # a short MRN among the long ones

NOTES = {
    f"{RASH}__rash.txt": "Amoxicillin rash: a red itchy rash on the trunk three days after starting amoxicillin.",
    f"{DIABETES}__dm.txt": (
        "Follow-up of type 2 diabetes mellitus. HbA1c improved to 7.1 percent on metformin; feet examined,"
        " monofilament sensation intact; retinal screening booked; blood pressure at goal on lisinopril;"
        " statin continued; diet and walking reviewed with the dietitian; kidney function stable with creatinine 0.9"
        " and no albumin in the urine; influenza vaccine given; weight down four kilograms since spring;"
        " glucose meter downloaded, fasting readings between six and eight; no hypoglycaemia reported;"
        " next review in three months with fresh laboratory tests; shoes and socks checked, calluses pared by"
        " the podiatrist; smoking never; alcohol two units weekly; mood good, sleeping well, working full"
        " time as a teacher; eyes reviewed last winter without retinopathy. Allergies: amoxicillin."
    ),
    f"{DERM}__derm.txt": "Contact dermatitis of both hands; emollient cream twice daily; no rash elsewhere.",
    f"{HEAT}__heat.txt": "Heat rash in an infant; keep cool; loose cotton clothing.",
    "gout.txt": "Gouty arthritis of the great toe; colchicine.",
}
QUERY = "amoxicillin rash"


@pytest.fixture(scope="module")
def records(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return import_notes(shared_vault.root, tmp_path_factory.mktemp("notes"), NOTES)


def test_a_weak_hit_after_a_good_one_is_marked_in_json(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    hits = ok_json(invoke(shared_vault.root, "search", QUERY, "--mode", "hybrid", "--json"))
    weak = {h["patient"]: h["weak"] for h in hits}
    assert hits[0]["patient"] == RASH and weak[RASH] is False
    assert weak == {RASH: False, DERM: False, HEAT: False, DIABETES: True}
    assert hits[-1]["patient"] == DIABETES  # the weak one ranks last


def test_a_weak_hit_after_a_good_one_says_weak_after_its_score(shared_vault: VaultFixture,
                                                                records: dict[str, str]) -> None:
    out = ok(invoke(shared_vault.root, "search", QUERY, "--mode", "hybrid")).stdout
    assert "No record matches well" not in out  # one record does: the result is not weak
    heads = [line for line in out.splitlines() if line.startswith("r")]
    assert len(heads) == 4
    marked = [line for line in heads if "(weak)" in line]
    assert len(marked) == 1 and f"  {DIABETES}  score " in marked[0]
    assert marked[0].split("score ", 1)[1].split(" ", 1)[1].startswith("(weak)")  # right after the score


def test_the_patients_view_marks_a_patient_found_only_by_weak_hits(shared_vault: VaultFixture,
                                                                    records: dict[str, str]) -> None:
    root = shared_vault.root
    data = ok_json(invoke(root, "search", QUERY, "--mode", "hybrid", "--by-patient", "--json"))
    assert data["weak"] is False
    assert {p["patient"]: p["weak"] for p in data["patients"]} == {RASH: False, DERM: False, HEAT: False,
                                                                  DIABETES: True}
    lines = ok(invoke(root, "search", QUERY, "--mode", "hybrid", "--by-patient")).stdout.splitlines()
    header, rows = lines[0], lines[1:5]
    assert header.startswith("patient" + " " * (36 - len("patient")) + " name")
    # The MRN column is as wide as the widest MRN shown, so every later column starts at the same place.
    assert {row.index(" -  ") for row in rows} == {header.index("name") - 1}
    assert {row[:37].rstrip() for row in rows} == {RASH, DERM, HEAT, DIABETES}  # whole MRNs
    assert [row.endswith("(weak)") for row in rows] == [row.startswith(DIABETES) for row in rows]


def test_a_list_is_not_filled_from_weak_hits_after_a_good_one(shared_vault: VaultFixture,
                                                              records: dict[str, str]) -> None:
    root = shared_vault.root
    ok(invoke(root, "list", "create", "rashes"))
    ok(invoke(root, "list", "add", "rashes", "--query", QUERY, "--mode", "hybrid"))
    shown = ok_json(invoke(root, "list", "show", "rashes", "--json"))
    assert sorted(m["mrn"] for m in shown["members"]) == sorted([RASH, DERM, HEAT])


def test_a_hit_holding_every_word_of_the_query_is_not_weak(shared_vault: VaultFixture,
                                                            records: dict[str, str]) -> None:
    # "amoxicillin" alone: the diabetes note is as far by meaning as before (under the floor), but it holds the
    # word: it is about what was asked (a long FHIR bundle naming a condition among hundreds of facts is too).
    hits = ok_json(invoke(shared_vault.root, "search", "amoxicillin", "--mode", "hybrid", "--json"))
    assert {h["patient"]: h["weak"] for h in hits} == {RASH: False, DIABETES: False}
    # As many records hold the word as are listed: the words' side did not list them all; looked up among the hits.
    two = ok_json(invoke(shared_vault.root, "search", "amoxicillin", "--mode", "hybrid", "--limit", "2", "--json"))
    assert {h["patient"]: h["weak"] for h in two} == {RASH: False, DIABETES: False}


def test_a_search_whose_only_hits_hold_its_words_is_not_weak(shared_vault: VaultFixture,
                                                             records: dict[str, str]) -> None:
    # By meaning, one word is far from a long note about many things (under the floor): the note holds the word,
    # so the search found what was asked; it said "No record matches well" before.
    out = ok(invoke(shared_vault.root, "search", "monofilament", "--mode", "semantic")).stdout
    hits = ok_json(invoke(shared_vault.root, "search", "monofilament", "--mode", "semantic", "--json"))
    assert hits and hits[0]["patient"] == DIABETES and hits[0]["weak"] is False
    assert "No record matches well" not in out and "(weak)" not in out.splitlines()[0]
