"""The second embedder's vectors (indexer.second_vectors) in a real vault, with fakes for both models: written with
the chunks, filled for chunks embedded before, dropped with them, counted in status, and used by hybrid search
only when every candidate passage has both vectors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexer import second_vectors, semantic
from indexer.embedder2 import use_second_embedder
from tests.conftest import TECH_PASS, VaultTemplate
from tests.unit.test_semantic import NOTES  # the same five notes

FIRST = "fake-hash-64"


class Pointing:
    """A second embedder that knows one thing: passages about hearing point where every query points."""

    model_id = "fake2-pointing"
    dim = 8

    def __init__(self) -> None:
        self.calls = 0

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, 0 if "hearing" in t else 1] = 1.0
        return out

    def embed_query(self, text: str) -> np.ndarray:
        out = np.zeros(self.dim, dtype=np.float32)
        out[0] = 1.0
        return out


@pytest.fixture(scope="module")
def tess(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Iterator[Any]:
    """A technician's session on five notes, embedded by the first model only (a vault from before)."""
    from archive.embedding import embed_backlog
    from archive.login import open_session

    root = users_vault_template.with_notes(tmp_path_factory.mktemp("pair") / "v", tmp_path_factory.mktemp("notes"),
                                           NOTES)
    session = open_session(root, "tess", TECH_PASS)
    embed_backlog(session)
    yield session
    session.close()


@pytest.fixture
def pointing() -> Iterator[Pointing]:
    model = Pointing()
    use_second_embedder(model)
    yield model
    use_second_embedder(None)


def _ns(db: Any) -> dict[str, int]:
    return {row[1]: int(row[0]) for row in db.execute("SELECT n, filename FROM records").fetchall()}


def _top(session: Any, query: str) -> list[str]:
    from archive.search import search

    return [h.filename for h in search(session, query, mode="hybrid").hits]


def test_fill_resumes_and_status_counts(tess: Any, pointing: Pointing) -> None:
    from archive.embedding import fill_second, second_status
    from archive.status import vault_status

    db = tess.db
    with db.conn:
        second_vectors.forget(db)
    total = second_vectors.coverage(db, FIRST, pointing.model_id)[1]
    assert total >= len(NOTES)
    assert second_status(tess).to_json() == {"model": pointing.model_id, "chunks": 0, "of": total, "problem": None}
    assert fill_second(tess, limit=2) == 2  # interrupted: what was done is kept
    assert second_vectors.coverage(db, FIRST, pointing.model_id) == (2, total)
    assert fill_second(tess) == total - 2  # ... and the next run goes on from there
    assert fill_second(tess) == 0
    assert vault_status(tess).to_json()["second_embedder"] == {"model": pointing.model_id, "chunks": total,
                                                                "of": total, "problem": None}
    # each chunk's second vector is the one of its own text
    n = _ns(db)["333__tinnitus.txt"]
    ids = [int(r[0]) for r in db.execute("SELECT id FROM chunks WHERE record_n = ?", [n])]
    rows = second_vectors.vectors_of(db, np.asarray(ids), pointing.model_id, pointing.dim)
    assert rows is not None and np.allclose(rows[:, 0], 1.0, atol=0.01)


def test_embedding_writes_both_and_dropping_chunks_drops_them(tess: Any, pointing: Pointing) -> None:
    from archive.embedding import embed_backlog

    db = tess.db
    n = _ns(db)["111__gout.txt"]
    with db.conn:
        db.execute("DELETE FROM embedded WHERE record_n = ?", [n])  # back in the backlog, as after a transcription
    before = pointing.calls
    embed_backlog(tess)
    assert pointing.calls > before  # embedded by both models, in the same pass
    have, total = second_vectors.coverage(db, FIRST, pointing.model_id)
    assert have == total
    semantic.forget(db, FIRST)
    assert db.execute("SELECT count(*) FROM chunk_vectors2").fetchone()[0] == 0
    embed_backlog(tess)
    assert second_vectors.coverage(db, FIRST, pointing.model_id) == (total, total)


def test_hybrid_ranks_by_the_pair_only_when_every_candidate_has_both(tess: Any, pointing: Pointing,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from archive import search
    from archive.embedding import fill_second

    # the fake first model sees no relation to any note: keep every record (the margin is the first model's)
    monkeypatch.setattr(search, "MIN_COSINE", -1.0)
    monkeypatch.setattr(search, "COSINE_MARGIN", 2.0)
    fill_second(tess)
    query = "quarterly widget reconciliation"  # no note's words: the vector side alone decides
    assert _top(tess, query)[0] == "333__tinnitus.txt"  # the second model's one opinion counts
    use_second_embedder(None)  # (the test suite's default: CHARTVAULT_EMBEDDER2=off)
    alone = _top(tess, query)
    assert alone[0] != "333__tinnitus.txt"  # the fake first model alone ranks otherwise
    use_second_embedder(pointing)
    # a candidate passage without its second vector (a vault part-way through reindex): the first model alone
    db = tess.db
    with db.conn:
        db.execute("DELETE FROM chunk_vectors2 WHERE chunk_id = (SELECT min(id) FROM chunks)")
    assert _top(tess, query) == alone


def test_hybrid_hits_show_the_score_they_are_ordered_by(tess: Any, pointing: Pointing,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The pair reorders the first fusion's list; each hit shows the score of the order it is listed in (it
    showed the first fusion's, so a list read 0.64, 0.38, 0.28, 0.32 ...), and the weak floor still judges the
    first fusion's."""
    from archive import search
    from archive.embedding import fill_second

    monkeypatch.setattr(search, "MIN_COSINE", -1.0)
    monkeypatch.setattr(search, "COSINE_MARGIN", 2.0)
    fill_second(tess)
    result = search.search(tess, "quarterly widget reconciliation", mode="hybrid")
    scores = [h.score for h in result.hits]
    assert result.hits[0].filename == "333__tinnitus.txt" and len(scores) >= 3
    assert scores == sorted(scores, reverse=True)


def test_a_vault_without_second_vectors_does_not_embed_the_query_twice(tess: Any, pointing: Pointing,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Before `reindex` has given any chunk its second vector, no candidate can use the second model's view of
    the query: it is not computed (it cost a model run a search)."""
    from archive.embedding import fill_second

    asked: list[str] = []
    real = pointing.embed_query
    monkeypatch.setattr(pointing, "embed_query", lambda text: asked.append(text) or real(text))
    db = tess.db
    with db.conn:
        second_vectors.forget(db)
    assert not tess.store.records.has_second(pointing.model_id)
    _top(tess, "hearing ringing")
    assert asked == []
    fill_second(tess, limit=1)  # one chunk has it: the query's second vector is made (the view decides the rest)
    assert tess.store.records.has_second(pointing.model_id)
    _top(tess, "hearing ringing")
    assert len(asked) == 1
    fill_second(tess)


def unusable_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second embedder configured (not loaded yet) with a folder whose model file is not a model."""
    from indexer import embedder2

    folder = tmp_path / "bge_small_en"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"not a model")
    (folder / "tokenizer.json").write_text("{}")
    monkeypatch.setattr(embedder2, "model_dir", lambda: folder)
    monkeypatch.setattr(embedder2, "_loaded", {})
    monkeypatch.setattr(embedder2, "_failed", {})
    monkeypatch.delenv(embedder2.ENV, raising=False)


def test_a_broken_second_model_is_reported_and_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    from indexer import embedder2

    unusable_model(tmp_path, monkeypatch)
    with caplog.at_level("WARNING", logger="indexer.embedder2"):
        assert embedder2.second_embedder() is None
    assert "cannot be loaded" in caplog.text and "MiniLM-L6-v2 alone" in caplog.text
    monkeypatch.setattr(embedder2, "model_dir", lambda: None)
    monkeypatch.setattr(embedder2, "_loaded", {})
    caplog.clear()
    with caplog.at_level("WARNING", logger="indexer.embedder2"):
        assert embedder2.second_embedder() is None
    assert "not installed" in caplog.text
    monkeypatch.setenv(embedder2.ENV, "off")
    assert embedder2.second_embedder() is None and embedder2.configured_model() is None


def test_status_says_why_an_installed_model_is_not_in_use(tess: Any, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A model whose files do not load is not counted as "0 of N chunks" alone: status gives the reason, from
    the load it tries itself when no search has tried yet."""
    from archive.embedding import second_status

    unusable_model(tmp_path, monkeypatch)
    status = second_status(tess)
    assert status is not None and status.model == "bge-small-en-v1.5"
    assert status.problem is not None and "cannot be loaded" in status.problem and str(tmp_path) in status.problem


def test_status_after_reindex_asks_the_copy_reindex_loaded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`reindex` loads the bulk copy (2 threads) and then reports status: the status is read from that copy, not
    from a query copy loaded only to answer it (another model in memory)."""
    from indexer import embedder2

    unusable_model(tmp_path, monkeypatch)
    made: list[int] = []

    class Loads:
        def __init__(self, folder: Path, threads: int = 1) -> None:
            made.append(threads)

        def load(self) -> None:
            pass

    monkeypatch.setattr(embedder2, "SecondEmbedder", Loads)
    assert embedder2.second_embedder(threads=2) is not None
    assert embedder2.problem() is None
    assert made == [2]


@pytest.mark.parametrize(("value", "chosen"), [("off", "off"), ("0", "off"), ("False", "off"), ("no", "off"),
                                               (" disabled ", "off"), ("", "on"), ("ON", "on"), ("1", "on"),
                                               ("fake", "fake"), ("sometimes", "on")])
def test_the_switch_reads_the_usual_spellings(value: str, chosen: str, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    from indexer import embedder2

    monkeypatch.setenv(embedder2.ENV, value)
    monkeypatch.setattr(embedder2, "_warned", set())
    with caplog.at_level("WARNING", logger="indexer.embedder2"):
        assert embedder2.setting() == chosen
        embedder2.setting()
    warned = [r for r in caplog.records if "not understood" in r.getMessage()]
    assert len(warned) == (1 if value == "sometimes" else 0)  # an unknown value is said once, not at every search


def test_switched_off_by_any_spelling_nothing_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from indexer import embedder2

    unusable_model(tmp_path, monkeypatch)
    monkeypatch.setenv(embedder2.ENV, "false")
    assert embedder2.second_embedder() is None and embedder2.configured_model() is None
    assert embedder2.problem() is None and embedder2._loaded == {}  # not tried, so nothing to report


def test_the_query_copy_loads_in_the_background_from_unlock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """start_loading (called where the first model starts loading) loads the second embedder in another thread:
    the caller returns while the load is under way, the load ends without anyone asking for the model, and the
    search that asks next gets that same model instead of loading its own."""
    import threading

    from indexer import embedder2

    release, started = threading.Event(), threading.Event()
    made: list[Any] = []

    class Slow:
        def __init__(self, folder: Path, threads: int = 1) -> None:
            made.append(self)

        def load(self) -> None:
            started.set()
            assert release.wait(10)

    monkeypatch.setenv(embedder2.ENV, "")
    monkeypatch.setattr(embedder2, "_override", [])
    monkeypatch.setattr(embedder2, "_loaded", {})
    monkeypatch.setattr(embedder2, "_loading", set())
    monkeypatch.setattr(embedder2, "model_dir", lambda: tmp_path)
    monkeypatch.setattr(embedder2, "SecondEmbedder", Slow)

    embedder2.start_loading(threads=1)
    assert started.wait(10)  # loading, in another thread: this one was not held
    assert 1 not in embedder2._loaded
    embedder2.start_loading(threads=1)  # a second unlock while it loads starts nothing more
    release.set()
    assert embedder2.second_embedder(threads=1) is made[0]
    assert len(made) == 1

def test_a_missing_runtime_is_reported_and_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """onnxruntime or tokenizers that cannot be imported (a broken install) leave MiniLM alone, with the log's
    line, as a model file that does not load: no ImportError reaches a search or reindex."""
    import sys

    from indexer import embedder2

    unusable_model(tmp_path, monkeypatch)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # importing it raises ImportError
    with caplog.at_level("WARNING", logger="indexer.embedder2"):
        assert embedder2.second_embedder() is None
    assert "cannot be loaded" in caplog.text and "onnxruntime" in caplog.text


def test_fill_keeps_no_vector_of_a_span_replaced_meanwhile(tess: Any) -> None:
    """Another process (`chartvault reindex` beside the TUI's service) re-embeds the record holding the highest
    chunk id while `fill` embeds a batch: the record's new chunk takes the same id (chunks.id is reused after the
    highest rows are deleted) over another span. `fill` must not store the old span's vector under it."""
    from archive.embedding import embed_backlog, fill_second
    from indexer.chunking import Chunk
    from indexer.embedder2 import FakeSecondEmbedder

    db = tess.db
    with db.conn:
        second_vectors.forget(db)
    top, n = db.execute("SELECT id, record_n FROM chunks WHERE model = ? ORDER BY id DESC LIMIT 1", [FIRST]).fetchone()
    text = semantic.record_text(db, n)
    half = len(text) // 2

    class Meanwhile(FakeSecondEmbedder):
        calls = 0

        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            Meanwhile.calls += 1
            if Meanwhile.calls == 1:  # the record re-embedded elsewhere, as one chunk over its second half
                semantic.store_chunks(db, n, FIRST, [Chunk(0, half, len(text), 8)], np.full((1, 64), 0.125, np.float32))
            return super().embed_documents(texts)

    model = Meanwhile()
    use_second_embedder(model)
    try:
        fill_second(tess)
        now = db.execute("SELECT id, start FROM chunks WHERE record_n = ? AND model = ?", [n, FIRST]).fetchall()
        assert [tuple(r) for r in now] == [(top, half)]  # the id was taken by the new span (what the test is about)
        fill_second(tess)  # the next run gives the skipped chunk its vector
        got = second_vectors.vectors_of(db, np.asarray([top]), model.model_id, model.dim)
        want = FakeSecondEmbedder().embed_documents([text[half:]])
        old = FakeSecondEmbedder().embed_documents([text])
        assert got is not None and not np.allclose(want, old, atol=0.05)
        assert np.allclose(got, want, atol=0.02)
    finally:
        use_second_embedder(None)
        with db.conn:
            db.execute("DELETE FROM embedded WHERE record_n = ?", [n])
        embed_backlog(tess)


def test_a_second_model_failing_at_run_time_leaves_the_first_model_embedding(
        tess: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A second embedder that loads but fails on its input (onnxruntime's error, memory) is logged and left out:
    the record is still embedded by the first model, and neither import nor reindex shows a traceback."""
    from archive.embedding import backlog, embed_backlog, fill_second

    class Failing:
        model_id = "fake2-failing"
        dim = 8

        def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
            raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION")

        def embed_query(self, text: str) -> np.ndarray:
            raise RuntimeError("[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION")

    db = tess.db
    n = _ns(db)["222__fall.txt"]
    with db.conn:
        db.execute("DELETE FROM embedded WHERE record_n = ?", [n])
    use_second_embedder(Failing())
    try:
        with caplog.at_level("WARNING", logger="indexer.second_vectors"):
            assert embed_backlog(tess).records == 1
            assert fill_second(tess) == 0
            assert _top(tess, "hip fracture")[0] == "222__fall.txt"  # the query's failure too: first model alone
    finally:
        use_second_embedder(None)
    assert backlog(tess) == 0
    assert "second embedder failed" in caplog.text
