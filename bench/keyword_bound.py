"""Hybrid search with the keyword side bounded (indexer.hybrid.KEYWORD_BOUND) against unbounded, in the same run.

A broad query's OR of up to 8 concepts matches a third of a 100k-record archive, and FTS5 computing the BM25 of
every match set hybrid's p95 at 1M chunks. With the bound, only the holders of the query's rarest concepts (at most
KEYWORD_BOUND records) and the vector side's candidates are ranked. This measures what that costs in results and
what it saves in time, each query searched both ways one after the other (interleaved: fair on a shared machine):

  --vault DIR   a large vault (bench/ann.py --keep's 1M-chunk one, or bench/search_profile.py's 100k one): for
                each bound of --bounds and unbounded, hybrid wall and process CPU (both threads) p50/p95, the
                keyword thread's own CPU (plan, near-spelling probe, BM25) and how many records it ranked; and the
                top 10 against unbounded: overlap@10 (shared records / 10), same first hit, same list.
  --corpus DIR  bench/retrieval.py's corpus vault (--reuse-vault DIR; every distinct MTSamples note): recall@10
                and MRR@10 of hybrid on its description and paraphrase queries, unbounded and with a bound
                scaled to the corpus (the same share of its records as --scale-bound of 100,000: at 2,357
                notes the default bound itself never engages), and their overlap@10.

The passphrase is bench/retrieval.py's (the vaults of ann.py, retrieval.py and search_profile.py share it).

    python bench/keyword_bound.py --vault /tmp/s8-ann-1m/vault --bounds 2000,5000 --queries 60
    python bench/keyword_bound.py --corpus /tmp/para/vault
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval  # noqa: E402 - bench/retrieval.py: queries, notes, metrics, passphrase
from benchlib import percentile  # noqa: E402

UNBOUNDED = 10**12


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class KeywordThread:
    """Wraps archive.search._words_side: the keyword thread's CPU and wall, and how many records it ranked."""

    def __init__(self) -> None:
        import archive.search as search_mod

        self.mod = search_mod
        self.real = search_mod._words_side
        self.last: dict[str, float] = {}

        def wrapped(*a: Any, **k: Any) -> Any:
            t, c = time.perf_counter(), time.thread_time()
            out = self.real(*a, **k)
            self.last = {"kcpu": time.thread_time() - c, "kwall": time.perf_counter() - t,
                         "ranked": float(len(out[1].records)), "bounded": float(out[1].bounded)}
            return out

        search_mod._words_side = wrapped  # type: ignore[assignment]
        # How long the calling thread waits for the keyword side (its share of the critical path), by
        # wrapping Future.result: the calling thread waits for the keyword thread's result there.
        import concurrent.futures

        self.waited = 0.0
        real_result = concurrent.futures.Future.result

        def result(fut: Any, timeout: float | None = None) -> Any:
            t = time.perf_counter()
            try:
                return real_result(fut, timeout)
            finally:
                if not threading.current_thread().name.startswith("search-keywords"):
                    self.waited += time.perf_counter() - t

        concurrent.futures.Future.result = result  # type: ignore[method-assign]


def one(session: Any, query: str, bound: int, side: KeywordThread, positive: bool = False) -> dict[str, Any]:
    from archive.search import search
    from indexer import hybrid

    hybrid.KEYWORD_BOUND = bound
    side.last = {}
    side.waited = 0.0
    t, c = time.perf_counter(), time.process_time()
    res = search(session, query, mode="hybrid", limit=10, positive=positive)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return {"ids": [h.record_id for h in res.hits], "wall": wall, "cpu": cpu, "waited": side.waited, **side.last}


def overlap(a: list[str], b: list[str]) -> float:
    """Shared records over the reference's (`b`) count; 1 when both are empty (nothing found either way)."""
    return len(set(a) & set(b)) / len(b) if b else float(not a)


def scale(session: Any, queries: list[str], bounds: list[int], say: Any, positive: bool = False) -> None:
    total = session.store.records.count_all()
    chunks = int(session.db.execute("SELECT count(*) FROM chunks").fetchone()[0])
    say(f"vault: {total} records, {chunks} chunks; {len(queries)} queries (bench/ann.py's: MTSamples descriptions "
        f"and paraphrases), each searched unbounded and with each bound, interleaved, two passes (the first warms)"
        f"{'; --positive' if positive else ''}")
    side = KeywordThread()
    kinds = [UNBOUNDED, *bounds]
    runs: dict[int, list[dict[str, Any]]] = {b: [] for b in kinds}
    from archive.search import search

    search(session, "warm up", mode="hybrid", limit=10)
    for p in range(2):
        for q in queries:
            for b in kinds:
                r = one(session, q, b, side, positive)
                if p == 1:
                    runs[b].append(r)
    say(f"load after: {load()}")
    base = runs[UNBOUNDED]
    for b in kinds:
        rs = runs[b]
        kw = [r for r in rs if "ranked" in r]
        name = "unbounded" if b == UNBOUNDED else f"bound {b}"
        say(f"{name}: hybrid wall p50 {1000 * percentile([r['wall'] for r in rs], .5):.1f} ms, "
            f"p95 {1000 * percentile([r['wall'] for r in rs], .95):.1f} ms; CPU (both threads) p50 "
            f"{1000 * percentile([r['cpu'] for r in rs], .5):.1f}, "
            f"p95 {1000 * percentile([r['cpu'] for r in rs], .95):.1f} ms; "
            f"keyword thread CPU p50 {1000 * percentile([r['kcpu'] for r in kw], .5):.1f}, "
            f"p95 {1000 * percentile([r['kcpu'] for r in kw], .95):.1f} ms (its wall p95 "
            f"{1000 * percentile([r['kwall'] for r in kw], .95):.1f} ms, waiting for the vector side included); "
            f"the calling thread waited for it p50 {1000 * percentile([r['waited'] for r in rs], .5):.1f}, "
            f"p95 {1000 * percentile([r['waited'] for r in rs], .95):.1f} ms; "
            f"records ranked mean {sum(r['ranked'] for r in kw) / max(len(kw), 1):.0f}, "
            f"max {max((r['ranked'] for r in kw), default=0):.0f}; bound engaged on "
            f"{sum(r['bounded'] for r in kw):.0f} of {len(rs)} queries")
        if b == UNBOUNDED:
            continue
        pairs = list(zip(rs, base, strict=True))
        ov = [overlap(r["ids"], u["ids"]) for r, u in pairs]
        first = sum(r["ids"][:1] == u["ids"][:1] for r, u in pairs)
        same = sum(r["ids"] == u["ids"] for r, u in pairs)
        say(f"  {name} against unbounded: overlap@10 mean {sum(ov) / len(ov):.4f}, min {min(ov):.2f}; same first hit "
            f"{first}/{len(rs)}; same top 10 in order {same}/{len(rs)}; p95 ratio wall "
            f"{percentile([r['wall'] for r in rs], .95) / percentile([r['wall'] for r in base], .95):.2f}, CPU "
            f"{percentile([r['cpu'] for r in rs], .95) / percentile([r['cpu'] for r in base], .95):.2f}")


def corpus_run(session: Any, bound: int, scale_of: int, say: Any) -> None:
    notes = retrieval.load_notes()
    queries = retrieval.description_queries(notes, 500, 4) + retrieval.paraphrase_queries(notes)
    n_of = {int(n): int(f[4:9]) for n, f in session.db.execute("SELECT n, filename FROM records").fetchall()}
    note_of = {rid: n_of[n] for n, rid in session.db.execute("SELECT n, id FROM records").fetchall()}
    corpus = set(n_of.values())
    total = len(n_of)
    scaled = max(1, round(bound * total / scale_of)) if bound < UNBOUNDED else UNBOUNDED
    say(f"corpus: {total} records; bound {scaled} (= {bound} x {total} / {scale_of}: the same share of the archive); "
        f"{len(queries)} queries; load {load()}")
    side = KeywordThread()
    per: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    ov: dict[str, list[float]] = {}
    engaged: dict[str, int] = {}
    for q in queries:
        got = {}
        for name, b in (("unbounded", UNBOUNDED), ("bounded", scaled)):
            r = one(session, q.text, b, side)
            got[name] = r
            ranked = [note_of[i] for i in r["ids"]]
            per.setdefault(q.kind, {}).setdefault(name, []).append(retrieval.metrics(ranked, q, notes, corpus))
        ov.setdefault(q.kind, []).append(overlap(got["bounded"]["ids"], got["unbounded"]["ids"]))
        engaged[q.kind] = engaged.get(q.kind, 0) + int(got["bounded"].get("bounded", 0))
    say("| queries | n | bound engaged | recall@10 unbounded | bounded | MRR@10 unbounded | bounded | overlap@10 |")
    say("|---|---|---|---|---|---|---|---|")
    for kind, by in per.items():
        u, b = by["unbounded"], by["bounded"]
        say(f"| {kind} | {len(u)} | {engaged[kind]} | {sum(v[0] for v in u) / len(u):.3f} | "
            f"{sum(v[0] for v in b) / len(b):.3f} | {sum(v[1] for v in u) / len(u):.3f} | "
            f"{sum(v[1] for v in b) / len(b):.3f} | {sum(ov[kind]) / len(ov[kind]):.3f} |")
    say(f"load after: {load()}")


def main(argv: list[str] | None = None) -> int:
    import ann

    from archive.login import open_session
    from indexer import hybrid

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vault", help="a large vault to time and compare on (read and audited: use a copy)")
    p.add_argument("--bounds", default=str(hybrid.KEYWORD_BOUND), help="bounds to compare with unbounded")
    p.add_argument("--queries", type=int, default=60, help="bench/ann.py's queries (seeded)")
    p.add_argument("--positive", action="store_true", help="--vault's searches with search --positive")
    p.add_argument("--corpus", help="bench/retrieval.py's corpus vault: recall with a bound scaled to it")
    p.add_argument("--scale-bound", type=int, default=hybrid.KEYWORD_BOUND,
                   help="the bound at 100,000 records that --corpus scales to its size")
    args = p.parse_args(argv)
    say = print
    say(f"machine load before: {load()}; threads: {threading.active_count()}")
    if args.vault:
        session = open_session(Path(args.vault), "bench", retrieval.TECH_PASS)
        scale(session, ann.queries(args.queries), [int(b) for b in args.bounds.split(",")], say, args.positive)
        session.close()
    if args.corpus:
        session = open_session(Path(args.corpus), "bench", retrieval.TECH_PASS)
        corpus_run(session, args.scale_bound, 100_000, say)
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
