"""Hybrid's keyword side bounded in the records it ranks (indexer.hybrid.KEYWORD_BOUND), in FTS5 and through
archive.search with the fake embedder: the same results as unbounded on a small archive, the bound engaging on a
broad query (the rare words' holders ranked, with the same BM25), and the second thread never left waiting."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import numpy as np
import pytest

from tests.conftest import TECH_PASS, VaultTemplate


def _rows(n: int) -> list[str]:
    """A broad query's archive: 'ache' in 3 of 4 rows, 'knee' in half, 'cartilage' in every 10th (with
    'carpal tunnel syndrome'), 'tympanoplasty' in 4 rows and the abbreviation 'CTS' in 3."""
    out = []
    for i in range(n):
        words = ["note", f"filler{i % 7}"]
        if i % 4:
            words.append("ache")
        if i % 2:
            words.append("knee")
        if i % 10 == 0:
            words += ["cartilage", "carpal tunnel syndrome"]
        if i in (17, 101, 202, 251):
            words += ["tympanoplasty", "knee", "ache"]
        if i in (33, 150, 299):
            words += ["CTS", "carpal tunnel syndrome"]
        out.append(" ".join(words))
    return out


@pytest.fixture
def broad() -> Iterator[Any]:
    """An in-memory FTS5 table of 300 rows as the index has it."""
    from sqlcipher3 import dbapi2

    from indexer import fts

    db = dbapi2.connect(":memory:", check_same_thread=False)
    fts.create_schema(db, columns=fts.COLUMNS, weights=fts.WEIGHTS)
    for i, text in enumerate(_rows(300), start=1):
        db.execute(f"INSERT INTO {fts.TABLE} (rowid, title, filename, text, meta, facets) VALUES (?, '', ?, ?, '', '')",
                   [i, f"{i}.txt", text])
    yield db
    db.close()


QUERY = "tympanoplasty CTS knee ache cartilage"


def _product(db: Any, query: str, plan: Any, vector_side: list[int]) -> Any:
    """The keyword side's scores as a hybrid search computes them (archive.search._words_side: bounded or not, as
    the plan says), the vector side's candidates already found."""
    from archive.search import _words_side
    from archive.store.records import RecordsRepo
    from indexer import fts, hybrid

    found: Future[list[int]] = Future()
    found.set_result(vector_side)
    _plan, every, _holding, _near = _words_side(RecordsRepo(db), hybrid.expand(query), fts.Filters(), plan, True, None,
                                         found)
    return every


def test_a_small_archive_ranks_every_match(broad: Any) -> None:
    """With the shipped bound, an archive of 300 records ranks every match: the scores are the unbounded ones."""
    from indexer import fts, hybrid

    plan = hybrid.plan_keywords(broad, hybrid.expand(QUERY), total=300)
    assert plan.match and plan.rare is None
    every = _product(broad, QUERY, plan, [5])
    unbounded = hybrid.KeywordScores.of(broad, plan.match, fts.Filters())
    assert not every.bounded and len(every.records) == len(unbounded.records) > 200
    assert every.top(100) == unbounded.top(100)


def test_the_bound_ranks_the_rarest_forms_holders_with_their_own_bm25(broad: Any, monkeypatch: Any) -> None:
    """Bound 10 on a match of ~250 records: only the holders of the rarest forms (tympanoplasty, CTS: 7), the
    newest 10 holding two of the next ones and the vector side's candidates are ranked, each with the BM25
    unbounded ranking gives it; the best keyword hits are the same."""
    from indexer import fts, hybrid

    monkeypatch.setattr(hybrid, "KEYWORD_BOUND", 10)
    plan = hybrid.plan_keywords(broad, hybrid.expand(QUERY), total=300)
    assert plan.match and plan.rare is not None
    # by form: the concept CTS is also matched as "carpal tunnel syndrome" (33 rows), its rare form is what counts
    assert plan.rare == '"cts" OR "tympanoplasty"'
    unbounded = hybrid.KeywordScores.of(broad, plan.match, fts.Filters())
    candidate = 2  # 'ache' only: a vector-side candidate gets its BM25 all the same
    every = _product(broad, QUERY, plan, [candidate])
    assert every.bounded
    # and the 10 newest holders of any two, and of any three, of the next rarer forms (cartilage, carpal tunnel
    # syndrome, knee, ache)
    two, three = plan.together
    assert '("knee" AND "ache")' in two and '("carpal tunnel syndrome" AND "knee" AND "ache")' in three
    assert "cts" not in two + three
    newest = {int(r[0]) for t in (two, three) for r in broad.execute(
        f"SELECT rowid FROM {fts.TABLE} WHERE {fts.TABLE} MATCH ? ORDER BY rowid DESC LIMIT 10", [t])}
    assert 10 < len(newest) <= 20
    assert set(every.records.tolist()) == {18, 102, 203, 252, 34, 151, 300, candidate} | newest
    full = dict(zip(unbounded.records.tolist(), unbounded.scores.tolist(), strict=True))
    assert all(full[int(n)] == s for n, s in zip(every.records, every.scores, strict=True))
    assert list(every.top(3)) == list(unbounded.top(3))  # the CTS rows (both of the concept's forms)


def test_the_rarest_form_alone_is_bounded_to_its_newest_holders(broad: Any, monkeypatch: Any) -> None:
    """When even the rarest form has more holders than the bound, its KEYWORD_BOUND newest are ranked."""
    from indexer import fts, hybrid

    monkeypatch.setattr(hybrid, "KEYWORD_BOUND", 20)
    plan = hybrid.plan_keywords(broad, hybrid.expand("knee ache"), total=300)
    assert plan.match and plan.rare == '"knee"'
    every = _product(broad, "knee ache", plan, [])
    knee = [int(r[0]) for r in broad.execute(
        f"SELECT rowid FROM {fts.TABLE} WHERE {fts.TABLE} MATCH 'knee' ORDER BY rowid DESC LIMIT 20")]
    assert sorted(every.records.tolist()) == sorted(knee)


NOTES = {
    **{f"{i}__visit.txt": f"Clinic visit {i}. Knee ache on stairs, no swelling; physiotherapy." for i in range(8)},
    "90__ear.txt": "Tympanoplasty for a chronic eardrum perforation; knee ache noted in passing.",
    "91__ear.txt": "Follow-up after tympanoplasty: the graft has taken; hearing improved.",
}


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Iterator[Any]:
    """A technician's session on 10 notes, every one embedded by the fake embedder; 9 hold 'knee ache'."""
    from archive.login import open_session

    root = users_vault_template.with_notes(tmp_path_factory.mktemp("bound") / "v", tmp_path_factory.mktemp("notes"),
                                           NOTES, embed=True)
    session = open_session(root, "tess", TECH_PASS)
    yield session
    session.close()


def _searched(session: Any, query: str, monkeypatch: Any) -> tuple[list[str], Any]:
    """The hits' record ids and the keyword side's scores of one hybrid search."""
    import archive.search as search_mod

    seen: dict[str, Any] = {}
    real = search_mod._words_side

    def spy(*a: Any, **k: Any) -> Any:
        out = real(*a, **k)
        seen["every"] = out[1]
        return out

    monkeypatch.setattr(search_mod, "_words_side", spy)
    result = search_mod.search(session, query, mode="hybrid", limit=10)
    monkeypatch.setattr(search_mod, "_words_side", real)
    return [h.record_id for h in result.hits], seen["every"]


def test_hybrid_search_is_unchanged_where_the_bound_does_not_engage(vault: Any, monkeypatch: Any) -> None:
    from indexer import hybrid

    query = "tympanoplasty knee ache stairs"
    shipped, every = _searched(vault, query, monkeypatch)
    assert not every.bounded and len(every.records) == len(NOTES)
    monkeypatch.setattr(hybrid, "KEYWORD_BOUND", 10**9)
    assert _searched(vault, query, monkeypatch)[0] == shipped


def test_hybrid_search_with_the_bound_engaged_ranks_the_rare_holders_and_the_vector_candidates(
    vault: Any, monkeypatch: Any
) -> None:
    """Bound 2 (the archive has 10 records): the keyword side ranks the 2 tympanoplasty notes and the vector
    side's candidates only, and they come first as unbounded."""
    from indexer import hybrid

    query = "tympanoplasty knee ache stairs"
    monkeypatch.setattr(hybrid, "KEYWORD_BOUND", 10**9)
    unbounded, _ = _searched(vault, query, monkeypatch)
    monkeypatch.setattr(hybrid, "KEYWORD_BOUND", 2)
    bounded, every = _searched(vault, query, monkeypatch)
    ears = {rid for rid, name in vault.db.execute("SELECT id, filename FROM records") if "ear" in name}
    assert every.bounded
    ns = {int(n) for n, name in vault.db.execute("SELECT n, filename FROM records") if "ear" in name}
    assert ns <= set(every.records.tolist())
    assert set(bounded[:2]) == set(unbounded[:2]) == ears


def test_a_failing_vector_side_does_not_leave_the_keyword_thread_waiting(vault: Any, monkeypatch: Any) -> None:
    """The keyword thread of a bounded search waits for the vector side's candidates: when the vector side
    fails, the search raises its error instead of hanging."""
    from archive import search as search_mod
    from indexer import hybrid
    from indexer.vectors import VectorMatrix

    monkeypatch.setattr(hybrid, "KEYWORD_BOUND", 2)

    def broken(self: Any, q: np.ndarray, exact: bool = False) -> Any:
        raise RuntimeError("vector side failed")

    monkeypatch.setattr(VectorMatrix, "ranking", broken)
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            search_mod.search(vault, "tympanoplasty knee ache stairs", mode="hybrid", limit=10)
        except BaseException as exc:  # noqa: BLE001 - the outcome is checked below
            outcome["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout=30)
    assert not t.is_alive(), "the search hung"
    assert isinstance(outcome.get("error"), RuntimeError)


class _Late(Future):  # type: ignore[type-arg]
    """A Future already holding its result that says it is not done: the vector side still searching."""

    def done(self) -> bool:
        return False


def test_the_bounded_scores_are_the_same_whether_the_vector_side_is_done_or_not(broad: Any) -> None:
    """While the vector side searches, the keyword thread scores its own records at once and the vector candidates
    they lack after (two statements); when the candidates are there, one statement: the same scores either way."""
    from archive.search import _bounded_scores
    from indexer import hybrid

    plan = hybrid.plan_keywords(broad, hybrid.expand(QUERY), total=300)
    assert plan.match
    ranked, vector_side = [18, 34, 102, 151], [2, 34, 77, 300]
    calls: list[list[int]] = []

    class Records:
        def keyword_scores_of(self, match: str, records: list[int]) -> Any:
            calls.append(records)
            return hybrid.KeywordScores.of_these(broad, match, records)

    def scores(every: Any) -> dict[int, float]:
        return dict(zip(every.records.tolist(), every.scores.tolist(), strict=True))

    expected = scores(hybrid.KeywordScores.of_these(broad, plan.match, sorted({*ranked, *vector_side})))
    assert set(expected) == {2, 18, 34, 102, 151, 300}  # 77 holds none of the words
    done: Future[list[int]] = Future()
    done.set_result(vector_side)
    assert scores(_bounded_scores(Records(), plan.match, ranked, done)) == expected  # type: ignore[arg-type]
    assert calls == [[2, 18, 34, 77, 102, 151, 300]]
    calls.clear()
    late = _Late()
    late.set_result(vector_side)
    assert scores(_bounded_scores(Records(), plan.match, ranked, late)) == expected  # type: ignore[arg-type]
    assert calls == [ranked, [2, 77, 300]]


def test_among_the_records_a_user_may_see_the_bound_takes_the_newest_of_those(broad: Any, monkeypatch: Any) -> None:
    """A scope of many records (`fts.Filters.within`, more than the bound) is bounded as an unfiltered search is,
    among its own records: the newest holders the user may see, with their BM25; a scope of few ranks them all."""
    from archive.search import _words_side
    from archive.store.records import RecordsRepo
    from indexer import fts, hybrid

    monkeypatch.setattr(hybrid, "KEYWORD_BOUND", 10)
    plan = hybrid.plan_keywords(broad, hybrid.expand("knee ache"), total=300)
    assert plan.rare == '"knee"'
    mine = tuple(range(1, 301, 3))  # 100 records, more than the bound
    found: Future[list[int]] = Future()
    found.set_result([])
    _plan, every, _h, _n = _words_side(RecordsRepo(broad), hybrid.expand("knee ache"), fts.Filters(within=mine),
                                       plan, True, None, found)
    knee = [int(r[0]) for r in broad.execute(
        f"SELECT rowid FROM {fts.TABLE} WHERE {fts.TABLE} MATCH 'knee' ORDER BY rowid DESC")]
    assert every.bounded and sorted(every.records.tolist()) == sorted([n for n in knee if n in mine][:10])
    unbounded = hybrid.KeywordScores.of(broad, plan.match or "", fts.Filters())
    full = dict(zip(unbounded.records.tolist(), unbounded.scores.tolist(), strict=True))
    assert all(full[int(n)] == s for n, s in zip(every.records, every.scores, strict=True))
    few = mine[:8]
    _plan, every, _h, _n = _words_side(RecordsRepo(broad), hybrid.expand("knee ache"), fts.Filters(within=few),
                                       plan, True, None, found)
    assert not every.bounded and set(every.records.tolist()) == {n for n in few if n in full}
