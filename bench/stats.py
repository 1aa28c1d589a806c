"""Statistics and exports at facility scale: time each query against reading its input rows.

Builds a vault with the seeded fixture of tests/stats_fixture.py scaled up (`--patients`, about
3.7 diagnoses and 2.4 encounters per patient), then times, in the same process:
- baseline: reading every diagnosis source row and every encounter into Python (what any
  implementation must at least pay);
- stats frequency (chapter/year, code/month), recurrence (N39.0), readmissions;
- export stats (code level, with suppression) and export cases (four categories).
Each is the median of `--repeat` runs; the ratio is against the baseline.

    .venv/bin/python bench/stats.py [--patients 20000] [--repeat 3] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASS = "bench stats passphrase"


def _median(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()

    from archive import deid, stats
    from archive.login import create_vault
    from archive.session import Session
    from archive.users import User, get_user, insert_user
    from tests import stats_fixture as sf
    from vault.db import transaction

    work = Path(tempfile.mkdtemp(prefix="bench-stats-"))
    admin = create_vault(work / "v", "admin", PASS)
    with transaction(admin.db):
        insert_user(admin.store, User("tess", "technician", "Tess Tech", created_by="admin"), sign_as=admin)
        for name in sf.PHYSICIANS:
            insert_user(admin.store, User(name, "physician", name, licence="MD-0", created_by="admin"), sign_as=admin)
    tess = Session(unlocked=admin.unlocked, user=get_user(admin.store, "tess"), audit_log=admin.audit_log)
    t0 = time.perf_counter()
    fx = sf.build(seed=11, n_patients=args.patients)
    sf.insert(admin.db, fx)
    load = time.perf_counter() - t0
    db = admin.db

    def baseline() -> None:
        db.execute("SELECT e.patient_mrn, v.code, v.date, v.encounter_id, v.kind, v.status FROM chart_entries e"
                   " JOIN chart_entry_versions v ON v.entry_id = e.id").fetchall()
        db.execute("SELECT c.record_id, c.code, c.status, r.patient_mrn, r.date FROM record_codes c"
                   " JOIN records r ON r.id = c.record_id").fetchall()
        db.execute("SELECT id, patient_mrn, kind, start_date, end_date, attending FROM encounters").fetchall()

    n = 0

    def out() -> Path:
        nonlocal n
        n += 1
        return work / f"export-{n}.csv"

    runs: list[tuple[str, Callable[[], Any]]] = [
        ("baseline: read the input rows", baseline),
        ("stats frequency --by chapter --period year", lambda: stats.frequency(tess, "chapter", "year")),
        ("stats frequency --by code --period month", lambda: stats.frequency(tess, "code", "month")),
        ("stats recurrence N39.0", lambda: stats.recurrence(tess, "N39.0")),
        ("stats readmissions", lambda: stats.readmissions(tess)),
        ("export stats --by code", lambda: deid.export_stats(tess, out(), by="code")),
        ("export cases --codes N39,S72,W19,I10", lambda: deid.export_cases(tess, out(),
                                                                           codes=["N39,S72,W19,I10"])),
    ]
    results = [(label, _median(fn, args.repeat)) for label, fn in runs]
    base = results[0][1]
    dx = len(fx.diagnoses)
    lines = [
        f"\n## stats ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)\n",
        f"`bench/stats.py --patients {args.patients} --repeat {args.repeat}`: {len(fx.patients)} patients, "
        f"{len(fx.encounters)} encounters, {dx} diagnosis rows (chart entries and record codes), loaded in "
        f"{load:.1f} s. Median seconds; ratio against reading the input rows in the same process.\n",
        "| operation | seconds | ratio |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {secs:.3f} | {secs / base:.1f} |" for label, secs in results]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as fh:
            fh.write(text)
    admin.close()


if __name__ == "__main__":
    main()
