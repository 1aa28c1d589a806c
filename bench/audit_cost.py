"""What auditing costs on reads, measured with and without it in the same run.

Builds a temporary vault, imports synthetic notes through the real pipeline,
and times, interleaved (A/B/A/B so machine load hits both alike):
- record views (`archive.records.show_record`: policy, one audit entry written in
  the same transaction as the read, blob decrypt);
- searches (`archive.search.search_records`: FTS5, per-hit policy filter, one audit
  entry with the query text inside the encrypted index);
- an "assistant answer" that cites 10 records: 10 audited per-record checks batched
  in one transaction, against the same 10 checks each in its own transaction.
"Without audit" runs the identical code with `AuditLog.append` replaced by a no-op,
so the difference is exactly the entries' cost (INSERT, commit fsync, lazy head).
Prints medians per operation, the ratio, and appends to bench/RESULTS.md.

    .venv/bin/python bench/audit_cost.py [--records 300] [--ops 200] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PASS = "copper lantern harbour"
WORDS = (
    "chest pain dyspnea troponin hypertension diabetes metformin insulin fracture hip fall confusion "
    "pneumonia antibiotics sepsis creatinine renal asthma inhaler wheeze fever cough headache migraine "
    "appendicitis laparoscopy nausea vomiting anemia ferritin transfusion stroke aphasia warfarin"
).split()


def _build(root: Path, n_records: int) -> tuple[Any, list[str]]:
    from archive.intake import import_paths
    from archive.login import create_vault
    from archive.users import set_clinical_role

    session = create_vault(root / "vault", "admin", PASS)
    set_clinical_role(session, "admin", "technician")  # so one session may view (no second unlock)
    notes = root / "notes"
    notes.mkdir()
    rng = random.Random(7)
    for i in range(n_records):
        body = " ".join(rng.choice(WORDS) for _ in range(250))
        (notes / f"MRN-{i % 97:04d}__note{i}.txt").write_text(f"Progress note {i}.\n{body}\n")
    report = import_paths(session, [notes], settle=0)
    ids = [o.record_id for o in report.outcomes if o.status == "imported" and o.record_id]
    return session, ids


@contextmanager
def _audit_off(session: Any) -> Iterator[None]:
    log = session.audit_log
    real = log.append
    log.append = lambda **_: 0  # same code path, no entry written
    try:
        yield
    finally:
        log.append = real


@contextmanager
def _read_commit(mode: str) -> Iterator[None]:
    """Run with the `audit.read_commit` setting forced to `mode` ('group' is the default)."""
    import archive.session as session_module

    real = session_module._read_commit
    session_module._read_commit = lambda _session: mode
    try:
        yield
    finally:
        session_module._read_commit = real


def _time(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _interleaved(
    session: Any, ops: list[Callable[[], Any]], first_on: bool = False
) -> tuple[list[float], list[float]]:
    on: list[float] = []
    off: list[float] = []
    for i, op in enumerate(ops):
        # alternate which side goes first, so neither always gets the warm cache
        if (i % 2 == 1) != first_on:
            on.append(_time(op))
            with _audit_off(session):
                off.append(_time(op))
        else:
            with _audit_off(session):
                off.append(_time(op))
            on.append(_time(op))
    return on, off


def _row(name: str, on: list[float], off: list[float]) -> dict[str, Any]:
    m_on, m_off = statistics.median(on) * 1e3, statistics.median(off) * 1e3
    p95_on = sorted(on)[int(0.95 * (len(on) - 1))] * 1e3
    return {"op": name, "with_ms": m_on, "without_ms": m_off, "overhead_ms": m_on - m_off,
            "ratio": m_on / m_off if m_off else float("nan"), "p95_with_ms": p95_on, "n": len(on)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300, help="synthetic notes to import")
    parser.add_argument("--ops", type=int, default=200, help="operations of each kind (each run with and without)")
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()

    from archive.policy import Action
    from archive.records import show_record
    from archive.search import search_records

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        session, ids = _build(Path(tmp), args.records)
        print(f"built vault with {len(ids)} records in {time.perf_counter() - t0:.1f} s")
        rng = random.Random(11)
        from vault.db import open_index, transaction

        # The floor: one durable commit of one small row (what an audit entry adds, at least).
        scratch = open_index(Path(tmp) / "scratch.db", bytes(32), create=True)
        scratch.execute("CREATE TABLE t (x TEXT)")

        def commit_one() -> None:
            with transaction(scratch):
                scratch.execute("INSERT INTO t VALUES ('x')")

        def view(rid: str) -> Callable[[], Any]:
            return lambda: show_record(session, rid)

        def search(query: str) -> Callable[[], Any]:
            return lambda: search_records(session, query, limit=20)

        def answer(batch: bool, cited: list[str]) -> Callable[[], None]:
            def run() -> None:
                if batch:
                    with session.transaction():
                        for rid in cited:
                            session.require_record(Action.VIEW_RECORD, record=rid, patient=None)
                else:
                    for rid in cited:
                        with session.transaction():
                            session.require_record(Action.VIEW_RECORD, record=rid, patient=None)
            return run

        kinds = (
            "view record", "view record [full]", "search (20 hits)", "search (20 hits) [full]",
            "answer citing 10, one transaction", "answer citing 10, one transaction [full]",
            "answer citing 10, 10 transactions", "answer citing 10, 10 transactions [full]",
        )
        times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in kinds}
        floor_times: list[float] = []
        # Round-robin over the kinds, each run with and without auditing back to back, so that
        # the disk's mood (fsync latency here swings from 0.5 to 15 ms with other I/O) hits all alike.
        for i in range(args.ops):
            cited = rng.sample(ids, 10)
            rid, query = rng.choice(ids), " ".join(rng.sample(WORDS, 2))
            ops = {
                kinds[0]: view(rid), kinds[1]: view(rid),
                kinds[2]: search(query), kinds[3]: search(query),
                kinds[4]: answer(True, cited), kinds[5]: answer(True, cited),
                kinds[6]: answer(False, cited), kinds[7]: answer(False, cited),
            }
            for kind, op in ops.items():
                with _read_commit("full" if kind.endswith("[full]") else "group"):
                    on, off = _interleaved(session, [op], first_on=bool(i % 2))
                times[kind][0].extend(on)
                times[kind][1].extend(off)
            floor_times.append(_time(commit_one))
        rows = [_row(kind, *times[kind]) for kind in kinds]
        floor = statistics.median(floor_times) * 1e3
        scratch.conn.close()
        head = [_time(session.audit_log.write_head) for _ in range(20)]
        head_ms = statistics.median(head) * 1e3
        entries = int(session.db.execute("SELECT count(*) FROM audit").fetchone()[0])
        t = time.perf_counter()
        chain = session.audit_log.verify()
        verify_s = time.perf_counter() - t
        session.close()

    print(f"{'operation':<44}{'with audit':>12}{'without':>10}{'overhead':>10}{'ratio':>8}{'p95 with':>10}")
    for r in rows:
        print(f"{r['op']:<44}{r['with_ms']:>10.2f}ms{r['without_ms']:>8.2f}ms{r['overhead_ms']:>8.2f}ms"
              f"{r['ratio']:>8.2f}{r['p95_with_ms']:>8.2f}ms")
    print(f"floor: one durable (fsync'd) SQLCipher commit of one row: {floor:.2f} ms")
    print(f"head file rewrite (age + 2 fsyncs, at most once a second): {head_ms:.1f} ms")
    print(f"audit verify over {entries} entries: {verify_s * 1e3:.0f} ms (ok={chain.ok})")
    view = rows[0]
    print(f"ratio_view_with_vs_without_audit: {view['ratio']:.2f}")

    if args.record:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            f"\n## audit_cost ({stamp})\n",
            f"`bench/audit_cost.py --records {args.records} --ops {args.ops}`: medians per operation, the same code "
            "with `AuditLog.append` as a no-op for \"without\", interleaved in one run. Default "
            "`audit.read_commit = group` (entry written before the content is shown, fsynced with the next head "
            "write within 1 s); `[full]` fsyncs every audited transaction.\n",
            "| operation | with audit | without | overhead | ratio | p95 with |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(f"| {r['op']} | {r['with_ms']:.2f} ms | {r['without_ms']:.2f} ms | "
                         f"{r['overhead_ms']:.2f} ms | {r['ratio']:.2f} | {r['p95_with_ms']:.2f} ms |")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        lines.append(f"\nLoad average during the run: {load} (2 cores shared with other work; fsync latency "
                     "swings with other I/O, which is why the pairs are interleaved).")
        lines.append(f"Floor (one fsync'd SQLCipher commit of one row, same run): {floor:.2f} ms. "
                     f"Head file rewrite {head_ms:.1f} ms (amortised: at most once a second while entries "
                     f"stream in, and at close). `audit verify` over {entries} entries: {verify_s * 1e3:.0f} ms.\n")
        with open(RESULTS, "a") as fh:
            fh.write("\n".join(lines) + "\n")
        print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
