"""De-identified exports: no planted identifier survives, small cells are suppressed (complementary
suppression checked by linear algebra against counts computed independently), pseudonyms, file mode,
policy (admin cannot export: exit 3) and audit with parameters, through the domain API and the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from archive import deid
from archive.cli import cli
from archive.errors import AccessDenied, BadInput, UserError
from tests import stats_fixture as sf
from tests.conftest import ADMIN_PASS, TECH_PASS, VaultTemplate, session_beside
from tests.unit.test_suppression import derivable

K = deid.DEFAULT_MIN_CELL
# A date finer than the year, in any spelling a CSV might carry it.
FINE_DATES = [
    re.compile(rb"\b(1[89]|20)\d\d[-/.](0?[1-9]|1[0-2])\b"),  # 2023-04, 2023/4, 2023-04-05
    re.compile(rb"\b(0?[1-9]|[12]\d|3[01])[-/.](0?[1-9]|1[0-2])[-/.]\d{2,4}\b"),  # 05/04/2023
    re.compile(rb"\b(0?[1-9]|1[0-2])[-/.](0?[1-9]|[12]\d|3[01])[-/.]\d{2,4}\b"),  # 04/05/2023
    re.compile(rb"\b\d{4}-?Q[1-4]\b"),  # quarters
    re.compile(rb"\b\d{4}(0[1-9]|1[0-2])([0-2]\d|3[01])\b"),  # 20230405
    re.compile(rb"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}\b"),
]


@dataclass
class Env:
    root: Path
    admin: Any
    tess: Any
    fx: sf.Fixture
    out: Path

    def session_as(self, name: str) -> Any:
        return session_beside(self.admin, name)

    def audits(self, action: str) -> list[dict[str, Any]]:
        return list(self.admin.db.query("SELECT * FROM audit WHERE action = ? ORDER BY seq", [action]))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, admin_vault_template: VaultTemplate) -> Iterator[Env]:
    from archive.users import add_user
    from vault.db import transaction

    base = tmp_path_factory.mktemp("deid")
    root = base / "v"
    admin: Any = admin_vault_template.copy(root).session
    add_user(admin, "tess", "technician", TECH_PASS, full_name="Tess Tech")  # a keyslot: the CLI signs in
    with transaction(admin.db):
        sf.insert_physicians(admin)
    fx = sf.build()
    sf.insert(admin.db, fx)
    out = base / "exports"
    out.mkdir()
    e = Env(root, admin, None, fx, out)
    e.tess = e.session_as("tess")
    yield e
    admin.close()


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def _assert_clean(path: Path, fx: sf.Fixture) -> None:
    data = path.read_bytes()
    for planted in fx.planted:
        assert planted.encode() not in data, f"{planted!r} survived in {path.name}"
    for pattern in FINE_DATES:
        found = pattern.search(data)
        assert found is None, f"date-like {found.group(0)!r} in {path.name}" if found else ""
    ids = re.compile(r"^[erc]\d+$|^r[0-9a-f]{12}$|^b?r[0-9a-f]{12}$")
    for row in csv.reader(io.StringIO(data.decode())):
        for cell in row:
            assert not ids.match(cell), f"an id {cell!r} in {path.name}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


# -- nothing identifying survives --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exports(env: Env) -> dict[str, Path]:
    """Every kind of export over every code the fixture holds (rare ones included)."""
    files = {}
    for by in ("chapter", "category", "code"):
        files[f"stats-{by}"] = env.out / f"stats-{by}.csv"
        deid.export_stats(env.tess, files[f"stats-{by}"], by=by)
    every_code = sorted({d.code for d in env.fx.diagnoses if d.code[0].isalpha()})
    files["cases-all"] = env.out / "cases-all.csv"
    deid.export_cases(env.tess, files["cases-all"], codes=[",".join(every_code)])
    files["cases-rare"] = env.out / "cases-rare.csv"
    deid.export_cases(env.tess, files["cases-rare"], codes=list(sf.RARE))
    files["cases-low-k"] = env.out / "cases-low-k.csv"
    deid.export_cases(env.tess, files["cases-low-k"], codes=["N39.0", "S72", "W19", "W10"], min_cell=2)
    return files


def test_no_planted_identifier_or_fine_date_survives(env: Env, exports: dict[str, Path]) -> None:
    assert len(env.fx.planted) > 500
    for path in exports.values():
        _assert_clean(path, env.fx)


def test_the_scan_would_catch_a_leak(env: Env, tmp_path: Path) -> None:
    """The scanner itself: an export with one planted value or one full date in it fails."""
    leaky = tmp_path / "leaky.csv"
    for bad in (env.fx.patients[3].name, env.fx.patients[3].mrn, "2022-03", "(217) 555-1003", "A20.0"):
        leaky.write_text(f"patient,year\nP0,{bad}\n")
        os.chmod(leaky, 0o600)
        with pytest.raises(AssertionError):
            _assert_clean(leaky, env.fx)


def test_rare_cases_are_left_out_of_case_extracts(env: Env, exports: dict[str, Path]) -> None:
    assert _rows(exports["cases-rare"]) == []
    rows = _rows(exports["cases-all"])
    codes = {r["code"] for r in rows}
    assert codes and not codes & {c[:3] for c in sf.RARE}
    per_code: dict[str, set[str]] = {}
    for r in rows:
        per_code.setdefault(r["code"], set()).add(r["patient"])
    assert min(len(p) for p in per_code.values()) >= K
    # encounters are numbered over the rows kept: no gap hints at a left-out rare one
    seqs: dict[str, set[int]] = {}
    for r in rows:
        seqs.setdefault(r["patient"], set()).add(int(r["encounter_seq"]))
    assert all(s == set(range(1, max(s) + 1)) for s in seqs.values())


def test_case_rows_ages_and_pseudonyms(env: Env, exports: dict[str, Path]) -> None:
    rows = _rows(exports["cases-low-k"])
    assert rows and set(rows[0]) == set(deid.CASES_COLUMNS)
    ages = [r["age"] for r in rows if r["age"]]
    assert "90+" in ages  # the fixture has patients in their nineties
    assert all(a == "90+" or int(a) <= 89 for a in ages)
    assert all(re.fullmatch(r"\d{4}", r["year"]) for r in rows)
    # stable within the file: one pseudonym per patient; as many as the patients the plain-Python count finds
    events = [e for e in sf.events(env.fx)[0] if e.code.replace(".", "").startswith(("N390", "S72", "W19", "W10"))]
    assert len({r["patient"] for r in rows}) == len({e.mrn for e in events})
    assert rows == sorted(rows, key=lambda r: (r["patient"], int(r["encounter_seq"]), r["code"]))
    # unlinkable across files: the same extract again shares no pseudonym
    again = env.out / "again.csv"
    deid.export_cases(env.tess, again, codes=["N39.0", "S72", "W19", "W10"], min_cell=2)
    assert {r["patient"] for r in rows}.isdisjoint({r["patient"] for r in _rows(again)})
    assert len(_rows(again)) == len(rows)


# -- small cells ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["chapter", "category", "code"])
def test_stats_export_suppresses_small_cells_and_their_complements(env: Env, exports: dict[str, Path],
                                                                    by: str) -> None:
    rows = _rows(exports[f"stats-{by}"])
    want = sf.expected_frequency(env.fx, by, "year")
    kept = sorted(g for g, (patients, _e) in want["groups"].items() if patients >= K)
    merged = [g for g, (patients, _e) in want["groups"].items() if patients < K]
    years = sorted(want["periods"])
    assert merged, "the fixture should have rare groups"
    for measure, which in (("patients", 0), ("encounters", 1)):
        mine = [r for r in rows if r["measure"] == measure]
        groups = list(dict.fromkeys(r["group"] for r in mine))
        assert sorted(g for g in groups if g not in ("OTHER", "ALL")) == kept
        assert groups[-1] == "ALL" and ("OTHER" in groups) == bool(merged)
        # the true table, computed from the fixture rows: rare groups summed into OTHER
        truth = {(g, y): want["cells"].get((y, g), (0, 0))[which] for g in kept for y in years}
        for y in years:
            truth[("OTHER", y)] = sum(want["cells"].get((y, g), (0, 0))[which] for g in merged)
        row_keys = [*kept, "OTHER"] if merged else kept
        interior = [[truth[(g, y)] for y in years] for g in row_keys]
        full = [[*r, sum(r)] for r in interior]
        full.append([sum(c) for c in zip(*full, strict=True)])
        shown: dict[tuple[int, int], int | None] = {}
        for r in mine:
            i = len(row_keys) if r["group"] == "ALL" else row_keys.index(r["group"])
            j = len(years) if r["year"] == "ALL" else years.index(r["year"])
            shown[(i, j)] = None if r["suppressed"] == "1" else int(r["count"])
            assert (r["count"] == "") == (r["suppressed"] == "1")
        assert len(shown) == len(full) * len(full[0])
        suppressed = {c for c, v in shown.items() if v is None}
        for (i, j), v in shown.items():
            if v is not None:
                assert v == full[i][j], (measure, i, j)  # published counts are the true counts
            if 0 < full[i][j] < K:
                assert v is None, f"{measure} cell {full[i][j]} published"
        assert derivable(full, suppressed) == set(), f"{measure}: a suppressed count follows from the totals"
        assert suppressed - {c for c in shown if 0 < full[c[0]][c[1]] < K}, "expected complementary suppression"


def test_stats_export_with_a_lower_threshold_shows_more(env: Env) -> None:
    low = env.out / "stats-low.csv"
    deid.export_stats(env.tess, low, by="chapter", min_cell=3)
    high = _rows(env.out / "stats-chapter.csv")
    assert sum(r["suppressed"] == "1" for r in _rows(low)) < sum(r["suppressed"] == "1" for r in high)
    _assert_clean(low, env.fx)


# -- refusals, policy, audit -----------------------------------------------------------------------------------


def test_refusals(env: Env, exports: dict[str, Path]) -> None:
    with pytest.raises(BadInput, match="years only"):
        deid.export_stats(env.tess, env.out / "m.csv", period="month")
    with pytest.raises(UserError, match="exists already"):
        deid.export_stats(env.tess, exports["stats-chapter"])
    with pytest.raises(BadInput, match="--min-cell"):
        deid.export_cases(env.tess, env.out / "x.csv", codes=["I10"], min_cell=1)
    with pytest.raises(BadInput, match="not an ICD-10-CM code"):
        deid.export_cases(env.tess, env.out / "x.csv", codes=["hip"])
    with pytest.raises(BadInput, match="does not exist"):
        deid.export_cases(env.tess, env.out / "nowhere" / "x.csv", codes=["I10"])
    for inside in (env.root / "inbox" / "x.csv", env.root / "x.csv"):  # the inbox is watched: never there
        with pytest.raises(BadInput, match="inside the vault folder"):
            deid.export_cases(env.tess, inside, codes=["I10"])
        assert not inside.exists()
    assert not (env.out / "m.csv").exists() and not (env.out / "x.csv").exists()
    before = exports["stats-chapter"].read_bytes()
    deid.export_stats(env.tess, exports["stats-chapter"], by="chapter", force=True)
    assert exports["stats-chapter"].read_bytes() == before  # same counts, same file
    assert stat.S_IMODE(exports["stats-chapter"].stat().st_mode) == 0o600


def test_admin_may_not_export(env: Env) -> None:
    with pytest.raises(AccessDenied):
        deid.export_stats(env.admin, env.out / "admin.csv")
    with pytest.raises(AccessDenied):
        deid.export_cases(env.admin, env.out / "admin.csv", codes=["I10"])
    assert not (env.out / "admin.csv").exists()
    denials = [a for a in env.audits("export") if a["outcome"] == "denied"]
    assert len(denials) >= 2 and {a["user"] for a in denials} == {"admin"}


def test_exports_are_audited_with_parameters_not_content(env: Env, exports: dict[str, Path]) -> None:
    entries = env.audits("export_stats") + env.audits("export_cases")
    assert len(entries) >= 6
    for entry in entries:
        assert entry["user"] == "tess" and entry["outcome"] == "ok" and entry["patient"] is None
        blob = entry["details"]
        details = json.loads(blob)
        assert {"min_cell", "out", "rows"} <= set(details)
        rare = {*sf.RARE, *(c[:3] for c in sf.RARE), *(c.replace(".", "") for c in sf.RARE)}
        for planted in set(env.fx.planted) - rare:  # codes asked for are parameters; people are not
            assert planted not in blob
    cases = [json.loads(e["details"]) for e in env.audits("export_cases")]
    assert any(c["codes"] == ["N39.0", "S72", "W19", "W10"] and c["min_cell"] == 2 for c in cases)
    stats_entries = [json.loads(e["details"]) for e in env.audits("export_stats")]
    assert {s["by"] for s in stats_entries} >= {"chapter", "category", "code"}


# -- the CLI -----------------------------------------------------------------------------------------------------


def _run(env: Env, user: str, passphrase: str, *args: str) -> Any:
    """The real command line: signs in with the passphrase (one scrypt each, so used sparingly)."""
    return CliRunner().invoke(cli, ["--vault", str(env.root), "--user", user, *args],
                              env={"CHARTVAULT_PASSPHRASE": passphrase})


def test_cli_admin_export_exits_3(env: Env) -> None:
    target = env.out / "cli-admin.csv"
    result = _run(env, "admin", ADMIN_PASS, "export", "stats", "--by", "chapter", "--out", str(target))
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and not target.exists()


def test_cli_technician_exports(env: Env) -> None:
    target = env.out / "cli-cases.csv"
    result = _run(env, "tess", TECH_PASS, "export", "cases", "--codes", "N39.0,S72", "--min-cell", "5",
                  "--out", str(target), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows"] == len(_rows(target)) > 0 and summary["params"]["codes"] == ["N39.0", "S72"]
    _assert_clean(target, env.fx)


def test_cli_refusals(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.cli.base import CliState

    monkeypatch.setattr(CliState, "session", lambda self: env.tess)  # skip the unlock; the command is what we test
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "stats", "--period", "quarter", "--out", str(env.out / "q.csv")])
    assert result.exit_code == 2 and "years only" in result.output and "stats frequency" in result.output
    result = runner.invoke(cli, ["export", "cases", "--codes", "N39.0", "--out", str(env.out / "cases-all.csv")])
    assert result.exit_code == 2 and "--force" in result.output
    result = runner.invoke(cli, ["export", "stats", "--by", "category", "--out", str(env.out / "cli-stats.csv")])
    assert result.exit_code == 0 and "suppressed" in result.output and "OTHER" in result.output
    _assert_clean(env.out / "cli-stats.csv", env.fx)


def test_assigned_scope_limits_a_physicians_case_extract(env: Env) -> None:
    from vault.db import transaction

    mine = [p.mrn for p in env.fx.patients[::3]]
    with transaction(env.admin.db):
        env.admin.db.execute("UPDATE patients SET attending = 'drmaria' WHERE mrn IN (SELECT value FROM json_each(?))",
                             [json.dumps(mine)])
        env.admin.db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, 'assigned')",
                             ["policy.physician_scope"])
    try:
        maria = env.session_as("drmaria")
        target = env.out / "maria.csv"
        deid.export_cases(maria, target, codes=["I10", "E11"], min_cell=2)
        rows = _rows(target)
        wanted = {e.mrn for e in sf.events(env.fx)[0] if e.mrn in set(mine) and e.code.startswith(("I10", "E11"))}
        assert rows and len({r["patient"] for r in rows}) == len(wanted)
        _assert_clean(target, env.fx)
        everyone = env.out / "tess-scope.csv"
        deid.export_cases(env.tess, everyone, codes=["I10", "E11"], min_cell=2)  # technicians are not scoped
        assert len({r["patient"] for r in _rows(everyone)}) > len(wanted)
    finally:
        with transaction(env.admin.db):
            env.admin.db.execute("DELETE FROM settings WHERE key = 'policy.physician_scope'")
            env.admin.db.execute("UPDATE patients SET attending = NULL")


def test_a_patient_list_export_holds_only_the_lists_patients(env: Env) -> None:
    """`export cases --list NAME`: the de-identified export restricted to a patient list's patients."""
    from archive import deid, saved, stats

    codes = ["N39.0", "S72", "W19", "W10"]
    mrns = sorted({e.mrn for e in stats.diagnosis_events(env.tess.store, codes)})
    assert len(mrns) >= 8, "the fixture should have patients with these codes"
    half = mrns[: len(mrns) // 2]
    saved.create_list(env.tess, "deid-study")
    saved.add_patients(env.tess, "deid-study", half)
    everyone = deid.export_cases(env.tess, env.out / "list-all.csv", codes=codes, min_cell=2)
    listed = deid.export_cases(env.tess, env.out / "list-half.csv", codes=codes, min_cell=2,
                               patient_list="deid-study")
    assert 0 < listed.patients <= len(half) < everyone.patients
    assert listed.params["list"] == "deid-study"
    assert json.loads(env.audits("export_cases")[-1]["details"])["list"] == "deid-study"
    _assert_clean(env.out / "list-half.csv", env.fx)
