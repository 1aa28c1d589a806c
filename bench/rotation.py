"""Unlock and key-rotation time, against the code before issue 15's revocation work, in the same run.

Rotation now also re-keys the SQLCipher index (`PRAGMA rekey` + a truncating
checkpoint) and unlock reads the failed-login count twice (vault and this
machine). This builds the same vault (blobs plus an index padded to a size)
with each code version in its own process, measures `open_session` (the real
scrypt KDF) and `rotate_key`, and prints the ratio new / baseline.

    .venv/bin/python bench/rotation.py [--quick] [--baseline REV] [--record]

The baseline is `git archive REV` (default: the branch's merge base with main)
unpacked into a temp folder; nothing is installed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS.md"
PASS = "copper lantern harbour"

WORKER = r"""
import json, os, secrets, sys, time
from pathlib import Path
root, blobs, index_mb, repeat = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pw = sys.argv[5]
from archive.login import create_vault, open_session
from archive.keys import rotate_key
s = create_vault(root, "admin", pw)
for i in range(blobs):
    s.blobs.put_bytes(secrets.token_bytes(20000), verify=False)
s.db.execute("CREATE TABLE bench_padding (x BLOB)")
s.db.execute("BEGIN")
for i in range(index_mb * 16):
    s.db.execute("INSERT INTO bench_padding VALUES (?)", [secrets.token_bytes(64 * 1024)])
s.db.execute("COMMIT")
s.close()
unlock = []
for _ in range(repeat):
    t = time.perf_counter(); x = open_session(root, "admin", pw); unlock.append(time.perf_counter() - t); x.close()
x = open_session(root, "admin", pw)
t = time.perf_counter(); rotate_key(x); rotate = time.perf_counter() - t
x.close()
after = []
for _ in range(repeat):
    t = time.perf_counter(); x = open_session(root, "admin", pw); after.append(time.perf_counter() - t); x.close()
print(json.dumps({"unlock": unlock, "rotate": rotate, "unlock_after_rotation": after,
                  "index_bytes": (root / "index.db").stat().st_size}))
"""


def _baseline_tree(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def _run(code: Path, tmp: Path, blobs: int, index_mb: int, repeat: int) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(code), "CHARTVAULT_STATE_DIR": str(tmp / "state")}
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(tmp / "v"), str(blobs), str(index_mb), str(repeat), PASS],
        env=env, cwd=code, check=True, capture_output=True, text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="Small vault, 3 unlocks (CI-sized).")
    ap.add_argument("--baseline", default="", help="Git revision of the baseline (default: merge base with main).")
    ap.add_argument("--record", action="store_true", help="Append the numbers to bench/RESULTS.md.")
    args = ap.parse_args()
    blobs, index_mb, repeat, rounds = (200, 16, 3, 2) if args.quick else (2000, 128, 5, 3)
    rev = args.baseline or subprocess.run(
        ["git", "-C", str(REPO), "merge-base", "HEAD", "main"], check=True, capture_output=True, text=True
    ).stdout.strip()

    results: dict[str, list[dict[str, object]]] = {"baseline": [], "new": []}
    with tempfile.TemporaryDirectory(prefix="cv-bench-rot-") as t:
        (Path(t) / "base").mkdir()
        base = _baseline_tree(rev, Path(t) / "base")
        for n in range(rounds):  # interleaved, so load on a shared machine hits both alike
            for name, code in (("baseline", base), ("new", REPO)):
                run_dir = Path(t) / f"{name}-{n}"
                run_dir.mkdir()
                results[name].append(_run(code, run_dir, blobs, index_mb, repeat))

    def med(name: str, key: str) -> float:
        values: list[float] = []
        for r in results[name]:
            v = r[key]
            values += v if isinstance(v, list) else [float(v)]  # type: ignore[arg-type]
        return statistics.median(values)

    index_mb_real = int(results["new"][0]["index_bytes"]) / 1e6  # type: ignore[call-overload]
    rows = [
        ("unlock (open_session, scrypt included)", med("baseline", "unlock"), med("new", "unlock")),
        ("unlock after a rotation", med("baseline", "unlock_after_rotation"), med("new", "unlock_after_rotation")),
        ("key rotate", med("baseline", "rotate"), med("new", "rotate")),
    ]
    print(f"vault: {blobs} blobs of 20 kB, index {index_mb_real:.1f} MB; baseline {rev[:10]}; {rounds} rounds")
    for label, b, n in rows:
        print(f"{label:<42} baseline {b:7.3f} s   new {n:7.3f} s   ratio {n / b:5.2f}")
    if args.record:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            f"\n## issue 15 revocation: unlock and rotation ({stamp}, "
            f"bench/rotation.py{' --quick' if args.quick else ''})\n",
            f"Vault of {blobs} blobs of 20 kB and an index of {index_mb_real:.1f} MB; baseline = {rev[:10]} "
            f"(before the rekey), same run, {rounds} interleaved rounds, medians; machine shared with other "
            "sessions (load varies).\n",
            "| what | baseline s | new s | new / baseline |",
            "|---|---|---|---|",
            *[f"| {label} | {b:.3f} | {n:.3f} | {n / b:.2f} |" for label, b, n in rows],
            "",
        ]
        with open(RESULTS, "a") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"(bench took {time.perf_counter() - t0:.0f} s)")
