"""The learned second opinion on assertion (indexer/assertion_model.py) and its hook in the code suggester."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from archive.store.schema import MIGRATIONS
from indexer import assertion_model, icd10
from indexer.assertion import assertion_of
from indexer.code_match import matcher_for
from indexer.code_suggest import code_suggestions
from vault.db import migrate, open_index

# "Zorbly" is no word of the rules: a cue only a model trained on it knows.
CUED = "Zorbly pneumonia."
CONDITIONS = ("pneumonia", "asthma", "gout", "migraine", "anemia", "cellulitis", "sinusitis", "psoriasis")


def _examples() -> list[tuple[str, int, int, int]]:
    out = []
    for c in CONDITIONS:
        for text, label in ((f"Zorbly {c}.", 1), (f"Zorbly {c} today.", 1), (f"Patient has {c}.", 0),
                            (f"Seen today for {c}.", 0), (f"{c.capitalize()} today.", 0)):
            start = text.lower().index(c)
            out.append((text, start, start + len(c), label))
    return out


@pytest.fixture(scope="module")
def model() -> assertion_model.Model:
    return assertion_model.train(_examples(), threshold=0.8, steps=200)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    index = open_index(Path(tmp_path_factory.mktemp("amodel")) / "index.db", os.urandom(32), create=True)
    migrate(index, MIGRATIONS)
    icd10.ensure_loaded(index)
    matcher_for(index)
    yield index
    index.conn.close()


def test_features_leave_out_the_mention_and_stop_at_a_semicolon() -> None:
    text = "Denies chest pain; does report shortness of breath."
    start = text.index("shortness")
    names = assertion_model.feature_names(text, start, start + len("shortness of breath"))
    assert not any(n.endswith((":shortness", ":breath")) for n in names)
    assert "l:<clause>" in names and "l:report" in names
    assert not any(n.endswith(":denies") for n in names)


def test_a_trained_model_learns_the_cue(model: assertion_model.Model) -> None:
    unseen = "Zorbly bronchitis."
    assert model.probability(unseen, 7, 17) > 0.8
    assert model.probability("Patient has bronchitis.", 12, 22) < 0.5


def test_saved_model_loads_lazily_with_the_same_answers(model: assertion_model.Model, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / assertion_model.MODEL_FILE
    monkeypatch.setattr(assertion_model, "model_path", lambda: path)
    assertion_model.shipped.cache_clear()
    try:
        assert assertion_model.shipped() is None and not assertion_model.doubts(CUED, 7, 16)  # none shipped
        model.save(path)
        assertion_model.shipped.cache_clear()
        loaded = assertion_model.shipped()
        assert loaded is not None and loaded.threshold == pytest.approx(0.8)
        assert np.allclose(loaded.probability(CUED, 7, 16), model.probability(CUED, 7, 16), atol=1e-3)
        assert assertion_model.doubts(CUED, 7, 16)
    finally:
        assertion_model.shipped.cache_clear()


def test_a_doubted_mention_goes_to_review_not_to_the_suggestions(db, model: assertion_model.Model) -> None:  # type: ignore[no-untyped-def]
    assert assertion_of(CUED, 7, 16) == "affirmed"  # the rules see nothing
    with assertion_model.using(None):
        alone = code_suggestions(db, CUED)
    assert "J18" in {s.category for s in alone.suggestions}
    with assertion_model.using(model):
        both = code_suggestions(db, CUED)
        kept = code_suggestions(db, "Patient has pneumonia.")
    assert "J18" not in {s.category for s in both.suggestions}
    assert "J18" in {s.category for s in both.uncertain}  # listed for a person to decide, never dropped
    assert "J18" in {s.category for s in kept.suggestions}
