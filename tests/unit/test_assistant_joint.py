"""The reader's second stage: the asked clause read together with the first stage's top sentences (a fake reader
here; tests/integration/test_reader_model.py runs the real cross-encoder)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from archive.assistant import ask
from archive.assistant import joint as J
from archive.assistant import reading as R
from tests.assistant_helpers import corpus_physician
from tests.conftest import VaultFixture

NOTE = (
    "OPERATIVE NOTE\n"
    "The patient was brought to the operating room and placed supine.\n"
    "Initial attempt to place a #16 Montgomery T tube showed the distal lumen to be too short.\n"
    "A #8 Shiley single cannula tracheostomy tube was then inserted and secured with ties.\n"
    "The tube position was confirmed by bronchoscopy.\n"
    "The patient tolerated the procedure well.\n"
)


class Fake:
    """A reader that scores sentences holding `liked` high, and records what it was asked."""

    def __init__(self, liked: str) -> None:
        self.liked = liked
        self.calls: list[tuple[str, list[str]]] = []

    def score(self, question: str, sentences: Sequence[str]) -> list[float]:
        self.calls.append((question, list(sentences)))
        return [9.0 if self.liked in s else -9.0 for s in sentences]


@pytest.fixture
def fake() -> Iterator[Fake]:
    model = Fake("Shiley")
    J.use_reader(model)
    yield model
    J.use_reader(None)


def _first(question: str, joint: Any = None) -> R.Found:
    found = R.best_sentences({"r1": NOTE}, R.understand(question), limit=3, joint=joint)
    assert found
    return found[0]


def test_the_second_stage_reorders_the_first_stages_top_sentences_and_keeps_their_scores(fake: Fake) -> None:
    question = "what trach tube was placed?"
    alone = R.best_sentences({"r1": NOTE}, R.understand(question), limit=10)
    assert "Montgomery" in alone[0].segment.text  # by words alone: the tube tried first
    assert all(f.joint is None for f in alone)
    shiley = next(f for f in alone if "Shiley" in f.segment.text)
    both = R.best_sentences({"r1": NOTE}, R.understand(question), limit=10, joint=J.joint(question))
    assert "Shiley" in both[0].segment.text
    assert both[0].score == pytest.approx(shiley.score)  # the callers' thresholds read the first stage's score
    assert both[0].joint == 9.0
    asked, sentences = fake.calls[-1]
    assert asked == question and len(sentences) == min(R.JOINT_DEPTH, len(alone))
    assert all(len(s) <= R.JOINT_CHARS for s in sentences)


def test_only_the_first_stages_top_sentences_are_read_again() -> None:
    model = Fake("tolerated")  # the sentence the first stage ranks below JOINT_DEPTH is never brought up
    text = NOTE + "".join(f"A tube check {i} was placed on the tracheostomy tube.\n" for i in range(10))
    asked = R.understand("what trach tube was placed?")
    alone = R.best_sentences({"r1": text}, asked, limit=100)
    rank = next(i for i, f in enumerate(alone) if "tolerated" in f.segment.text) if any(
        "tolerated" in f.segment.text for f in alone) else len(alone)
    assert rank >= R.JOINT_DEPTH
    both = R.best_sentences({"r1": text}, asked, limit=100, joint=lambda s: model.score(asked.text, s))
    assert "tolerated" not in both[0].segment.text
    assert sum(f.joint is not None for f in both) == R.JOINT_DEPTH


def test_yes_no_and_latest_readings_keep_the_first_stage(fake: Fake) -> None:
    for question in ("has he had a tracheostomy?", "what is the latest tube placed?"):
        asked = R.understand(question)
        assert asked.type == R.YESNO or asked.current
        found = R.best_sentences({"r1": NOTE}, asked, limit=10, joint=J.joint(question))
        assert all(f.joint is None for f in found)
    assert not fake.calls


def test_without_the_reader_model_the_first_stage_order_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    import indexer.cross_encoder as X

    monkeypatch.delenv("CHARTVAULT_READER", raising=False)
    monkeypatch.setattr(J, "_loaded", [])  # the process's model not tried yet
    monkeypatch.setattr(X, "model_dir", lambda: None)  # the package is not installed
    assert J.reader() is None and J.joint("what trach tube was placed?") is None
    assert "Montgomery" in _first("what trach tube was placed?", J.joint("what trach tube was placed?")).segment.text


def test_a_reader_model_that_cannot_load_leaves_the_first_stage(monkeypatch: pytest.MonkeyPatch, tmp_path: Any
                                                                ) -> None:
    import indexer.cross_encoder as X

    (tmp_path / "model.onnx").write_bytes(b"not a model")
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    monkeypatch.delenv("CHARTVAULT_READER", raising=False)
    monkeypatch.setattr(J, "_loaded", [])
    monkeypatch.setattr(X, "model_dir", lambda: tmp_path)
    assert J.reader() is None
    with pytest.raises(X.CrossEncoderUnavailable, match="cannot be loaded"):
        X.CrossEncoder(tmp_path).load()


def test_a_runtime_that_cannot_be_imported_leaves_the_first_stage(monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """onnxruntime that cannot be imported (a broken install) is an unusable reader, logged, as a bad model file
    is: no ImportError reaches a question."""
    import sys

    import indexer.cross_encoder as X

    (tmp_path / "model.onnx").write_bytes(b"x")
    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    monkeypatch.delenv("CHARTVAULT_READER", raising=False)
    monkeypatch.setattr(J, "_loaded", [])
    monkeypatch.setattr(X, "model_dir", lambda: tmp_path)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # importing it raises ImportError
    with caplog.at_level("WARNING", logger=J.__name__):
        assert J.reader() is None
    assert "cannot be loaded" in caplog.text and "onnxruntime" in caplog.text


def test_reader_off_by_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTVAULT_READER", "off")
    assert J.reader() is None


def test_the_model_folder_is_found_without_importing_the_package(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Any) -> None:
    import importlib.util
    import sys
    from types import SimpleNamespace

    import indexer.cross_encoder as X

    folder = tmp_path.joinpath(*X.MODEL_SUBDIR)
    folder.mkdir(parents=True)
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name: SimpleNamespace(submodule_search_locations=[str(tmp_path)]))
    assert X.model_dir() is None  # the files are not there
    (folder / "model.onnx").write_bytes(b"x")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert X.model_dir() == folder
    assert X.MODEL_PACKAGE not in sys.modules or sys.modules[X.MODEL_PACKAGE] is not None
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert X.model_dir() is None


@pytest.fixture(scope="module")
def phys(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    yield from corpus_physician(shared_vault, tmp_path_factory.mktemp("corpus"))


def test_a_past_case_answer_is_the_sentence_the_reader_prefers_among_the_first_stages(phys: Any) -> None:
    question = "For the 58-year-old man with substernal chest pain and shortness of breath, what was the plan?"
    before = ask(phys, question)
    assert before.kind == "case" and "aspirin 325 mg" not in before.citations[0].passage
    model = Fake("aspirin 325 mg")
    J.use_reader(model)
    try:
        after = ask(phys, question)
    finally:
        J.use_reader(None)
    assert after.kind == "case" and "aspirin 325 mg" in after.citations[0].passage
    assert after.citations[0].patient == before.citations[0].patient
    assert model.calls and model.calls[0][0] == "what was the plan?"  # the asked clause, not the description


class Failing:
    """A reader whose every run fails (as the real tokenizer does on a question with a lone surrogate, which the CLI
    makes of bytes that are not UTF-8: TypeError)."""

    def score(self, question: str, sentences: Sequence[str]) -> list[float]:
        raise TypeError("TextInputSequence must be str")


def test_a_reader_that_fails_on_a_question_leaves_the_first_stage_and_the_answer(phys: Any) -> None:
    question = "For the 58-year-old man with substernal chest pain and shortness of breath, what was the plan?"
    before = ask(phys, question)
    alone = R.best_sentences({"r1": NOTE}, R.understand("what trach tube was placed?"), limit=10)
    J.use_reader(Failing())
    try:
        after = ask(phys, question)
        found = R.best_sentences({"r1": NOTE}, R.understand("what trach tube was placed?"), limit=10,
                                 joint=J.joint("what trach tube was placed?"))
    finally:
        J.use_reader(None)
    assert after.kind == before.kind == "case"
    assert [c.passage for c in after.citations] == [c.passage for c in before.citations]
    assert [f.segment.text for f in found] == [f.segment.text for f in alone] and all(f.joint is None for f in found)
