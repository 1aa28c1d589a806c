"""Where a search's time goes at 100k chunks, by stage, in CPU time; and the rankings, to check a change keeps them.

The synthetic vault of bench/retrieval.py's latency part (3 random-vector chunks a record, sentences of MTSamples
notes, five types, years 2010-2024), built once into --vault and reused. Queries: bench/search_positive.py's 40
description queries (issue 22's hybrid target) and bench/retrieval.py's 60 (its latency part), and their first two
words for full text with and without `--type note --from 2015` (issue 18's target).

Each stage is timed by wrapping the function that does it and reading the calling thread's CPU clock
(time.thread_time; the keyword side runs in a second thread), so the machine's load inflates it little;
the whole search is timed in process CPU (time.process_time: both threads) and wall time.

    python bench/search_profile.py --vault /tmp/v100k [--chunks 100000] [--rounds 2]
        [--dump rankings.json | --compare rankings.json] [--cprofile 25]

`--dump` writes every query's hits (record, score, assertion, mention, fuzzy, snippet) in every measured way;
`--compare` checks them against an earlier dump and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval  # noqa: E402 - bench/retrieval.py: the synthetic vault
from benchlib import percentile  # noqa: E402

STAGE_CPU: dict[str, float] = defaultdict(float)


def _wrap(owner: Any, name: str, stage: str, restore: list[tuple[Any, str, Any]]) -> None:
    real = getattr(owner, name, None)
    if real is None:  # older code without this stage
        return

    def timed(*args: Any, **kwargs: Any) -> Any:
        c = time.thread_time()
        try:
            return real(*args, **kwargs)
        finally:
            STAGE_CPU[stage] += time.thread_time() - c

    restore.append((owner, name, real))
    setattr(owner, name, timed)


@contextmanager
def stages() -> Iterator[None]:
    """Time the stages of a search (nested stages are also counted in their callers)."""
    import archive.search as facade
    from archive.session import Session
    from archive.store.records import RecordsRepo
    from indexer import hybrid, vectors

    restore: list[tuple[Any, str, Any]] = []
    plan = [
        (Session, "require", "policy: role check"),
        (facade.Visibility, "allows", "policy: per record"),
        (facade, "_audit", "audit write"),
        (facade, "semantic_ready", "semantic_ready"),
        (hybrid, "expand", "query parse (expand)"),
        (RecordsRepo, "keyword_plan", "keyword plan (df lookups)"),
        (RecordsRepo, "keyword_scores", "keyword scores (FTS, thread)"),
        (RecordsRepo, "vector_mask", "vector mask (filters)"),
        (RecordsRepo, "vectors", "vector matrix"),
        (facade, "_second_query", "second embedder: query embedding"),
        (RecordsRepo, "pair_view", "second embedder: candidates' vectors read"),
        (facade, "_fuse", "fusion (incl. second look)"),
        (hybrid, "second_look", "second look"),
        (facade, "relevant", "relevance margin"),
        (facade, "_to_hits", "hit building (incl. labels)"),
        (RecordsRepo, "hit_rows", "hit rows"),
        (RecordsRepo, "indexed_texts", "indexed texts"),
        (RecordsRepo, "assertion_maps", "assertion maps read"),
        (facade.Labeller, "__call__", "labelling"),
        (facade, "_near_spellings_by_meaning", "near spellings (by meaning)"),
        (facade, "_near_spelling_hits", "near spelling hits"),
        (RecordsRepo, "full_text_page", "full_text_page"),
        (RecordsRepo, "near_terms", "near terms"),
        (RecordsRepo, "holders", "exact holders (unranked)"),
        (facade, "search_records_page", "search_records_page"),
    ]
    for owner, name, stage in plan:
        _wrap(owner, name, stage, restore)
    from indexer.embedder import FakeEmbedder, SentenceTransformerEmbedder

    for cls in (SentenceTransformerEmbedder, FakeEmbedder):
        _wrap(cls, "embed_query", "query embedding", restore)
    _wrap(vectors.VectorMatrix, "ranking", "vector ranking", restore)
    _wrap(vectors.VectorMatrix, "best_chunk", "best chunk", restore)
    for cls in (vectors.ExactRanking, vectors.ApproximateRanking):
        _wrap(cls, "top", "vector top-k", restore)
    try:
        yield
    finally:
        for owner, name, real in reversed(restore):
            setattr(owner, name, real)


def queries() -> tuple[list[str], list[str]]:
    notes = retrieval.load_notes()
    positive = [sorted(n.descriptions)[0] for n in random.Random(4).sample([n for n in notes if n.descriptions], 40)]
    latency = [q.text for q in retrieval.description_queries(notes, 60, 4)]
    return positive, latency


def hit_json(h: Any) -> dict[str, Any]:
    return {"id": h.record_id, "score": h.score, "assertion": h.assertion, "mention": h.mention, "fuzzy": h.fuzzy,
            "snippet": h.snippet}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vault", required=True, help="the synthetic vault: built here when missing, else reused")
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--dump", help="write every query's hits here")
    ap.add_argument("--compare", help="check every query's hits against this earlier dump")
    ap.add_argument("--cprofile", type=int, default=0, help="also profile hybrid searches; show this many lines")
    ap.add_argument("--only", choices=("hybrid", "fts"), help="measure only this part")
    ap.add_argument("--blas-threads", action="store_true",
                    help="leave numpy's BLAS its own thread count during searches (as before session 7)")
    args = ap.parse_args()
    if args.blas_threads:
        import contextlib

        import archive.search as facade

        facade._one_blas_thread = contextlib.nullcontext  # type: ignore[assignment]

    from archive.search import search, search_records_page

    root = Path(args.vault)
    positive_qs, latency_qs = queries()
    if (root / "index.db").exists() and args.only == "fts":  # full text only: no matrix (nor graph) loaded
        from archive.login import open_session

        session = open_session(root, "bench", retrieval.TECH_PASS)
    elif (root / "index.db").exists():
        session = retrieval.open_synthetic(root)
    else:
        session, n, build_s, load_s = retrieval.synthetic_vault(root, args.chunks, retrieval.load_notes())
        print(f"built {n} records in {build_s:.0f} s, matrix {load_s:.1f} s", flush=True)
    search(session, "warm up", mode="hybrid" if args.only != "fts" else "fts", limit=10)
    vm = None
    if args.only != "fts":
        from archive.embedding import get_embedder

        embedder = get_embedder(session)
        vm = session.store.records.vectors(embedder.model_id, embedder.dim)
    if vm is not None and vm.builder is not None:  # from ANN_FROM chunks on, the graph is built in the background
        t = time.perf_counter()
        vm.builder.join()
        print(f"approximate index built in the background: waited {time.perf_counter() - t:.0f} s", flush=True)

    ways: dict[str, Callable[[str], Any]] = {}
    if args.only != "fts":
        ways["hybrid"] = lambda q: search(session, q, mode="hybrid", limit=10).hits
        ways["hybrid positive"] = lambda q: search(session, q, mode="hybrid", limit=10, positive=True).hits
        ways["semantic"] = lambda q: search(session, q, mode="semantic", limit=10).hits
        ways["hybrid filtered"] = lambda q: search(session, q, mode="hybrid", limit=10, doc_type="note",
                                                   date_from="2015").hits
    words = [" ".join(q.split()[:2]) for q in latency_qs[:30]]
    if args.only != "hybrid":
        ways["fts unfiltered"] = lambda q: search_records_page(session, q, limit=20).hits
        ways["fts filtered"] = lambda q: search_records_page(session, q, limit=20, doc_type="note",
                                                             date_from="2015").hits
    per_way = {"hybrid": positive_qs + latency_qs, "hybrid positive": positive_qs, "semantic": latency_qs,
               "hybrid filtered": latency_qs[:30], "fts unfiltered": words, "fts filtered": words}
    import archive.search as facade

    wall: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    slow_q: dict[str, list[str]] = defaultdict(list)
    stage_cpu: dict[str, dict[str, float]] = {}
    dumped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    for way, run in ways.items():
        STAGE_CPU.clear()
        with stages():
            for r in range(args.rounds):
                for q in per_way[way]:
                    facade.forget_cached_text()  # labelled cold, as a new query would be
                    t, c, th = time.perf_counter(), time.process_time(), time.thread_time()
                    try:
                        hits = run(q)
                    except Exception as e:  # noqa: BLE001 - a query full text cannot parse is reported, not timed
                        dumped[way][q] = [{"error": type(e).__name__}]
                        continue
                    wall[way].append(time.perf_counter() - t)
                    cpu[way].append(time.process_time() - c)
                    STAGE_CPU["(the whole search, this thread)"] += time.thread_time() - th
                    slow_q[way].append(q)
                    if r == 0:
                        dumped[way][q] = [hit_json(h) for h in hits]
        stage_cpu[way] = {k: v / max(len(cpu[way]), 1) for k, v in STAGE_CPU.items()}
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; vault {root} ({args.chunks} chunks)")
    for way in ways:
        slowest = sorted(zip(cpu[way], slow_q[way], strict=True), reverse=True)[:3]
        print(f"{way}: slowest by CPU: " + "; ".join(f"{q!r} {1000 * c:.0f} ms" for c, q in slowest))
        print(f"{way} ({len(cpu[way])} searches): wall p50 {1000 * percentile(wall[way], .5):.1f} ms, "
              f"p95 {1000 * percentile(wall[way], .95):.1f} ms; CPU p50 {1000 * percentile(cpu[way], .5):.1f} ms, "
              f"p95 {1000 * percentile(cpu[way], .95):.1f} ms, mean {1000 * sum(cpu[way]) / max(len(cpu[way]), 1):.1f}"
              " ms")
        for stage, value in sorted(stage_cpu[way].items(), key=lambda kv: -kv[1]):
            print(f"    {stage:<34} {1000 * value:7.2f} ms CPU a search (thread)")
    if args.cprofile:
        prof = cProfile.Profile()
        prof.enable()
        for q in positive_qs:
            facade.forget_cached_text()
            search(session, q, mode="hybrid", limit=10)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.cprofile)
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.cprofile)
    session.close()
    if args.dump:
        Path(args.dump).write_text(json.dumps(dumped, indent=1, sort_keys=True), encoding="utf-8")
        print(f"rankings written to {args.dump}")
    if args.compare:
        before = json.loads(Path(args.compare).read_text(encoding="utf-8"))
        differ = [(way, q) for way in dumped for q in dumped[way] if before.get(way, {}).get(q) != dumped[way][q]]
        compared = sum(len(v) for v in dumped.values())
        if differ:
            print(f"rankings differ on {len(differ)} of {compared} searches, e.g. {differ[:5]}")
            return 1
        print(f"rankings identical to {args.compare} on all {compared} searches (ids, scores, labels, snippets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
