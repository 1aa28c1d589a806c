"""CLI: patient add/update/show/history/list, chart add/correct/retract/history/list/backfill, encounter add/correct.

Exit codes, the option named in validation errors, and the --json shapes. One vault for the module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.cli_helpers import invoke, ok_json
from tests.conftest import PHYS_PASS, VaultTemplate

TODAY = dt.date.today()


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


@dataclass
class Vault:
    root: Path
    admin: Any


@pytest.fixture(scope="module")
def shared_vault(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Vault]:
    """A vault whose technician and physicians are user rows sharing the admin's unlocked session.

    The CLI opens a session per command (an scrypt unlock, seconds each); here 'open_session' hands
    out a session for the named user over the one unlocked vault. Unlocking is covered by the
    foundation tests; these test the chart commands.
    """
    import archive.login
    from archive.session import Session
    from archive.users import User, get_user, insert_user
    from vault.db import transaction

    root = tmp_path_factory.mktemp("cli-charts") / "v"
    admin: Any = admin_vault_template.copy(root).session
    with transaction(admin.db):
        insert_user(admin.store, User("tess", "technician", "Tess Tech", created_by="admin"), sign_as=admin)
        insert_user(
            admin.store, User("drmaria", "physician", "Maria Lopez", licence="MD-12345", created_by="admin"),
            sign_as=admin,
        )

    class _Kept(Session):
        def close(self) -> None:  # the CLI closes its session after each command; this one stays open
            pass

    def open_as(vault_root: Path, user: str, passphrase: str) -> Any:
        assert Path(vault_root) == root
        return _Kept(unlocked=admin.unlocked, user=get_user(admin.store, user), audit_log=admin.audit_log)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(archive.login, "open_session", open_as)
        yield Vault(root, admin)
    admin.close()




def refused(result: Result, option: str, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: {option}: "), result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def patient(shared_vault: Vault) -> dict[str, Any]:
    data = ok_json(invoke(shared_vault.root, "patient", "add", "--mrn", "C-100", "--name", "Rosa Delgado",
                          "--dob", "1961-09-14", "--sex", "F", "--physician", "drmaria", "--admitted", days_ago(6),
                          "--json"))
    return data  # type: ignore[no-any-return]


def test_patient_add_json_shape(patient: dict[str, Any]) -> None:
    assert set(patient) >= {"mrn", "name", "dob", "sex", "attending", "admitted", "discharged", "status", "version",
                            "legal_hold"}
    assert (patient["mrn"], patient["attending"], patient["admitted"], patient["version"]) == (
        "C-100", "drmaria", days_ago(6), 1)


@pytest.mark.parametrize(
    ("args", "option", "says"),
    [
        (["--dob", "2031-01-01"], "--dob", "birth date 2031-01-01 is in the future."),
        (["--dob", "1970-02-31"], "--dob", "1970-02-31 is not a real date."),
        (["--sex", "Z"], "--sex", "must be one of F, M, X, U"),
        (["--physician", "tess"], "--physician", "'tess' is a technician, not a physician."),
        (["--physician", "drwho"], "--physician", "no user 'drwho'"),
        (["--discharged", "2020-01-01"], "--discharged", "needs an admission date"),
        (["--name", "R2D2"], "--name", "contains digits"),
    ],
)
def test_patient_add_failures_exit_2_and_name_the_option(shared_vault: Vault, args: list[str], option: str,
                                                         says: str) -> None:
    base = {"--mrn": "C-BAD", "--name": "Lena Park", "--dob": "1980-01-01", "--sex": "F"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    err = refused(invoke(shared_vault.root, "patient", "add", *[x for kv in base.items() for x in kv]), option)
    assert says in err


def test_the_exact_message_for_a_future_birth_date(shared_vault: Vault) -> None:
    result = invoke(shared_vault.root, "patient", "add", "--mrn", "C-FUT", "--name", "Ann Future", "--dob",
                    "2031-01-01", "--sex", "F")
    assert result.stderr.splitlines()[0] == "Error: --dob: birth date 2031-01-01 is in the future."


def test_likely_duplicate_patient_needs_force(shared_vault: Vault, patient: dict[str, Any]) -> None:
    args = ["patient", "add", "--mrn", "C-101", "--name", "Rosa Delgato", "--dob", "1961-09-14", "--sex", "F"]
    err = refused(invoke(shared_vault.root, *args), "--name")
    assert "C-100" in err and "--force" in err
    assert invoke(shared_vault.root, "patient", "show", "C-101").exit_code == 2  # not created
    forced = ok_json(invoke(shared_vault.root, *args, "--force", "--json"))
    assert forced["mrn"] == "C-101"


def test_chart_add_each_kind_and_json_shape(shared_vault: Vault, patient: dict[str, Any]) -> None:
    med = ok_json(invoke(shared_vault.root, "chart", "add", "C-100", "--kind", "medication", "--text",
                         "Ceftriaxone 1 g", "--date", days_ago(5), "--dose", "1 g", "--route", "IV",
                         "--frequency", "daily", "--stop", days_ago(1), "--json"))
    assert set(med) >= {"id", "patient", "version", "kind", "text", "date", "status", "encounter_id",
                        "source_record", "dose", "route", "frequency", "start", "stop", "author", "saved_at",
                        "saved_by", "retracted"}
    assert (med["kind"], med["dose"], med["start"], med["stop"], med["version"], med["author"]) == (
        "medication", "1 g", days_ago(5), days_ago(1), 1, "tess")
    assert med["id"].startswith("c") and med["encounter_id"].startswith("e")
    ref = ok_json(invoke(shared_vault.root, "chart", "add", "C-100", "--kind", "referral", "--text", "Renal opinion",
                         "--date", days_ago(4), "--to", "Dr Osei", "--reason", "rising creatinine", "--json"))
    assert (ref["referral_to"], ref["referral_to_kind"], ref["referral_reason"]) == (
        "Dr Osei", "doctor", "rising creatinine")
    dx = ok_json(invoke(shared_vault.root, "chart", "add", "C-100", "--kind", "diagnosis", "--text",
                        "Community-acquired pneumonia", "--date", days_ago(5), "--code", "J18.9", "--json"))
    assert (dx["code"], dx["code_system"]) == ("J18.9", "ICD-10-CM")
    text = invoke(shared_vault.root, "chart", "add", "C-100", "--kind", "complication", "--text",
                  "Rash after ceftriaxone", "--date", days_ago(3))
    assert text.exit_code == 0 and "Added c" in text.stdout


@pytest.mark.parametrize(
    ("args", "option", "says"),
    [
        (["--kind", "medication", "--text", "Heparin", "--date", days_ago(2), "--start", days_ago(2), "--stop",
          days_ago(3)], "--stop", "before the start date"),
        (["--kind", "referral", "--text", "Physio", "--date", days_ago(2), "--to", "Physio dept"], "--reason",
         "the reason for the referral is required"),
        (["--kind", "procedure", "--text", "CT head", "--date", days_ago(30)], "--date",
         "outside the patient's stay"),
        (["--kind", "procedure", "--text", "CT head", "--date", days_ago(2), "--dose", "5 mg"], "--dose",
         "only medication entries"),
        (["--kind", "diagnosis", "--text", "Sepsis", "--date", days_ago(2), "--code", "sepsis"], "--code",
         "not an ICD-10-CM code"),
        (["--kind", "x-ray", "--text", "CT head", "--date", days_ago(2)], "--kind", "must be one of"),
        (["--kind", "procedure", "--text", "CT head", "--date", "tomorrow"], "--date", "is not a date"),
        (["--kind", "medication", "--text", "Warfarin", "--date", days_ago(2), "--stop-reason", "GI bleed"],
         "--stop-reason", "a stop reason needs a stop date or status stopped"),
        (["--kind", "procedure", "--text", "CT head", "--date", days_ago(2), "--stop-reason", "GI bleed"],
         "--stop-reason", "only medication entries have a stop reason"),
    ],
)
def test_chart_add_failures_exit_2_and_name_the_option(shared_vault: Vault, patient: dict[str, Any],
                                                       args: list[str], option: str, says: str) -> None:
    assert says in refused(invoke(shared_vault.root, "chart", "add", "C-100", *args), option)


def test_duplicate_entry_refused_then_forced(shared_vault: Vault, patient: dict[str, Any]) -> None:
    args = ["chart", "add", "C-100", "--kind", "procedure", "--text", "Chest drain insertion", "--date", days_ago(2)]
    assert invoke(shared_vault.root, *args).exit_code == 0
    assert "already records this procedure" in refused(invoke(shared_vault.root, *args), "--text")
    assert invoke(shared_vault.root, *args, "--force").exit_code == 0


def test_correct_history_and_a_stale_version_refused(shared_vault: Vault, patient: dict[str, Any]) -> None:
    entry = ok_json(invoke(shared_vault.root, "chart", "add", "C-100", "--kind", "procedure", "--text",
                           "Lumbar puncture", "--date", days_ago(3), "--json"))
    eid = entry["id"]
    v2 = ok_json(invoke(shared_vault.root, "chart", "correct", eid, "--reason", "performed the day after",
                        "--date", days_ago(2), "--expect-version", "1", "--json"))
    assert (v2["version"], v2["date"], v2["correction_reason"]) == (2, days_ago(2), "performed the day after")
    stale = invoke(shared_vault.root, "chart", "correct", eid, "--reason", "spelling", "--text", "LP",
                   "--expect-version", "1")
    assert stale.exit_code == 2
    assert "now version 2" in stale.stderr and "not saved" in stale.stderr
    assert f"chartvault chart history {eid}" in stale.stderr
    history = ok_json(invoke(shared_vault.root, "chart", "history", eid, "--json"))
    assert [(v["version"], v["date"], v["correction_reason"]) for v in history] == [
        (1, days_ago(3), None), (2, days_ago(2), "performed the day after")]
    plain = invoke(shared_vault.root, "chart", "history", eid)
    assert f"date: '{days_ago(3)}' -> '{days_ago(2)}'" in plain.stdout
    missing_reason = invoke(shared_vault.root, "chart", "correct", eid, "--text", "LP")
    assert missing_reason.exit_code == 2 and "--reason" in missing_reason.output
    gone = ok_json(invoke(shared_vault.root, "chart", "retract", eid, "--reason", "wrong patient", "--json"))
    assert gone["retracted"] and gone["version"] == 3
    listed = ok_json(invoke(shared_vault.root, "chart", "list", "C-100", "--json"))
    assert eid not in [e["id"] for e in listed]
    assert eid in [e["id"] for e in ok_json(invoke(shared_vault.root, "chart", "list", "C-100", "--all", "--json"))]


def test_a_medication_stop_reason_is_added_shown_corrected_and_cleared(shared_vault: Vault,
                                                                      patient: dict[str, Any]) -> None:
    added = invoke(shared_vault.root, "chart", "add", "C-100", "--kind", "medication", "--text",
                   "Warfarin 5 mg tablet", "--date", days_ago(5), "--status", "stopped", "--stop", days_ago(1),
                   "--stop-reason", "upper GI bleed")
    assert added.exit_code == 0, added.output
    assert f"Warfarin 5 mg tablet, stopped {days_ago(1)}: upper GI bleed  [stopped]" in added.stdout
    eid = added.stdout.split()[1]
    listed = ok_json(invoke(shared_vault.root, "chart", "list", "C-100", "--kind", "medication", "--json"))
    assert [e["stop_reason"] for e in listed if e["id"] == eid] == ["upper GI bleed"]
    v2 = ok_json(invoke(shared_vault.root, "chart", "correct", eid, "--reason", "the letter says more",
                        "--stop-reason", "upper GI bleed, INR 6.2", "--json"))
    assert (v2["version"], v2["stop_reason"], v2["correction_reason"]) == (
        2, "upper GI bleed, INR 6.2", "the letter says more")
    plain = invoke(shared_vault.root, "chart", "history", eid)
    assert "stop_reason: 'upper GI bleed' -> 'upper GI bleed, INR 6.2'" in plain.stdout
    v3 = ok_json(invoke(shared_vault.root, "chart", "correct", eid, "--reason", "typed on the wrong drug",
                        "--stop-reason", "", "--json"))
    assert (v3["version"], v3["stop_reason"]) == (3, None)


def test_patient_show_history_and_list_json(shared_vault: Vault, patient: dict[str, Any]) -> None:
    chart = ok_json(invoke(shared_vault.root, "patient", "show", "C-100", "--json"))
    assert set(chart) == {"patient", "encounters", "entries", "records"}
    assert chart["patient"]["mrn"] == "C-100"
    assert [e["kind"] for e in chart["encounters"]] == ["admission"]
    assert all(e["patient"] == "C-100" for e in chart["entries"])
    history = ok_json(invoke(shared_vault.root, "patient", "history", "C-100", "--json"))
    assert history[0]["entity"] == "patient" and history[0]["action"] == "created"
    assert set(history[0]) == {"at", "by", "entity", "entity_id", "version", "action", "reason", "changes"}
    assert {h["entity"] for h in history} == {"patient", "encounter", "entry"}
    listed = ok_json(invoke(shared_vault.root, "patient", "list", "--json"))
    assert "C-100" in [p["mrn"] for p in listed]
    text = invoke(shared_vault.root, "patient", "show", "C-100")
    assert text.exit_code == 0 and "Rosa Delgado" in text.stdout and "Encounters (1)" in text.stdout


def test_patient_update_and_encounters(shared_vault: Vault, patient: dict[str, Any]) -> None:
    up = ok_json(invoke(shared_vault.root, "patient", "update", "C-100", "--discharged", days_ago(1), "--reason",
                        "home with antibiotics", "--json"))
    assert up["discharged"] == days_ago(1)
    stale = invoke(shared_vault.root, "patient", "update", "C-100", "--status", "inactive", "--expect-version", "1")
    assert stale.exit_code == 2 and "not saved" in stale.stderr
    visit = ok_json(invoke(shared_vault.root, "encounter", "add", "C-100", "--kind", "visit", "--start",
                           days_ago(60), "--text", "GP referral", "--json"))
    assert (visit["kind"], visit["attending"]) == ("visit", "drmaria")
    overlap = invoke(shared_vault.root, "encounter", "add", "C-100", "--kind", "admission", "--start", days_ago(3))
    assert "overlaps admission" in refused(overlap, "--start")
    fixed = ok_json(invoke(shared_vault.root, "encounter", "correct", visit["id"], "--reason", "date typo",
                           "--start", days_ago(61), "--json"))
    assert (fixed["start"], fixed["version"]) == (days_ago(61), 2)


def test_physician_may_view_but_not_edit(shared_vault: Vault, patient: dict[str, Any]) -> None:
    shown = invoke(shared_vault.root, "patient", "show", "C-100", "--json", user="drmaria", passphrase=PHYS_PASS)
    assert shown.exit_code == 0
    denied = invoke(shared_vault.root, "chart", "add", "C-100", "--kind", "procedure", "--text", "Echo", "--date",
                    days_ago(2), user="drmaria", passphrase=PHYS_PASS)
    assert denied.exit_code == 3 and denied.stderr.startswith("Error: ")


def test_unknown_patient_and_entry(shared_vault: Vault) -> None:
    assert invoke(shared_vault.root, "patient", "show", "NOPE-1").exit_code == 2
    result = invoke(shared_vault.root, "chart", "correct", "c99999", "--reason", "nothing", "--text", "x")
    assert result.exit_code == 2 and "No chart entry 'c99999'" in result.stderr


def test_backfill_json(shared_vault: Vault) -> None:
    report = ok_json(invoke(shared_vault.root, "chart", "backfill", "--json"))
    assert set(report) >= {"records", "entries_added", "encounters_added", "already", "duplicates",
                           "waiting_for_filing", "results"}
