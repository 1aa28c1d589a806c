"""CLI: import, search, show, file, queue, transcribe, quarantine (one vault for the module)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from archive.cli import cli
from tests.cli_helpers import invoke, ok_json
from tests.conftest import PHYS_PASS, TECH_PASS, VaultFixture, shared_data

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")


# Full-text mode explicitly, where the semantic search of a later issue made hybrid the default.
FTS = ["--mode", "fts"] if any("--mode" in p.opts for p in cli.commands["search"].params) else []
# Embedding for semantic search (a later stage) is not what these tests are about.
NO_EMBED = ["--no-embed"] if any("--no-embed" in p.opts for p in cli.commands["import"].params) else []

NOTE_A = "MRN: 31337\nPatient: Ada Byron\nDate: 2023-04-05\n\nAcute gouty arthritis of the left great toe.\n"
NOTE_B = "Follow-up for iron deficiency anaemia; ferritin improving on oral iron.\n"


@pytest.fixture(scope="module")
def imported(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    src = tmp_path_factory.mktemp("import-src")
    (src / "gout.txt").write_text(NOTE_A)
    (src / "gout-copy.txt").write_text(NOTE_A)  # same content: a duplicate
    (src / "anaemia.txt").write_text(NOTE_B)  # no MRN: needs filing
    (src / "K-7__letter.txt").write_text("Referral letter: chronic tinnitus, please assess.\n")
    (src / "scan.txt").write_text("Discharge summary: community acquired pneumonia, treated with amoxicillin.\n")
    (src / "scan.txt.meta.json").write_text(json.dumps({"mrn": "S-5", "document_type": "discharge", "author": "Dr Ng"}))
    (src / "junk.txt").write_bytes(os.urandom(2048))
    (src / "empty.txt").write_bytes(b"")
    hl7 = sorted(shared_data("hl7v2").glob("ORU-R01-*.hl7"))[0]
    (src / hl7.name).write_bytes(hl7.read_bytes())
    result = invoke(shared_vault.root, "import", str(src), "--json", *NO_EMBED)
    return {"src": src, "report": ok_json(result), "hl7": hl7}


def test_import_accounts_for_every_input(imported: dict[str, Any]) -> None:
    report = imported["report"]
    inputs = len([p for p in imported["src"].iterdir() if not p.name.endswith(".meta.json")])
    assert report["inputs"] == inputs == 8
    assert report["imported"] + report["duplicates"] + report["quarantined"] == inputs
    assert (report["imported"], report["duplicates"], report["quarantined"]) == (5, 1, 2)
    by_name = {o["input"].split("/")[-1]: o for o in report["outcomes"]}
    assert by_name["gout.txt"]["patient"] == "31337"
    assert by_name["K-7__letter.txt"]["patient"] == "K-7"
    assert by_name["scan.txt"]["patient"] == "S-5" and by_name["scan.txt"]["doc_type"] == "discharge"
    assert by_name["anaemia.txt"]["filing"] == "needs_filing"
    assert "binary" in by_name["junk.txt"]["reason"] and "empty" in by_name["empty.txt"]["reason"]
    assert report["needs_filing"] >= 1
    assert all(p.exists() for p in imported["src"].iterdir())  # copies by default


def test_search_json_hits(shared_vault: VaultFixture, imported: dict[str, Any]) -> None:
    hits = ok_json(invoke(shared_vault.root, "search", '"gouty arthritis"', "--json", *FTS))
    assert len(hits) == 1
    hit = hits[0]
    assert set(hit) >= {"record_id", "filename", "patient", "date", "type", "score", "snippet"}
    assert hit["patient"] == "31337" and hit["date"] == "2023-04-05"
    assert hit["filename"] in ("gout.txt", "gout-copy.txt")
    assert "**gouty arthritis**" in hit["snippet"]  # a matched phrase is marked as one
    assert hit["score"] > 0
    only = ok_json(invoke(shared_vault.root, "search", "pneumonia OR tinnitus", "--patient", "K-7", "--json", *FTS))
    assert [h["patient"] for h in only] == ["K-7"]
    typed = ok_json(invoke(shared_vault.root, "search", "pneumonia", "--type", "discharge", "--author", "ng",
                           "--json", *FTS))
    assert len(typed) == 1 and typed[0]["type"] == "discharge"


def test_malformed_query_is_explained_with_exit_2(shared_vault: VaultFixture) -> None:
    result = invoke(shared_vault.root, "search", '"gouty arthritis', *FTS)
    assert result.exit_code == 2
    assert "unbalanced quote" in result.output and 'e.g. "heart failure"' in result.output
    assert "Traceback" not in result.output


def test_show_text_and_bit_identical_original(shared_vault: VaultFixture, imported: dict[str, Any],
                                              tmp_path: Path) -> None:
    by_name = {o["input"].split("/")[-1]: o for o in imported["report"]["outcomes"]}
    rid = by_name[imported["hl7"].name]["record_id"]
    view = ok_json(invoke(shared_vault.root, "show", rid, "--json"))
    assert view["record_id"] == rid and view["format"] == "hl7v2" and len(view["text"]) > 50
    out = tmp_path / "original.hl7"
    result = invoke(shared_vault.root, "show", rid, "--original", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == imported["hl7"].read_bytes()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    again = invoke(shared_vault.root, "show", rid, "--original", "--out", str(out))
    assert again.exit_code == 2 and "already exists" in again.output
    missing = invoke(shared_vault.root, "show", "rdeadbeef0000")
    assert missing.exit_code == 2 and "No record 'rdeadbeef0000'" in missing.output


def test_needs_filing_queue_and_file(shared_vault: VaultFixture, imported: dict[str, Any]) -> None:
    queue = ok_json(invoke(shared_vault.root, "queue", "needs_filing", "--json"))
    ids = [q["record_id"] for q in queue if q["filename"] == "anaemia.txt"]
    assert len(ids) == 1
    filed = ok_json(invoke(shared_vault.root, "file", ids[0], "--mrn", "A-1", "--json"))
    assert filed == {"record_id": ids[0], "mrn": "A-1", "previous": None, "patient_created": True}
    bad = invoke(shared_vault.root, "file", ids[0], "--mrn", "not an mrn!")
    assert bad.exit_code == 2 and "not a valid MRN" in bad.output
    status = ok_json(invoke(shared_vault.root, "status", "--json"))
    assert status["records"] >= 5 and status["quarantined"] >= 2 and status["patients"] >= 4
    assert status["needs_filing"] == len(queue) - 1
    hits = ok_json(invoke(shared_vault.root, "search", "ferritin", "--patient", "A-1", "--json", *FTS))
    assert [h["record_id"] for h in hits] == ids


def test_quarantine_list_and_release(shared_vault: VaultFixture, imported: dict[str, Any], tmp_path: Path) -> None:
    items = ok_json(invoke(shared_vault.root, "quarantine", "list", "--json"))
    junk = next(i for i in items if i["original_name"] == "junk.txt")
    assert "binary" in junk["reason"]
    result = invoke(shared_vault.root, "quarantine", "release", junk["id"], "--to", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "junk.txt").read_bytes() == (imported["src"] / "junk.txt").read_bytes()
    left = ok_json(invoke(shared_vault.root, "quarantine", "list", "--json"))
    assert junk["id"] not in [i["id"] for i in left]


def test_physician_may_search_but_not_import(shared_vault: VaultFixture, imported: dict[str, Any]) -> None:
    denied = invoke(shared_vault.root, "import", str(imported["src"]), user="drmaria", passphrase=PHYS_PASS)
    assert denied.exit_code == 3


def test_transcription_needs_a_second_person(shared_vault: VaultFixture, tmp_path: Path) -> None:
    from archive.errors import UserError
    from archive.intake import import_paths
    from archive.records import add_transcription, list_queue, show_record, verify_transcription
    from archive.search import search_records
    from archive.users import add_user

    tess = shared_vault.open("tess", TECH_PASS)
    add_user(shared_vault.session, "tom", "technician", "amber falcon river", full_name="Tom Tech")  # type: ignore[arg-type]
    tom = shared_vault.open("tom", "amber falcon river")
    try:
        (tmp_path / "scan.txt").write_text("OCR garble: p#t!ent c/o d!zz!ness")
        (out,) = import_paths(tess, [tmp_path / "scan.txt"]).outcomes
        # pretend the OCR was unsure (the real handwriting scan is covered by the slow data test)
        with tess.transaction():
            tess.db.execute("UPDATE records SET needs_transcription = 1 WHERE id = ?", [out.record_id])
        assert out.record_id in [q.record_id for q in list_queue(tess, "needs_transcription")]
        add_transcription(tess, out.record_id, "Patient complains of dizziness since Tuesday.")
        view = show_record(tess, out.record_id)
        assert view.transcription is not None and not view.transcription.verified
        assert "dizziness" in (view.transcription.text or "")
        assert [h.record_id for h in search_records(tess, "dizziness")] == [out.record_id]
        with pytest.raises(UserError, match="second person"):
            verify_transcription(tess, out.record_id)
        verified = verify_transcription(tom, out.record_id)
        assert verified.verified_by == "tom"
        assert out.record_id not in [q.record_id for q in list_queue(tess, "needs_transcription")]
    finally:
        tess.close()
        tom.close()


def test_searches_and_views_are_audited(shared_vault: VaultFixture, imported: dict[str, Any]) -> None:
    session = shared_vault.open("tess", TECH_PASS)
    try:
        entries = session.audit_log.entries(user="tess")
        actions = {e.action for e in entries}
        assert {"search", "view_record", "import", "file_record", "quarantine_release"} <= actions
        search = next(e for e in entries if e.action == "search")
        assert "query" in search.details and "records" in search.details
    finally:
        session.close()
    # the query text lives only in the encrypted index, never in a file in the clear
    for path in shared_vault.root.rglob("*"):
        if path.is_file():
            assert b"gouty arthritis" not in path.read_bytes(), path


def test_watch_without_passphrase_then_next_session_indexes(shared_vault: VaultFixture) -> None:
    """`chartvault watch` with no passphrase encrypts arrivals into pending/; the next unlock indexes them."""
    import subprocess

    from tests.conftest import chartvault_bin

    root = shared_vault.root
    (root / "inbox" / "walk-in.txt").write_text("MRN: W-1\nWalk-in: sprained ankle after a hike, RICE advised.")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTVAULT_")}
    env |= {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": "tess"}
    watch = subprocess.run([chartvault_bin(), "watch", "--until-idle", "--quiet-period", "0.2"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert watch.returncode == 0, watch.stderr
    assert "locked" in watch.stderr and "encrypted 1 arrival" in watch.stdout
    assert list((root / "inbox").iterdir()) == []
    assert len(list((root / "pending").glob("*.age"))) == 1
    env["CHARTVAULT_PASSPHRASE"] = TECH_PASS
    status = subprocess.run([chartvault_bin(), "search", "sprained ankle", "--json", *FTS], env=env,
                            capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, status.stderr
    hits = json.loads(status.stdout)
    assert [h["patient"] for h in hits] == ["W-1"]
    assert list((root / "pending").glob("*.age")) == []


def test_the_vault_itself_is_never_imported(shared_vault: VaultFixture, imported: dict[str, Any]) -> None:
    root = shared_vault.root
    for target in (root / "objects", root, root.parent):
        result = invoke(root, "import", str(target), "--move")
        assert result.exit_code == 2, (target, result.output)
        assert "vault" in result.output
    assert any(root.glob("objects/??/*.age"))
