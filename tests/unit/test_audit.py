"""The audit chain detects edit, delete, insert, reorder and tail truncation."""

import pytest

from archive.audit import AuditLog


@pytest.fixture
def log(fresh_vault):  # type: ignore[no-untyped-def]
    session = fresh_vault.session
    for i in range(5):
        session.audit("view", record=f"r{i}", patient="MRN1")
    return session.audit_log


def test_intact_chain_verifies(log: AuditLog) -> None:
    report = log.verify()
    assert report.ok and report.entries >= 6


def test_edit_is_detected(log: AuditLog) -> None:
    log.rows.db.execute("UPDATE audit SET patient = 'MRN2' WHERE seq = 4")
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 4 and "altered" in report.problem


def test_delete_is_detected(log: AuditLog) -> None:
    log.rows.db.execute("DELETE FROM audit WHERE seq = 3")
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 4


def test_insert_is_detected(log: AuditLog) -> None:
    db = log.rows.db
    cols = [d[0] for d in db.execute("SELECT * FROM audit LIMIT 1").description]
    later = [dict(zip(cols, r, strict=True)) for r in db.execute("SELECT * FROM audit WHERE seq >= 3 ORDER BY seq")]
    db.execute("DELETE FROM audit WHERE seq >= 3")
    forged = dict(later[0], record="forged", mac="ab" * 32)
    for row in [forged] + [dict(r, seq=r["seq"] + 1) for r in later]:
        marks = ", ".join("?" for _ in cols)
        db.execute(f"INSERT INTO audit ({', '.join(cols)}) VALUES ({marks})", [row[c] for c in cols])
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 3


def test_reorder_is_detected(log: AuditLog) -> None:
    a = log.rows.db.execute("SELECT record FROM audit WHERE seq = 3").fetchone()[0]
    b = log.rows.db.execute("SELECT record FROM audit WHERE seq = 4").fetchone()[0]
    log.rows.db.execute("UPDATE audit SET record = ? WHERE seq = 3", [b])
    log.rows.db.execute("UPDATE audit SET record = ? WHERE seq = 4", [a])
    report = log.verify()
    assert not report.ok and report.first_bad_seq == 3


def test_tail_truncation_is_detected(log: AuditLog) -> None:
    last = log.rows.db.execute("SELECT max(seq) FROM audit").fetchone()[0]
    log.rows.db.execute("DELETE FROM audit WHERE seq >= ?", [last - 1])
    report = log.verify()
    assert not report.ok and "removed from the end" in report.problem


def test_head_file_lags_but_own_process_still_sees_truncation(log: AuditLog) -> None:
    log.head_interval = 3600.0  # the file is not rewritten while entries stream in
    log.flush()
    file_seq = log.read_head()[0]  # type: ignore[index]
    for i in range(3):
        log.append(action="view_record", outcome="ok", user="admin", record=f"x{i}")
    assert log.read_head()[0] == file_seq  # type: ignore[index]  # lagging...
    last = log.rows.db.execute("SELECT max(seq) FROM audit").fetchone()[0]
    log.rows.db.execute("DELETE FROM audit WHERE seq = ?", [last])
    report = log.verify()  # ...but the in-memory head knows the cut
    assert not report.ok and report.first_bad_seq == last and "removed from the end" in report.problem


def test_flush_writes_the_head_and_a_lagging_head_is_no_false_alarm(log: AuditLog) -> None:
    log.head_interval = 3600.0
    log.append(action="view_record", outcome="ok", user="admin", record="y")
    assert log.check_head() is None  # the file lags the table: that is fine
    log.flush()
    db = log.rows.db
    last = db.execute("SELECT max(seq), max(mac) FROM audit WHERE seq = (SELECT max(seq) FROM audit)").fetchone()
    assert log.read_head() == (last[0], last[1])


def test_entries_written_in_a_rolled_back_transaction_leave_no_trace(fresh_vault) -> None:  # type: ignore[no-untyped-def]
    from archive.errors import AccessDenied
    from archive.policy import Action

    session = fresh_vault.session
    before = session.db.execute("SELECT max(seq) FROM audit").fetchone()[0]
    try:
        with session.transaction():
            session.audit("view_record", record="r1")
            session.require(Action.VIEW_RECORD, record="r1")  # an admin: denied inside the transaction
    except AccessDenied:
        pass
    rows = session.audit_log.entries()
    assert [e.action for e in rows if e.seq > before] == ["view_record"]
    assert rows[-1].outcome == "denied"  # the denial survived the rollback; the view did not happen
    assert session.audit_log.verify().ok


@pytest.mark.parametrize(("tamper", "bad_seq"), [
    ("UPDATE audit SET patient = 'MRN2' WHERE seq = 4", 4),  # a signature that no longer matches
    ("UPDATE audit SET sig = NULL WHERE seq = 5", 5),  # an entry rewritten without a signature
    ("DELETE FROM audit WHERE seq = 3", 4),  # a gap, found by the walk itself
])
def test_verify_in_worker_processes_reports_what_one_process_reports(
    log: AuditLog, tamper: str, bad_seq: int
) -> None:
    # The log is long enough to be checked in chunks by worker processes; the answer must not change.
    intact = log.verify()
    log.parallel_from, log.chunk_size = 1, 2
    assert log.verify() == intact and intact.ok
    log.rows.db.execute(tamper)
    in_workers = log.verify()
    log.parallel_from = 10**9
    here = log.verify()
    assert not in_workers.ok and in_workers.first_bad_seq == bad_seq and in_workers == here
