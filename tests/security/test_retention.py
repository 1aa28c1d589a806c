"""Retention: due records are reported by rule, legal holds block purging, purged content is gone everywhere."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import ADMIN_PASS, TECH_PASS

CANARY = "CANARY-purge-5b0f2e"


def _cli(root: Path, *args: str, user: str = "tess", pw: str = TECH_PASS):  # type: ignore[no-untyped-def]
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": user, "CHARTVAULT_PASSPHRASE": pw}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture(scope="module")
def imported(shared_vault, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from archive.intake import import_paths

    folder = tmp_path_factory.mktemp("notes")
    notes = {
        "OLD1__a.txt": ("OLD1", "1990-01-05", f"Old admission note {CANARY} alpha"),
        "OLD1__b.txt": ("OLD1", "1991-03-02", f"Old follow-up {CANARY} beta"),
        "HELD1__c.txt": ("HELD1", "1990-06-01", "Old note under litigation gamma"),
        "NEW1__d.txt": ("NEW1", "2025-10-01", "Recent visit delta"),
    }
    for name, (mrn, date, body) in notes.items():
        (folder / name).write_text(f"MRN: {mrn}\nDate: {date}\n{body}\n")
    tess = shared_vault.open("tess", TECH_PASS)
    report = import_paths(tess, [folder])
    assert report.counts["imported"] == 4, report.counts
    yield tess
    tess.close()


def test_report_purge_and_hold(shared_vault, imported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from archive.retention import place_hold

    tess = imported
    place_hold(tess, "HELD1", "case 2026-CV-118")
    result = _cli(shared_vault.root, "retention", "report", "--json", "--as-of", "2027-01-01")
    assert result.exit_code == 0, result.output
    due = {d["record_id"]: d for d in json.loads(result.output)}
    by_patient = sorted((d["patient"], d["held"]) for d in due.values())
    assert by_patient == [("HELD1", True), ("OLD1", False), ("OLD1", False)]
    assert all(d["retain_until"] == "2001-03-02" for d in due.values() if d["patient"] == "OLD1")

    old_rows = list(tess.db.query("SELECT id, blob_id, text_blob_id FROM records WHERE patient_mrn = 'OLD1'"))
    blob_paths = [tess.blobs.path_of(r[k]) for r in old_rows for k in ("blob_id", "text_blob_id") if r[k]]
    assert all(p.exists() for p in blob_paths)
    from archive.charts.entries import add_entry

    source = old_rows[0]["id"]
    entry = add_entry(tess, "OLD1", "diagnosis", "Fracture of the left radius", "1990-01-05", source_record=source)
    assert not entry.source_purged

    dry = _cli(shared_vault.root, "retention", "purge", "--as-of", "2027-01-01")
    assert dry.exit_code == 2 and "2 records would be destroyed" in dry.output
    denied = _cli(shared_vault.root, "retention", "purge", "--confirm", user="drmaria", pw="granite orchid compass")
    assert denied.exit_code == 3
    done = _cli(shared_vault.root, "retention", "purge", "--confirm", "--as-of", "2027-01-01", "--json")
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert len(out["purged"]) == 2 and len(out["held"]) == 1

    # gone from search, show, the blobs...
    # (search by words of the notes, not by the canary: queries are kept in the audit log by design)
    for words in ("alpha", "follow-up beta"):
        search = _cli(shared_vault.root, "search", words, "--json")
        assert search.exit_code == 0 and json.loads(search.output) == [], search.output
    for row in old_rows:
        shown = _cli(shared_vault.root, "show", row["id"])
        assert shown.exit_code == 2, shown.output
    assert not any(p.exists() for p in blob_paths)
    # ...and from the index file itself: decrypt a plaintext copy and look at every byte
    plain = tmp_path / "plain.db"
    tess.db.execute(f"ATTACH DATABASE '{plain}' AS plaintext KEY ''")
    tess.db.execute("SELECT sqlcipher_export('plaintext')")
    tess.db.execute("DETACH DATABASE plaintext")
    raw = plain.read_bytes()
    assert raw.startswith(b"SQLite format 3")  # the check really reads decrypted pages
    assert b"Recent visit delta" in raw
    if CANARY.encode() in raw:
        import sqlite3

        con = sqlite3.connect(plain)
        where = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
                 if any(CANARY in str(v) for row in con.execute(f'SELECT * FROM "{t}"') for v in row)]
        pytest.fail(f"canary still in the index, tables: {where or 'free pages'}")
    # the purge is in the audit log, naming the record and rule, never the content
    purges = tess.audit_log.entries(action="purge")
    assert {e.record for e in purges} == {r["id"] for r in old_rows}
    assert all("rule '*'" in (e.reason or "") for e in purges)
    assert all(CANARY not in json.dumps(e.details) for e in purges)
    # the chart keeps the purged record's id as provenance, marked as purged
    shown = _cli(shared_vault.root, "patient", "show", "OLD1")
    assert shown.exit_code == 0 and f"from {source} (purged)" in shown.output, shown.output
    chart = json.loads(_cli(shared_vault.root, "patient", "show", "OLD1", "--json").output)
    assert [(e["source_record"], e["source_purged"]) for e in chart["entries"]] == [(source, True)]
    # the held patient's record survives
    assert tess.db.execute("SELECT count(*) FROM records WHERE patient_mrn = 'HELD1'").fetchone()[0] == 1


def test_rules_and_minors(shared_vault, imported) -> None:  # type: ignore[no-untyped-def]
    from archive.retention import DueRecord, due_records, set_rule

    admin = shared_vault.session
    set_rule(admin, "note", 30, 5, note="state rule for notes")
    tess = imported
    tess.db.execute("UPDATE patients SET dob = '2020-01-01' WHERE mrn = 'NEW1'")
    # adult rule 30 y would keep NEW1's note until 2055; as a minor: until 18 + 5 = 2043, the later wins
    due: list[DueRecord] = due_records(tess, dt.date(2056, 1, 1))
    new1 = [d for d in due if d.patient == "NEW1"]
    assert new1 and new1[0].retain_until == "2055-10-01" and "rule 'note'" in new1[0].rule
    set_rule(admin, "note", 5, 40)
    new1 = [d for d in due_records(tess, dt.date(2079, 1, 1)) if d.patient == "NEW1"]
    assert new1[0].retain_until == "2078-01-01"  # majority 2038 + 40
    assert not [d for d in due_records(tess, dt.date(2077, 12, 31)) if d.patient == "NEW1"]
    denied = _cli(shared_vault.root, "retention", "rule", "--type", "x", "--adult-years", "1", "--minor-years", "1")
    assert denied.exit_code == 3
    ok = _cli(shared_vault.root, "retention", "rule", "--json", user="admin", pw=ADMIN_PASS)
    assert {r["pattern"] for r in json.loads(ok.output)} >= {"note", "*"}
