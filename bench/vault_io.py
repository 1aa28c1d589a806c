"""Vault blob I/O against the `age` CLI, measured in the same run.

Puts and gets one large file (default 200 MB) through `vault.store.BlobStore`
(streaming pyrage, keyed HMAC id, fsync, atomic rename, integrity check on
read) and through the plain `age` CLI (encrypt to a file, decrypt to a file),
prints MB/s for each and, last, `ratio_vs_age_cli: X` = our time / age's time
for put+get. Our put is also timed with the read-back check that ingest uses.

    .venv/bin/python bench/vault_io.py [--mb 200] [--repeat 3] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vault.keys import Identity, generate_identity  # noqa: E402
from vault.store import BlobStore  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _write_source(path: Path, mb: int) -> None:
    # Random data so neither side gains from compression or caching tricks.
    block = secrets.token_bytes(1 << 20)
    with open(path, "wb") as fh:
        for i in range(mb):
            fh.write(block[i % 256 :] + block[: i % 256])


def _one_run(
    folder: Path, src: Path, identity: Identity, id_file: Path, age: str
) -> tuple[float, float, float, float, float]:
    """One put/get through the vault and one encrypt/decrypt through the age CLI; times in seconds."""
    store = BlobStore(folder / "objects", identity, secrets.token_bytes(32))
    out = folder / "out.bin"
    enc = folder / "age.age"

    start = time.perf_counter()
    blob_id = store.put_file(src, verify=False).blob_id
    put = time.perf_counter() - start

    start = time.perf_counter()
    with open(out, "wb") as fh:
        store.get_to(blob_id, fh)
        fh.flush()
        os.fsync(fh.fileno())
    get = time.perf_counter() - start
    assert out.stat().st_size == src.stat().st_size
    out.unlink()
    store.delete(blob_id)

    start = time.perf_counter()
    store.put_file(src, verify=True)
    put_checked = time.perf_counter() - start

    start = time.perf_counter()
    subprocess.run([age, "-r", identity.recipient, "-o", str(enc), str(src)], check=True)
    _fsync(enc)
    age_put = time.perf_counter() - start

    start = time.perf_counter()
    subprocess.run([age, "-d", "-i", str(id_file), "-o", str(out), str(enc)], check=True)
    _fsync(out)
    age_get = time.perf_counter() - start
    shutil.rmtree(folder)
    return put, put_checked, get, age_put, age_get


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="file size in MB (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the median is reported")
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()

    age = shutil.which("age")
    if not age:
        print("the age CLI is not installed (apt-get install age); cannot measure the baseline", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="cv-bench-") as tmpdir:
        tmp = Path(tmpdir)
        src = tmp / "source.bin"
        _write_source(src, args.mb)
        size_mb = src.stat().st_size / 1e6
        identity = generate_identity()
        id_file = tmp / "identity.txt"
        id_file.write_text(identity.secret + "\n")
        os.chmod(id_file, 0o600)

        runs = [_one_run(tmp / f"run{n}", src, identity, id_file, age) for n in range(args.repeat)]

    p, pc, g, ae, ad = (statistics.median(r[k] for r in runs) for k in range(5))
    ratio = (p + g) / (ae + ad)
    ratio_checked = (pc + g) / (ae + ad)
    load = os.getloadavg()[0]
    lines = [
        f"file: {size_mb:.0f} MB, median of {args.repeat} runs, load average {load:.1f} on {os.cpu_count()} cores",
        f"vault put:            {size_mb / p:8.1f} MB/s ({p:.2f} s)",
        f"vault put+read-back:  {size_mb / pc:8.1f} MB/s ({pc:.2f} s)",
        f"vault get:            {size_mb / g:8.1f} MB/s ({g:.2f} s)",
        f"age CLI encrypt:      {size_mb / ae:8.1f} MB/s ({ae:.2f} s)",
        f"age CLI decrypt:      {size_mb / ad:8.1f} MB/s ({ad:.2f} s)",
        f"ratio_vs_age_cli_with_read_back: {ratio_checked:.2f}",
        f"ratio_vs_age_cli: {ratio:.2f}",
    ]
    print("\n".join(lines))
    if args.record:
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        with open(RESULTS, "a") as fh:
            fh.write(f"\n### vault_io ({stamp}, {os.cpu_count()} cores)\n\n```\n" + "\n".join(lines) + "\n```\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
