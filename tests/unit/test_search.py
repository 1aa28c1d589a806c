"""archive.search: why full text stood in for a mode (as data), and the similar-cases floor, with the fake embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TECH_PASS, VaultTemplate

NOTES = {
    "1__hip.txt": "Elderly woman fell at home; right hip fracture; arthroplasty; post-op delirium.",
    "2__hip.txt": "Elderly man fell from a ladder; left hip fracture; nailed; post-op delirium.",
    "3__gout.txt": "Gouty arthritis of the great toe; colchicine.",
}


@pytest.fixture(scope="module")
def tess(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Iterator[Any]:
    """A technician's session on three notes, none embedded yet."""
    from archive.login import open_session

    root = users_vault_template.with_notes(tmp_path_factory.mktemp("search") / "v", tmp_path_factory.mktemp("notes"),
                                           NOTES)
    session = open_session(root, "tess", TECH_PASS)
    yield session
    session.close()


def _ids(session: Any) -> dict[str, str]:
    return {name: rid for rid, name in session.db.execute("SELECT id, filename FROM records")}


def test_full_text_standing_in_says_why_as_data(tess: Any, tmp_path: Path) -> None:
    from archive.search import NOT_EMBEDDED, NotEmbedded, search

    # A caller that cannot wait (the TUI) gets full text and the reason, with the backlog to word it.
    result = search(tess, "colchicine", mode="semantic", wait_for_model=False)
    assert result.mode == "fts" and [h.record_id for h in result.hits] == [_ids(tess)["3__gout.txt"]]
    assert result.fallback is not None
    assert (result.fallback.reason, result.fallback.wanted, result.fallback.backlog) == (NOT_EMBEDDED, "semantic", 3)
    assert result.fallback.chosen and result.note is None
    # A caller that can (the CLI) is told no record is embedded, with the same data.
    with pytest.raises(NotEmbedded) as caught:
        search(tess, "colchicine", mode="hybrid")
    assert caught.value.backlog == 3 and "chartvault" not in str(caught.value)
    # The default mode is full text here, and that is no fallback.
    assert search(tess, "colchicine", wait_for_model=False).fallback is None


def test_model_loading_is_a_reason_too(tess: Any) -> None:
    from archive.embedding import embed_backlog, use_embedder
    from archive.search import MODEL_LOADING, search
    from indexer.embedder import FakeEmbedder

    embed_backlog(tess)  # with the tests' fake: now every record is embedded
    loading = FakeEmbedder()
    loading.ready = False
    use_embedder(loading)
    try:
        result = search(tess, "colchicine", wait_for_model=False)  # auto: hybrid would answer
        assert result.mode == "fts" and result.fallback is not None
        assert (result.fallback.reason, result.fallback.wanted, result.fallback.chosen) == (MODEL_LOADING, "hybrid",
                                                                                             False)
        chosen = search(tess, "colchicine", mode="semantic", wait_for_model=False)
        assert chosen.fallback is not None and chosen.fallback.chosen
    finally:
        use_embedder(None)
    assert search(tess, "colchicine", mode="semantic", wait_for_model=False).fallback is None


def test_similar_cases_keep_only_records_above_the_floor(tess: Any) -> None:
    from archive.search import similar_cases, similar_floor

    ids = _ids(tess)
    result = similar_cases(tess, ids["1__hip.txt"], limit=10)
    assert result.floor == similar_floor("fake-hash-64")
    assert [h.record_id for h in result.hits] == [ids["2__hip.txt"]]  # the gout note is below the floor
    assert result.hits[0].score >= result.floor
    everything = similar_cases(tess, ids["1__hip.txt"], limit=10, floor=-1.0)
    assert {h.record_id for h in everything.hits} == {ids["2__hip.txt"], ids["3__gout.txt"]}
    assert similar_cases(tess, ids["3__gout.txt"]).hits == []
    assert similar_floor("all-MiniLM-L6-v2") == 0.55 and similar_floor("another-model") == 0.55


def test_similar_cases_audit_the_words_and_filters_that_shaped_them(tess: Any) -> None:
    import json

    from archive.search import similar_cases
    from indexer import fts

    def last() -> dict[str, Any]:
        row = tess.db.execute("SELECT details FROM audit WHERE action = 'similar' ORDER BY rowid DESC LIMIT 1"
                              ).fetchone()
        return dict(json.loads(row[0]))

    ids = _ids(tess)
    similar_cases(tess, ids["1__hip.txt"], limit=10, words="hip pain", filters=fts.Filters(date_from="2015-01-01"))
    entry = last()
    assert entry["words"] == "hip pain" and entry["filters"] == fts.Filters(date_from="2015-01-01").chosen() != {}
    similar_cases(tess, ids["1__hip.txt"], limit=10, filters=fts.Filters(date_from="2015-01-01"))
    entry = last()  # without words the filters narrow nothing, so none is claimed
    assert "words" not in entry and entry["filters"] == fts.Filters().chosen()


def test_labels_are_cached_by_the_text_not_the_record() -> None:
    from archive.search import _labelled
    from indexer import hybrid

    concepts = tuple(hybrid.expand("chest pain").concepts)
    _labelled.cache_clear()
    assert _labelled("Denies chest pain.", concepts) == (False, ("negated", "chest pain"))
    # the same record, its text changed: labelled again, not served the old answer
    assert _labelled("Reports chest pain since Monday.", concepts) == (True, ("affirmed", "chest pain"))
    assert _labelled("Denies chest pain.", concepts) == (False, ("negated", "chest pain"))
    assert _labelled.cache_info().hits == 1
