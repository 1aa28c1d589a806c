"""A medication's stop reason: the migration `medication_stop_reason` adds the column to an existing vault (its rows
keep NULL), and the chart versions signed before the column existed still verify afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from archive.store.schema import MIGRATIONS, medication_stop_reason
from tests.conftest import TECH_PASS
from vault.db import migrate, transaction


def _columns(db: Any) -> list[str]:
    return [str(r[1]) for r in db.execute("PRAGMA table_info(chart_entry_versions)")]


STOP_REASON_VERSION = MIGRATIONS.index(medication_stop_reason) + 1  # migration k (1-based) brings version k


def test_a_vault_from_before_gets_the_column_and_its_entries_keep_no_reason() -> None:
    from archive.charts.entries import _entry

    db = sqlite_utils.Database(memory=True)
    migrate(db, MIGRATIONS[: MIGRATIONS.index(medication_stop_reason)])
    assert "stop_reason" not in _columns(db)
    with transaction(db):  # a medication the code of before wrote
        db.execute("INSERT INTO patients (mrn, name, created_at) VALUES ('M1', 'Ann', '2020-01-01')")
        db.execute("INSERT INTO chart_entries (n, id, patient_mrn, current_version, created_at, created_by)"
                   " VALUES (1, 'c1', 'M1', 1, '2020-01-01', 'tess')")
        db.execute("INSERT INTO chart_entry_versions (entry_id, version, kind, text, date, status, stop_date,"
                   " created_at, created_by) VALUES ('c1', 1, 'medication', 'Warfarin 5 mg tablet', '2020-01-01',"
                   " 'stopped', '2020-02-01', '2020-01-01', 'tess')")
    migrate(db, MIGRATIONS)
    assert "stop_reason" in _columns(db)
    from archive.store.chart_entries import ChartEntriesRepo

    row = ChartEntriesRepo(db).current("c1")
    assert row is not None and row["stop_reason"] is None
    entry = _entry(row)
    assert (entry.stop_reason, entry.summary()) == (None, "Warfarin 5 mg tablet, until 2020-02-01")


def test_versions_signed_before_the_column_still_verify_and_a_reason_set_with_sql_is_caught(
    users_vault_template: Any, tmp_path: Path
) -> None:
    from archive.charts.entries import add_entry
    from archive.charts.patients import add_patient
    from archive.signed_rows import chart_problems

    fx = users_vault_template.copy(tmp_path / "v")
    fx.session.close()
    tess = fx.open("tess", TECH_PASS)
    try:
        add_patient(tess, "M77", "Ann Ode", "1950-01-02", "F", physician="drmaria")
        old = add_entry(tess, "M77", "medication", "Warfarin 5 mg tablet", "2021-06-01", status="stopped",
                        stop="2021-08-30")
        why = add_entry(tess, "M77", "medication", "Aspirin 75 mg tablet", "2021-06-01", status="stopped",
                        stop="2021-08-30", stop_reason="upper GI bleed")
        db, root = tess.db, tess.vault.signing_root
        assert chart_problems(tess.store, root) == []
        # the vault as it was before the column: its version signed without it
        with transaction(db):
            db.execute("DELETE FROM chart_entry_versions WHERE entry_id = ?", [why.id])
            db.execute("DELETE FROM chart_entries WHERE id = ?", [why.id])
            db.execute("ALTER TABLE chart_entry_versions DROP COLUMN stop_reason")
            db.execute("DELETE FROM schema_version WHERE version >= ?", [STOP_REASON_VERSION])
        # Deleting `why` with SQL is itself named (session 9: its chart_add audit entry vouches for it); only that.
        gone = f"chart entry {why.id}: missing (the audit log records its saving"

        def besides_gone() -> list[str]:
            problems = chart_problems(tess.store, root)
            assert [p for p in problems if p.startswith(gone)], problems
            return [p for p in problems if not p.startswith(gone)]

        assert besides_gone() == []
        migrate(db, MIGRATIONS)
        assert "stop_reason" in _columns(db) and besides_gone() == []
        with transaction(db):  # a reason put in with SQL is not what tess signed
            db.execute("UPDATE chart_entry_versions SET stop_reason = 'course completed' WHERE entry_id = ?",
                       [old.id])
        assert [p for p in chart_problems(tess.store, root) if old.id in p and "changed after tess signed it" in p]
    finally:
        tess.close()


def test_a_reason_cleared_with_sql_is_caught(users_vault_template: Any, tmp_path: Path) -> None:
    from archive.charts.entries import add_entry
    from archive.charts.patients import add_patient
    from archive.signed_rows import chart_problems

    fx = users_vault_template.copy(tmp_path / "v")
    fx.session.close()
    tess = fx.open("tess", TECH_PASS)
    try:
        add_patient(tess, "M78", "Bo Ode", "1950-01-02", "M", physician="drmaria")
        why = add_entry(tess, "M78", "medication", "Aspirin 75 mg tablet", "2021-06-01", status="stopped",
                        stop="2021-08-30", stop_reason="upper GI bleed")
        assert chart_problems(tess.store, tess.vault.signing_root) == []
        with transaction(tess.db):
            tess.db.execute("UPDATE chart_entry_versions SET stop_reason = NULL WHERE entry_id = ?", [why.id])
        problems = chart_problems(tess.store, tess.vault.signing_root)
        assert [p for p in problems if why.id in p and "changed after tess signed it" in p]
    finally:
        tess.close()


def test_newcomer_a_stop_reason_with_a_past_stop_date_is_stopped_and_a_kind_change_drops_the_medication_fields(
    users_vault_template: Any, tmp_path: Path
) -> None:
    """Session 9 newcomer pass. 'chart add --stop 2024-02-01 --stop-reason cough' used to save the medication as
    active ("Lisinopril, stopped 2024-02-01: cough [active]"); correcting a medication's kind was refused for a
    start date nobody typed (every medication has one), and in the TUI the fields to clear were hidden."""
    import datetime as dt

    from archive.charts.entries import add_entry, correct_entry, entry_history
    from archive.charts.patients import add_patient
    from archive.errors import ValidationError

    fx = users_vault_template.copy(tmp_path / "v")
    fx.session.close()
    tess = fx.open("tess", TECH_PASS)
    try:
        add_patient(tess, "M79", "Cy Ode", "1950-01-02", "F", physician="drmaria")
        stopped = add_entry(tess, "M79", "medication", "Lisinopril 10 mg tablet", "2024-01-02", stop="2024-02-01",
                            stop_reason="dry cough")
        assert (stopped.status, stopped.summary()) == ("stopped", "Lisinopril 10 mg tablet, stopped 2024-02-01: "
                                                                  "dry cough")
        # a status given is kept; a stop planned later is not a stop yet
        kept = add_entry(tess, "M79", "medication", "Ramipril 5 mg", "2024-01-02", stop="2024-02-01",
                         stop_reason="dry cough", status="completed")
        assert kept.status == "completed"
        later = (dt.date.today() + dt.timedelta(days=5)).isoformat()
        planned = add_entry(tess, "M79", "medication", "Amoxicillin 500 mg", "2024-01-02", stop=later,
                            stop_reason="course completed")
        assert planned.status == "active"
        # a stop reason without a stop date or status is still refused, naming the option
        with pytest.raises(ValidationError) as refused:
            add_entry(tess, "M79", "medication", "Warfarin 5 mg", "2024-01-02", stop_reason="bleed")
        assert refused.value.field == "stop_reason" and "needs a stop date or status stopped" in refused.value.problem
        # it never was a medication: the kind changes, the medication's fields go (the old version keeps them)
        fixed = correct_entry(tess, stopped.id, "charted as a medication by mistake", kind="procedure")
        assert (fixed.kind, fixed.start, fixed.stop, fixed.stop_reason, fixed.version) == (
            "procedure", None, None, None, 2)
        old = entry_history(tess, stopped.id)[0]
        assert (old.stop, old.stop_reason) == ("2024-02-01", "dry cough")
        # given with the new kind, a medication's field is still refused
        with pytest.raises(ValidationError) as refused:
            correct_entry(tess, planned.id, "not a medication", kind="procedure", dose="5 mg")
        assert refused.value.field == "dose" and "only medication entries have a dose" in refused.value.problem
    finally:
        tess.close()
