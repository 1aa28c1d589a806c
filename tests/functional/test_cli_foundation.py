"""The foundation CLI contract: init, user add/list/disable, status, verify, key export, errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import ADMIN_PASS, PHYS_PASS, TECH_PASS, chartvault_bin


def invoke(vault: Path, *args: str, user: str = "admin", passphrase: str = ADMIN_PASS, **env: str):
    runner = CliRunner()
    full_env = {"CHARTVAULT_VAULT": str(vault), "CHARTVAULT_USER": user, "CHARTVAULT_PASSPHRASE": passphrase, **env}
    return runner.invoke(cli, list(args), env=full_env, catch_exceptions=False)


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "vault"
    result = invoke(root, "init", "--full-name", "Ada Admin")
    assert result.exit_code == 0, result.output
    assert "Created vault" in result.output
    for name, role, pw, extra in (
        ("tess", "technician", TECH_PASS, []),
        ("drmaria", "physician", PHYS_PASS, ["--licence", "MD-12345", "--full-name", "Maria Lopez"]),
    ):
        r = invoke(root, "user", "add", name, "--role", role, *extra, CHARTVAULT_NEW_PASSPHRASE=pw)
        assert r.exit_code == 0, r.output
    return root


def test_layout_on_disk(vault: Path) -> None:
    assert not (vault / "index.db").read_bytes().startswith(b"SQLite format 3")
    for user in ("admin", "drmaria", "tess"):
        assert (vault / "keys" / f"{user}.age").read_bytes().startswith(b"age-encryption.org/v1\n-> scrypt")
        assert (vault / "keys" / f"{user}.grant.age").read_bytes().startswith(b"age-encryption.org/v1\n-> X25519")
    assert sorted(p.name for p in (vault / "keys").glob("*.age") if ".grant" not in p.name) == [
        "admin.age", "drmaria.age", "tess.age"
    ]
    meta = json.loads((vault / "vault.json").read_text())
    assert meta["format_version"] == 1 and meta["recipient"].startswith("age1")
    assert "AGE-SECRET" not in (vault / "vault.json").read_text()


def test_user_list_json(vault: Path) -> None:
    result = invoke(vault, "user", "list", "--json")
    users = {u["name"]: u for u in json.loads(result.output)}
    assert users["drmaria"]["registered"] is True and users["drmaria"]["licence"] == "MD-12345"
    assert users["tess"]["role"] == "technician" and users["tess"]["registered"] is False


def test_status_json_counts(vault: Path) -> None:
    result = invoke(vault, "status", "--json", user="tess", passphrase=TECH_PASS)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("records", "patients", "quarantined", "needs_filing", "needs_transcription", "inbox_pending"):
        assert data[key] == 0
    assert data["path"] == str(vault) and data["format_version"] == 1


def test_status_text_keeps_every_label_apart_from_its_value(vault: Path) -> None:
    """The longest labels ("Needs transcription:", "Facts to rederive:") once ran into their numbers."""
    result = invoke(vault, "status", user="tess", passphrase=TECH_PASS)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if ":" in line]
    assert any(line.startswith("Needs transcription:") for line in lines)
    for line in lines:
        label, _, value = line.partition(":")
        assert value.startswith(" "), line
    starts = {len(line) - len(line.partition(":")[2].lstrip()) for line in lines if line.partition(":")[2].strip()}
    assert len(starts) == 1, f"values start in one column: {result.output}"


def test_an_admin_refused_a_clinical_action_is_not_told_to_ask_an_admin(vault: Path) -> None:
    """Admins manage the vault and read no records: the hint says who may, not 'ask an admin'."""
    result = invoke(vault, "search", "heart")
    assert result.exit_code == 3
    assert "ask an admin" not in result.output.lower()
    assert "Admins manage users and the vault; a technician or a registered physician does this." in result.output


def test_a_refusal_names_the_role_that_does_it(vault: Path) -> None:
    """A physician refused an import is told a technician does it, not only 'ask an admin'."""
    result = invoke(vault, "import", str(vault), user="drmaria", passphrase=PHYS_PASS)
    assert result.exit_code == 3
    assert "A physician may not import." in result.output
    assert "This is outside your role: a technician or an admin does this." in result.output


def test_verify_ok(vault: Path) -> None:
    result = invoke(vault, "verify")
    assert result.exit_code == 0, result.output
    assert "Audit chain: intact" in result.output


def test_physician_needs_licence(vault: Path) -> None:
    result = invoke(vault, "user", "add", "drno", "--role", "physician", CHARTVAULT_NEW_PASSPHRASE=PHYS_PASS)
    assert result.exit_code == 2
    assert "A physician needs a licence number" in result.output


def test_non_admin_cannot_add_users(vault: Path) -> None:
    result = invoke(vault, "user", "add", "x", "--role", "technician", user="tess", passphrase=TECH_PASS,
                    CHARTVAULT_NEW_PASSPHRASE="some long phrase here")
    assert result.exit_code == 3
    assert "Only an admin manages users." in result.output


def test_export_identity(vault: Path, tmp_path: Path) -> None:
    out = tmp_path / "id.txt"
    result = invoke(vault, "key", "export-identity", str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "AGE-SECRET-KEY-1" in out.read_text()
    assert "decrypts every record" in result.output
    again = invoke(vault, "key", "export-identity", str(out))
    assert again.exit_code == 2 and "already exists" in again.output
    denied = invoke(vault, "key", "export-identity", str(tmp_path / "x"), user="tess", passphrase=TECH_PASS)
    assert denied.exit_code == 3


def test_disabled_user_cannot_log_in(vault: Path) -> None:
    r = invoke(vault, "user", "add", "temp", "--role", "technician", CHARTVAULT_NEW_PASSPHRASE="short lived account")
    assert r.exit_code == 0, r.output
    assert invoke(vault, "user", "disable", "temp").exit_code == 0
    r = invoke(vault, "status", user="temp", passphrase="short lived account")
    assert r.exit_code == 3 and "disabled" in r.output


def test_no_vault_is_a_clear_error(tmp_path: Path) -> None:
    r = invoke(tmp_path / "nothing", "status")
    assert r.exit_code == 2
    assert "No vault at" in r.output and "chartvault init" in r.output


def test_wrong_passphrase_real_binary(vault: Path) -> None:
    """Through the installed console script: exit 2, one line + hint, no traceback."""
    env = {**os.environ, "CHARTVAULT_VAULT": str(vault), "CHARTVAULT_USER": "drmaria",
           "CHARTVAULT_PASSPHRASE": "definitely wrong words"}
    proc = subprocess.run([chartvault_bin(), "status"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == "Error: Wrong passphrase for user 'drmaria'."
    assert len(proc.stderr.splitlines()) <= 2
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    # the failure is audited at the next unlock
    r = invoke(vault, "status")
    assert r.exit_code == 0
    from archive.login import open_session

    s = open_session(vault, "admin", ADMIN_PASS)
    try:
        failed = s.audit_log.entries(action="login_failed")
        assert any(e.user == "drmaria" for e in failed)
    finally:
        s.close()
