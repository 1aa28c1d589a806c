"""Peak memory of importing a bad-input batch, against a normal batch measured in the same run (issue 16).

The bad batch: a 144-megapixel PNG scan, a 1 GB file (sparse: it takes no disk space and is never read),
names that are not UTF-8, dotfiles and an editor's lock file, a deeply nested JSON, a damaged PDF, plus the
normal batch's notes. The normal batch: 20 MTSamples notes and one A4 scan at 300 dpi. Each batch is
imported by `chartvault import --move` in its own process into a fresh vault; its peak RSS is the child's
`ru_maxrss`. Prints both, their ratio, and what happened to every file.

    .venv/bin/python bench/bad_inputs.py [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
MTSAMPLES = ROOT.parent / "shared" / "data" / "mtsamples" / "mtsamples.csv"
PASS = "copper lantern harbour"


def _env(vault: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "CHARTVAULT_VAULT": str(vault), "CHARTVAULT_USER": "admin",
            "CHARTVAULT_PASSPHRASE": PASS, "CHARTVAULT_NEW_PASSPHRASE": PASS, "HF_HUB_OFFLINE": "1",
            "CHARTVAULT_EMBEDDER": "fake"}


def _scan(path: Path, size: tuple[int, int]) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for y in range(size[1] // 20, size[1] - size[1] // 20, max(40, size[1] // 30)):
        draw.rectangle([size[0] // 20, y, size[0] - size[0] // 20, y + max(4, size[1] // 200)], fill=(0, 0, 0))
    image.save(path, "PNG", compress_level=1)


def normal_batch(folder: Path) -> None:
    import csv

    folder.mkdir(parents=True)
    csv.field_size_limit(10**8)
    with open(MTSAMPLES, newline="", encoding="utf-8") as fh:
        notes = [r["transcription"].strip() for r in csv.DictReader(fh) if (r.get("transcription") or "").strip()]
    for i, text in enumerate(notes[:20]):
        (folder / f"note-{i:02d}.txt").write_text(text, encoding="utf-8")
    _scan(folder / "a4-scan.png", (2480, 3508))


def bad_batch(folder: Path) -> None:
    normal_batch(folder)
    _scan(folder / "huge-144mp.png", (12000, 12000))
    with open(folder / "huge-1gb.bin", "wb") as fh:
        fh.truncate(1024**3)
    (folder / os.fsdecode(b"bad\xff\xfename.txt")).write_text("a name that is not UTF-8")
    (folder / os.fsdecode(b"r\xe9sum\xe9-latin1.txt")).write_text("another")
    (folder / ".hidden.txt").write_text("a dotfile: counted like any other")
    (folder / "..evil.txt").write_text("dots")
    (folder / ".#note-00.txt").write_text("an editor's lock file")
    depth = 200_000
    (folder / "deep.json").write_text('{"resourceType": "Bundle", "x": ' + "[" * depth + "]" * depth + "}")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(4096))
    old = time.time() - 3600
    for path in folder.iterdir():
        os.utime(path, (old, old))
    os.utime(folder / ".#note-00.txt")  # the lock file is fresh: still being written


def import_peak(folder: Path, tmp: Path) -> tuple[float, dict, float]:
    """(peak RSS in MB of `chartvault import --move`, its JSON report, seconds) in a fresh vault."""
    vault = tmp / f"vault-{folder.name}"
    subprocess.run([sys.executable, "-m", "tui", "init"], env=_env(vault), check=True, capture_output=True)
    started = time.perf_counter()
    # A fresh wrapper process, so its children's ru_maxrss is this import's alone.
    wrapper = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
               "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
               "sys.exit(code)")
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, sys.executable, "-m", "tui", "import", "--move", "--json", "--no-embed",
         str(folder)],
        env=_env(vault), capture_output=True, text=True, timeout=900,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"import failed ({proc.returncode}): {proc.stderr}")
    peak_kb = int(next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("PEAK_KB")))
    return peak_kb / 1024, json.loads(proc.stdout), seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory(prefix="cv-bench-bad-") as tmpdir:
        tmp = Path(tmpdir)
        normal_batch(tmp / "normal")
        bad_batch(tmp / "bad")
        base_mb, base_report, base_s = import_peak(tmp / "normal", tmp)
        bad_mb, report, bad_s = import_peak(tmp / "bad", tmp)
        say(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        say(f"normal batch (20 notes + an A4 scan): peak RSS {base_mb:.0f} MB, {base_s:.1f} s, "
            f"{base_report['imported']} imported")
        counts = {k: report[k] for k in ("inputs", "imported", "duplicates", "quarantined", "skipped")}
        say(f"bad batch (+ 144 MP PNG, 1 GB sparse file, non-UTF-8 names, dotfiles, lock file, nested JSON, "
            f"damaged PDF): peak RSS {bad_mb:.0f} MB, {bad_s:.1f} s, {counts}")
        say(f"bad_over_normal peak RSS: {bad_mb / base_mb:.2f}")
        for out in report["outcomes"]:
            say(f"  {out['status']:<11} {out['input'].split('/', 1)[-1]}: {out.get('reason') or ''}".rstrip(": "))
        left = sorted(p.name for p in (tmp / "bad").iterdir())
        say(f"left in the inbox: {left}")
    if args.record:
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        with open(RESULTS, "a") as fh:
            fh.write(f"\n### bad-input batch: peak memory (issue 16, finding 5; {stamp})\n\n```\n"
                     + "\n".join(lines) + "\n```\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
