"""CLI: `stats frequency|recurrence|readmissions` print what the plain-Python count of the fixture says,
as JSON and as text; bad options exit 2 naming the option; an admin is refused (exit 3).

The commands run on a session opened once for the module (CliState.session patched), except the
admin refusal, which signs in for real."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive.cli import cli
from tests import stats_fixture as sf
from tests.conftest import ADMIN_PASS, VaultTemplate, session_beside


@pytest.fixture(scope="module")
def env(
    tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate
) -> Iterator[tuple[Path, Any, sf.Fixture]]:
    from archive.users import User, insert_user
    from vault.db import transaction

    root = tmp_path_factory.mktemp("cli-stats") / "v"
    admin: Any = admin_vault_template.copy(root).session
    with transaction(admin.db):
        insert_user(admin.store, User("tess", "technician", "Tess Tech", created_by="admin"), sign_as=admin)
        sf.insert_physicians(admin)
    fx = sf.build()
    sf.insert(admin.db, fx)
    tess = session_beside(admin, "tess")
    yield root, tess, fx
    admin.close()


@pytest.fixture
def run(env: tuple[Path, Any, sf.Fixture], monkeypatch: pytest.MonkeyPatch) -> Any:
    from archive.cli.base import CliState

    monkeypatch.setattr(CliState, "session", lambda self: env[1])

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(cli, list(args))

    return invoke


def test_frequency_json(env: tuple[Path, Any, sf.Fixture], run: Any) -> None:
    fx = env[2]
    result = run("stats", "frequency", "--by", "category", "--period", "month", "--from", "2022-01-01",
                 "--to", "2022-12-31", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    want = sf.expected_frequency(fx, "category", "month", dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    assert {(c["period"], c["group"]): (c["patients"], c["encounters"]) for c in data["cells"]} == want["cells"]
    assert (data["total"]["patients"], data["total"]["encounters"]) == want["total"]
    assert all(c["period"].startswith("2022-") for c in data["cells"])


def test_frequency_text(env: tuple[Path, Any, sf.Fixture], run: Any) -> None:
    want = sf.expected_frequency(env[2], "chapter", "year")
    result = run("stats", "frequency")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["period", "chapter", "patients", "encounters"]
    for (year, chapter), (patients, encounters) in want["cells"].items():
        assert any(line.split()[:4] == [year, chapter, str(patients), str(encounters)] for line in lines)
    assert "1 diagnosis without a date" in result.output


def test_recurrence(env: tuple[Path, Any, sf.Fixture], run: Any) -> None:
    as_of = dt.date(2024, 12, 31)
    result = run("stats", "recurrence", "N39.0", "--window-days", "200", "--gap-days", "21",
                 "--as-of", as_of.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {k: data[k] for k in sf.SCENARIO_EXPECTED} == sf.expected_recurrence(env[2], "N39.0", 200, 21, as_of)
    assert data["window_days"] == 200 and data["gap_days"] == 21
    text = run("stats", "recurrence", "W10", "--as-of", sf.SCENARIO_AS_OF.isoformat())
    assert text.exit_code == 0
    assert "rate" in text.output and "50.0%" in text.output and "95% CI 15.0%-85.0%" in text.output


def test_readmissions(env: tuple[Path, Any, sf.Fixture], run: Any) -> None:
    result = run("stats", "readmissions", "--days", "30", "--as-of", "2024-07-15", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    want = sf.expected_readmissions(env[2], 30, dt.date(2024, 7, 15))
    assert data["overall"]["readmitted"] == want["ALL"]["readmitted"]
    assert data["overall"]["discharges"] == want["ALL"]["discharges"]
    by = {r["physician"]: r["readmitted"] for r in data["by_physician"]}
    assert by == {k: v["readmitted"] for k, v in want.items() if k != "ALL"}
    text = run("stats", "readmissions")
    assert "Maria Lopez (drmaria)" in text.output and "overall" in text.output


@pytest.mark.parametrize(("args", "message"), [
    (("stats", "frequency", "--from", "2023-02-30"), "--from: '2023-02-30' is not a date"),
    (("stats", "recurrence", "N39.0", "--window-days", "7"), "--window-days 7 is shorter than --gap-days 30"),
    (("stats", "recurrence", "broken leg"), "is not an ICD-10-CM code or category"),
    (("stats", "readmissions", "--days", "0"), "--days: must be at least 1"),
])
def test_bad_options_exit_2(run: Any, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_admin_is_refused(env: tuple[Path, Any, sf.Fixture]) -> None:
    result = CliRunner().invoke(cli, ["--vault", str(env[0]), "--user", "admin", "stats", "readmissions"],
                                env={"CHARTVAULT_PASSPHRASE": ADMIN_PASS})
    assert result.exit_code == 3 and "Traceback" not in result.output
