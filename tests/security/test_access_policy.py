"""Access policy end to end: the role x action matrix (each outcome audited), break-glass,
disclosures and their accounting, a disabled physician losing access at once, alerts.

Works at the archive API (policy + Session.require/require_record, through the real
records functions), plus a few CLI exit-3 checks.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive import access, policy
from archive.errors import AccessDenied, BadInput, UserError
from archive.policy import Action
from tests.conftest import ADMIN_PASS, PHYS_PASS, TECH_PASS, VaultFixture

MRNS = ("MRN-1001", "MRN-1002", "MRN-1003")
SPARE = "MRN-1009"  # a record no test breaks the glass on


@pytest.fixture(scope="module")
def world(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The shared vault, a session per role, and one record per patient imported by the technician."""
    from archive.intake import import_paths

    tess = shared_vault.open("tess", TECH_PASS)
    maria = shared_vault.open("drmaria", PHYS_PASS)
    inbox = tmp_path_factory.mktemp("notes")
    for i, mrn in enumerate((*MRNS, SPARE)):
        (inbox / f"{mrn}__note{i}.txt").write_text(
            f"Clinic note for {mrn}. Chest pain on exertion, troponin negative. Follow-up in {i + 2} weeks.\n"
        )
    report = import_paths(tess, [inbox], settle=0)
    records = {o.patient: o.record_id for o in report.outcomes if o.status == "imported"}
    assert sorted(records) == sorted((*MRNS, SPARE)), report.to_json()
    yield {"fx": shared_vault, "admin": shared_vault.session, "tess": tess, "drmaria": maria,
           "records": records, "tmp": tmp_path_factory.mktemp("out")}
    tess.close()
    maria.close()


def _last_seq(session: Any) -> int:
    return int(session.db.execute("SELECT coalesce(max(seq), 0) FROM audit").fetchone()[0])


def _entries_since(session: Any, seq: int, user: str) -> list[Any]:
    return [e for e in session.audit_log.entries(user=user) if e.seq > seq]


# -- the matrix ------------------------------------------------------------------

ROLES = ("admin", "tess", "drmaria")
EXPECTED: dict[str, dict[str, bool]] = {
    #                 admin  technician  registered physician
    "view":            {"admin": False, "tess": True, "drmaria": True},
    "search":          {"admin": False, "tess": True, "drmaria": True},
    "export":          {"admin": False, "tess": True, "drmaria": True},
    "disclose":        {"admin": False, "tess": True, "drmaria": False},
    "ask":             {"admin": False, "tess": False, "drmaria": True},
    "manage_users":    {"admin": True, "tess": False, "drmaria": False},
    "export_identity": {"admin": True, "tess": False, "drmaria": False},
}
# the audit action an allowed / a denied attempt leaves
AUDITED_AS: dict[str, tuple[str, str]] = {
    "view": ("view_record", "view_record"),
    "search": ("search", "search"),
    "export": ("export", "export"),
    "disclose": ("disclose", "disclose"),
    "ask": ("ask_about_patient", "ask_about_patient"),
    "manage_users": ("user_clinical_role", "manage_users"),
    "export_identity": ("key_export", "export_identity"),
}


def _attempt(world: dict[str, Any], who: str, what: str) -> Callable[[], Any]:
    from archive.access import disclose
    from archive.keys import export_identity
    from archive.records import export_original, show_record
    from archive.search import search_records
    from archive.users import set_clinical_role

    session = world[who]
    rid = world["records"][MRNS[0]]
    out: Path = world["tmp"] / f"{who}-{what}"
    return {
        "view": lambda: show_record(session, rid),
        "search": lambda: search_records(session, "troponin"),
        "export": lambda: export_original(session, rid, out),
        "disclose": lambda: disclose(session, rid, "drmaria", "continuing care after discharge"),
        # the assistant's seam: every cited record of a patient goes through require_record
        "ask": lambda: session.require_record(Action.ASK_ABOUT_PATIENT, record=rid, patient=MRNS[0]),
        # a no-op change of the admin's clinical role: a real, audited user change
        "manage_users": lambda: set_clinical_role(session, "admin", None),
        "export_identity": lambda: export_identity(session, out),
    }[what]


@pytest.mark.parametrize("what", list(EXPECTED))
@pytest.mark.parametrize("who", ROLES)
def test_role_action_matrix_each_outcome_audited(world: dict[str, Any], who: str, what: str) -> None:
    session = world[who]
    before = _last_seq(session)
    expected = EXPECTED[what][who]
    if expected:
        _attempt(world, who, what)()
    else:
        with pytest.raises(AccessDenied) as info:
            _attempt(world, who, what)()
        assert info.value.exit_code == 3 and info.value.message and info.value.hint
    action = AUDITED_AS[what][0 if expected else 1]
    outcome = "ok" if expected else "denied"
    mine = _entries_since(session, before, session.user.name)
    assert any(e.action == action and e.outcome == outcome for e in mine), (
        f"{who} {what}: no '{action}' entry with outcome {outcome}; got {[(e.action, e.outcome) for e in mine]}"
    )
    if what in ("view", "export", "disclose", "ask"):
        entry = next(e for e in mine if e.action == action)
        assert entry.record == world["records"][MRNS[0]] and entry.patient == MRNS[0]
        assert entry.role == {"admin": "admin", "tess": "technician", "drmaria": "physician"}[who]


def test_search_entry_keeps_query_only_inside_the_index(world: dict[str, Any]) -> None:
    from archive.search import search_records

    search_records(world["tess"], "exertion")
    entry = world["tess"].audit_log.entries(user="tess", action="search")[-1]
    assert entry.details["query"] == "exertion"
    vault_root = world["fx"].root
    for path in vault_root.rglob("*"):
        if path.is_file():
            assert b"exertion" not in path.read_bytes(), path


# -- CLI: denials exit 3 -------------------------------------------------------------


def _cli(root: Path, user: str, passphrase: str, *args: str) -> Any:
    from archive.cli import cli

    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": user, "CHARTVAULT_PASSPHRASE": passphrase}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_cli_denials_exit_3_with_a_clear_message(world: dict[str, Any]) -> None:
    root = world["fx"].root
    rid = world["records"][MRNS[1]]
    admin_show = _cli(root, "admin", ADMIN_PASS, "show", rid)
    assert admin_show.exit_code == 3
    assert "An admin may not view record." in admin_show.output and "--break-glass" in admin_show.output
    assert "Traceback" not in admin_show.output
    tech_log = _cli(root, "tess", TECH_PASS, "audit", "log")
    assert tech_log.exit_code == 3 and "Only an admin reads the audit log." in tech_log.output
    phys_disclose = _cli(root, "drmaria", PHYS_PASS, "disclose", rid, "--to", "drmaria", "--purpose", "x y z")
    assert phys_disclose.exit_code == 3
    denied = world["admin"].audit_log.entries(user="admin", action="view_record", record=rid)
    assert denied and denied[-1].outcome == "denied"


# -- break-glass ------------------------------------------------------------------------


def test_break_glass_grants_flags_and_expires(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.audit_review import acknowledge, flagged_entries
    from archive.records import show_record

    admin = world["admin"]
    rid, mrn = world["records"][MRNS[2]], MRNS[2]
    with pytest.raises(AccessDenied):
        show_record(admin, rid)
    with pytest.raises(BadInput):
        access.break_glass(admin, rid, None, "   ")  # a reason is required
    grant = access.break_glass(admin, rid, None, "patient unconscious in ED, need allergy history")
    assert grant is not None and grant.patient == mrn
    granted = dt.datetime.fromisoformat(grant.granted_at)
    assert dt.datetime.fromisoformat(grant.expires_at) - granted == dt.timedelta(minutes=60)
    view = show_record(admin, rid)
    assert "Chest pain" in view.text
    flagged = admin.audit_log.entries(action="break_glass")[-1]
    assert flagged.flagged and flagged.record == rid and flagged.patient == mrn and "unconscious" in flagged.reason
    use = admin.audit_log.entries(action="view_record", record=rid)[-1]
    assert use.outcome == "ok" and use.details.get("via") == "break_glass" and use.details["grant"] == flagged.seq
    # the grant covers viewing only: no export, no other record
    with pytest.raises(AccessDenied):
        show_record(admin, world["records"][MRNS[0]])
    # time-limited: 61 minutes later it is gone
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    monkeypatch.setattr(policy, "_utcnow", lambda: later)
    with pytest.raises(AccessDenied):
        show_record(admin, rid)
    monkeypatch.undo()
    # review: listed with its use count until an admin acknowledges it
    waiting = {f.entry.seq: f for f in flagged_entries(admin)}
    assert flagged.seq in waiting and waiting[flagged.seq].uses >= 1
    with pytest.raises(AccessDenied):
        acknowledge(world["tess"], flagged.seq)
    with pytest.raises(BadInput):
        acknowledge(admin, use.seq)  # not flagged
    ack = acknowledge(admin, flagged.seq, note="called the ED; justified")
    assert flagged.seq not in {f.entry.seq for f in flagged_entries(admin)}
    assert flagged.seq in {f.entry.seq for f in flagged_entries(admin, include_acknowledged=True)}
    with pytest.raises(UserError):
        acknowledge(admin, flagged.seq)
    ack_entry = admin.audit_log.entries(seq=ack)[0]
    assert ack_entry.action == "review_ack" and ack_entry.details["ack"] == flagged.seq
    assert admin.audit_log.verify().ok  # acknowledging appends; the chain is never edited


def test_break_glass_cli_and_review(world: dict[str, Any]) -> None:
    root = world["fx"].root
    rid = world["records"][MRNS[1]]
    result = _cli(root, "admin", ADMIN_PASS, "show", rid, "--break-glass", "bomb threat evacuation, need meds list")
    assert result.exit_code == 0, result.output
    assert "BREAK-GLASS" in result.output and "Chest pain" in result.output
    review = _cli(root, "admin", ADMIN_PASS, "audit", "review", "--json")
    items = json.loads(review.output)
    mine = [i for i in items if i["action"] == "break_glass" and i["record"] == rid]
    assert mine and mine[0]["flagged"] and mine[0]["uses"] >= 1
    ack = _cli(root, "admin", ADMIN_PASS, "audit", "review", "--ack", str(mine[0]["seq"]))
    assert ack.exit_code == 0 and f"Acknowledged entry {mine[0]['seq']}" in ack.output


# -- disclosures and the accounting -------------------------------------------------------


def test_disclosure_to_registered_physician_only_and_accounting(world: dict[str, Any]) -> None:
    from archive.access import accounting_of_disclosures, disclose

    tess, admin = world["tess"], world["admin"]
    rid, mrn = world["records"][MRNS[1]], MRNS[1]
    for bad in ("tess", "admin"):
        with pytest.raises(AccessDenied) as info:
            disclose(tess, rid, bad, "second opinion")
        assert "not a registered physician" in info.value.message
    assert tess.audit_log.entries(action="disclose", user="tess")[-1].outcome == "denied"
    d = disclose(tess, rid, "drmaria", "second opinion on chest pain")
    assert d.recipient == "drmaria" and d.patient == mrn
    acc = accounting_of_disclosures(tess, mrn)  # technicians answer a patient's request
    assert acc.chain_ok
    lines = [(line.user, line.action, line.record, line.recipient, line.why) for line in acc.lines]
    assert ("tess", "disclose", rid, "drmaria", "second opinion on chest pain") in lines
    assert any(u == "tess" and a == "import" and r == rid for u, a, r, _, _ in lines)
    assert not any(a == "disclose" and u is None for u, a, *_ in lines)
    with pytest.raises(AccessDenied):
        accounting_of_disclosures(world["drmaria"], mrn)
    # the CLI prints the same accounting
    out = _cli(world["fx"].root, "admin", ADMIN_PASS, "audit", "disclosures", mrn, "--json")
    data = json.loads(out.output)
    assert data["patient"] == mrn
    assert any(e["action"] == "disclose" and e["recipient"] == "drmaria" for e in data["entries"])
    assert admin.audit_log.entries(action="accounting", patient=mrn)


def test_assigned_scope_disclosure_makes_record_available(world: dict[str, Any]) -> None:
    from archive.access import disclose
    from archive.records import show_record
    from archive.search import search_records
    from archive.settings import set_setting

    admin, tess, maria = world["admin"], world["tess"], world["drmaria"]
    rid, other = world["records"][MRNS[0]], world["records"][MRNS[2]]
    set_setting(admin, "policy.physician_scope", "assigned")
    try:
        with pytest.raises(AccessDenied) as info:
            show_record(maria, other)
        assert "not yours" in info.value.message
        disclose(tess, rid, "drmaria", "referral for cardiology follow-up")
        assert "Chest pain" in show_record(maria, rid).text
        assert maria.audit_log.entries(action="view_record", user="drmaria")[-1].details.get("via") == "disclosure"
        hits = {h.record_id for h in search_records(maria, "troponin")}
        assert rid in hits and other not in hits
        assert show_record(tess, other).record_id == other  # technicians are not scoped
    finally:
        set_setting(admin, "policy.physician_scope", "all")


# -- a disabled physician loses access at once ----------------------------------------------


def test_disabled_physician_loses_access_in_open_session(world: dict[str, Any]) -> None:
    from archive.records import show_record
    from archive.search import search_records
    from archive.users import add_user, disable_user

    fx, admin = world["fx"], world["admin"]
    add_user(admin, "drjoe", "physician", "walnut harbour signal", licence="MD-777")
    joe = fx.open("drjoe", "walnut harbour signal")
    try:
        rid = world["records"][MRNS[0]]
        assert show_record(joe, rid).record_id == rid
        disable_user(admin, "drjoe")  # another session, same moment
        with pytest.raises(AccessDenied) as info:
            show_record(joe, rid)
        assert "disabled" in info.value.message
        with pytest.raises(AccessDenied):
            search_records(joe, "troponin")
        with pytest.raises(AccessDenied):
            joe.require_record(Action.ASK_ABOUT_PATIENT, record=rid, patient=MRNS[0])
        last = admin.audit_log.entries(user="drjoe")[-1]
        assert last.outcome == "denied"
        with pytest.raises(AccessDenied):
            fx.open("drjoe", "walnut harbour signal")  # and no new login either
    finally:
        joe.close()


# -- alerts ---------------------------------------------------------------------------------


def test_alerts_name_their_entries(world: dict[str, Any]) -> None:
    from archive.alerts import audit_alerts
    from archive.keys import export_identity
    from archive.records import show_record
    from archive.settings import set_setting

    admin, tess = world["admin"], world["tess"]
    export_identity(admin, world["tmp"] / "identity-for-alert.txt")
    access.break_glass(admin, world["records"][MRNS[0]], None, "checking an alert rule works")
    set_setting(admin, "alert.many_patients.count", "3")
    try:
        start = _last_seq(admin)
        for mrn in MRNS:
            show_record(tess, world["records"][mrn])
        alerts = audit_alerts(admin)
        kinds = {a.kind for a in alerts}
        assert {"many_patients", "key_export", "break_glass"} <= kinds
        burst = [a for a in alerts if a.kind == "many_patients" and a.user == "tess"][-1]
        named = admin.audit_log.entries()
        by_seq = {e.seq: e for e in named}
        assert {by_seq[s].patient for s in burst.seqs} >= set(MRNS)
        assert all(by_seq[s].user == "tess" for s in burst.seqs)
        assert max(burst.seqs) > start
        with pytest.raises(AccessDenied):
            audit_alerts(tess)
    finally:
        set_setting(admin, "alert.many_patients.count", "20")


def test_failed_logins_are_audited_and_alerted(world: dict[str, Any]) -> None:
    from archive.alerts import audit_alerts
    from archive.errors import WrongPassphrase
    from archive.login import _import_failed_logins, _remember_failed_login
    from archive.settings import set_setting

    fx, admin = world["fx"], world["admin"]
    set_setting(admin, "alert.failed_logins.count", "2")
    try:
        with pytest.raises(WrongPassphrase):
            fx.open("drmaria", "not her passphrase at all")  # the real path (one KDF)
        _remember_failed_login(admin.vault, "drmaria")  # a second one, without paying the KDF again
        _import_failed_logins(admin)  # what the next unlock does
        failed = [e for e in admin.audit_log.entries(action="login_failed") if e.user == "drmaria"]
        assert len(failed) >= 2 and all(e.outcome == "denied" and e.reason == "wrong passphrase" for e in failed)
        assert not list((fx.root / "pending" / "failed-logins").glob("*.age"))
        alerts = [a for a in audit_alerts(admin) if a.kind == "failed_logins" and a.user == "drmaria"]
        assert alerts and set(alerts[-1].seqs) <= {e.seq for e in failed} and len(alerts[-1].seqs) >= 2
    finally:
        set_setting(admin, "alert.failed_logins.count", "5")
        admin.vault.keyslots._clear_failures("drmaria")


def test_admin_with_clinical_role_sees_content_until_it_is_taken_away(world: dict[str, Any]) -> None:
    from archive.records import show_record
    from archive.users import set_clinical_role

    admin, rid = world["admin"], world["records"][SPARE]
    with pytest.raises(BadInput):
        set_clinical_role(admin, "admin", "physician")  # a physician role needs a licence
    with pytest.raises(UserError):
        set_clinical_role(admin, "tess", "physician", licence="MD-9")  # only admins take a second role
    set_clinical_role(admin, "admin", "technician")
    try:
        assert show_record(admin, rid).record_id == rid
        entry = admin.audit_log.entries(user="admin", action="view_record", record=rid)[-1]
        assert entry.outcome == "ok" and entry.role == "admin+technician"
    finally:
        set_clinical_role(admin, "admin", None)
    with pytest.raises(AccessDenied):
        show_record(admin, rid)
    change = admin.audit_log.entries(action="user_clinical_role")[-1]
    assert change.details["target"] == "admin" and change.details["clinical_role"] is None


def test_cli_audit_log_filters_and_alerts_json(world: dict[str, Any]) -> None:
    root, mrn = world["fx"].root, MRNS[0]
    log = _cli(root, "admin", ADMIN_PASS, "audit", "log", "--user", "tess", "--patient", mrn, "--since", "1d",
               "--json")
    assert log.exit_code == 0, log.output
    entries = json.loads(log.output)
    assert entries and all(e["user"] == "tess" and e["patient"] == mrn for e in entries)
    assert {"seq", "ts", "user", "role", "action", "patient", "record", "reason", "outcome"} <= set(entries[0])
    bad = _cli(root, "admin", ADMIN_PASS, "audit", "log", "--since", "last tuesday")
    assert bad.exit_code == 2 and "is not a date" in bad.output
    alerts = _cli(root, "admin", ADMIN_PASS, "audit", "alerts", "--json")
    assert alerts.exit_code == 0
    for alert in json.loads(alerts.output):
        assert alert["kind"] and alert["summary"] and isinstance(alert["seqs"], list)
