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


def test_the_shipped_selector_file_is_read_once_on_first_use() -> None:
    from importlib.resources import files

    R.selector.cache_clear()
    model = R.selector()
    assert R.selector() is model  # read once
    shipped = json.loads(files("archive.assistant").joinpath(R.SELECTOR_FILE).read_text(encoding="utf-8"))
    assert (model is None) == (not shipped.get("weights"))  # no weights: the hand-set order
    if model is not None:
        assert set(model.names) <= set(R.FEATURES)


def test_a_selector_file_with_weights_loads_and_one_without_leaves_the_hand_set_order() -> None:
    text = json.dumps({"features": ["score", "meaning"], "mean": [1, 0], "std": [2, 1], "weights": [1, 3],
                       "depth": 3})
    model = R.load_selector(text)
    assert model is not None and model.names == ("score", "meaning") and model.depth == 3
    assert R.load_selector(json.dumps({"features": [], "mean": [], "std": [], "weights": []})) is None


def test_a_selector_file_naming_an_unknown_feature_is_refused() -> None:
    data = {"features": ["score", "no such feature"], "mean": [0, 0], "std": [1, 1], "weights": [1, 1]}
    with pytest.raises(AssertionError):
        R.Selector.from_json(json.loads(json.dumps(data)))
    model = R.Selector.from_json({"features": ["score", "meaning"], "mean": [1, 0], "std": [2, 1],
                                  "weights": [1, 3]})
    assert model.score({"score": 3.0, "meaning": 0.5}) == pytest.approx(1.0 + 1.5)


_ELBOWS = ("ASSESSMENT: Bilateral medial epicondylitis.\n"
           "X-ray images of the bilateral elbows were obtained and reviewed in office today.\n"
           "I want to get an MRI of the bilateral elbows for further evaluation.\n")
_ELBOWS_MEANING = _like({"MRI": 0.39, "X-ray": 0.27, "ASSESSMENT": 0.2})  # MiniLM's cosines, as measured


def _fitted_on_meaning() -> R.Selector:
    """A selector fitted by bench/reader_cv.py's `fit` on readings where the sentence closest in meaning answers
    and the hand-set score's first does not."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import reader_cv  # type: ignore[import-not-found]

    groups = []
    for i in range(30):
        wrong = {"score": 1.0 + i / 30, "meaning": 0.3, "typed": 0.0}
        right = {"score": 0.8 + i / 40, "meaning": 0.45, "typed": 0.0}
        other = {"score": 0.5, "meaning": 0.2, "typed": 0.0}
        groups.append({"y": [0, 1, 0], "x": [wrong, right, other]})
    names = ("score", "meaning")
    return reader_cv.selector_of(names, reader_cv.fit(groups, names, 0.001), 3)


def test_a_fitted_selector_changes_a_choice_the_hand_set_order_gets_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = R.understand("The 53-year-old man who lifts heavy weights, with medial elbow pain in both arms: what "
                         "imaging was ordered next?")
    monkeypatch.setattr(R, "selector", lambda: None)
    hand_set = R.best_sentences({"r1": _ELBOWS}, asked, limit=1, similarity=_ELBOWS_MEANING, whole=True)
    assert hand_set[0].segment.text.startswith("X-ray images")  # the words "images" and "elbows" win
    model = _fitted_on_meaning()
    assert model.weights[model.names.index("meaning")] > 0
    monkeypatch.setattr(R, "selector", lambda: model)
    learned = R.best_sentences({"r1": _ELBOWS}, asked, limit=1, similarity=_ELBOWS_MEANING, whole=True)
    assert learned[0].segment.text == "I want to get an MRI of the bilateral elbows for further evaluation."
    assert learned[0].score < hand_set[0].score  # the callers' thresholds still read the hand-set score


@pytest.mark.parametrize(("scored", "listed"), [
    ([(1.0, "a", "A"), (0.9, "b", "B"), (0.5, "c", "C")], ["a", "b"]),  # two stand out: which case?
    ([(1.0, "a", "A"), (0.9, "b", "B")], ["a", "b"]),
    ([(1.0, "a", "A"), (0.9, "b", "B"), (0.8, "c", "C")], ["a"]),  # a crowd of near matches: the best one
    ([(1.0, "a", "A"), (0.8, "b", "B"), (0.3, "c", "C")], ["a"]),  # the second too far below
    ([(1.0, "a", "A"), (0.98, "b", "B"), (0.97, "c", "C"), (0.9, "d", "D")], ["a", "b", "c"]),
    ([(1.0, "a", "A"), (0.9, "a2", "A"), (0.88, "b", "B"), (0.4, "c", "C")], ["a", "b"]),  # the same patient twice
])
def test_which_case_when_two_cases_stand_out(scored: list[tuple[float, str, str]], listed: list[str]) -> None:
    from archive.assistant.cases import listed_cases

    assert [rid for _s, rid, _m in listed_cases(scored)] == listed
