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

from vault.keys import generate_identity  # noqa: E402
from vault.store import BlobStore  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _write_source(path: Path, mb: int) -> None:
    # Random data so neither side gains from compression or caching tricks.
    block = secrets.token_bytes(1 << 20)
    with open(path, "wb") as fh:
        for i in range(mb):
            fh.write(block[i % 256 :] + block[: i % 256])


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

        ours_put, ours_put_checked, ours_get, age_enc, age_dec = [], [], [], [], []
        for run in range(args.repeat):
            store = BlobStore(tmp / f"objects{run}", identity, secrets.token_bytes(32))
            holder: dict[str, str] = {}

            def put() -> None:
                holder["id"] = store.put_file(src, verify=False).blob_id  # noqa: B023

            ours_put.append(_timed(put))
            out = tmp / "out.bin"

            def get() -> None:
                with open(out, "wb") as fh:
                    store.get_to(holder["id"], fh)  # noqa: B023
                    fh.flush()
                    os.fsync(fh.fileno())

            ours_get.append(_timed(get))
            assert out.stat().st_size == src.stat().st_size
            store.delete(holder["id"])
            ours_put_checked.append(_timed(lambda: store.put_file(src, verify=True)))  # noqa: B023
            shutil.rmtree(tmp / f"objects{run}")

            enc = tmp / "age.age"

            def age_put() -> None:
                subprocess.run([age, "-r", identity.recipient, "-o", str(enc), str(src)], check=True)
                with open(enc, "rb") as fh:
                    os.fsync(fh.fileno())

            def age_get() -> None:
                subprocess.run([age, "-d", "-i", str(id_file), "-o", str(out), str(enc)], check=True)
                with open(out, "rb") as fh:
                    os.fsync(fh.fileno())

            age_enc.append(_timed(age_put))
            age_dec.append(_timed(age_get))
            enc.unlink()
            out.unlink()

    med = statistics.median
    p, pc, g, ae, ad = med(ours_put), med(ours_put_checked), med(ours_get), med(age_enc), med(age_dec)
    ratio = (p + g) / (ae + ad)
    ratio_checked = (pc + g) / (ae + ad)
    lines = [
        f"file: {size_mb:.0f} MB, median of {args.repeat} runs",
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
