"""Launch time: from starting `chartvault` in a real terminal (tmux) to the unlock screen being drawn.

    .venv/bin/python bench/launch.py [--runs 7] [--no-append]

Each run starts `.venv/bin/chartvault --vault V --user drmaria` in a new
detached tmux session (120x40) and polls `capture-pane` every 5 ms until the
unlock form is on screen. Baseline in the same script: a minimal Textual app
(one Static, same interpreter, same terminal) launched the same way, so the
ratio shows what chartvault adds to Textual's own start. While the unlock
screen is up the process's /proc/PID/maps must not contain torch. Also prints
`python -X importtime` top entries for the modules the unlock screen imports.
Appends a section to bench/RESULTS.md unless --no-append.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = ROOT / ".venv" / "bin" / "chartvault"
PY = ROOT / ".venv" / "bin" / "python"
MINIMAL_APP = """
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("Passphrase Unlock")
Minimal().run()
"""


def tmux(socket: str, *args: str) -> str:
    # A private server per launch (-L) with no user config (-f /dev/null): no races with other tmux users.
    return subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", *args], capture_output=True, text=True,
                          check=True).stdout


def cpu_seconds(pid: str) -> float:
    """User + system CPU time of a process so far (what an idle machine's wall time would be, roughly)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def launch(cmd: list[str], env: dict[str, str], ready: tuple[str, ...]) -> tuple[float, float, bool]:
    """Seconds until every string of `ready` is on screen, the process's CPU seconds by then, and whether
    torch was mapped at that moment."""
    name = f"chartvault-bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    subprocess.run(["tmux", "-L", name, "-f", "/dev/null", "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
                    *cmd], env=env, check=True)
    try:
        deadline = started + 60
        while time.perf_counter() < deadline:
            try:
                pane = tmux(name, "capture-pane", "-p", "-t", name)
            except subprocess.CalledProcessError:
                pane = ""
            if all(s in pane for s in ready):
                elapsed = time.perf_counter() - started
                pid = tmux(name, "list-panes", "-t", name, "-F", "#{pane_pid}").split()[0]
                torch = "torch" in Path(f"/proc/{pid}/maps").read_text()
                return elapsed, cpu_seconds(pid), torch
            time.sleep(0.005)
        raise TimeoutError(f"{cmd[0]} never showed {ready}")
    finally:
        subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True)


def import_profile(env: dict[str, str], top: int = 8) -> list[tuple[float, str]]:
    """Cumulative import times (ms) of what the unlock screen needs."""
    code = "import archive.cli, tui.app, tui.screens.unlock, archive.session, archive.demo"
    out = subprocess.run([str(PY), "-X", "importtime", "-c", code], env=env, capture_output=True, text=True,
                         cwd=ROOT).stderr
    rows = []
    for line in out.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, raw = line.removeprefix("import time:").split("|")
        if len(raw) - len(raw.lstrip()) == 1:  # top-level imports only (nested ones are indented)
            rows.append((int(cumulative) / 1000, raw.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description="launch -> unlock screen, in tmux")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is not installed", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from archive.login import create_vault

    workdir = Path(tempfile.mkdtemp(prefix="chartvault-launch-"))
    try:
        vault = workdir / "vault"
        create_vault(vault, "admin", "copper lantern harbour").close()
        env = {k: v for k, v in os.environ.items() if k != "CHARTVAULT_EMBEDDER"}
        env.update(HF_HUB_OFFLINE="1", TERM="xterm-256color")
        minimal = workdir / "minimal.py"
        minimal.write_text(MINIMAL_APP)
        app_times, base_times, app_cpu, base_cpu, torch_seen = [], [], [], [], []
        launch([str(EXE), "--vault", str(vault), "--user", "admin"], env, ("Passphrase", "Unlock"))  # warm caches
        for _ in range(args.runs):  # interleaved, so load on the machine hits both alike
            seconds, cpu, _torch = launch([str(PY), str(minimal)], env, ("Passphrase Unlock",))
            base_times.append(seconds)
            base_cpu.append(cpu)
            seconds, cpu, torch = launch([str(EXE), "--vault", str(vault), "--user", "admin"], env,
                                         ("Passphrase", "Unlock"))
            app_times.append(seconds)
            app_cpu.append(cpu)
            torch_seen.append(torch)
        profile = import_profile(env)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    med, base = statistics.median(app_times), statistics.median(base_times)
    load = os.getloadavg()[0]
    lines = [
        "",
        f"## launch (bench/launch.py, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`bench/launch.py --runs {args.runs}`: `chartvault --vault V --user admin` started in a new tmux session "
        "(120x40) until the unlock form is on screen, polled every 5 ms; baseline a one-widget Textual app on "
        f"the same interpreter, interleaved. Machine load average at the end: {load:.1f} (2 cores, shared).",
        "",
        "| | median wall | min | max | ratio | median CPU (user+sys) |",
        "|---|---|---|---|---|---|",
        f"| chartvault -> unlock screen | {med:.2f} s | {min(app_times):.2f} s | {max(app_times):.2f} s | "
        f"{med / base:.2f} | {statistics.median(app_cpu):.2f} s |",
        f"| minimal Textual app | {base:.2f} s | {min(base_times):.2f} s | {max(base_times):.2f} s | 1.00 | "
        f"{statistics.median(base_cpu):.2f} s |",
        "",
        f"Target <= 1 s: wall median {'met' if med <= 1.0 else 'NOT met'} at this load; the process needs "
        f"{statistics.median(app_cpu):.2f} s of CPU to get there (about the wall time on an idle core). "
        f"torch mapped at the unlock screen: {'YES (a regression)' if any(torch_seen) else 'never'} "
        f"({len(torch_seen)} runs).",
        "",
        "Largest top-level imports before the unlock screen (`python -X importtime`, cumulative):",
        "",
        *[f"- {name}: {ms:.0f} ms" for ms, name in profile],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_append:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as fh:
            fh.write(text)
    return 1 if any(torch_seen) else 0


if __name__ == "__main__":
    sys.exit(main())
