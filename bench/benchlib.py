"""Small helpers shared by the benchmark scripts (run as `python bench/NAME.py`, so importable by name)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between the closest ranks; NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def append_results(head: str, lines: list[str]) -> None:
    """Append a section to bench/RESULTS.md: `head` (its heading and how it was measured), then `lines` as a
    code block."""
    with (Path(__file__).resolve().parent / "RESULTS.md").open("a") as fh:
        fh.write(head + "```\n" + "\n".join(lines) + "\n```\n")


# ---------------------------------------------------------------- worker processes on one demo vault
# bench/concurrency.py and bench/serve.py run N worker processes (each the script itself with --worker): each
# signs in as a demo person, says it is ready, waits for the parent's "go", then times operations until its time
# is up and writes what it measured to a JSON file; the parent starts them, releases them together and collects.


def demo_person(index: int) -> Any:
    """Worker `index`'s demo user: the technicians and physicians of the demo vault in turn."""
    from archive.demo import DEMO_USERS

    people = [u for u in DEMO_USERS if u.role in ("technician", "physician")]
    return people[index % len(people)]


def ready_then_wait(out: Path, go: Path) -> None:
    """Tell the parent this worker is signed in (`out`.ready), then wait for its `go` file."""
    out.with_suffix(".ready").write_text("ready")
    while not go.exists():
        time.sleep(0.02)


def timed(op: str, action: Callable[[], object], latency: dict[str, list[float]], errors: list[str]) -> bool:
    """Run `action`: True and its time in latency[op], or False and its failure in `errors` (the first three
    with their traceback); a worker goes on after a failure, so that every one is counted and shown."""
    t0 = time.perf_counter()
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - every failure is counted and shown; the target is none
        errors.append(f"{op}: {type(exc).__name__}: {exc}")
        if len(errors) <= 3:
            traceback.print_exc()
        return False
    latency[op].append(time.perf_counter() - t0)
    return True


def run_workers(script: Path, count: int, args: Callable[[int, Path], list[str]], env: dict[str, str],
                seconds: float, ready_within: float, prefix: str,
                at_go: Callable[[], None] = lambda: None) -> tuple[list[int], list[dict[str, Any]]]:
    """Start `count` workers (`script --worker i --go GO --out wI.json` plus `args(i, work dir)`), wait until all
    are ready (or one failed, or `ready_within` s passed), call `at_go`, release them, wait for them. Returns
    their exit codes and the results of those that wrote one, in worker order."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        work = Path(tmp)
        go = work / "go"
        procs = [subprocess.Popen([sys.executable, str(script), "--worker", str(i), "--go", str(go),
                                   "--out", str(work / f"w{i}.json"), *args(i, work)], env=env)
                 for i in range(count)]
        deadline = time.monotonic() + ready_within
        while not all((work / f"w{i}.ready").exists() for i in range(count)):
            if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p in procs):
                break
            time.sleep(0.05)
        at_go()
        go.write_text("go")
        codes = [p.wait(timeout=seconds + 600) for p in procs]
        outputs = [json.loads((work / f"w{i}.json").read_text()) for i in range(count)
                   if (work / f"w{i}.json").exists()]
    return codes, outputs
