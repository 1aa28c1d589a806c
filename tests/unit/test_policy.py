"""The role table (`decide`, pure) and the per-record rules (`decide_record`, pure over the facts
the index holds: `archive.access.IndexFacts`) on a bare index."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from archive.access import IndexFacts
from archive.policy import ALLOWED, Action, decide, decide_record
from archive.store import Store
from archive.users import User

ADMIN = User("ada", "admin")
TECH = User("tess", "technician")
DOC = User("maria", "physician", licence="MD-1")
DOC_NO_LICENCE = User("nolic", "physician")
DOC_DISABLED = User("gone", "physician", licence="MD-2", active=False)
ADMIN_DOC = User("ada2", "admin", licence="MD-3", clinical_role="physician")
ADMIN_TECH = User("ada3", "admin", clinical_role="technician")
ADMIN_DOC_NO_LICENCE = User("ada4", "admin", clinical_role="physician")

CONTENT = (Action.VIEW_RECORD, Action.SEARCH, Action.EXPORT, Action.ASK_ABOUT_PATIENT)


def test_admin_sees_no_patient_content() -> None:
    for action in CONTENT + (Action.DISCLOSE,):
        assert not decide(ADMIN, action).allowed
    for action in (Action.MANAGE_USERS, Action.EXPORT_IDENTITY, Action.VIEW_AUDIT, Action.MANAGE_SETTINGS):
        assert decide(ADMIN, action).allowed


def test_technician_and_physician() -> None:
    assert decide(TECH, Action.DISCLOSE).allowed and decide(TECH, Action.VIEW_ACCOUNTING).allowed
    assert not decide(TECH, Action.ASK_ABOUT_PATIENT).allowed
    assert decide(TECH, Action.ASK_GENERAL).allowed  # codes, statistics: no patient named
    assert decide(DOC, Action.ASK_ABOUT_PATIENT).allowed and not decide(DOC, Action.DISCLOSE).allowed
    assert not decide(DOC, Action.VIEW_AUDIT).allowed and not decide(TECH, Action.VIEW_AUDIT).allowed


@pytest.mark.parametrize("user", [DOC_NO_LICENCE, DOC_DISABLED, ADMIN_DOC_NO_LICENCE])
def test_unregistered_physician_gets_no_physician_rights(user: User) -> None:
    assert not user.registered
    for action in CONTENT:
        decision = decide(user, action)
        assert not decision.allowed
        assert ("disabled" in decision.reason) if not user.active else ("not a registered physician" in decision.reason)


def test_disabled_user_gets_nothing_not_even_break_glass() -> None:
    for action in Action:
        assert not decide(DOC_DISABLED, action).allowed


def test_admin_with_clinical_role_holds_both() -> None:
    assert ADMIN_DOC.registered and ADMIN_DOC.roles == ("admin", "physician")
    for action in CONTENT:
        assert decide(ADMIN_DOC, action).allowed
    assert decide(ADMIN_DOC, Action.MANAGE_USERS).allowed
    assert decide(ADMIN_TECH, Action.DISCLOSE).allowed and not decide(ADMIN_TECH, Action.ASK_ABOUT_PATIENT).allowed
    assert decide(ADMIN_DOC_NO_LICENCE, Action.MANAGE_USERS).allowed  # the admin half still works


def test_every_role_may_break_glass() -> None:
    assert all(Action.BREAK_GLASS in ALLOWED[role] for role in ALLOWED)


# -- per-record rules on an index of our own (no vault needed) --------------------


@pytest.fixture
def db(tmp_path: Any) -> Any:
    import secrets

    from archive.store.schema import MIGRATIONS
    from vault.db import migrate, open_index

    database = open_index(tmp_path / "index.db", secrets.token_bytes(32), create=True)
    migrate(database, MIGRATIONS)
    yield database
    database.conn.close()


def _facts(db: Any) -> IndexFacts:
    return IndexFacts(Store(db))


def _grant(db: Any, user: str, record: str, minutes: float) -> None:
    now = dt.datetime.now(dt.UTC)
    db.execute(
        "INSERT INTO access_grants (user, record, patient, reason, granted_at, expires_at, audit_seq) "
        "VALUES (?, ?, 'M1', 'emergency', ?, ?, 7)",
        [user, record, now.isoformat(), (now + dt.timedelta(minutes=minutes)).isoformat()],
    )


def test_break_glass_grant_opens_viewing_only_until_expiry(db: Any) -> None:
    assert not decide_record(_facts(db), ADMIN, Action.VIEW_RECORD, record="r1", patient="M1").allowed
    _grant(db, "ada", "r1", minutes=5)
    decision = decide_record(_facts(db), ADMIN, Action.VIEW_RECORD, record="r1", patient="M1")
    assert decision.allowed and decision.via == "break_glass" and decision.grant == 7
    assert not decide_record(_facts(db), ADMIN, Action.EXPORT, record="r1", patient="M1").allowed
    assert not decide_record(_facts(db), ADMIN, Action.VIEW_RECORD, record="r2", patient="M1").allowed
    assert not decide_record(_facts(db), User("bob", "admin"), Action.VIEW_RECORD, record="r1", patient="M1").allowed
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
    assert Store(db).access.active_grant("ada", "r1", later) is None
    assert not decide_record(_facts(db), ADMIN, Action.VIEW_RECORD, record="r1", patient="M1", now=later).allowed


def test_grant_does_not_help_a_disabled_user(db: Any) -> None:
    _grant(db, "gone", "r1", minutes=5)
    assert not decide_record(_facts(db), DOC_DISABLED, Action.VIEW_RECORD, record="r1", patient="M1").allowed


def test_assigned_scope_for_physicians(db: Any) -> None:
    def allowed(user: User, record: str, action: Action = Action.VIEW_RECORD) -> bool:
        return decide_record(_facts(db), user, action, record=record, patient="M1", physician_scope="assigned").allowed

    assert decide_record(_facts(db), DOC, Action.VIEW_RECORD, record="r1", patient="M1").allowed  # "all" (default)
    assert not allowed(DOC, "r1") and not allowed(DOC, "r1", Action.SEARCH)
    assert allowed(TECH, "r1")  # technicians are not scoped
    db.execute(
        "INSERT INTO disclosures (ts, record, patient, discloser, recipient, purpose, audit_seq) "
        "VALUES ('t', 'r1', 'M1', 'tess', 'maria', 'care', 3)"
    )
    assert allowed(DOC, "r1") and allowed(DOC, "r1", Action.ASK_ABOUT_PATIENT)
    assert decide_record(_facts(db), DOC, Action.VIEW_RECORD, record="r1", patient="M1",
                         physician_scope="assigned").via == "disclosure"
    assert not allowed(DOC, "r2")
    _grant(db, "maria", "r2", minutes=5)
    assert allowed(DOC, "r2") and not allowed(DOC, "r2", Action.EXPORT)
