"""The failed-login back-off (issue 15, finding 7) survives deleting keys/attempts.json.

The attacker guesses a colleague's passphrase at this machine and, between
guesses, deletes (or rewrites) the vault's plain `keys/attempts.json` to lift the
back-off. The count is also kept on this machine (vault/attempts.py): the back-off
holds, and the colleague's next login writes a flagged audit entry and a high alert.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import ADMIN_PASS, TECH_PASS
from vault.attempts import client_attempts_file


def _cli(root: Path, user: str, passphrase: str, *args: str):  # type: ignore[no-untyped-def]
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": user, "CHARTVAULT_PASSPHRASE": passphrase}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def vault(users_vault_template, tmp_path: Path):  # type: ignore[no-untyped-def]
    fx = users_vault_template.copy(tmp_path / "v")
    yield fx
    fx.session.close()


def _guess_until_backoff(root: Path) -> None:
    for _ in range(3):
        assert _cli(root, "tess", "a wrong guess here", "status").exit_code == 2
    paused = _cli(root, "tess", TECH_PASS, "status")
    assert paused.exit_code == 2 and "unlocking is paused" in paused.output


def test_deleting_either_count_does_not_lift_the_backoff(vault) -> None:  # type: ignore[no-untyped-def]
    root = vault.root
    _guess_until_backoff(root)
    vault_count = root / "keys" / "attempts.json"
    kept = vault_count.read_bytes()
    vault_count.unlink()  # the attacker's reset
    still = _cli(root, "tess", TECH_PASS, "status")
    assert still.exit_code == 2 and "unlocking is paused" in still.output
    assert "tess" in json.loads(client_attempts_file(root).read_text())
    # the other way round: this machine's state lost, the vault's count still there
    vault_count.write_bytes(kept)
    client_attempts_file(root).unlink()
    still = _cli(root, "tess", TECH_PASS, "status")
    assert still.exit_code == 2 and "unlocking is paused" in still.output


def test_an_erased_vault_count_is_flagged_at_the_next_login(vault) -> None:  # type: ignore[no-untyped-def]
    root = vault.root
    _guess_until_backoff(root)
    (root / "keys" / "attempts.json").write_text("{}")  # rewritten rather than deleted
    # the wait runs out (aged here rather than slept), and tess logs in
    client = client_attempts_file(root)
    data = json.loads(client.read_text())
    data["tess"]["last"] = time.time() - 600
    client.write_text(json.dumps(data))
    assert _cli(root, "tess", TECH_PASS, "status").exit_code == 0
    review = json.loads(_cli(root, "admin", ADMIN_PASS, "audit", "review", "--json").output)
    reset = [e for e in review if e["action"] == "login_backoff_reset"]
    assert len(reset) == 1 and reset[0]["user"] == "tess" and "deleted or rewrote" in reset[0]["reason"]
    alerts = json.loads(_cli(root, "admin", ADMIN_PASS, "audit", "alerts", "--json").output)
    assert any(a["kind"] == "backoff_reset" and a["severity"] == "high" for a in alerts)
    # and a clean success clears both copies: the next login is not flagged again
    assert _cli(root, "tess", TECH_PASS, "status").exit_code == 0
    review = json.loads(_cli(root, "admin", ADMIN_PASS, "audit", "review", "--json").output)
    assert len([e for e in review if e["action"] == "login_backoff_reset"]) == 1


def test_a_success_on_another_machine_is_not_taken_for_an_erasure(vault, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root = vault.root
    for _ in range(2):  # below the back-off
        assert _cli(root, "tess", "a wrong guess here", "status").exit_code == 2
    monkeypatch.setenv("CHARTVAULT_STATE_DIR", str(tmp_path / "other-machine"))
    assert _cli(root, "tess", TECH_PASS, "status").exit_code == 0  # clears the vault's count, notes when
    monkeypatch.undo()
    assert _cli(root, "tess", TECH_PASS, "status").exit_code == 0
    review = json.loads(_cli(root, "admin", ADMIN_PASS, "audit", "review", "--json").output)
    assert not [e for e in review if e["action"] == "login_backoff_reset"]
