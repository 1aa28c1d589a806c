"""No file can jam the inbox, and every file in it is accounted for (issue 16, findings 3, 4, 5).

A name that is not UTF-8 is quarantined under an escaped name (its bytes kept);
hidden files are inputs like any other; editors' temporary files still being
written and files over the size limit are left in place, reported with a
reason (and the setting that would admit the large one); `watch --until-idle`
returns with everything else imported.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from archive.cli import cli
from tests.conftest import TECH_PASS, VaultFixture

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")

NO_EMBED = ["--no-embed"]
BAD_NAME = os.fsdecode(b"bad\xff\xfename.txt")


def invoke(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    base = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": "tess", "CHARTVAULT_PASSPHRASE": TECH_PASS}
    return CliRunner().invoke(cli, list(args), env=base | (env or {}), catch_exceptions=False)


def _old(path: Path) -> None:
    past = time.time() - 3600
    os.utime(path, (past, past), follow_symlinks=False)


def drop_awkward_files(inbox: Path, tag: str) -> dict[str, str]:
    """Every kind of awkward input, by the outcome each must get."""
    inbox.mkdir(parents=True, exist_ok=True)
    files = {
        BAD_NAME: ("bad name " + tag, "quarantined"),
        ".hidden.txt": ("Hidden note: chest pain resolved " + tag, "imported"),
        "..evil.txt": ("evil " + tag, "quarantined"),
        "plain.txt": ("Plain note: migraine follow-up " + tag, "imported"),
        ".#plain.txt": ("emacs lock " + tag, "skipped"),  # young temporary file: still being written
        "stale.docx~": ("left behind " + tag, "quarantined"),  # old temporary file: taken, into quarantine
    }
    for name, (body, _) in files.items():
        (inbox / name).write_text(body)
    for name in files:
        if name != ".#plain.txt":
            _old(inbox / name)
    (inbox / ".sub").mkdir(exist_ok=True)
    (inbox / ".sub" / "inside.txt").write_text("In a hidden folder: asthma review " + tag)
    _old(inbox / ".sub" / "inside.txt")
    huge = inbox / "huge.bin"
    with open(huge, "wb") as fh:  # sparse: a 1 GB file that takes no space and is never read
        fh.truncate(1024**3)
    _old(huge)
    expected = {name: outcome for name, (_, outcome) in files.items()}
    expected[".sub/inside.txt"] = "imported"
    expected["huge.bin"] = "skipped"
    return expected


def test_import_move_accounts_for_every_file(shared_vault: VaultFixture, tmp_path: Path) -> None:
    inbox = tmp_path / "drop"
    expected = drop_awkward_files(inbox, "import")
    result = invoke(shared_vault.root, "import", "--move", "--json", str(inbox), *NO_EMBED)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    got = {o["input"].split("/", 1)[1]: o for o in report["outcomes"]}
    shown = {k.replace("\\xff\\xfe", "\udcff\udcfe"): v for k, v in got.items()}
    assert {k: v["status"] for k, v in shown.items()} == expected
    assert report["inputs"] == len(expected) == _counts(report)
    # the bad name: escaped where people read it, nothing else jammed
    assert got["bad\\xff\\xfename.txt"]["reason"] == "unsafe file name: it is not valid UTF-8"
    # too large: refused before reading, left in place, with the setting that admits it
    assert "set CHARTVAULT_MAX_INPUT_MB=1024 to admit it" in got["huge.bin"]["reason"]
    assert "still being written" in got[".#plain.txt"]["reason"]
    left = sorted(str(p.relative_to(inbox)) for p in inbox.rglob("*") if p.is_file())
    assert left == [".#plain.txt", "huge.bin"]  # only what was skipped, each with its reason
    # the quarantine keeps the escaped name and the exact bytes
    qid = got["bad\\xff\\xfename.txt"]["quarantine_id"]
    rows = shared_vault.session.db.execute(  # type: ignore[attr-defined]
        "SELECT original_name, source FROM quarantine WHERE id = ?", [qid]
    ).fetchall()
    assert rows and rows[0][0] == "bad\\xff\\xfename.txt"
    assert json.loads(rows[0][1])["name_bytes_hex"] == b"bad\xff\xfename.txt".hex()
    # nothing near 1 GB was stored anywhere in the vault
    stored = sum(p.stat().st_size for p in shared_vault.root.rglob("*") if p.is_file())
    assert stored < 200 * 1024 * 1024


def test_plain_import_text_summary_names_the_skipped(shared_vault: VaultFixture, tmp_path: Path) -> None:
    src = tmp_path / "src"
    drop_awkward_files(src, "text")
    result = invoke(shared_vault.root, "import", str(src), *NO_EMBED)
    assert result.exit_code == 0, result.output
    assert "8 inputs: 2 imported, 0 duplicates, 3 quarantined, 3 skipped." in result.output
    assert "Skipped (left where they are):" in result.output
    assert "src/.sub: a hidden folder, not walked" in result.output  # a copy-import does not walk it: says so
    assert "src/bad\\xff\\xfename.txt: unsafe file name" in result.output


def test_the_setting_admits_a_large_file(shared_vault: VaultFixture, tmp_path: Path) -> None:
    src = tmp_path / "big"
    src.mkdir()
    (src / "big.txt").write_text("Big note: hypertension review.\n" + "blood pressure reading normal\n" * 50_000)
    _old(src / "big.txt")
    refused = invoke(shared_vault.root, "import", "--json", str(src), *NO_EMBED, env={"CHARTVAULT_MAX_INPUT_MB": "1"})
    out = json.loads(refused.stdout)["outcomes"][0]
    assert out["status"] == "skipped" and "set CHARTVAULT_MAX_INPUT_MB=2 to admit it" in out["reason"]
    admitted = invoke(shared_vault.root, "import", "--json", str(src), *NO_EMBED, env={"CHARTVAULT_MAX_INPUT_MB": "2"})
    assert json.loads(admitted.stdout)["imported"] == 1


def test_watch_until_idle_returns_with_a_bad_name_in_the_inbox(shared_vault: VaultFixture) -> None:
    inbox = shared_vault.root / "inbox"
    expected = drop_awkward_files(inbox, "watch")
    started = time.monotonic()
    result = invoke(shared_vault.root, "watch", "--until-idle", "--quiet-period", "0.2")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 60
    left = sorted(str(p.relative_to(inbox)) for p in inbox.rglob("*") if p.is_file())
    assert left == [".#plain.txt", "huge.bin"]
    lines = result.stdout.splitlines()
    for name, outcome in expected.items():
        shown = name.replace("\udcff\udcfe", "\\xff\\xfe")
        if outcome == "skipped":
            assert any(line.startswith(f"skipped {shown}: ") for line in lines), (name, result.stdout)
    assert any("bad\\xff\\xfename.txt" in line and line.startswith("quarantined") for line in lines), result.stdout
    assert sum(line.startswith("imported") for line in lines) == 3, result.stdout


def _counts(report: dict[str, Any]) -> int:
    return sum(report[k] for k in ("imported", "duplicates", "quarantined", "skipped", "vanished", "changing"))


def test_nested_json_and_a_template_dated_docx(shared_vault: VaultFixture, tmp_path: Path) -> None:
    """Finding 10: a JSON bomb says "nested too deeply"; a DOCX from a template is dated by its file time."""
    import docx

    src = tmp_path / "f10"
    src.mkdir()
    depth = 100_000
    (src / "deep.json").write_text('{"resourceType": "Bundle", "x": ' + "[" * depth + "]" * depth + "}")
    document = docx.Document()  # python-docx's template: created == modified == 2013-12-23
    document.add_paragraph("Referral letter without a date line: persistent cough.")
    document.save(src / "letter.docx")
    when = time.mktime((2024, 3, 9, 12, 0, 0, 0, 0, -1))
    os.utime(src / "letter.docx", (when, when))
    report = json.loads(invoke(shared_vault.root, "import", "--json", str(src), *NO_EMBED).stdout)
    got = {o["input"].split("/")[-1]: o for o in report["outcomes"]}
    assert got["deep.json"]["status"] == "quarantined" and "nested too deeply" in got["deep.json"]["reason"]
    rid = got["letter.docx"]["record_id"]
    shown = invoke(shared_vault.root, "show", rid)
    assert "Date       2024-03-09 (from file time)" in shown.output, shown.output
    view = json.loads(invoke(shared_vault.root, "show", rid, "--json").stdout)
    assert view["date"] == "2024-03-09" and view["metadata"]["date_source"] == "file time"


def test_locked_watch_stashes_a_bad_name_and_leaves_the_huge_file(shared_vault: VaultFixture) -> None:
    """Without a passphrase the watcher only encrypts arrivals into pending/: the same inputs must not jam it."""
    inbox = shared_vault.root / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / os.fsdecode(b"locked\xff.txt")).write_text("locked bad name")
    (inbox / ".locked-hidden.txt").write_text("Locked hidden note: knee pain")
    with open(inbox / "locked-huge.bin", "wb") as fh:
        fh.truncate(1024**3)
    for p in inbox.iterdir():
        if "locked" in p.name:  # (an earlier test's young lock file stays young: it is skipped)
            _old(p)
    env = {"CHARTVAULT_VAULT": str(shared_vault.root), "CHARTVAULT_USER": "tess", "CHARTVAULT_PASSPHRASE": None}
    result = CliRunner().invoke(cli, ["watch", "--until-idle", "--quiet-period", "0.2"], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "encrypted 2 arrivals into pending/" in result.stdout
    assert sorted(p.name for p in inbox.iterdir() if p.name.startswith("locked")) == ["locked-huge.bin"]
    status = invoke(shared_vault.root, "status")  # the next unlocked session indexes what waits
    assert status.exit_code == 0, status.output
    rows = shared_vault.session.db.execute(  # type: ignore[attr-defined]
        "SELECT reason FROM quarantine WHERE original_name = ?", ["locked\\xff.txt"]
    ).fetchall()
    assert rows == [("unsafe file name: it is not valid UTF-8",)]
    (inbox / "locked-huge.bin").unlink()
