"""CLI: `chart rederive` refreshes the search index's dates, and --from/--to find a multi-encounter bundle by its
fact dates (issue 17).

A vault imported before issue 17 dated a FHIR bundle by its first encounter, in the records row and in its
full-text row (the date in `meta`, the year token in `facets`). The test makes the imported bundle look like
that, then runs the CLI as a technician would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import invoke, ok_json
from tests.conftest import VaultFixture, shared_data

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")

# Encounters 2011-11-21 .. 2021-01-11 (none in 2019); strep throat of 2016-03-28, ankle sprain of 2020-07-14.
BUNDLE = "Alberto_Armstrong_dc9335d0-bbdd-4120-8ae9-baa6604343b6.json"
FIRST, LAST = "2011-11-21", "2021-01-11"




def found(root: Path, query: str, *filters: str) -> dict[str, Any]:
    """record id -> hit of a full-text search with these filters."""
    return {h["record_id"]: h for h in ok_json(invoke(root, "search", query, "--mode", "fts", *filters, "--json"))}


@pytest.fixture(scope="module")
def old_bundle(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The bundle imported, then dated as before issue 17 (first encounter) in the records row and the index;
    two notes of 2005 and 2024 around it, so the year tokens narrow the searches below."""
    from indexer import fts
    from indexer.pipeline import meta_text

    src = tmp_path_factory.mktemp("rederive")
    (src / "early.txt").write_text("Date: 2005-03-01\nStreptococcal pharyngitis, penicillin.\nMRN: 5001")
    (src / "late.txt").write_text("Date: 2024-02-01\nStreptococcal pharyngitis again.\nMRN: 5002")
    (src / BUNDLE).write_bytes((shared_data("fhir-r4") / BUNDLE).read_bytes())
    report = ok_json(invoke(shared_vault.root, "import", str(src), "--json"))
    assert report["imported"] == 3
    rid = next(o["record_id"] for o in report["outcomes"] if o["input"].endswith(BUNDLE))
    session: Any = shared_vault.session
    row = session.store.records.get(rid)
    assert row["date"][:10] == LAST
    with session.transaction():
        session.store.records.set_date(rid, FIRST)
        session.db.execute(  # the full-text row as the old import wrote it: first encounter, no fact years
            "UPDATE records_fts SET meta = ?, facets = ? WHERE rowid = ?",
            [meta_text(row["doc_type"], row["format"], row["author"], row["patient_mrn"], None, FIRST),
             fts.facet_tokens(row["doc_type"], row["format"], FIRST), row["n"]])
        session.store.settings.put("facts_rederive", "needed")
    return rid


def test_rederive_refreshes_the_index_and_filters_find_fact_dates(shared_vault: VaultFixture,
                                                                   old_bundle: str) -> None:
    root = shared_vault.root
    before = found(root, "streptococcal")
    assert before[old_bundle]["date"][:10] == FIRST
    assert old_bundle not in found(root, "streptococcal", "--from", "2016", "--to", "2016")  # stale: 2011 only

    result = invoke(root, "chart", "rederive")
    assert result.exit_code == 0, result.output
    assert "1 record re-dated" in result.stdout
    assert "search index row" in result.stdout and "refreshed (dates, fact years)" in result.stdout

    assert found(root, "streptococcal")[old_bundle]["date"][:10] == LAST
    # the last clinical date, a year with only its facts (the strep throat), the fewer-years form of the
    # year tokens (--from 2008 excludes 2005-2007) and a range covering none of its dates
    assert old_bundle in found(root, "streptococcal", "--from", "2021", "--to", "2021")
    assert old_bundle in found(root, "streptococcal", "--from", "2016-03", "--to", "2016-03")
    assert old_bundle in found(root, "sprain", "--from", "2020-07-14", "--to", "2020-07-14")
    assert old_bundle in found(root, "streptococcal", "--from", "2008")
    assert old_bundle not in found(root, "streptococcal", "--from", "2019", "--to", "2019")
    assert old_bundle not in found(root, "streptococcal", "--to", "2010")
    assert set(found(root, "streptococcal", "--to", "2010")) == {
        h for h, hit in before.items() if hit["date"][:4] == "2005"}
    again = invoke(root, "chart", "rederive")
    assert again.exit_code == 0 and "0 records re-dated" in again.stdout
    assert "0 search index rows refreshed" in again.stdout
