"""The weak-match floor with the real model: `search cimetidine` where the only mention is misspelled is weak."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TECH_PASS, VaultFixture

pytestmark = pytest.mark.integration

NOTES = {
    "ulcer.txt": "Peptic ulcer disease with epigastric burning at night. Started on cimetadine 400 mg at bedtime.",
    "hip.txt": "Elderly woman fell at home. Right hip fracture treated with hemiarthroplasty; post-op delirium.",
    "chf.txt": "Congestive heart failure exacerbation with leg edema; furosemide increased to 80 mg daily.",
    "uti.txt": "Urinary tract infection with dysuria and frequency; nitrofurantoin for five days.",
    "asthma.txt": "Asthma exacerbation after a viral illness; albuterol nebulizers and a short prednisone course.",
    "gout.txt": "Acute gouty arthritis of the left great toe; colchicine started, uric acid high.",
}


@pytest.fixture(scope="module")
def session(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> Any:
    pytest.importorskip("sentence_transformers")
    from archive.embedding import embed_backlog
    from archive.intake import import_paths

    mp = pytest.MonkeyPatch()
    mp.delenv("CHARTVAULT_EMBEDDER", raising=False)  # the real model
    src: Path = tmp_path_factory.mktemp("weak-notes")
    for name, text in NOTES.items():
        (src / name).write_text(text)
    tess = shared_vault.open("tess", TECH_PASS)
    assert import_paths(tess, [src]).counts["imported"] == len(NOTES)
    embed_backlog(tess)
    yield tess
    tess.close()
    mp.undo()


def test_a_misspelled_only_mention_is_a_weak_match(session: Any) -> None:
    from archive.search import WEAK_SHOWN, search

    for mode in ("hybrid", "semantic"):
        result = search(session, "cimetidine", mode=mode)
        assert result.weak, (mode, [(h.filename, h.score) for h in result.hits])
        assert 0 < len(result.hits) <= WEAK_SHOWN and result.weak_floor is not None
        scores = [h.score for h in result.hits]  # shown in the order's own score (the floor judged the first look)
        assert scores == sorted(scores, reverse=True)


def test_a_good_match_is_not_weak(session: Any) -> None:
    from archive.search import search

    for mode in ("hybrid", "semantic"):
        result = search(session, "hip fracture after a fall at home", mode=mode)
        assert not result.weak, (mode, [(h.filename, h.score) for h in result.hits])
        assert result.hits[0].filename == "hip.txt"
