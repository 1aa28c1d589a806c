"""What signatures cost (issue 15), against the keyed-MAC chain they replace, in the same run.

- audit append: `Session.audit` of a view entry (own transaction, group commit),
  signed (Ed25519 + SHA-256 chain) against the MAC chain (the same AuditLog with
  no signer, the path entries from before signatures take), interleaved A/B;
- view record: `archive.records.show_record` (policy, signed entry, blob decrypt), p50/p95;
- `audit verify` over N signed entries (every signature checked against the signed roster);
- unlock: `open_session` (scrypt, grant, index, roster and keyslot binding, client state),
  and the part signatures added (roster check, keyslot binding, pins, head memory) measured alone.

    .venv/bin/python bench/signed_audit.py [--quick] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PASS = "copper lantern harbour"


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[int(q * (len(values) - 1))] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k entries to verify, fewer operations")
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    parser.add_argument("--entries", type=int, help="entries for the verify walk (default 100k, 20k with --quick)")
    parser.add_argument("--heading", default="signed audit and roster", help="the RESULTS.md section heading")
    args = parser.parse_args()
    n_verify = args.entries or (20_000 if args.quick else 100_000)
    ops = 100 if args.quick else 300

    import os

    from archive.intake import import_paths
    from archive.login import _check_keys, create_vault, open_session
    from archive.records import show_record
    from archive.roster import _CHECKED
    from archive.users import get_user, set_clinical_role
    from vault.db import transaction

    lines: list[str] = []

    def say(text: str) -> None:
        load = "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"{text}  [{load}]", flush=True)
        lines.append(f"{text}  [{load}]")

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CHARTVAULT_STATE_DIR"] = str(Path(tmp) / "state")
        session = create_vault(Path(tmp) / "vault", "admin", PASS)
        set_clinical_role(session, "admin", "technician")
        notes = Path(tmp) / "notes"
        notes.mkdir()
        for i in range(40):
            (notes / f"MRN-{i:04d}__note{i}.txt").write_text(f"Progress note {i}.\nchest pain troponin {i}\n")
        ids = [o.record_id for o in import_paths(session, [notes], settle=0).outcomes if o.record_id]
        log = session.audit_log
        signer = log.signer

        # 1. append: signed vs MAC, interleaved
        signed: list[float] = []
        mac: list[float] = []
        for i in range(ops):
            for mode in (("s", "m") if i % 2 else ("m", "s")):
                if mode == "m":
                    log.signer, saved_from = None, log.signed_from
                    log.signed_from = None
                t = time.perf_counter()
                session.audit("view_record", record=ids[i % len(ids)], patient="MRN-0001")
                (mac if mode == "m" else signed).append(time.perf_counter() - t)
                if mode == "m":
                    log.signer, log.signed_from = signer, saved_from
        say(f"audit append (own transaction, group commit), {ops} each, interleaved:")
        say(f"  MAC chain:    p50 {_pct(mac, 0.5):.2f} ms  p95 {_pct(mac, 0.95):.2f} ms")
        say(f"  signed chain: p50 {_pct(signed, 0.5):.2f} ms  p95 {_pct(signed, 0.95):.2f} ms"
            f"  (p50 ratio {_pct(signed, 0.5) / _pct(mac, 0.5):.2f}x)")

        # 2. view record
        rng = random.Random(3)
        views = []
        for _ in range(ops):
            t = time.perf_counter()
            show_record(session, rng.choice(ids))
            views.append(time.perf_counter() - t)
        say(f"view record (show_record, signed entry): p50 {_pct(views, 0.5):.2f} ms  p95 {_pct(views, 0.95):.2f} ms"
            "  (target p95 <= 20 ms)")
        session.close()

        # A fresh vault just for the verify walk (the MAC entries above are not part of a signed vault's log).
        session = create_vault(Path(tmp) / "v2", "admin", PASS)
        log = session.audit_log
        t = time.perf_counter()
        with transaction(session.db):
            for i in range(n_verify):
                log.append(action="view_record", outcome="ok", user="admin", role="admin", record=f"r{i}")
        session.audit_log.committed()
        t_write = time.perf_counter() - t
        session.audit_log.write_head()
        import resource

        def cpu() -> float:
            own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

        c, t = cpu(), time.perf_counter()
        report = log.verify()
        t_verify, c_verify = time.perf_counter() - t, cpu() - c
        assert report.ok, report.problem
        per = t_verify / report.entries
        # The same walk with every signature checked in this one process (what verify did before workers).
        log.parallel_from = 10**12
        c, t = cpu(), time.perf_counter()
        single = log.verify()
        t_single, c_single = time.perf_counter() - t, cpu() - c
        assert single == report
        del log.parallel_from
        # The baseline in the same run: the same number of entries as a MAC chain (the path before signatures).
        log.signer, log.signed_from = None, None
        session.db.execute("DELETE FROM audit")
        with transaction(session.db):
            for i in range(report.entries):
                log.append(action="view_record", outcome="ok", user="admin", role="admin", record=f"r{i}")
        log._committed = None
        log.write_head()
        t = time.perf_counter()
        base = log.verify()
        t_mac = time.perf_counter() - t
        assert base.ok, base.problem
        # What one Ed25519 verification costs on this machine now (the floor of a signed walk).
        from vault.signing import SigningKey, verify_signature

        key = SigningKey.generate()
        msg = b"x" * 300
        sig = key.sign(msg)
        t = time.perf_counter()
        for _ in range(2000):
            verify_signature(key.public, msg, sig)
        t_ed = (time.perf_counter() - t) / 2000
        say(f"audit verify: {report.entries} signed entries in {t_verify:.2f} s ({per * 1e6:.0f} us/entry;"
            f" 100k -> {per * 100_000:.1f} s, target <= 10 s) with worker processes;"
            f" CPU {c_verify:.1f} s over all processes (on 2 idle cores ~{c_verify / 2:.1f} s);"
            f" in one process {t_single:.2f} s (CPU {c_single:.1f} s; {t_single / t_verify:.2f}x the wall time);"
            f" the same count MAC-chained (no signatures) {t_mac:.2f} s ({t_verify / t_mac:.1f}x);"
            f" one Ed25519 verify alone {t_ed * 1e6:.0f} us now; writing the signed entries took {t_write:.1f} s")
        session.close()

        # 4. unlock
        root = Path(tmp) / "vault"
        totals = []
        for _ in range(3):
            t = time.perf_counter()
            s = open_session(root, "admin", PASS)
            totals.append(time.perf_counter() - t)
            s.close()
        s = open_session(root, "admin", PASS)
        added = []
        for _ in range(20):
            _CHECKED.clear()  # a new process checks the roster's signatures once
            t = time.perf_counter()
            _check_keys(s.unlocked, get_user(s.store, "admin"), PASS)
            s.audit_log.behind_client()
            s.audit_log.remember_on_client()
            added.append(time.perf_counter() - t)
        s.close()
        total = statistics.median(totals)
        extra = statistics.median(added)
        say(f"unlock (open_session): median {total * 1e3:.0f} ms; signatures' part {extra * 1e3:.2f} ms "
            f"-> {total / (total - extra):.3f}x of the same unlock without it (target within 1.10x)")

    if args.record:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        mode = "--quick" if args.quick else "full"
        with RESULTS.open("a") as fh:
            fh.write(f"\n## {args.heading} (issue 15, {stamp}, bench/signed_audit.py {mode})\n\n")
            fh.write("Shared 2-core machine, 8 helpers running. Same run, interleaved where compared.\n\n```\n")
            fh.write("\n".join(lines) + "\n```\n")


if __name__ == "__main__":
    main()
