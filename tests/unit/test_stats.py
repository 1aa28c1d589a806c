"""Statistics: frequency, recurrence and readmissions against counts computed independently in plain Python
from the fixture rows (tests/stats_fixture.py), the hand-worked recurrence scenario, inputs, policy and audit.

One vault for the module; technician and physicians are user rows sharing the admin's unlocked vault.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from archive import stats
from archive.errors import AccessDenied, BadInput
from tests import stats_fixture as sf
from tests.conftest import VaultTemplate, session_beside


@dataclass
class Env:
    admin: Any
    tess: Any
    fx: sf.Fixture

    def session_as(self, name: str) -> Any:
        return session_beside(self.admin, name)

    def last_audit(self, action: str) -> dict[str, Any]:
        rows = list(self.admin.db.query("SELECT * FROM audit WHERE action = ? ORDER BY seq DESC LIMIT 1", [action]))
        assert rows, f"no audit entry {action}"
        return rows[0]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Env]:
    from archive.users import User, insert_user
    from vault.db import transaction

    admin: Any = admin_vault_template.copy(tmp_path_factory.mktemp("stats") / "v").session
    with transaction(admin.db):
        insert_user(admin.store, User("tess", "technician", "Tess Tech", created_by="admin"), sign_as=admin)
        sf.insert_physicians(admin)
    fx = sf.build()
    sf.insert(admin.db, fx)
    e = Env(admin, None, fx)
    e.tess = e.session_as("tess")
    yield e
    admin.close()


# -- frequency ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", stats.LEVELS)
@pytest.mark.parametrize("period", stats.PERIODS)
def test_frequency_matches_independent_counts(env: Env, by: str, period: str) -> None:
    got = stats.frequency(env.tess, by=by, period=period)
    want = sf.expected_frequency(env.fx, by, period)
    assert {(c.period, c.group): (c.patients, c.encounters) for c in got.cells} == want["cells"]
    assert {m.key: (m.patients, m.encounters) for m in got.periods} == want["periods"]
    assert {m.key: (m.patients, m.encounters) for m in got.groups} == want["groups"]
    assert (got.total.patients, got.total.encounters) == want["total"]
    assert got.undated == want["undated"] == 1
    # encounters add up across periods (each counted in the period it started), patients need not
    for g in got.groups:
        assert sum(c.encounters for c in got.cells if c.group == g.key) == g.encounters


def test_frequency_date_range(env: Env) -> None:
    got = stats.frequency(env.tess, by="category", period="quarter", date_from="2022-04", date_to="2023")
    want = sf.expected_frequency(env.fx, "category", "quarter", dt.date(2022, 4, 1), dt.date(2023, 12, 31))
    assert {(c.period, c.group): (c.patients, c.encounters) for c in got.cells} == want["cells"]
    assert got.date_from == "2022-04-01" and got.date_to == "2023-12-31"
    assert min(c.period for c in got.cells) == "2022-Q2" and max(c.period for c in got.cells) == "2023-Q4"


def test_what_counts_as_a_diagnosis(env: Env) -> None:
    codes = {g.key for g in stats.frequency(env.tess, by="code", period="year").groups}
    assert "J15.9" in codes  # the corrected entry's current code
    assert {"T81.40XA", "68566005"}.isdisjoint(codes)  # a complication; a SNOMED code
    p3 = env.fx.patients[5].mrn  # I10 confirmed then rejected; E11.9 rejected then confirmed
    mine = {e.code for e in stats.diagnosis_events(env.admin.store) if e.mrn == p3 and e.day.startswith("2022-09")}
    assert mine == {"E11.9"}
    # partial date with an explicit encounter: dated by the encounter; a retracted encounter claims nothing
    p4 = env.fx.patients[10].mrn
    ev = {(e.code, e.day): e for e in stats.diagnosis_events(env.admin.store) if e.mrn == p4}
    assert ("F32.9", "2023-03-14") in ev and ev[("F32.9", "2023-03-14")].encounter is not None
    own = ev[("K35.80", "2023-09-03")]
    assert own.encounter is None and own.episode == f"u:{p4}:2023-09-03"


def test_chapter_table_matches_hand_map() -> None:
    for code, chapter in sf.CHAPTER.items():
        assert stats.chapter_of(code) == chapter, code
    assert [stats.chapter_of(c) for c in ("O9A.11", "C7A.00", "U07.1", "QA0")] == ["15", "2", "22", "17"]


# -- recurrence -----------------------------------------------------------------------------------------


def test_recurrence_hand_worked_scenario(env: Env) -> None:
    r = stats.recurrence(env.tess, "W10", as_of=sf.SCENARIO_AS_OF.isoformat())
    got = {k: getattr(r, k) for k in sf.SCENARIO_EXPECTED}
    assert got == sf.SCENARIO_EXPECTED
    assert r.rate == pytest.approx(0.5)
    # Wilson 95% for 2 of 4, as tabulated (Newcombe 1998): 0.1500 to 0.8500
    assert r.ci_low == pytest.approx(0.1500, abs=1e-4) and r.ci_high == pytest.approx(0.8500, abs=1e-4)
    assert r.median_days_to_recurrence == pytest.approx((50 + 41) / 2)


@pytest.mark.parametrize(("code", "window", "gap"), [
    ("N39.0", 365, 30), ("S72", 365, 30), ("W19", 180, 14), ("A04.7", 365, 60), ("I10", 730, 30), ("E11", 90, 90),
])
def test_recurrence_matches_independent_counts(env: Env, code: str, window: int, gap: int) -> None:
    as_of = dt.date(2024, 9, 1)
    r = stats.recurrence(env.tess, code, window_days=window, gap_days=gap, as_of=as_of.isoformat())
    want = sf.expected_recurrence(env.fx, code, window, gap, as_of)
    assert {k: getattr(r, k) for k in want} == want
    assert r.patients > 0
    if r.eligible:
        assert r.rate == pytest.approx(r.recurred / r.eligible)
        assert r.ci_low is not None and r.ci_high is not None and r.ci_low <= r.rate <= r.ci_high


def test_recurrence_inputs(env: Env) -> None:
    with pytest.raises(BadInput, match="shorter than --gap-days"):
        stats.recurrence(env.tess, "N39.0", window_days=10, gap_days=30)
    with pytest.raises(BadInput, match="not an ICD-10-CM code"):
        stats.recurrence(env.tess, "hip fracture")
    with pytest.raises(BadInput, match="--gap-days"):
        stats.recurrence(env.tess, "N39.0", gap_days=0)


def test_wilson_interval() -> None:
    assert stats.wilson_interval(0, 0) is None
    low, high = stats.wilson_interval(0, 10) or (None, None)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = stats.wilson_interval(81, 263) or (None, None)  # Wilson (1927) example as in Newcombe 1998
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)


# -- readmissions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "as_of"), [(30, dt.date(2026, 1, 1)), (30, dt.date(2024, 7, 15)),
                                             (7, dt.date(2023, 6, 30))])
def test_readmissions_match_independent_counts(env: Env, days: int, as_of: dt.date) -> None:
    r = stats.readmissions(env.tess, days=days, as_of=as_of.isoformat())
    want = sf.expected_readmissions(env.fx, days, as_of)
    got = {row.physician: {"discharges": row.discharges, "readmitted": row.readmitted, "censored": row.censored}
           for row in [*r.by_physician, r.overall]}
    assert got == want
    assert r.overall.readmitted > 0
    assert r.overall.eligible == r.overall.discharges - r.overall.censored
    names = {row.physician: row.full_name for row in r.by_physician}
    assert names.get("drmaria") == "Maria Lopez"


def test_readmissions_know_nothing_after_the_cut_off(env: Env) -> None:
    # patient QZ-L0: discharged 2024-06-25 (drbob), admitted again 2024-07-10
    before = {r.physician: r for r in stats.readmissions(env.tess, days=30, as_of="2024-07-05").by_physician}
    after = {r.physician: r for r in stats.readmissions(env.tess, days=30, as_of="2024-07-20").by_physician}
    assert before["drbob"].censored >= 1  # not back yet on 07-05: follow-up incomplete, left out of the rate
    assert after["drbob"].readmitted == before["drbob"].readmitted + 1
    # ... and the new stay (discharged 07-13) is itself an index stay whose follow-up is not over
    assert after["drbob"].discharges == before["drbob"].discharges + 1
    assert after["drbob"].censored == before["drbob"].censored


# -- inputs, policy, audit --------------------------------------------------------------------------------


def test_frequency_inputs(env: Env) -> None:
    with pytest.raises(BadInput, match="--by"):
        stats.frequency(env.tess, by="block")
    with pytest.raises(BadInput, match="--from: '2023-13' is not a date"):
        stats.frequency(env.tess, date_from="2023-13")
    with pytest.raises(BadInput, match="after --to"):
        stats.frequency(env.tess, date_from="2024", date_to="2023")


def test_admin_may_not_see_statistics_and_the_denial_is_audited(env: Env) -> None:
    with pytest.raises(AccessDenied):
        stats.frequency(env.admin)
    denial = env.last_audit("stats")
    assert denial["outcome"] == "denied" and denial["user"] == "admin"


def test_queries_are_audited_with_their_parameters(env: Env) -> None:
    maria = env.session_as("drmaria")
    stats.frequency(maria, by="code", period="month", date_from="2022")
    entry = env.last_audit("stats_frequency")
    assert entry["user"] == "drmaria" and entry["patient"] is None
    assert json.loads(entry["details"]) == {"by": "code", "period": "month", "from": "2022-01-01", "to": None}
    stats.recurrence(env.tess, "S72", window_days=200, gap_days=20)
    assert json.loads(env.last_audit("stats_recurrence")["details"])["code"] == "S72"
    stats.readmissions(env.tess, days=14)
    assert json.loads(env.last_audit("stats_readmissions")["details"])["days"] == 14


def test_busiest_groups_break_ties_by_number_not_as_strings() -> None:
    """Chapters 4, 9, 10, 19 with tied counts: 9 before 10 and 19 (as strings, '9' sorts last)."""
    from archive.stats import Frequency, Margin

    groups = [Margin(k, 1, e) for k, e in (("10", 3), ("19", 3), ("4", 5), ("9", 3), ("11", 1))]
    result = Frequency(by="chapter", period="year", date_from=None, date_to=None, cells=[], periods=[],
                       groups=groups, total=Margin("ALL", 5, 15), undated=0)
    assert [m.key for m in result.busiest()] == ["4", "9", "10", "19", "11"]
    assert [m.key for m in result.busiest(2)] == ["4", "9"]
    codes = Frequency(by="code", period="year", date_from=None, date_to=None, cells=[], periods=[],
                      groups=[Margin("I50.9", 1, 2), Margin("E11.9", 1, 2)], total=Margin("ALL", 1, 4), undated=0)
    assert [m.key for m in codes.busiest()] == ["E11.9", "I50.9"]
