"""The demo vault: what a newcomer finds in it, that it was built through the real API, and the CLI.

The synthetic build is shared by the test session (tests/functional/conftest.py);
the public-data build is `slow`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import cli
from archive.demo import DEMO_USERS, DEMO_WARNING, DemoReport, build_demo, demo_data_dir, is_demo_vault
from archive.demo_content import PATIENTS, synthetic_files
from tests.conftest import shared_data

PASS = {u.name: u.passphrase for u in DEMO_USERS}


@pytest.fixture(scope="module")
def sessions(demo_sessions: dict[str, Any]) -> dict[str, Any]:
    return demo_sessions


def test_report_users_and_counts(demo_build: Any) -> None:
    root, report = demo_build
    assert is_demo_vault(root)
    roles = sorted(u.role for u in report.users)
    assert roles == ["admin", "physician", "physician", "technician"]
    assert all(u.passphrase.startswith("demo-only") for u in report.users)
    files = synthetic_files()
    assert report.counts["records"] == len(files) - 1  # the damaged PDF is quarantined, not a record
    assert report.counts["quarantined"] == 1
    assert report.counts["patients"] == len(PATIENTS)
    assert report.counts["needs_filing"] == 1 and report.counts["needs_transcription"] == 1
    assert report.counts["embedding_backlog"] == 0 and report.embedded == report.counts["records"]
    assert report.to_json()["warning"] == DEMO_WARNING


def test_every_format_queues_and_users(demo_vault: Path, sessions: dict[str, Any]) -> None:
    from archive.records import list_quarantine, list_queue
    from archive.users import list_users

    tess = sessions["tess"]
    formats = {r[0] for r in tess.db.execute("SELECT DISTINCT format FROM records").fetchall()}
    assert {"text", "markdown", "pdf", "docx", "hl7v2", "fhir", "image"} <= formats
    (scan,) = list_queue(tess, "needs_transcription")
    assert scan.format == "image" and scan.patient == "DEMO-1001" and scan.transcription in (None, "none")
    (fax,) = list_queue(tess, "needs_filing")
    assert fax.filename == "referral_fax_2024-04-02.txt"
    (damaged,) = list_quarantine(tess)
    assert damaged.original_name.endswith("fax_0417_damaged.pdf") and "PDF" in damaged.reason
    users = {u.name: u for u in list_users(sessions["admin"])}
    assert set(users) == set(PASS)
    assert users["drmaria"].registered and users["drchen"].registered and not users["tess"].registered


def test_charts_and_coded_encounters(sessions: dict[str, Any]) -> None:
    from archive.charts.entries import patient_chart
    from archive.coding import record_codes

    tess = sessions["tess"]
    vale = patient_chart(tess, "DEMO-1001")
    meds = {e.text for e in vale.entries if e.kind == "medication"}
    assert {"Furosemide", "Lisinopril", "Bisoprolol"} <= meds
    assert any(e.kind == "referral" and e.referral_to == "drchen" for e in vale.entries)
    assert any(e.kind == "admission" and e.start == "2024-02-03" for e in vale.encounters)
    assert vale.patient.attending == "drmaria"
    reyes = patient_chart(tess, "DEMO-1002")  # from the FHIR bundle
    assert any(e.kind == "diagnosis" and e.code == "E11.9" for e in reyes.entries)
    assert any(e.kind == "medication" and "Metformin" in e.text for e in reyes.entries)
    confirmed = {}
    for record_id, name in tess.db.execute("SELECT id, filename FROM records").fetchall():
        codes = [c.code for c in record_codes(tess, record_id) if c.status == "confirmed"]
        if codes:
            confirmed[name] = codes
    assert any(c.startswith(("I50", "I11")) for c in confirmed.get("vale_discharge_2024-02-09.txt", []))
    assert any(c.startswith("J18") for c in confirmed.get("okafor_clinic_2023-11-20.txt", []))
    assert len(confirmed) >= 3


def test_audit_history(sessions: dict[str, Any]) -> None:
    from archive.audit_review import verify_audit

    log = sessions["admin"].audit_log
    by_action: dict[str, list[Any]] = {}
    for entry in log.entries():
        by_action.setdefault(entry.action, []).append(entry)
    assert {e.user for e in by_action["login"]} >= {"tess", "drmaria"}
    assert {e.user for e in by_action["search"]} >= {"tess", "drmaria"}
    assert {e.user for e in by_action["view_record"]} >= {"tess", "drmaria"}
    (disclosure,) = by_action["disclose"]
    assert disclosure.user == "tess" and disclosure.details["recipient"] == "drmaria"
    (glass,) = by_action["break_glass"]
    assert glass.user == "admin" and glass.flagged and len(glass.reason or "") > 20
    assert any(e.user == "drmaria" for e in by_action["assistant_ask"])
    assert by_action["code_confirm"] and by_action["chart_add"] and by_action["import"]
    assert verify_audit(sessions["admin"]).ok


def test_no_plaintext_outside_the_inbox(demo_vault: Path) -> None:
    """Every file of the vault is ciphertext or public metadata; the staged originals are gone."""
    canaries = [b"Harriet Vale", b"DEMO-1001", b"furosemide", b"hemiarthroplasty", b"ceftriaxone"]
    inbox = demo_vault / "inbox"
    assert not any(p.is_file() for p in inbox.rglob("*"))
    for path in demo_vault.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for canary in canaries:
                assert canary.lower() not in data.lower(), f"{canary!r} in the clear in {path}"


def test_a_second_build_is_refused(demo_vault: Path) -> None:
    from archive.errors import UserError

    with pytest.raises(UserError, match="already exists"):
        build_demo(demo_vault, source="synthetic")
    result = CliRunner().invoke(cli, ["demo", "--vault", str(demo_vault), "--source", "synthetic"])
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_cli_prints_users_passphrases_and_the_warning(demo_build: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The click layer over build_demo (the build itself is tested above)."""
    import archive.demo

    _root, report = demo_build
    calls = []

    def fake_build(root: Path, **kwargs: Any) -> DemoReport:
        calls.append((root, kwargs))
        return report

    monkeypatch.setattr(archive.demo, "build_demo", fake_build)
    target = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--vault", str(target), "--source", "synthetic", "--no-embed"])
    assert result.exit_code == 0, result.output
    assert [(root, kw["source"], kw["embed"]) for root, kw in calls] == [(target, "synthetic", False)]
    for user in DEMO_USERS:
        assert f"{user.name:<8} {user.role:<11} passphrase: {user.passphrase}" in result.output
    assert DEMO_WARNING in result.output
    as_json = CliRunner().invoke(cli, ["demo", "--vault", str(target), "--json"])
    assert as_json.exit_code == 0
    import json

    data = json.loads(as_json.output)
    assert data["counts"] == report.counts and [u["name"] for u in data["users"]] == [u.name for u in DEMO_USERS]


def test_unknown_source_is_a_user_error() -> None:
    result = CliRunner().invoke(cli, ["demo", "--source", "internet"])
    assert result.exit_code == 2


def test_shared_subset_is_modest_and_filed() -> None:
    from archive.demo_content import SHARED_ACI_NOTES, SHARED_FHIR_BUNDLES, SHARED_HL7, shared_files

    data = shared_data("")
    files = shared_files(data)
    kinds = {f.name.split("/")[1] for f in files}
    assert kinds == {"hl7", "fhir", "notes", "scans"}
    assert sum(f.name.startswith("shared/hl7/") for f in files) == len(SHARED_HL7)
    assert sum(f.name.startswith("shared/fhir/") for f in files) == SHARED_FHIR_BUNDLES
    notes = [f for f in files if f.name.startswith("shared/notes/")]
    assert len(notes) >= SHARED_ACI_NOTES + 4
    with_mrn = [f for f in notes if f.data.startswith(b"MRN: DEMO-")]
    assert len(with_mrn) == len(notes) - 2  # two wait for filing
    assert sum(len(f.data) for f in files) < 3_000_000


def test_data_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from archive.demo import resolve_source

    monkeypatch.setenv("CHARTVAULT_DEMO_DATA", str(tmp_path / "nowhere"))
    assert demo_data_dir() == tmp_path / "nowhere"
    assert resolve_source("auto") == "synthetic"
    from archive.errors import UserError

    with pytest.raises(UserError, match="No public test data"):
        resolve_source("shared")


@pytest.mark.slow
def test_build_from_the_public_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared_data("hl7v2")
    monkeypatch.setenv("CHARTVAULT_EMBEDDER", "fake")
    report = build_demo(tmp_path / "demo", source="shared", embed=False)
    assert report.source == "shared"
    assert report.counts["records"] > len(synthetic_files())
    assert report.counts["needs_transcription"] >= 1 and report.counts["quarantined"] == 1
    assert report.counts["needs_filing"] == 3  # the synthetic fax and two public notes
    assert report.counts["embedding_backlog"] == report.counts["records"]
    assert not any(p.is_file() for p in (tmp_path / "demo" / "inbox").rglob("*"))


def test_a_failed_build_leaves_no_half_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run again after a failure: the half-built vault is gone; what was in an existing inbox stays."""
    import archive.users
    from archive.errors import UserError

    root = tmp_path / "demo"
    (root / "inbox").mkdir(parents=True)
    (root / "inbox" / "keep.txt").write_text("someone's file")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise UserError("disk full (simulated)", "")

    monkeypatch.setattr(archive.users, "add_user", broken)
    with pytest.raises(UserError, match="simulated"):
        build_demo(root, source="synthetic")
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == ["inbox", "inbox/keep.txt"]
