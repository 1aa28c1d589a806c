"""The demo vault: what a newcomer finds in it, that it was built through the real API, and the CLI.

The synthetic build is shared by the test session (tests/functional/conftest.py);
the public-data build is `slow`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import cli
from archive.demo import DEMO_USERS, DEMO_WARNING, DemoReport, build_demo, demo_data_dir, is_demo_vault
from archive.demo_content import PATIENTS, synthetic_files
from tests.conftest import shared_data

PASS = {u.name: u.passphrase for u in DEMO_USERS}


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


def test_progress_names_each_step_and_moves_within_the_long_ones(demo_build: Any) -> None:
    """The bar never sits still for a whole long step: each step is named, and the KDFs, the import and the
    code set move it several times (the callback is the one the TUI's bar and `chartvault demo` show)."""
    from archive.demo import PROGRESS_TOTAL, STEPS
    from tests.functional.conftest import DEMO_PROGRESS

    assert DEMO_PROGRESS and DEMO_PROGRESS[-1] == (PROGRESS_TOTAL, PROGRESS_TOTAL, "Done")
    values = [done for done, _total, _what in DEMO_PROGRESS]
    assert values == sorted(values) and all(total == PROGRESS_TOTAL for _d, total, _w in DEMO_PROGRESS)
    per_step: dict[int, list[int]] = {}
    for done, _total, what in DEMO_PROGRESS[:-1]:
        named = re.match(r"Step (\d+) of (\d+): (.+?)(?: - (.+))?$", what)
        assert named, what
        n = int(named.group(1))
        assert int(named.group(2)) == len(STEPS) and named.group(3) == STEPS[n - 1][0]
        per_step.setdefault(n, []).append(done)
    assert sorted(per_step) == list(range(1, len(STEPS) + 1))
    long_steps = {1: 5, 3: 10, 5: 10}  # the KDFs (a tick each), the import (a tick a file), the code set
    for n, ticks in long_steps.items():
        assert len(set(per_step[n])) >= ticks, (STEPS[n - 1][0], per_step[n])


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


def test_cli_progress_rewrites_one_line_per_step_in_the_terminal(demo_build: Any, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal `chartvault demo` shows each step on one line, rewritten as it moves, cut to the width
    (the step's name gives way, the moving part stays)."""
    import os
    import types

    import archive.cli.demo_cmds as demo_cmds
    import archive.demo

    _root, report = demo_build
    long_step = "Step 3 of 10: Importing documents (text, Markdown, PDF, DOCX, HL7, FHIR, a handwriting-style scan)"

    def fake_build(root: Path, progress: Any = None, **kwargs: Any) -> DemoReport:
        progress(0, 1000, "Step 1 of 10: Creating the vault and the demo users - adding tess (technician)")
        progress(80, 1000, "Step 1 of 10: Creating the vault and the demo users - adding drmaria (physician)")
        progress(450, 1000, f"{long_step} - 12 of 37 files")
        progress(1000, 1000, "Done")
        return report

    monkeypatch.setattr(archive.demo, "build_demo", fake_build)
    monkeypatch.setattr(demo_cmds, "sys", types.SimpleNamespace(stderr=types.SimpleNamespace(isatty=lambda: True)))
    monkeypatch.setattr(demo_cmds.shutil, "get_terminal_size", lambda *a: os.terminal_size((80, 24)))
    result = CliRunner().invoke(cli, ["demo", "--vault", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    lines = [[part.removeprefix("\x1b[K") for part in line.split("\r") if part.removeprefix("\x1b[K")]
             for line in result.stderr.split("\n")]
    assert [line[:22] for line in lines[0]] == ["[  0%] Step 1 of 10: C", "[  8%] Step 1 of 10: C"]
    assert lines[0][0].endswith("… - adding tess (technician)") and len(lines[0][0]) == 79
    assert lines[0][1].endswith("… - adding drmaria (physician)") and len(lines[0][1]) == 79
    (importing,) = lines[1]
    assert importing.startswith("[ 45%] Step 3 of 10: Importing documents") and importing.endswith(
        "… - 12 of 37 files") and len(importing) <= 79
    assert lines[2] == ["[100%] Done"]


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


# -- every record belongs to the patient it is filed to -------------------------------------------
# Written apart from archive.demo_content's reading of a note, so the test does not share its mistakes.

_SEX = {"male": "M", "man": "M", "gentleman": "M", "boy": "M", "mr": "M",
        "female": "F", "woman": "F", "lady": "F", "girl": "F", "mrs": "F", "ms": "F", "miss": "F"}
_WHO_AGE = re.compile(
    r"(?:\b(?P<title>Mr|Mrs|Ms|Miss)\.? (?P<surname>[A-Z][a-z]+)|\b(?P<full>[A-Z][a-z]+ [A-Z][a-z]+)|"
    r"\b(?:This|The patient|Patient) (?:is )?)?(?: is an?)? ?(?P<age>\d{1,3})(?:-year-old| year old| y/o)"
    r"(?:[ ,]+(?:white|black|caucasian|right-handed|RH|pleasant|healthy))*[ ,]*(?P<sex>male|female|man|woman|"
    r"gentleman|lady|boy|girl|[RL]?H?[MF]\b)?", re.I)


def _age(dob: str, day: str) -> int:
    born, then = dt.date.fromisoformat(dob), dt.date.fromisoformat(day[:10])
    return then.year - born.year - ((then.month, then.day) < (born.month, born.day))


def contradictions(text: str, name: str, sex: str, dob: str, day: str | None) -> list[str]:
    """What the note says about its patient that the patient's chart contradicts (its first statement of
    name/age/sex, any "Mr./Ms." title, and the pronouns when the note uses only one kind)."""
    found: list[str] = []
    known = {w.lower() for w in name.split()}
    first = _WHO_AGE.search(text)
    if first:
        who = first.group("full") or first.group("surname")
        if who and who.split()[0] not in ("This", "The", "Patient") and not {w.lower() for w in who.split()} <= known:
            found.append(f"names {who!r}")
        if day and _age(dob, day) != int(first.group("age")):
            found.append(f"says {first.group('age')} years old on {day[:10]} (born {dob})")
        word = (first.group("sex") or first.group("title") or "").lower()
        said = _SEX.get(word) or (word[-1].upper() if word and word[-1] in "mf" and len(word) <= 3 else None)
        if said and said != sex:
            found.append(f"says {word!r} (sex {sex})")
    for title, surname in re.findall(r"\b(Mr|Mrs|Ms|Miss)\.? ([A-Z][a-z]+)", text):
        if surname.lower() in known and _SEX[title.lower()] != sex:
            found.append(f"calls the patient {title}. {surname} (sex {sex})")
    she = len(re.findall(r"\b(?:she|her)\b", text, re.I))
    he = len(re.findall(r"\b(?:he|his|him)\b", text, re.I))
    if (she >= 2 and not he and sex == "M") or (he >= 2 and not she and sex == "F"):
        found.append(f"uses {'she/her' if she else 'he/his'} only (sex {sex})")
    return found


def test_the_checker_finds_the_reported_contradictions() -> None:
    allen = "James Allen is a 57-year-old male with a past medical history significant for heart failure."
    assert contradictions(allen, "Harriet Vale", "F", "1948-03-12", "2024-05-21") == [
        "names 'James Allen'", "says 57 years old on 2024-05-21 (born 1948-03-12)", "says 'male' (sex F)"]
    assert contradictions(allen, "James Allen", "M", "1967-02-11", "2024-05-21") == []
    assert contradictions("HX: This 31 y/o RHF experienced", "Amina Okafor", "F", "1990-06-21", "2023-04-10") == [
        "says 31 years old on 2023-04-10 (born 1990-06-21)"]
    assert contradictions("Ms. Connor is a 50-year-old female", "George Lund", "M", "1962-11-02", "2023-10-01")
    assert contradictions("She improved. Her swallowing is normal.", "George Lund", "M", "1962-11-02", None)


def misfiled(session: Any) -> list[str]:
    """Every filed record whose text contradicts the patient it is filed to."""
    from archive.charts.patients import get_patient
    from archive.records import show_record

    out = []
    rows = session.db.execute("SELECT id, patient_mrn FROM records WHERE status = 'filed' AND patient_mrn IS NOT NULL")
    for record_id, mrn in rows.fetchall():
        view, patient = show_record(session, record_id), get_patient(session, mrn)
        for problem in contradictions(view.text, patient.name, patient.sex, patient.dob, view.date):
            out.append(f"{view.filename} filed to {mrn} {patient.name}: {problem}")
    return out


def heart_failure_2024(session: Any) -> tuple[int, int]:
    """(patients the assistant counts, patients the statistics count) with heart failure in 2024."""
    from archive.assistant import Conversation
    from archive.stats import frequency

    answer = Conversation(session).ask("how many patients had heart failure in 2024?").answer
    said = re.match(r"(\d+|No) patients? had heart failure", answer)
    assert said, answer
    assistant = 0 if said.group(1) == "No" else int(said.group(1))
    table = frequency(session, by="category", period="year", date_from="2024-01-01", date_to="2024-12-31")
    stats = sum(c["patients"] for c in table.to_json()["cells"] if c["group"] == "I50")
    return assistant, stats


def test_synthetic_records_belong_to_their_patients(sessions: dict[str, Any]) -> None:
    assert misfiled(sessions["tess"]) == []
    assert heart_failure_2024(sessions["drmaria"]) == (1, 1)


def test_public_notes_are_filed_to_the_patients_they_describe() -> None:
    """The filing decision (no build): a note's MRN is a patient whose name, sex and age agree with it."""
    from archive.demo_content import shared_files

    files = shared_files(shared_data("aci-bench").parent)
    patients = {pt.mrn: pt for pt in PATIENTS}
    made = [p for p in (getattr(f, "patient", None) for f in files) if p is not None]
    patients |= {p.mrn: p for p in made}
    problems = []
    for f in files:
        text = f.data.decode("utf-8", "replace")
        mrn = re.match(r"MRN: (\S+)", text) if f.name.startswith("shared/notes/") else None
        if mrn:
            pt = patients[mrn.group(1)]
            day = re.search(r"^Date: (\S+)", text, re.M)
            for problem in contradictions(text, pt.name, pt.sex, pt.dob, day.group(1) if day else None):
                problems.append(f"{f.name} -> {pt.mrn} {pt.name}: {problem}")
    assert problems == []
    named = {p.name for p in made}
    assert {"James Allen", "Martha Collins"} <= named  # the people the public notes describe


@pytest.fixture(scope="module")
def shared_build(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(path, DemoReport) of one demo built from the public data, for this module's slow tests."""
    shared_data("hl7v2")
    root = tmp_path_factory.mktemp("demo-shared") / "demo"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CHARTVAULT_EMBEDDER", "fake")
        report = build_demo(root, source="shared", embed=False)
    return root, report


@pytest.mark.slow
def test_public_data_records_belong_to_their_patients(shared_build: Any) -> None:
    from archive.login import open_session

    root, _report = shared_build
    tess = open_session(root, "tess", PASS["tess"])
    maria = open_session(root, "drmaria", PASS["drmaria"])
    try:
        assert misfiled(tess) == []
        assistant, stats = heart_failure_2024(maria)
        assert assistant == stats >= 2  # Harriet Vale, and the public notes' own patients with heart failure
    finally:
        tess.close()
        maria.close()


@pytest.mark.slow
def test_build_from_the_public_data(shared_build: Any) -> None:
    root, report = shared_build
    tmp_path = root.parent
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
