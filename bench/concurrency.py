"""Many sessions on one vault at once (issue 16): N processes for S seconds, then every guarantee checked.

Each worker process signs in (technicians and physicians of the demo vault, in
turn) and loops over a mix of operations until the time is up: searches,
record views, assistant questions, and for technicians chart edits (a new
chart entry) and imports (a file of its own). It counts what it did and the
audit entries its session appended. Afterwards, with every worker gone:

- zero errors and zero crashes (every worker exits 0, no operation raised);
- `verify` (every blob) and `audit verify` (the chain and its head) clean;
- audit entries added == the entries the workers counted (nothing forked or lost);
- per kind: one `search` entry per search, one `chart_add` per chart edit,
  one record per imported file (none lost, none duplicated).

The baseline is the same mix run by one process alone, in the same run: the
ratios say what the others' load costs each operation.

    python bench/concurrency.py                       # 8 processes, 60 s (the full run)
    python bench/concurrency.py --quick               # 4 processes, 15 s
    python bench/concurrency.py --runs 3 --results    # three full runs, a section in bench/RESULTS.md

Uses the fake embedder (CHARTVAULT_EMBEDDER=fake) so the model's load does not
dominate a 2-core machine; the store, the audit chain and the locks are real.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import append_results, demo_person, ready_then_wait, run_workers, timed  # noqa: E402 - bench/ is on the path now

OPS = ("search", "view", "ask", "chart_edit", "import")
TERMS = ("pain", "fracture", "patient", "fever", "blood pressure", "history", "medication", "hip", "cough", "gout")
QUESTIONS = ("What medications is DEMO-1001 on?", "Which records mention fever?", "What happened to DEMO-1002?")
CHART_PATIENT, CHART_DATE = "DEMO-1001", "2024-02-05"  # a date inside that demo patient's stay
MARK = "stress-entry"


# ---------------------------------------------------------------- one worker process


def worker(vault: Path, index: int, seconds: float, go: Path, out: Path, src: Path) -> int:
    from archive.assistant.conversation import Conversation
    from archive.charts.entries import add_entry
    from archive.intake import import_paths
    from archive.login import open_session
    from archive.records import show_record
    from archive.search import search

    user = demo_person(index)
    tech = user.role == "technician"
    rng = random.Random(index)
    lat: dict[str, list[float]] = {op: [] for op in OPS}
    counts: dict[str, int] = {op: 0 for op in OPS}
    imported: list[str] = []
    errors: list[str] = []
    session = open_session(vault, user.name, user.passphrase)
    try:
        records = [h.record_id for h in search(session, "patient", mode="fts", limit=50).hits]
        conversation = Conversation(session)
        ready_then_wait(out, go)
        end = time.monotonic() + seconds
        n = 0

        def do(op: str) -> None:
            if op == "search":
                search(session, rng.choice(TERMS), limit=20)
            elif op == "view":
                if records:
                    show_record(session, rng.choice(records))
            elif op == "ask":
                conversation.ask(rng.choice(QUESTIONS))
            elif op == "chart_edit":
                add_entry(session, CHART_PATIENT, "diagnosis", f"{MARK} w{index} n{n}", CHART_DATE)
            elif op == "import":
                folder = src / f"w{index}-n{n}"
                folder.mkdir(parents=True)
                name = f"stress-w{index}-n{n}.txt"
                (folder / name).write_text(
                    f"Progress note {index}/{n}. Patient seen for follow-up of hip pain; stable. {time.time()}\n"
                )
                report = import_paths(session, [folder], settle=0.0)
                if report.counts.get("imported") != 1:
                    raise RuntimeError(f"import of {name}: {report.counts}")
                imported.append(name)

        while time.monotonic() < end:
            n += 1
            mix = ["search", "search", "view", "ask"] + (["chart_edit", "import"] if tech else [])
            op = rng.choice(mix)
            if timed(op, partial(do, op), lat, errors):
                counts[op] += 1
    finally:
        session.logout("bench done")
    result = {
        "worker": index, "user": user.name, "counts": counts, "latency": lat, "errors": errors,
        "imported": imported, "appended": session.audit_log.appended,
    }
    out.write_text(json.dumps(result))
    return 0


# ---------------------------------------------------------------- the parent


@dataclass
class RunResult:
    processes: int
    seconds: float
    workers: list[dict[str, Any]] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[str]:
        return [e for w in self.workers for e in w["errors"]]

    @property
    def ok(self) -> bool:
        return all(c == 0 for c in self.exit_codes) and not self.errors and all(
            v is True for k, v in self.checks.items() if k.endswith("_ok")
        )

    def latencies(self, op: str) -> list[float]:
        return [x for w in self.workers for x in w["latency"][op]]

    def count(self, op: str) -> int:
        return sum(w["counts"][op] for w in self.workers)


def build_vault(dest: Path) -> Path:
    from archive.demo import build_demo

    os.environ["CHARTVAULT_EMBEDDER"] = "fake"
    build_demo(dest, source="synthetic", embed=True)
    return dest


def _admin(vault: Path) -> Any:
    from archive.demo import DEMO_USERS
    from archive.login import open_session

    admin = next(u for u in DEMO_USERS if u.role == "admin")
    return open_session(vault, admin.name, admin.passphrase)


def _snapshot(vault: Path) -> dict[str, Any]:
    """What the checks compare: audit entries by action, records, stress chart entries."""
    session = _admin(vault)
    try:
        entries = session.audit_log.entries()
        by_action: dict[str, int] = {}
        for e in entries:
            by_action[e.action] = by_action.get(e.action, 0) + 1
        files = [name for (name,) in session.db.execute("SELECT filename FROM records")]
        chart = session.db.execute("SELECT count(*) FROM chart_entries WHERE patient_mrn = ?",
                                   [CHART_PATIENT]).fetchone()[0]
        return {"entries": len(entries), "by_action": by_action, "files": files, "chart": int(chart),
                "own": session.audit_log.appended}
    finally:
        session.close()


def run(vault: Path, processes: int, seconds: float) -> RunResult:
    """`processes` workers for `seconds` on `vault`, then every check (see the module doc)."""
    from archive.audit_review import verify_audit
    from archive.status import verify_vault

    before = _snapshot(vault)
    result = RunResult(processes, seconds)
    env = dict(os.environ, CHARTVAULT_EMBEDDER="fake", PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    result.exit_codes, result.workers = run_workers(
        Path(__file__).resolve(), processes,
        lambda i, work: ["--vault", str(vault), "--seconds", str(seconds), "--src", str(work / "src")],
        env, seconds, ready_within=300, prefix="chartvault-conc-")
    after = _snapshot(vault)
    checker = _admin(vault)
    try:
        audit = verify_audit(checker)
        whole = verify_vault(checker)
    finally:
        checker.close()
    appended = sum(w["appended"] for w in result.workers)
    # Between the two snapshots: the first snapshot's own entries (its login, written before it counted)
    # are already in `before["entries"]`; what the second wrote before counting is its login.
    added = after["entries"] - before["entries"] - after["own"]
    imported = [n for w in result.workers for n in w["imported"]]
    new_files = [f for f in after["files"] if f.startswith("stress-")]
    old_files = [f for f in before["files"] if f.startswith("stress-")]
    searches_logged = after["by_action"].get("search", 0) - before["by_action"].get("search", 0)
    result.checks = {
        "audit_verify_ok": audit.ok,
        "vault_verify_ok": whole.ok,
        "audit_entries_added": added,
        "audit_entries_counted": appended,
        "audit_count_ok": added == appended,
        "search_entries_ok": searches_logged >= result.count("search"),
        "chart_entries_ok": after["chart"] - before["chart"] == result.count("chart_edit"),
        "imports_ok": sorted(set(new_files) - set(old_files)) == sorted(imported)
        and len(new_files) - len(old_files) == len(imported),
        "workers_reported_ok": len(result.workers) == processes,
    }
    return result


def summary_rows(result: RunResult, base: RunResult | None) -> list[tuple[str, int, float, float, float, str]]:
    from benchlib import percentile

    rows = []
    for op in OPS:
        lat = result.latencies(op)
        if not lat:
            continue
        p50, p95 = percentile(lat, 0.5) * 1000, percentile(lat, 0.95) * 1000
        ratio = ""
        if base is not None and base.latencies(op):
            ratio = f"{p50 / (percentile(base.latencies(op), 0.5) * 1000):.2f}"
        rows.append((op, len(lat), len(lat) / result.seconds, p50, p95, ratio))
    return rows


def report(result: RunResult, base: RunResult | None, label: str) -> list[str]:
    lines = [f"{label}: {result.processes} processes x {result.seconds:g} s — "
             f"{'PASS' if result.ok else 'FAIL'}; errors {len(result.errors)}, "
             f"exit codes {sorted(set(result.exit_codes))}, audit entries {result.checks['audit_entries_added']} "
             f"added / {result.checks['audit_entries_counted']} counted"]
    for key, value in result.checks.items():
        if key.endswith("_ok") and value is not True:
            lines.append(f"  check failed: {key}")
    for err in result.errors[:10]:
        lines.append(f"  error: {err}")
    lines.append(f"  {'operation':<12}{'n':>6}{'ops/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p50 vs alone':>14}")
    for op, n, rate, p50, p95, ratio in summary_rows(result, base):
        lines.append(f"  {op:<12}{n:>6}{rate:>8.1f}{p50:>9.1f}{p95:>9.1f}{ratio:>14}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--quick", action="store_true", help="4 processes for 15 s")
    parser.add_argument("--runs", type=int, default=1, help="full runs in a row, each on a fresh vault")
    parser.add_argument("--results", action="store_true", help="append a section to bench/RESULTS.md")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--vault", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--go", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return worker(args.vault, args.worker, args.seconds, args.go, args.out, args.src)
    if args.quick:
        args.processes, args.seconds = 4, 15.0
    os.environ["CHARTVAULT_EMBEDDER"] = "fake"
    all_lines: list[str] = []
    ok = True
    with tempfile.TemporaryDirectory(prefix="chartvault-conc-vault-") as tmp:
        template = build_vault(Path(tmp) / "template")
        import shutil

        base_vault = Path(tmp) / "alone"
        shutil.copytree(template, base_vault)
        base = run(base_vault, 1, max(5.0, args.seconds / 4))
        all_lines += report(base, None, "baseline, one process alone")
        ok = ok and base.ok
        for k in range(args.runs):
            vault = Path(tmp) / f"run{k}"
            shutil.copytree(template, vault)
            result = run(vault, args.processes, args.seconds)
            all_lines += report(result, base, f"run {k + 1}")
            ok = ok and result.ok
    print("\n".join(all_lines))
    if args.results:
        _append_results(all_lines, args)
    return 0 if ok else 1


def _append_results(lines: list[str], args: argparse.Namespace) -> None:
    head = (f"\n## Many sessions at once (issue 16): `bench/concurrency.py --processes {args.processes} "
            f"--seconds {args.seconds:g} --runs {args.runs}`\n\n"
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on the shared 2-core machine "
            "(other helpers' work running too); fake embedder, real store, audit chain and locks. Ratios: "
            "p50 under load over p50 of the same mix run by one process alone in the same run.\n\n")
    append_results(head, lines)


if __name__ == "__main__":
    sys.exit(main())
