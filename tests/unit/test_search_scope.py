"""A search ranks among the records its user may see (archive.search.Visibility.within): a physician under the
"assigned" scope, in an archive where other patients' records match better, still gets a full page of their own
patients' hits in every mode; a technician (not scoped) is not narrowed; the audit entry records the filters the
user set, not the scope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ADMIN_PASS, PHYS_PASS, TECH_PASS, VaultTemplate

MINE = "MRN-1001"
# 24 other patients' notes that say "troponin" four times; 6 of MINE that say it once, among other words
NOTES = {
    **{f"MRN-2{i:03d}__trop{i}.txt": f"Troponin {i} rising: troponin, troponin and troponin again." for i in range(24)},
    **{f"{MINE}__visit{i}.txt": f"Clinic visit {i}: knee sprain, troponin negative." for i in range(6)},
}
LIMIT = 5


def scoped_vault(template: VaultTemplate, dest: Any, notes: Any) -> Any:
    """NOTES imported and embedded (the fake embedder) into a copy at `dest`; MINE's attending is drmaria; the
    "assigned" physician scope. Returns its root."""
    from archive.login import open_session
    from archive.settings import set_setting

    path = template.with_notes(dest, notes, NOTES, embed=True)
    admin = open_session(path, "admin", ADMIN_PASS)
    set_setting(admin, "policy.physician_scope", "assigned")
    with admin.transaction():
        admin.db.execute("UPDATE patients SET attending = 'drmaria' WHERE mrn = ?", [MINE])
    admin.close()
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Iterator[Any]:
    """The notes imported and embedded (the fake embedder); MINE's attending is drmaria; the "assigned" scope."""
    yield scoped_vault(users_vault_template, tmp_path_factory.mktemp("scope") / "v", tmp_path_factory.mktemp("notes"))


@pytest.fixture(scope="module")
def maria(root: Any) -> Iterator[Any]:
    from archive.login import open_session

    session = open_session(root, "drmaria", PHYS_PASS)
    yield session
    session.close()


@pytest.mark.parametrize("mode", ["fts", "semantic", "hybrid"])
def test_a_scoped_physician_gets_a_full_page_of_their_own_patients_hits(
    maria: Any, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ranked over everyone, the first page (and hybrid's candidate pools, made small here as a large archive's
    are small beside it) would hold other patients' records only, all dropped."""
    from archive.search import search
    from indexer import hybrid

    monkeypatch.setattr(hybrid, "POOL", LIMIT)
    result = search(maria, "troponin", mode=mode, limit=LIMIT)
    assert len(result.hits) == LIMIT
    assert {h.patient for h in result.hits} == {MINE}


def test_the_scope_is_the_policy_s_and_stays_out_of_the_audit(root: Any, maria: Any) -> None:
    from archive.login import open_session
    from archive.policy import Action
    from archive.search import Visibility, search_records

    mine = {int(n) for (n,) in maria.db.execute("SELECT n FROM records WHERE patient_mrn = ?", [MINE])}
    assert Visibility(maria, Action.SEARCH).within() == tuple(sorted(mine))
    hits = search_records(maria, "troponin", limit=LIMIT, doc_type="note")
    assert len(hits) == LIMIT and {h.patient for h in hits} == {MINE}
    entry = maria.audit_log.entries(action="search", user="drmaria")[-1]
    assert entry.details["filters"] == {"doc_type": "note"}

    tess = open_session(root, "tess", TECH_PASS)
    try:
        assert Visibility(tess, Action.SEARCH).within() is None  # technicians are not scoped
        assert search_records(tess, "troponin", limit=LIMIT)[0].patient != MINE
    finally:
        tess.close()


@pytest.fixture
def shared(tmp_path: Any, users_vault_template: VaultTemplate) -> Any:
    """A vault of its own (the module's is left unchanged), made as `root`."""
    (tmp_path / "notes").mkdir()
    return scoped_vault(users_vault_template, tmp_path / "v", tmp_path / "notes")


def test_disclosed_and_granted_records_are_ranked_for_the_actions_they_open(shared: Any) -> None:
    """A record disclosed to the physician is among the records her searches rank; a break-glass grant opens
    viewing only, so it is listed for VIEW_RECORD and not for SEARCH; a disclosure row altered in the database is
    still listed (the look-up checks no signature) and its hit is dropped by the policy."""
    from archive.access import break_glass, disclose
    from archive.login import open_session
    from archive.policy import Action
    from archive.search import search_records

    tess = open_session(shared, "tess", TECH_PASS)
    others = [str(r) for (r,) in tess.db.execute(
        "SELECT id FROM records WHERE patient_mrn <> ? ORDER BY n", [MINE])]
    shared_id, granted_id, forged_id = others[0], others[1], others[2]
    disclose(tess, shared_id, "drmaria", "second opinion on troponin")
    disclose(tess, forged_id, "drmaria", "continuing care")
    tess.close()

    maria = open_session(shared, "drmaria", PHYS_PASS)
    try:
        n_of = dict(maria.db.execute("SELECT id, n FROM records").fetchall())
        mine = {int(n) for (n,) in maria.db.execute("SELECT n FROM records WHERE patient_mrn = ?", [MINE])}
        assert set(maria.visible_records(Action.SEARCH)) == mine | {n_of[shared_id], n_of[forged_id]}
        hits = search_records(maria, "troponin", limit=50)
        assert shared_id in {h.record_id for h in hits}

        assert break_glass(maria, granted_id, None, "patient in ED, unconscious, history unknown") is not None
        assert n_of[granted_id] in maria.visible_records(Action.VIEW_RECORD)
        assert n_of[granted_id] not in maria.visible_records(Action.SEARCH)

        assert forged_id in {h.record_id for h in search_records(maria, "troponin", limit=50)}
        with maria.transaction():  # an insider stretches a disclosure's purpose: its signature no longer holds
            maria.db.execute("UPDATE disclosures SET purpose = 'any purpose at all' WHERE record = ?", [forged_id])
        assert n_of[forged_id] in maria.visible_records(Action.SEARCH)
        ids = {h.record_id for h in search_records(maria, "troponin", limit=50)}
        assert forged_id not in ids and shared_id in ids
    finally:
        maria.close()
