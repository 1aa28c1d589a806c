"""Charts benchmark: what landing HL7/FHIR facts on the chart costs an import, and typed-entry latency.

1. Import the shared FHIR R4 bundles and HL7 v2 messages into two fresh vaults:
   once with chart landing switched off (the baseline: ingest as before
   charts), once with it on. Reports both times, the ratio and what landed;
   then backfills the baseline vault and checks it lands exactly what the
   import-time landing did (same entries and encounters per record).
2. Typed entries (validated, duplicate-checked, audited, one transaction
   each): add_entry p50/p95 on a small chart and on a chart that already holds
   N entries of the same kind; correct_entry p50/p95; patient_chart load time.

    .venv/bin/python bench/charts.py [--entries 1000] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import percentile  # noqa: E402 - bench/ is on the path when a benchmark runs as a script

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("CHARTVAULT_EMBEDDER", "fake")

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PASS = "copper lantern harbour"


def technician_vault(root: Path) -> Any:
    """A vault whose admin also holds the technician role (no second keyslot to derive)."""
    from archive.login import create_vault
    from archive.users import User, insert_user, set_clinical_role
    from vault.db import transaction

    admin = create_vault(root, "admin", PASS)
    set_clinical_role(admin, "admin", "technician")
    with transaction(admin.db):
        insert_user(admin.store, User("drmaria", "physician", "Maria Lopez", licence="MD-12345"), sign_as=admin)
    admin.refresh_user()
    return admin


def landed(session: Any) -> dict[str, tuple[int, int]]:
    """record id -> (entries, encounters) landed from it."""
    out: dict[str, tuple[int, int]] = {}
    for rid, n in session.db.execute("SELECT source_record, count(*) FROM chart_entries GROUP BY 1"):
        out[rid] = (n, 0)
    for rid, n in session.db.execute(
        "SELECT source_record, count(*) FROM encounters WHERE source_record IS NOT NULL GROUP BY 1"
    ):
        out[rid] = (out.get(rid, (0, 0))[0], n)
    return out


def bench_import(tmp: Path) -> dict[str, Any]:
    import archive.intake
    from archive.charts.landing import backfill_charts
    from archive.intake import import_paths

    inputs = sorted((DATA / "fhir-r4").glob("*.json")) + sorted((DATA / "hl7v2").glob("*.hl7"))
    real = archive.intake.land_outcomes
    results: dict[str, Any] = {"inputs": len(inputs)}
    sessions = {}
    for label, hook in (("without", lambda session, outcomes: None), ("with", real)):
        session = technician_vault(tmp / label)
        archive.intake.land_outcomes = hook
        try:
            start = time.perf_counter()
            report = import_paths(session, inputs, settle=0)
            results[f"{label}_s"] = time.perf_counter() - start
        finally:
            archive.intake.land_outcomes = real
        results[f"{label}_imported"] = report.counts["imported"]
        sessions[label] = session
    with_landing = landed(sessions["with"])
    results["entries"] = sum(e for e, _ in with_landing.values())
    results["encounters"] = sum(n for _, n in with_landing.values())
    results["records_landed"] = len(with_landing)
    start = time.perf_counter()
    backfill = backfill_charts(sessions["without"])
    results["backfill_s"] = time.perf_counter() - start
    results["backfill_entries"] = backfill.entries_added
    results["backfill_encounters"] = backfill.encounters_added
    # The same records in both vaults have the same ids (keyed by content under each vault's key: compare by name).
    def by_name(session: Any) -> dict[str, tuple[int, int]]:
        names = dict(session.db.execute("SELECT id, filename FROM records").fetchall())
        return {names[rid]: counts for rid, counts in landed(session).items()}

    results["backfill_matches_import"] = by_name(sessions["with"]) == by_name(sessions["without"])
    for session in sessions.values():
        session.close()
    return results


def bench_typed(tmp: Path, n_entries: int) -> dict[str, Any]:
    from archive.charts.entries import add_entry, correct_entry, insert_entry, patient_chart
    from archive.charts.patients import add_patient

    session = technician_vault(tmp / "typed")
    today = dt.date.today()
    add_patient(session, "B-1", "Bench Small", "1950-01-01", "F", physician="drmaria")
    add_patient(session, "B-2", "Bench Large", "1950-01-02", "M", physician="drmaria")
    # fill B-2 with n_entries procedures directly (no per-entry audit), as years of charting would
    with session.transaction():
        for i in range(n_entries):
            day = (today - dt.timedelta(days=1 + i % 3000)).isoformat()
            insert_entry(session, "B-2", {"kind": "procedure", "text": f"Dressing change {i}", "date": day,
                                          "status": "completed", "author": "admin"})

    def timed_adds(mrn: str, count: int, tag: str) -> list[float]:
        out = []
        for i in range(count):
            day = (today - dt.timedelta(days=1 + i % 365)).isoformat()
            start = time.perf_counter()
            add_entry(session, mrn, "procedure", f"{tag} {i}", day)
            out.append((time.perf_counter() - start) * 1000)
        return out

    small = timed_adds("B-1", 100, "Small chart")
    large = timed_adds("B-2", 100, "Large chart")
    ids = [r[0] for r in session.db.execute("SELECT id FROM chart_entries WHERE patient_mrn = 'B-1' LIMIT 100")]
    corrections = []
    for eid in ids:
        start = time.perf_counter()
        correct_entry(session, eid, "status confirmed", expect_version=1, status="cancelled")
        corrections.append((time.perf_counter() - start) * 1000)
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        chart = patient_chart(session, "B-2")
        loads.append((time.perf_counter() - start) * 1000)
    session.close()
    return {
        "n": n_entries,
        "add_small_p50": percentile(small, 0.5), "add_small_p95": percentile(small, 0.95),
        "add_large_p50": percentile(large, 0.5), "add_large_p95": percentile(large, 0.95),
        "correct_p50": percentile(corrections, 0.5), "correct_p95": percentile(corrections, 0.95),
        "chart_entries": len(chart.entries), "chart_load_p50": percentile(loads, 0.5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000, help="entries already on the large chart")
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chartvault-bench-charts-") as tmp:
        imp = bench_import(Path(tmp))
        typed = bench_typed(Path(tmp), args.entries)
    ratio = imp["with_s"] / imp["without_s"]
    lines = [
        f"## charts ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`bench/charts.py --entries {args.entries}`. Import of the shared data ({imp['inputs']} inputs: 18 Synthea "
        "FHIR bundles + the HL7 v2 messages) into fresh vaults, chart landing off (baseline) then on, same run.",
        "",
        "| | seconds | |",
        "|---|---|---|",
        f"| import, landing off | {imp['without_s']:.2f} | {imp['without_imported']} imported |",
        f"| import, landing on | {imp['with_s']:.2f} | ratio {ratio:.2f}; {imp['entries']} entries and "
        f"{imp['encounters']} encounters from {imp['records_landed']} records |",
        f"| backfill of the baseline vault | {imp['backfill_s']:.2f} | {imp['backfill_entries']} entries, "
        f"{imp['backfill_encounters']} encounters; same per record as at import: {imp['backfill_matches_import']} |",
        "",
        "Typed entries (validation, duplicate check, audit entry, one fsync'd transaction each):",
        "",
        "| operation | p50 | p95 |",
        "|---|---|---|",
        f"| chart add, small chart | {typed['add_small_p50']:.1f} ms | {typed['add_small_p95']:.1f} ms |",
        f"| chart add, chart with {typed['n']} entries of the kind | {typed['add_large_p50']:.1f} ms | "
        f"{typed['add_large_p95']:.1f} ms |",
        f"| chart correct (expect-version) | {typed['correct_p50']:.1f} ms | {typed['correct_p95']:.1f} ms |",
        f"| patient_chart, {typed['chart_entries']} entries | {typed['chart_load_p50']:.1f} ms | |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
