"""bench/review_channel.py: the review channel (session 12) measured from bench/, nothing of it shipped."""

from __future__ import annotations

import inspect
import os
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import archive
import indexer
import tui
from archive.store.schema import MIGRATIONS
from bench.review_channel import code_suggestions_with_review
from indexer import icd10
from indexer.code_match import matcher_for
from indexer.code_suggest import code_suggestions, mentions
from vault.db import migrate, open_index


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    index = open_index(Path(tmp_path_factory.mktemp("review")) / "index.db", os.urandom(32), create=True)
    migrate(index, MIGRATIONS)
    icd10.ensure_loaded(index)
    matcher_for(index)
    yield index
    index.conn.close()


def test_no_part_of_the_channel_ships() -> None:
    """It failed its ship rule (session 12 sentence-wide, session 13 scoped): no module, parameter or flag of it in
    archive/, indexer/ or tui/."""
    for fn in (code_suggestions, mentions):
        assert "review" not in inspect.signature(fn).parameters
    for package in (archive, indexer, tui):
        names = {m.name for m in pkgutil.walk_packages(package.__path__)}
        assert "review_cues" not in names
        for path in Path(package.__path__[0]).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            assert "review_cue" not in source and "review_scope" not in source, path


def test_the_channel_holds_codes_with_unattributed_doubt(db) -> None:  # type: ignore[no-untyped-def]
    """On, a code whose mention lies in the scope of a cue the rules did not attribute is held with its cue and
    sentence; the shipped suggester suggests it; a cue whose scope leaves the mention out holds nothing."""
    text = "Pleural effusion would not be expected."
    assert "J90" in [s.category for s in code_suggestions(db, text).suggestions]
    on, held = code_suggestions_with_review(db, text)
    assert "J90" not in [s.category for s in on.suggestions]
    mine = [r for r in held if r.suggestion.category == "J90"]
    assert mine and mine[0].cue.kind == "negation" and mine[0].cue.sentence == text
    # the relative reports: the wheezing is the patient's (session 12's sentence-wide channel held it)
    text = "Mom says he has been wheezing at night for a week."
    clean, held = code_suggestions_with_review(db, text)
    assert "R06" in [s.category for s in clean.suggestions] and not held
    # a denial paired with another condition ("fever") leaves the cough clean
    clean, held = code_suggestions_with_review(db, "Denies fever but reports productive cough x5 days.")
    assert "R05" in [s.category for s in clean.suggestions] and not held
