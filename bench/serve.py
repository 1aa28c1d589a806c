"""How many people one facility server serves (issue 21): N simulated sessions at once, p50/p95, memory.

Each simulated person is its own process, as each browser connection of
`chartvault serve` (and each SSH session) is: it signs in (technicians and
physicians of the demo vault in turn) and works like a person at a desk, with
a think time between actions (exponential, mean `--think` seconds): search,
search again, open a record, ask the assistant, and for technicians a chart
edit. The sessions drive the domain API (`archive.search`, `archive.records`,
`archive.assistant`, `archive.charts`) directly, not a browser: the browser
and textual-serve add the drawing of the screen (measured separately below as
the memory of one real connection), not the work on the vault. N = 1, 4, 8,
16 run one after the other on the same vault; each operation's p50/p95 is
given with its ratio to N = 1 from the same run (the baseline).

Memory per connection: the resident memory of each simulated session's process
(domain API only), and of one real `chartvault serve` connection (the TUI
process textual-serve starts for a browser, logged in, one search done), with
the fake embedder and, unless --no-model, with the real model loaded (each
connection loads it for its own queries; only one embeds the backlog).

    python bench/serve.py --quick             # N = 1, 4, 8, 16 for 10 s each
    python bench/serve.py --results           # 60 s each, a section in bench/RESULTS.md

The vault: the synthetic demo (fake embedder, so records are embedded and the
hybrid search runs; the store, SQLCipher, the audit chain and the locks are
real). On an idle machine, run it alone: `python bench/serve.py --results`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import append_results, demo_person, ready_then_wait, run_workers, timed  # noqa: E402 - bench/ is on the path now

from tests.serve_helpers import served  # noqa: E402  (the same start-and-wait as the tests)

OPS = ("search", "open_record", "chart_edit", "question")
TERMS = ("chest pain", "fracture", "fever", "blood pressure", "medication", "hip pain", "cough", "gout", "diabetes",
         "shortness of breath", "headache", "rash")
QUESTIONS = ("What medications is DEMO-1001 on?", "Which records mention fever?", "What happened to DEMO-1002?",
             "find records about chest pain")
CHART_PATIENT, CHART_DATE = "DEMO-1001", "2024-02-05"
SEARCH_TARGET_MS = 300.0
REPO = Path(__file__).resolve().parents[1]
# The passphrase field's placeholder with the cursor on its first letter: the field has the focus.
PASSPHRASE_FOCUSED = re.compile(rb"p(?:\x1b\[[0-9;]*m)+assphrase")


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------- one simulated person (its own process)


def worker(vault: Path, index: int, seconds: float, think: float, go: Path, out: Path) -> int:
    from archive.assistant.conversation import Conversation
    from archive.charts.entries import add_entry
    from archive.login import open_session
    from archive.records import show_record
    from archive.search import search

    user = demo_person(index)
    tech = user.role == "technician"
    rng = random.Random(index)
    lat: dict[str, list[float]] = {op: [] for op in OPS}
    errors: list[str] = []
    session = open_session(vault, user.name, user.passphrase)
    try:
        conversation = Conversation(session)
        ready_then_wait(out, go)
        end = time.monotonic() + seconds
        hits: list[str] = []
        n = 0

        def do(op: str) -> None:
            nonlocal hits
            if op == "search":
                result = search(session, rng.choice(TERMS), limit=20)
                hits = [h.record_id for h in result.hits] or hits
            elif op == "open_record":
                show_record(session, rng.choice(hits[:5]))
            elif op == "question":
                conversation.ask(rng.choice(QUESTIONS))
            elif op == "chart_edit":
                add_entry(session, CHART_PATIENT, "diagnosis", f"serve-bench w{index} n{n} {time.time_ns()}",
                          CHART_DATE)

        while time.monotonic() < end:
            n += 1
            # A person's round: look something up, refine, open a record, ask, (technicians) edit the chart.
            plan = ["search", "search", "open_record", "question"] + (["chart_edit"] if tech else [])
            for op in plan:
                time.sleep(rng.expovariate(1.0 / think) if think > 0 else 0)
                if time.monotonic() >= end:
                    break
                if op == "open_record" and not hits:
                    continue
                timed(op, partial(do, op), lat, errors)
        memory = rss_mb()
    finally:
        session.logout("bench done")
    out.write_text(json.dumps({"worker": index, "user": user.name, "latency": lat, "errors": errors,
                               "rss_mb": memory}))
    return 0


def run(vault: Path, sessions: int, seconds: float, think: float) -> dict[str, Any]:
    env = dict(os.environ, CHARTVAULT_EMBEDDER="fake", PYTHONPATH=str(REPO))
    load: list[str] = []
    codes, workers = run_workers(
        Path(__file__).resolve(), sessions,
        lambda i, work: ["--vault", str(vault), "--seconds", str(seconds), "--think", str(think)],
        env, seconds, ready_within=600, prefix="chartvault-serve-bench-", at_go=lambda: load.append(loadavg()))
    return {"sessions": sessions, "seconds": seconds, "codes": codes, "workers": workers,
            "load_before": load[0], "load_after": loadavg()}


def latencies(result: dict[str, Any], op: str) -> list[float]:
    return [x for w in result["workers"] for x in w["latency"][op]]


# ---------------------------------------------------------------- one real served connection's memory


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    out = []
    for child in children(pid):
        out += [child, *descendants(child)]
    return out


async def _served_connection(port: int, user: str, passphrase: str, server_pid: int, wait_model: bool) -> float:
    import aiohttp

    async with aiohttp.ClientSession() as client, \
            client.ws_connect(f"http://127.0.0.1:{port}/ws?width=120&height=40") as ws:
        screen = b""
        deadline = time.monotonic() + 180

        async def until(needle: bytes | re.Pattern[bytes]) -> None:
            nonlocal screen
            while not (needle.search(screen) if isinstance(needle, re.Pattern) else needle in screen):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"never drawn: {needle!r}")
                try:
                    msg = await ws.receive(timeout=1)
                except TimeoutError:
                    continue
                if msg.type == aiohttp.WSMsgType.BINARY:
                    screen = (screen + msg.data)[-200_000:]

        await until(b"Passphrase")
        screen = b""
        await ws.send_json(["stdin", user + "\r"])
        await until(PASSPHRASE_FOCUSED)
        await ws.send_json(["stdin", passphrase + "\r"])
        await until(b"Type to search")
        screen = b""
        await ws.send_json(["stdin", "chest pain"])
        await until(b"Enter opens one")
        if wait_model:
            screen = b""
            await until(b"model ready")
        await asyncio.sleep(1.0)
        apps = [p for p in descendants(server_pid) if b"tui" in Path(f"/proc/{p}/cmdline").read_bytes()]
        return max(rss_mb(p) for p in apps)


def served_connection_memory(vault: Path, real_model: bool) -> float:
    """RSS (MB) of the app process of one browser connection: logged in (tess), one search done."""
    from archive.demo import DEMO_USERS

    tess = next(u for u in DEMO_USERS if u.name == "tess")
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    if real_model:
        env.pop("CHARTVAULT_EMBEDDER", None)
    else:
        env["CHARTVAULT_EMBEDDER"] = "fake"
    for name in ("CHARTVAULT_PASSPHRASE", "CHARTVAULT_USER"):
        env.pop(name, None)
    with served(vault, env=env, startup=120) as (port, proc):
        return asyncio.run(_served_connection(port, tess.name, tess.passphrase, proc.pid, real_model))


# ---------------------------------------------------------------- the parent


def report(results: list[dict[str, Any]], memory: dict[str, float], think: float) -> tuple[list[str], int | None]:
    from benchlib import percentile

    base = results[0]
    lines = [f"think time: exponential, mean {think:g} s between actions; one process per simulated session"]
    best: int | None = None
    for result in results:
        errors = [e for w in result["workers"] for e in w["errors"]]
        rss = [w["rss_mb"] for w in result["workers"]]
        lines.append(f"N = {result['sessions']:>2} sessions x {result['seconds']:g} s — errors {len(errors)}, "
                     f"exit codes {sorted(set(result['codes']))}, load avg before/after {result['load_before']} / "
                     f"{result['load_after']}, RSS per session process {sum(rss) / max(len(rss), 1):.0f} MB")
        for err in errors[:5]:
            lines.append(f"  error: {err}")
        lines.append(f"  {'operation':<12}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p50 vs N=1':>12}{'p95 vs N=1':>12}")
        for op in OPS:
            lat = latencies(result, op)
            if not lat:
                continue
            p50, p95 = percentile(lat, 0.5) * 1000, percentile(lat, 0.95) * 1000
            b = latencies(base, op)
            r50 = f"{p50 / (percentile(b, 0.5) * 1000):.2f}" if b else ""
            r95 = f"{p95 / (percentile(b, 0.95) * 1000):.2f}" if b else ""
            lines.append(f"  {op:<12}{len(lat):>6}{p50:>9.1f}{p95:>9.1f}{r50:>12}{r95:>12}")
        search_p95 = percentile(latencies(result, "search"), 0.95) * 1000
        if search_p95 <= SEARCH_TARGET_MS and not errors:
            best = result["sessions"]
    for label, mb in memory.items():
        lines.append(f"one real `chartvault serve` connection ({label}): app process RSS {mb:.0f} MB")
    lines.append(f"largest N measured with search p95 <= {SEARCH_TARGET_MS:g} ms: {best if best else 'none'}")
    return lines, best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,4,8,16", help="comma-separated N (default 1,4,8,16)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time between actions, seconds")
    parser.add_argument("--quick", action="store_true", help="10 s per N")
    parser.add_argument("--no-model", action="store_true", help="skip the real-model connection's memory")
    parser.add_argument("--results", action="store_true", help="append a section to bench/RESULTS.md")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--vault", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--go", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        return worker(args.vault, args.worker, args.seconds, args.think, args.go, args.out)
    if args.quick:
        args.seconds = 10.0
    counts = [int(n) for n in args.sessions.split(",")]
    os.environ["CHARTVAULT_EMBEDDER"] = "fake"
    from archive.demo import build_demo

    with tempfile.TemporaryDirectory(prefix="chartvault-serve-vault-") as tmp:
        vault = Path(tmp) / "vault"
        build_demo(vault, source="synthetic", embed=True)
        results = []
        for n in counts:
            results.append(run(vault, n, args.seconds, args.think))
            print(f"N = {n} done", flush=True)
        memory = {"fake embedder": served_connection_memory(vault, real_model=False)}
        if not args.no_model:
            try:
                memory["real model loaded"] = served_connection_memory(vault, real_model=True)
            except (RuntimeError, TimeoutError) as exc:
                print(f"real-model connection not measured: {exc}")
        shutil.rmtree(vault, ignore_errors=True)
    lines, _best = report(results, memory, args.think)
    print("\n".join(lines))
    if args.results:
        _append_results(lines, args)
    ok = all(c == 0 for r in results for c in r["codes"])
    ok = ok and not any(w["errors"] for r in results for w in r["workers"])
    return 0 if ok else 1


def _append_results(lines: list[str], args: argparse.Namespace) -> None:
    head = (f"\n## Facility server: concurrent sessions (issue 21, `bench/serve.py --sessions {args.sessions} "
            f"--seconds {args.seconds:g} --think {args.think:g}`)\n\n"
            f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Sessions drive the domain API, "
            "one process each (as each browser connection is); load averages beside each N.\n\n")
    append_results(head, lines)


if __name__ == "__main__":
    sys.exit(main())
