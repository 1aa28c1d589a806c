"""An admin working against the safeguards (issue 15, finding 7): settings out of bounds, self-granted roles.

The attacker is an admin with a valid passphrase: she turns automatic logoff off
by making it huge (through the CLI, or by writing the settings table with her own
index key), and gives herself the physician role to read records at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import ADMIN_PASS

ADMIN2_PASS = "saffron kettle glacier"


def _cli(root: Path, *args: str, user: str = "admin", passphrase: str = ADMIN_PASS):  # type: ignore[no-untyped-def]
    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": user, "CHARTVAULT_PASSPHRASE": passphrase}
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.mark.parametrize(
    ("key", "value", "bounds"),
    [
        ("session.idle_timeout_seconds", "100000000", "between 60 and 14400"),
        ("session.idle_timeout_seconds", "5", "between 60 and 14400"),
        ("break_glass.minutes", "525600", "between 1 and 1440"),
        ("alert.failed_logins.count", "1000000", "between 1 and 10000"),
        ("alert.denials.minutes", "0", "between 1 and 1440"),
    ],
)
def test_settings_out_of_bounds_are_refused(fresh_vault, key: str, value: str, bounds: str) -> None:  # type: ignore[no-untyped-def]
    result = _cli(fresh_vault.root, "settings", "set", key, value)
    assert result.exit_code == 2, result.output
    assert f"'{key}' must be {bounds}, not {value}." in result.output
    assert "Traceback" not in result.output


def test_an_out_of_bounds_value_written_into_the_index_falls_back_to_the_default(fresh_vault) -> None:  # type: ignore[no-untyped-def]
    from archive.settings import get_setting, idle_timeout_seconds

    session = fresh_vault.session
    session.db.execute(  # with her own index key, past the CLI
        "INSERT OR REPLACE INTO settings (key, value) VALUES ('session.idle_timeout_seconds', '100000000')"
    )
    assert idle_timeout_seconds(session) == 600
    assert get_setting(session.store, "session.idle_timeout_seconds") == 600


def test_sole_admin_self_granting_physician_is_flagged_for_review(fresh_vault) -> None:  # type: ignore[no-untyped-def]
    root = fresh_vault.root
    result = _cli(root, "user", "set-clinical-role", "admin", "physician", "--licence", "MD-777")
    assert result.exit_code == 0, result.output
    review = _cli(root, "audit", "review", "--json")
    assert review.exit_code == 0, review.output
    flagged = [e for e in json.loads(review.output) if e["action"] == "user_clinical_role"]
    assert len(flagged) == 1 and flagged[0]["user"] == "admin"
    assert "sole admin" in flagged[0]["reason"]
    alerts = json.loads(_cli(root, "audit", "alerts", "--json").output)
    assert any(a["kind"] == "self_clinical_role" and a["severity"] == "high" for a in alerts)


def test_with_a_second_admin_self_granting_is_refused_and_the_other_admin_grants(fresh_vault) -> None:  # type: ignore[no-untyped-def]
    from archive.users import add_user

    root = fresh_vault.root
    add_user(fresh_vault.session, "bob", "admin", ADMIN2_PASS)
    result = _cli(root, "user", "set-clinical-role", "admin", "physician", "--licence", "MD-777")
    assert result.exit_code == 3, result.output
    assert "You cannot give yourself the physician role while another admin can approve it." in result.output
    assert "Ask another admin to run 'chartvault user set-clinical-role admin physician --licence NUMBER'" in (
        result.output
    )
    listed = json.loads(_cli(root, "user", "list", "--json").output)
    assert next(u for u in listed if u["name"] == "admin")["clinical_role"] is None  # nothing changed
    review = json.loads(_cli(root, "audit", "review", "--json").output)
    assert any(e["action"] == "user_clinical_role" and e["outcome"] == "denied" for e in review)

    # the second admin grants it: that is the approval, an ordinary audited change
    granted = _cli(root, "user", "set-clinical-role", "admin", "physician", "--licence", "MD-777",
                   user="bob", passphrase=ADMIN2_PASS)
    assert granted.exit_code == 0, granted.output
    assert "registered physician" in granted.output
