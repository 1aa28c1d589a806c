"""The semantic index in a real (encrypted) vault, with the fake embedder: backlog, resume, search, refresh."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.baselines import vector_search
from indexer import fts, semantic
from indexer.embedder import FakeEmbedder
from tests.conftest import VaultTemplate

NOTES = {
    "111__gout.txt": "Acute gouty arthritis of the left great toe. Colchicine started.",
    "111__anaemia.txt": "Iron deficiency anaemia. Ferritin low; oral iron prescribed.",
    "222__fall.txt": "Elderly woman fell at home. Right hip fracture, hemiarthroplasty. Post-op delirium.",
    "222__pneumonia.txt": "Community acquired pneumonia, treated with amoxicillin. Chest x-ray shows consolidation.",
    "333__tinnitus.txt": "Referral letter: chronic tinnitus, please assess hearing.",
}


@pytest.fixture(scope="module")
def tech(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Any]:
    """An admin-only vault (the cheapest to make): importing needs no clinical role."""
    from archive.intake import import_paths

    session: Any = admin_vault_template.copy(tmp_path_factory.mktemp("vault") / "v").session
    src = tmp_path_factory.mktemp("notes")
    for name, text in NOTES.items():
        (src / name).write_text(text)
    report = import_paths(session, [src])
    assert report.counts["imported"] == len(NOTES)
    yield session
    session.close()


def _ns(db: Any) -> dict[str, int]:
    return {row[1]: int(row[0]) for row in db.execute("SELECT n, filename FROM records").fetchall()}


def test_backlog_embed_and_resume(tech: Any) -> None:
    db = tech.db
    emb = FakeEmbedder()
    semantic.forget(db)
    assert semantic.backlog_count(db, emb.model_id) == len(NOTES)
    stop_after = {"n": 0}

    def should_stop() -> bool:
        return stop_after["n"] >= 2

    def progress(done: int, total: int) -> None:
        stop_after["n"] = done

    first = semantic.embed_pending(db, emb, progress=progress, should_stop=should_stop, batch_chunks=1)
    assert first.interrupted and first.records == 2
    assert semantic.backlog_count(db, emb.model_id) == len(NOTES) - 2
    rest = semantic.embed_pending(db, emb)
    assert rest.records == len(NOTES) - 2 and not rest.interrupted
    assert semantic.backlog_count(db, emb.model_id) == 0
    # Every record got at least one chunk, and chunks point back into its text.
    for n in _ns(db).values():
        rows = db.execute("SELECT start, end FROM chunks WHERE record_n = ?", [n]).fetchall()
        text = semantic.record_text(db, n)
        assert rows and all(0 <= s < e <= len(text) for s, e in rows)


def test_vector_search_with_filters(tech: Any) -> None:
    db = tech.db
    emb = FakeEmbedder()
    semantic.embed_pending(db, emb)
    ns = _ns(db)
    q = emb.embed_query("hip fracture after a fall, delirium")
    hits = vector_search(db, emb, q, limit=3)
    assert hits[0].record_n == ns["222__fall.txt"]
    only_111 = vector_search(db, emb, q, fts.Filters(patient="111"), limit=10)
    assert {h.record_n for h in only_111} == {ns["111__gout.txt"], ns["111__anaemia.txt"]}


def test_matrix_refreshes_on_new_and_deleted_chunks(tech: Any, tmp_path: Path) -> None:
    from archive.intake import import_paths

    db = tech.db
    emb = FakeEmbedder()
    semantic.embed_pending(db, emb)
    vm = semantic.matrix_for(db, emb.model_id, emb.dim)
    before = vm.size
    (tmp_path / "444__new.txt").write_text("Kidney stones with haematuria and flank pain. Lithotripsy planned.")
    import_paths(tech, [tmp_path])
    assert semantic.backlog_count(db, emb.model_id) == 1
    semantic.embed_pending(db, emb)
    vm = semantic.matrix_for(db, emb.model_id, emb.dim)
    assert vm.size > before  # loaded only the new rows
    n = _ns(db)["444__new.txt"]
    assert vector_search(db, emb, emb.embed_query("kidney stones flank pain"), limit=1)[0].record_n == n
    db.execute("DELETE FROM chunks WHERE record_n = ?", [n])  # e.g. a purge
    vm = semantic.matrix_for(db, emb.model_id, emb.dim)
    assert n not in set(vm.records.tolist())


def test_new_transcription_puts_the_record_back_in_the_backlog(tech: Any) -> None:
    db = tech.db
    emb = FakeEmbedder()
    semantic.embed_pending(db, emb)
    rid = db.execute("SELECT id FROM records WHERE filename = '333__tinnitus.txt'").fetchone()[0]
    n = _ns(db)["333__tinnitus.txt"]
    # What archive.records.add_transcription writes (a technician's action; this vault has only an admin).
    db.execute(
        "INSERT INTO transcriptions (record_id, text_blob_id, by, at) VALUES (?, 'x', 'admin', '2024-01-01')", [rid]
    )
    fts.update_columns(db, n, text=semantic.record_text(db, n) + "\n\nHandwritten addendum: audiogram booked.")
    assert semantic.backlog_count(db, emb.model_id) == 1
    semantic.embed_pending(db, emb)
    text = semantic.record_text(db, n)
    assert "audiogram" in text
    ends = [e for (e,) in db.execute("SELECT end FROM chunks WHERE record_n = ?", [n]).fetchall()]
    assert max(ends) == len(text.rstrip())


def test_no_plaintext_side_files(tech: Any) -> None:
    """Vectors and chunks live only inside the encrypted index."""
    root = tech.vault.root
    for path in root.rglob("*"):
        if path.is_file() and path.suffix not in (".age", ".db", ".json") and "-wal" not in path.name:
            assert path.name.endswith(("-shm",)) or "keys" in path.parts or "audit" in path.name, path
    assert not (root / "index.db").read_bytes().startswith(b"SQLite format 3")


def test_document_frequencies_match_full_text_counts(tech: Any) -> None:
    """The vocabulary lookup (no posting-list scan) agrees with counting matches, stemming included."""
    from indexer import hybrid

    db = tech.db
    words = ["fracture", "fractures", "elderly", "iron", "s/p", "nothere"]
    dfs = hybrid.document_frequencies(db, words)
    for w in words:
        expected = db.execute(f"SELECT count(*) FROM {fts.TABLE} WHERE {fts.TABLE} MATCH ?", [f'"{w}"']).fetchone()[0]
        assert dfs[w] == expected, w
    assert dfs["fracture"] == dfs["fractures"] >= 1
    plan = hybrid.plan_keywords(db, hybrid.expand("hip fracture in an elderly woman"), total=len(NOTES))
    assert plan.match and '"fracture"' in plan.match and plan.attainable > 0


def test_keyword_side_matches_only_the_rarest_concepts(tech: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pasted paragraph does not become a 40-word OR query: the rarest concepts carry the evidence."""
    from indexer import hybrid

    db = tech.db
    parsed = hybrid.expand("hip fracture in an elderly woman with iron deficiency")
    words = [c.word for c in parsed.concepts]
    dfs = hybrid.document_frequencies(db, words)
    full = hybrid.plan_keywords(db, parsed, total=len(NOTES))
    monkeypatch.setattr(hybrid, "MAX_CONCEPTS", 2)
    capped = hybrid.plan_keywords(db, parsed, total=len(NOTES))
    kept = [w for w in words if f'"{w}"' in (capped.match or "")]
    assert len(kept) == 2
    assert max(dfs[w] for w in kept) <= min(dfs[w] for w in words if w not in kept)
    assert set(words) - set(kept) <= capped.common
    assert 0 < capped.attainable < full.attainable


def test_lay_words_match_through_their_clinical_forms_unless_the_archive_uses_them(tech: Any) -> None:
    """'broken' finds the note that says 'fracture'; a word the notes use themselves is matched as typed."""
    from indexer import hybrid

    db = tech.db
    ns = _ns(db)
    total = len(NOTES)
    plan = hybrid.plan_keywords(db, hybrid.expand("broken hip"), total)
    assert '("broken" OR "fracture" OR "fractured")' in (plan.match or "")
    scores = hybrid.KeywordScores.of(db, plan.match or "", None).top(5)
    assert next(iter(scores)) == ns["222__fall.txt"]
    # The concept weighs what its used form weighs, not the unused lay word: the fall note covers the query.
    assert scores[ns["222__fall.txt"]] / plan.attainable > 0.9
    # The archive writes "anaemia" itself: as typed, without the American form.
    assert hybrid.plan_keywords(db, hybrid.expand("anaemia"), total).match == '"anaemia"'
    # No note uses "gullet" or any of its clinical forms: nothing to translate.
    assert hybrid.plan_keywords(db, hybrid.expand("gullet"), total).match == '"gullet"'


def test_an_ambiguous_abbreviation_means_what_the_archive_writes(tech: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Of an abbreviation's meanings in the written list, the keyword side keeps the one the notes use."""
    from indexer import hybrid

    meanings = ("competitive acquisition program", "community acquired pneumonia", "college of pathologists")
    monkeypatch.setattr(hybrid, "written_abbreviation", lambda word: meanings if word == "CAPX" else ())
    parsed = hybrid.expand("CAPX on amoxicillin")
    plan = hybrid.plan_keywords(tech.db, parsed, total=len(NOTES))
    assert plan.senses == {"CAPX": "community acquired pneumonia"}
    assert '("capx" OR "community acquired pneumonia")' in (plan.match or "")
    assert "competitive" not in (plan.match or "")
    assert "CAPX (community acquired pneumonia)" in parsed.embedding_text(lay=True, senses=plan.senses)
