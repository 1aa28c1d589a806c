"""CLI: code search/show/suggest/confirm/reject/list/load and the index cross-indexes (one vault per module)."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import invoke, ok_json
from tests.coding_helpers import add_record
from tests.conftest import ADMIN_PASS, PHYS_PASS, VaultFixture

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")


NOTE_DM = (
    "HISTORY OF PRESENT ILLNESS: 61-year-old woman with HTN, here for follow-up. No evidence of pneumonia.\n"
    "ASSESSMENT:\n1. Type 2 diabetes without complications.\n2. Essential hypertension.\n"
    "PLAN: Continue metformin 500 mg twice daily.\n"
)
NOTE_AF = "IMPRESSION: Atrial fibrillation. Denies chest pain.\n"


@pytest.fixture(scope="module")
def records(shared_vault: VaultFixture) -> dict[str, str]:
    session = shared_vault.session
    return {
        "dm.txt": add_record(session, NOTE_DM, mrn="4242", author="Maria Lopez", name="Grace Hopper"),
        "af.txt": add_record(session, NOTE_AF, mrn="5151", author="Dr Ng", name="Alan Turing"),
    }


def test_code_search_by_words_and_code(shared_vault: VaultFixture) -> None:
    hits = ok_json(invoke(shared_vault.root, "code", "search", "type", "2", "diabetes", "--limit", "5", "--json"))
    assert hits[0]["code"] == "E11.9" and hits[0]["billable"] is True
    assert len(hits) == 5 and set(hits[0]) >= {"code", "description", "billable", "kind", "score", "match"}
    hits = ok_json(invoke(shared_vault.root, "code", "search", "e119", "--json"))
    assert hits[0]["code"] == "E11.9" and hits[0]["match"] == "code"
    text = invoke(shared_vault.root, "code", "search", "HTN", "--limit", "3")
    assert text.exit_code == 0 and text.output.splitlines()[0].startswith("I10 ")


def test_code_search_needs_no_patient_right(shared_vault: VaultFixture) -> None:
    result = invoke(shared_vault.root, "code", "search", "asthma", "--limit", "2", user="admin", passphrase=ADMIN_PASS)
    assert result.exit_code == 0 and "J45" in result.output, result.output


def test_code_show_hierarchy(shared_vault: VaultFixture) -> None:
    detail = ok_json(invoke(shared_vault.root, "code", "show", "E11.9", "--json"))
    assert [a["code"] for a in detail["ancestors"]] == ["4", "E08-E13", "E11"]
    assert detail["billable"] is True and detail["children"] == []
    text = invoke(shared_vault.root, "code", "show", "E11")
    assert "Chapter 4" in text.output and "E11.9: Type 2 diabetes mellitus without complications" in text.output


def test_unknown_code_suggests_near_codes(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    result = invoke(shared_vault.root, "code", "show", "E11.99")
    assert result.exit_code == 2
    assert "There is no ICD-10-CM code 'E11.99'" in result.output and "Nearest codes: E11.9" in result.output
    searched = invoke(shared_vault.root, "code", "search", "e11.99")
    assert searched.exit_code == 0 and searched.output.startswith("There is no ICD-10-CM code 'e11.99'. Nearest")
    assert "E11.9 " in searched.output
    result = invoke(shared_vault.root, "code", "confirm", records["dm.txt"], "Q99.99")
    assert result.exit_code == 2 and "Nearest codes" in result.output


def test_suggest_for_a_record(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    out = ok_json(invoke(shared_vault.root, "code", "suggest", records["dm.txt"], "--json"))
    assert out["record_id"] == records["dm.txt"] and out["patient"] == "4242"
    codes = [s["code"] for s in out["suggestions"]]
    assert codes[0] in ("E11.9", "I10") and {"E11.9", "I10"} <= set(codes[:3]), codes
    assert not any(c.startswith("J18") for c in codes)  # "no evidence of pneumonia"
    for s in out["suggestions"]:
        assert s["passage"] in NOTE_DM and s["billable"] in (True, False) and 0 < s["score"] <= 1
    text = invoke(shared_vault.root, "code", "suggest", records["dm.txt"])
    assert "E11.9" in text.output and "Confirm with: chartvault code confirm" in text.output


def test_suggest_free_text(shared_vault: VaultFixture) -> None:
    out = ok_json(invoke(shared_vault.root, "code", "suggest", "--text", "Assessment: CHF, COPD.", "--json"))
    codes = [s["code"] for s in out["suggestions"]]
    assert "I50.9" in codes and "J44.9" in codes, codes
    both = invoke(shared_vault.root, "code", "suggest", "r123", "--text", "asthma")
    assert both.exit_code == 2 and "either a RECORD_ID or --text" in both.output


def test_suggest_is_audited_and_denied_to_admin(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    denied = invoke(shared_vault.root, "code", "suggest", records["af.txt"], user="admin", passphrase=ADMIN_PASS)
    assert denied.exit_code == 3
    invoke(shared_vault.root, "code", "suggest", records["af.txt"], "--json")
    row = shared_vault.session.db.execute(  # type: ignore[attr-defined]
        "SELECT user, record, patient FROM audit WHERE action = 'code_suggest' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    assert tuple(row) == ("tess", records["af.txt"], "5151")


def test_confirm_reject_and_history(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    rid = records["dm.txt"]
    confirmed = ok_json(invoke(shared_vault.root, "code", "confirm", rid, "e119", "--json"))
    assert confirmed["code"] == "E11.9" and confirmed["status"] == "confirmed" and confirmed["decided_by"] == "tess"
    assert "Confirmed I10" in invoke(shared_vault.root, "code", "confirm", rid, "I10").output
    assert ok_json(invoke(shared_vault.root, "code", "reject", rid, "I10", "--json"))["status"] == "rejected"
    now = {d["code"]: d["status"] for d in ok_json(invoke(shared_vault.root, "code", "list", rid, "--json"))}
    assert now == {"E11.9": "confirmed", "I10": "rejected"}
    history = ok_json(invoke(shared_vault.root, "code", "list", rid, "--history", "--json"))
    assert [(d["code"], d["status"]) for d in history] == [
        ("E11.9", "confirmed"), ("I10", "confirmed"), ("I10", "rejected")
    ]
    suggested = ok_json(invoke(shared_vault.root, "code", "suggest", rid, "--json"))["suggestions"]
    assert {s["code"]: s["status"] for s in suggested}.get("E11.9") == "confirmed"
    block = invoke(shared_vault.root, "code", "confirm", rid, "E08-E13")
    assert block.exit_code == 2 and "is a block" in block.output
    missing = invoke(shared_vault.root, "code", "confirm", "r000000000000", "E11.9")
    assert missing.exit_code == 2 and "No record" in missing.output


def test_index_by_code_category_prefix(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    invoke(shared_vault.root, "code", "confirm", records["af.txt"], "I48.91")
    by_cat = ok_json(invoke(shared_vault.root, "index", "by-code", "E11", "--json"))
    assert [r["record_id"] for r in by_cat["records"]] == [records["dm.txt"]]
    assert by_cat["patients"] == ["4242"] and "E11.9" in by_cat["records"][0]["codes"]
    rejected = ok_json(invoke(shared_vault.root, "index", "by-code", "I10", "--json"))
    assert rejected["records"] == []  # I10 was rejected for that record
    af = ok_json(invoke(shared_vault.root, "index", "by-code", "i48.91", "--json"))
    assert af["patients"] == ["5151"]
    text = invoke(shared_vault.root, "index", "by-code", "E11")
    assert "1 record, 0 chart entries, 1 patient: 4242" in text.output and "confirmed E11.9" in text.output
    bad = invoke(shared_vault.root, "index", "by-code", "diabetes")
    assert bad.exit_code == 2 and "not an ICD-10-CM code" in bad.output


def test_index_by_physician_and_treatment(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    by_doc = ok_json(invoke(shared_vault.root, "index", "by-physician", "Lopez", "--json"))
    assert [r["record_id"] for r in by_doc["records"]] == [records["dm.txt"]]
    by_user = ok_json(invoke(shared_vault.root, "index", "by-physician", "drmaria", "--json"))
    assert [r["record_id"] for r in by_user["records"]] == [records["dm.txt"]]  # the user's full name
    treated = ok_json(invoke(shared_vault.root, "index", "by-treatment", "metformin", "--json"))
    assert [r["record_id"] for r in treated["records"]] == [records["dm.txt"]]
    assert treated["records"][0]["codes"] == ["E11.9"]
    none = invoke(shared_vault.root, "index", "by-treatment", "warfarin")
    assert none.exit_code == 0 and "Nothing found" in none.output


def test_cross_indexes_include_the_chart(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    root = shared_vault.root
    added = invoke(root, "patient", "add", "--mrn", "6363", "--name", "Edsger Dijkstra", "--dob", "1950-05-11",
                   "--sex", "M", "--physician", "drmaria")
    assert added.exit_code == 0, added.output
    for args in (["--kind", "medication", "--text", "Warfarin 5 mg tablet", "--dose", "5 mg"],
                 ["--kind", "diagnosis", "--text", "Type 2 diabetes with neuropathy", "--code", "E11.40"]):
        result = invoke(root, "chart", "add", "6363", *args, "--date", "2024-01-15")
        assert result.exit_code == 0, result.output
    treated = ok_json(invoke(root, "index", "by-treatment", "warfarin", "--json"))
    assert treated["patients"] == ["6363"] and treated["chart_entries"][0]["kind"] == "medication"
    by_cat = ok_json(invoke(root, "index", "by-code", "E11", "--json"))
    assert set(by_cat["patients"]) == {"4242", "6363"}
    assert [e["code"] for e in by_cat["chart_entries"]] == ["E11.40"]
    attended = ok_json(invoke(root, "index", "by-physician", "drmaria", "--json"))
    assert "6363" in attended["patients"]
    text = invoke(root, "index", "by-treatment", "warfarin")
    assert "0 records, 1 chart entry, 1 patient: 6363" in text.output


def test_physician_may_code(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    out = invoke(shared_vault.root, "code", "suggest", records["af.txt"], "--json", user="drmaria",
                 passphrase=PHYS_PASS)
    if out.exit_code == 3:  # the vault's physician scope may limit physicians to their own patients
        assert "not yours" in out.output
    else:
        assert json.loads(out.stdout)["suggestions"][0]["code"] == "I48.91"


def test_confirmed_code_attaches_to_the_encounter(shared_vault: VaultFixture) -> None:
    root = shared_vault.root
    added = invoke(root, "patient", "add", "--mrn", "8181", "--name", "Barbara Liskov", "--dob", "1939-11-07",
                   "--sex", "F")
    assert added.exit_code == 0, added.output
    visit = ok_json(invoke(root, "encounter", "add", "8181", "--kind", "visit", "--start", "2024-02-01", "--json"))
    record_id = add_record(shared_vault.session, "ASSESSMENT: Gout of the right great toe.\n", mrn="8181",
                           author="Dr Ng", name="Barbara Liskov")  # dated 2024-02-01
    decision = ok_json(invoke(root, "code", "confirm", record_id, "M10.9", "--json"))
    assert decision["encounter_id"] == visit["id"] and decision["patient"] == "8181"
    listed = ok_json(invoke(root, "code", "list", record_id, "--json"))
    assert listed[0]["encounter_id"] == visit["id"]


# Issue 22's "Found" list: what `code suggest --text` gave before negation, history and family were read.
@pytest.mark.parametrize(
    ("text", "never", "first"),
    [
        ("Never smoker. No known allergies.", {"F17", "T78", "Z88"}, None),
        ("Family history of breast cancer in her mother.", {"Z82", "C50"}, "Z80.3"),
        ("History of Present Illness: She reports fatigue. Weight down 4 kg.", {"R69", "Q90"}, None),
        ("The patient was prescribed the following medications", {"Z91"}, None),
        ("# Allergies\nNo Known Allergies", {"T78"}, None),
        ("viral sinusitis", {"J32"}, "J01.90"),
        ("acute on chronic systolic congestive heart failure", set(), "I50.23"),
    ],
)
def test_suggest_text_found_list(shared_vault: VaultFixture, text: str, never: set[str], first: str | None) -> None:
    out = ok_json(invoke(shared_vault.root, "code", "suggest", "--text", text, "--json"))
    codes = [s["code"] for s in out["suggestions"]]
    assert not {c[:3] for c in codes} & never, codes
    if first is not None:
        assert codes and codes[0] == first, codes


# ICD-10-CM Official Guidelines: an uncertain diagnosis is coded as if established only for an inpatient at
# discharge (II.H), never for an outpatient visit (IV.H). The doubted codes are listed apart, never suggested.
DOUBT = "ASSESSMENT: Community-acquired pneumonia. Rule out pulmonary embolism."


def test_suggest_lists_uncertain_codes_apart(shared_vault: VaultFixture) -> None:
    out = ok_json(invoke(shared_vault.root, "code", "suggest", "--text", DOUBT, "--json"))
    assert not any(s["code"].startswith("I26") for s in out["suggestions"]), out["suggestions"]
    assert out["suggestions"][0]["code"].startswith("J18")
    assert out["uncertain"][0]["code"].startswith("I26"), out["uncertain"]
    assert out["uncertain"][0]["passage"] == "Rule out pulmonary embolism"
    assert out["uncertain_rule"].startswith("uncertain: code only under the inpatient rule")
    # the same suggestions as without the doubted sentence
    plain = ok_json(invoke(shared_vault.root, "code", "suggest", "--text", DOUBT.split(" Rule")[0], "--json"))
    assert [s["code"] for s in out["suggestions"]] == [s["code"] for s in plain["suggestions"]]
    assert plain["uncertain"] == []


def test_suggest_uncertain_text_output_pinned(shared_vault: VaultFixture) -> None:
    text = invoke(shared_vault.root, "code", "suggest", "--text", DOUBT, "--limit", "1")
    assert text.exit_code == 0, text.output
    assert text.output == PINNED_DOUBT_OUTPUT, text.output


PINNED_DOUBT_OUTPUT = (
    "J18.9     1.00  Pneumonia, unspecified organism\n"
    "          \u201cCommunity-acquired pneumonia\u201d\n"
    "\n"
    "Uncertain: code only under the inpatient rule (ICD-10-CM guidelines II.H), never for an outpatient visit (IV.H):\n"
    "? I26.99  0.85  Other pulmonary embolism without acute cor pulmonale  (uncertain)\n"
    "          \u201cRule out pulmonary embolism\u201d\n"
)


# Issue 22, session 9: a relative who reports, an inverted condition, a screening, a misspelt denial, a list of
# negatives and another person's disease (before session 9 the second text gave R30.0, R04.2 and B05.9, the first
# nothing for the cough and I20/C34 for the plan and the screening).
SESSION9 = ("Wife states he has been coughing for a week. Should chest pain occur, call 911. "
            "Chest CT for lung cancer screening.")


def test_suggest_text_session9_pinned(shared_vault: VaultFixture) -> None:
    text = invoke(shared_vault.root, "code", "suggest", "--text", SESSION9, "--limit", "1")
    assert text.exit_code == 0, text.output
    assert text.output == PINNED_SESSION9_OUTPUT, text.output
    out = ok_json(invoke(shared_vault.root, "code", "suggest", "--text",
                         "Pt denys dysuria. Negative ROS: fever, hemoptysis. Babysitter had measles.", "--json"))
    assert out["suggestions"] == [] and out["uncertain"] == [], out


PINNED_SESSION9_OUTPUT = (
    "R05.9     0.38  Cough, unspecified\n"
    "          \u201cWife states he has been coughing for a week\u201d\n"
)
