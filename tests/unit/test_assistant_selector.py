"""The learned sentence selector: the features `best_sentences` computes, the shipped weights, and a choice the
hand-set order gets wrong that the fitted selector gets right."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from archive.assistant import reading as R

NULL = R.Selector(("score",), (0.0,), (1.0,), (1.0,))  # the hand-set order, features computed


def _like(scores: dict[str, float]) -> Callable[[list[str]], list[float]]:
    """A stand-in for the embedding model: the cosine of each sentence by a word it holds (else 0.1)."""
    return lambda sentences: [next((v for k, v in scores.items() if k in s), 0.1) for s in sentences]


def test_every_candidate_carries_the_features_the_selector_weighs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "selector", lambda: NULL)
    note = ("HISTORY: The vas was identified and brought out.\n"
            "A segment about 3 cm in length was dissected out.\n"
            "She uses the cream twice a week.\n")
    found = R.best_sentences({"r1": note}, R.understand("how long a segment of vas was taken out?"), limit=10,
                             similarity=_like({"segment": 0.6, "vas": 0.5}), whole=True)
    assert found
    by_text = {f.segment.text: f.features for f in found}
    for features in by_text.values():
        assert set(R.FEATURES) <= set(features)
    segment = by_text["A segment about 3 cm in length was dissected out."]
    assert segment["meaning"] == pytest.approx(0.6) and segment["meaning_known"] == 1.0
    assert segment["asks_size"] == 1.0 and segment["shape_size"] == 1.0  # "how long a segment": a size, in cm
    assert by_text["She uses the cream twice a week."]["shape_size"] == 0.0
    assert max(f.features["score"] for f in found) == found[0].features["score"]
    assert found[0].features["score_gap"] == 0.0


def test_without_the_model_or_weights_the_hand_set_order_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = R.understand("how long a segment of vas was taken out?")
    note = "The vas was identified.\nA segment about 3 cm in length was dissected out.\n"
    monkeypatch.setattr(R, "selector", lambda: None)
    plain = [f.segment.text for f in R.best_sentences({"r1": note}, asked, limit=5, similarity=_like({}))]
    monkeypatch.setattr(R, "selector", lambda: NULL)
    assert [f.segment.text for f in R.best_sentences({"r1": note}, asked, limit=5, similarity=_like({}))] == plain


def test_the_shipped_selector_loads_once_and_names_known_features() -> None:
    R.selector.cache_clear()
    model = R.selector()
    assert model is not None and model.names and set(model.names) <= set(R.FEATURES)
    assert R.selector() is model  # read once
    assert len(model.weights) == len(model.names) == len(model.mean) == len(model.std)


def test_a_selector_file_naming_an_unknown_feature_is_refused() -> None:
    data = {"features": ["score", "no such feature"], "mean": [0, 0], "std": [1, 1], "weights": [1, 1]}
    with pytest.raises(AssertionError):
        R.Selector.from_json(json.loads(json.dumps(data)))
    model = R.Selector.from_json({"features": ["score", "meaning"], "mean": [1, 0], "std": [2, 1],
                                  "weights": [1, 3]})
    assert model.score({"score": 3.0, "meaning": 0.5}) == pytest.approx(1.0 + 1.5)
