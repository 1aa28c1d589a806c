"""Approximate vector index at scale: recall and latency against exact search in the same run.

A vault with synthetic records (MTSamples sentences as their text, `--per-record`
chunks each) whose chunk vectors are real and clustered around real ones: a
few thousand MTSamples passages embedded by the real model, and the rest
mixtures of two of those plus noise (cosine ~0.9 to the mixture), so the
vectors lie where the model's do and real queries have real neighbours.
Queries are the benchmark's own (MTSamples descriptions, paraphrase sets),
embedded by the real model.

Measured, in one process unless said:
  - loading the matrix from the rows, building the graph, writing the snapshot
  - vector top-100: exact (every chunk, float32 rows as a graph-less archive
    has them) and approximate, p50/p95, and the approximate recall@100 (and
    @10) of records against the exact top-100; where recall is lost (a perfect
    graph's recall, the exact 100th-200th gap, misses that are near-ties)
  - hybrid search through archive.search (query embedding, policy, audit
    included), with the approximate index and with exact vectors
  - unlock-to-ready in a new process: open the session (passphrase KDF),
    load the snapshot and catch up, answer a first hybrid search; its RSS
  - memory: the matrix, the graph, the process RSS

    .venv/bin/python bench/ann.py --quick            # 60k chunks, CI-sized
    .venv/bin/python bench/ann.py --chunks 1000000   # the target size
    .venv/bin/python bench/ann.py --chunks 1000000 --keep /tmp/v1m   # ... and keep the vault (~25 min idle)
    .venv/bin/python bench/ann.py --reuse /tmp/v1m --depths 2000,1400   # measure on it again in minutes
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import percentile  # noqa: E402 - bench/ is on the path when a benchmark runs as a script

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("CHARTVAULT_EMBEDDER", None)  # the real model

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
TECH_PASS = "velvet thunder meadow"
DOC_TYPES = ("note", "discharge", "consult", "radiology", "lab")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def huge_pages_mb() -> float:
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("AnonHugePages:"):
            return int(line.split()[1]) / 1024
    return 0.0


def on_small_pages(vm: Any) -> Any:
    """The matrix with its frozen graph (and the codes read from it) on a copy of the bytes in 4 KB pages, as
    the session-start code held them (a bytearray): the same graph, timed beside the shipped one."""
    import copy

    from indexer import ann_store
    from indexer.ann import AnnIndex

    if vm.ann is None or not vm.ann.frozen or vm._store is None:
        return None
    held = bytearray(memoryview(vm.ann._held))
    out = copy.copy(vm)
    out.ann = AnnIndex.from_bytes(memoryview(held), vm.dim, view=True)
    tape = ann_store._vectors_in(memoryview(held), vm.dim)
    out._store = (tape, vm._store[1], vm._store[2])
    return out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def quantize(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """indexer.vectors.encode for many rows at once (int8 codes, per-row scale)."""
    peak = np.abs(x).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    return np.clip(np.rint(x / scale[:, None]), -127, 127).astype(np.int8), scale


def real_passages(n: int) -> list[str]:
    import retrieval

    notes = retrieval.load_notes()
    out: list[str] = []
    for note in notes:
        words = note.text.split()
        for k in range(0, len(words), 120):
            out.append(" ".join(words[k : k + 120]))
            if len(out) >= n:
                return out
    return out


def queries(n: int) -> list[str]:
    import retrieval

    notes = retrieval.load_notes()
    qs = [q.text for q in retrieval.paraphrase_queries(notes)]
    qs += [q.text for q in retrieval.description_queries(notes, n, seed=11)]
    rng = np.random.default_rng(5)
    return [qs[i] for i in rng.permutation(len(qs))[:n]]


def build(root: Path, args: argparse.Namespace, say: Any) -> tuple[Any, Any, dict[str, float]]:
    from archive.embedding import get_embedder
    from archive.login import create_vault, open_session
    from archive.users import add_user
    from indexer import fts
    from vault.db import transaction

    admin = create_vault(root, "admin", "copper lantern harbour")
    add_user(admin, "bench", "technician", TECH_PASS)
    admin.close()
    session = open_session(root, "bench", TECH_PASS)
    db = session.db
    embedder = get_embedder(session)
    t = time.perf_counter()
    passages = real_passages(args.real)
    if args.passage_vectors:  # the same passages embedded by an earlier run (np.save of `real`), to save minutes
        real = np.load(args.passage_vectors)[: len(passages)].astype(np.float32)
    else:
        real = embedder.embed_documents(passages).astype(np.float32)
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    times = {"embed_real_s": time.perf_counter() - t}
    say(f"embedded {len(real)} real passages in {times['embed_real_s']:.0f} s")
    sentences = [s.strip() for p in passages for s in p.split(". ") if len(s) > 20]
    rng = np.random.default_rng(7)
    per = args.per_record
    n_records = args.chunks // per
    now = "2026-01-01T00:00:00Z"
    t = time.perf_counter()
    block = 10_000  # records per transaction
    with transaction(db):
        for k in range(5000):
            db.execute("INSERT INTO patients (mrn, created_at) VALUES (?, ?)", [f"P{k}", now])
    chunk = 0
    for first in range(1, n_records + 1, block):
        last = min(n_records, first + block - 1)
        count = (last - first + 1) * per
        vecs = np.empty((count, real.shape[1]), dtype=np.float32)
        take = max(0, min(count, len(real) - chunk))
        vecs[:take] = real[chunk : chunk + take]
        rest = count - take
        if rest:
            i, j = rng.integers(0, len(real), rest), rng.integers(0, len(real), rest)
            w = rng.uniform(0.5, 1.0, rest).astype(np.float32)[:, None]
            mix = w * real[i] + (1 - w) * real[j]
            mix /= np.linalg.norm(mix, axis=1, keepdims=True)
            noise = rng.standard_normal((rest, real.shape[1])).astype(np.float32)
            noise *= 0.5 / np.linalg.norm(noise, axis=1, keepdims=True)
            vecs[take:] = mix + noise
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        codes, scales = quantize(vecs)
        chunk += count
        with transaction(db):
            rows = []
            for n in range(first, last + 1):
                text = ". ".join(sentences[int(s)] for s in rng.integers(0, len(sentences), 24))
                db.execute(
                    "INSERT INTO records (n, id, blob_id, filename, doc_type, patient_mrn, date, size, status,"
                    " imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'filed', ?)",
                    [n, f"s{n:011d}", f"b{n:063d}", f"syn-{n}.txt", DOC_TYPES[n % len(DOC_TYPES)], f"P{n % 5000}",
                     f"20{10 + n % 15}-01-01", now],
                )
                fts.index_row(db, n, title="", filename=f"syn-{n}.txt", text=text, meta=DOC_TYPES[n % len(DOC_TYPES)])
                base = (n - first) * per
                rows += [(n, s, 0, len(text), embedder.model_id, codes[base + s].tobytes(), float(scales[base + s]))
                         for s in range(per)]
            db.conn.executemany(
                "INSERT INTO chunks (record_n, seq, start, end, model, vector, scale) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.conn.executemany(
                "INSERT INTO embedded (record_n, model, chunks, at) VALUES (?, ?, ?, ?)",
                [(n, embedder.model_id, per, now) for n in range(first, last + 1)],
            )
    times["build_vault_s"] = time.perf_counter() - t
    say(f"{n_records} records, {chunk} chunks written in {times['build_vault_s']:.0f} s (load {load()})")
    return session, embedder, times


def reopen(root: Path) -> tuple[Any, Any, dict[str, float]]:
    """The bench user's session on a vault an earlier `--keep` run built (its snapshot is read, not rebuilt)."""
    from archive.embedding import get_embedder
    from archive.login import open_session

    if not (root / "vault.json").exists():
        raise SystemExit(f"no vault in {root}: build one with --keep {root.parent}")
    session = open_session(root, "bench", TECH_PASS)
    return session, get_embedder(session), {}


def timed(cls: Any, name: str, into: dict[str, float], key: str) -> None:
    real = getattr(cls, name)

    def wrapper(*a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            into[key] = into.get(key, 0.0) + time.perf_counter() - t

    setattr(cls, name, wrapper)


def run(args: argparse.Namespace) -> list[str]:
    from archive.search import search
    from indexer import ann_store, semantic
    from indexer.vectors import VectorMatrix

    VectorMatrix.build_in_background = False  # timed here
    VectorMatrix.ann_from = min(VectorMatrix.ann_from, args.chunks // 2)  # the quick run uses a graph too
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    if args.reuse:
        work = Path(args.reuse)
        root = work / "vault"
        say(f"machine load before: {load()}; {os.cpu_count()} cores; the vault of an earlier --keep run: {root}")
        session, embedder, times = reopen(root)
    else:
        work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cv-ann-"))
        root = work / "vault"
        if root.exists():
            shutil.rmtree(root)
        say(f"machine load before: {load()}; {os.cpu_count()} cores")
        session, embedder, times = build(root, args, say)
    db = session.db
    VectorMatrix.build_threads = args.threads
    timed(VectorMatrix, "_load", times, "rows_load_s")
    timed(VectorMatrix, "_build_ann", times, "graph_build_s")
    timed(ann_store, "save_snapshot", times, "snapshot_save_s")
    timed(ann_store, "load_snapshot", times, "snapshot_load_s")
    vm = semantic.matrix_for(db, embedder.model_id, embedder.dim)
    t = time.perf_counter()
    if vm.pages is not None:  # (a snapshot's graph moved onto 2 MB pages by a low-priority thread: indexer.ann)
        vm.pages.join()
        say(f"the graph's bytes on 2 MB pages {time.perf_counter() - t:.1f} s later (load {load()}): "
            f"{huge_pages_mb():.0f} MB of the process on them")
    graph_mb = vm.ann.memory_bytes / 2**20 if vm.ann else 0.0
    snap_mb = db.execute("SELECT coalesce(sum(length(data)), 0) FROM vector_snapshot_parts").fetchone()[0] / 2**20
    if "rows_load_s" in times:
        say(f"from the rows: loaded in {times['rows_load_s']:.1f} s, graph built in "
            f"{times.get('graph_build_s', 0):.0f} s ({args.threads} threads, load {load()}), snapshot "
            f"({snap_mb:.0f} MB) written in {times.get('snapshot_save_s', 0):.1f} s")
    else:
        say(f"from the snapshot ({snap_mb:.0f} MB): loaded in {times.get('snapshot_load_s', 0):.1f} s (load {load()})")
    floats = "none (a graph is kept)" if vm.matrix is None else f"{vm.matrix.nbytes / 2**20:.0f} MB"
    codes = (f"{vm.codes.nbytes / 2**20:.0f} MB (int8)" if vm.codes_gathered else
             "none apart (read from the graph's vectors)")
    frozen = " (a view of the snapshot's bytes)" if vm.ann is not None and vm.ann.frozen else ""
    say(f"memory: codes {codes}, float rows {floats}, graph {graph_mb:.0f} MB{frozen} "
        f"(int8 vectors + edges), process RSS {rss_mb():.0f} MB (peak {peak_mb():.0f} MB"
        + (", building included)" if "graph_build_s" in times else ")"))
    # Exact search as an archive without a graph does it (float32 rows, one matrix product): the reference for
    # recall and the latency baseline. Made here, after the memory above was read.
    import copy

    ref = copy.copy(vm)
    ref.matrix, ref.ann = vm.rows(slice(None)), None

    from indexer import ann

    texts = queries(args.queries)
    qvecs = [embedder.embed_query(q) for q in texts]
    ann.CHUNKS_PER_QUERY = args.fetch or ann.CHUNKS_PER_QUERY
    import indexer.vectors

    indexer.vectors.CHUNKS_PER_QUERY = ann.CHUNKS_PER_QUERY  # (imported by name there)
    say(f"graph: M={ann.CONNECTIVITY}, build depth {ann.EXPANSION_ADD}; {ann.CHUNKS_PER_QUERY} chunks fetched per "
        f"query; {len(qvecs)} real queries (MTSamples descriptions and paraphrases)")
    # Where recall is lost. (1) A perfect graph: the truly nearest chunks to the int8 query the graph is given
    # (as many as are fetched), their records scored exactly as the approximate ranking does: what is lost here
    # is the query's quantisation, not the graph's search. (2) How close the exact top 100 are: the cosine gap
    # between the 100th and the 200th record (small: misses are near-ties, see "within" below).
    from indexer.vectors import encode

    perfect, gaps = [], []
    for q in qvecs:
        scores = ref.ranking(q, exact=True).top(200)
        qc = np.frombuffer(encode(q)[0], dtype=np.int8).astype(np.float32)
        sims = ref.chunk_scores(qc / np.linalg.norm(qc))
        rows = np.argpartition(-sims, ann.CHUNKS_PER_QUERY)[: ann.CHUNKS_PER_QUERY]
        positions = np.unique(np.searchsorted(ref.records, ref.chunk_record[rows]))
        got = ref.records[positions[np.argsort(-ref.exact_scores_of(q, positions))[:100]]]
        perfect.append(len(set(got.tolist()) & {n for n, _ in scores[:100]}) / 100)
        gaps.append(scores[99][1] - scores[-1][1])
    say(f"a perfect graph ({ann.CHUNKS_PER_QUERY} nearest chunks to the int8 query, records scored exactly): "
        f"recall@100 {np.mean(perfect):.4f} (min {np.min(perfect):.2f}); cosine gap between the exact 100th and "
        f"200th record: mean {np.mean(gaps):.4f}, min {np.min(gaps):.4f}")
    default_depth = ann.EXPANSION_SEARCH
    small = on_small_pages(vm)
    for depth in [int(d) for d in args.depths.split(",")]:
        ann.EXPANSION_SEARCH = depth
        exact_t, ann_t, ann_c, r100, r10, near = [], [], [], [], [], []
        small_t: list[float] = []
        small_c: list[float] = []
        same = 0
        exacts: list[list[tuple[int, float]]] = []
        if args.apart:  # every exact search first: no BLAS thread left spinning beside an approximate one
            for q in qvecs * 2:
                t = time.perf_counter()
                exacts.append(ref.ranking(q, exact=True).top(100))
                exact_t.append(time.perf_counter() - t)
        for i, q in enumerate(qvecs * 2):  # two passes; the first warms the caches
            if args.apart:
                exact = exacts[i]
            else:
                t = time.perf_counter()
                exact = ref.ranking(q, exact=True).top(100)
                exact_t.append(time.perf_counter() - t)
            t, c = time.perf_counter(), time.thread_time()
            approx = vm.ranking(q).top(100)
            ann_t.append(time.perf_counter() - t)
            ann_c.append(time.thread_time() - c)
            if small is not None:
                t, c = time.perf_counter(), time.thread_time()
                same += small.ranking(q).top(100) == approx
                small_t.append(time.perf_counter() - t)
                small_c.append(time.thread_time() - c)
            r100.append(len({n for n, _ in approx} & {n for n, _ in exact}) / max(1, len(exact)))
            r10.append(len({n for n, _ in approx[:10]} & {n for n, _ in exact[:10]}) / max(1, len(exact[:10])))
            # a found record counts if its exact cosine is within 0.005 of the exact 100th's (a near-tie)
            near.append(np.mean([s >= exact[-1][1] - 0.005 for _, s in approx]) if len(approx) == 100 else 0.0)
        half = len(qvecs)
        e, a = exact_t[half:], ann_t[half:]
        say(f"vector top-100 at {vm.size} chunks ({len(vm.records)} records), depth {depth}"
            f"{' (exact timed apart)' if args.apart else ''}, load {load()}: "
            f"exact p50 {1000 * percentile(e, .5):.1f} ms, p95 {1000 * percentile(e, .95):.1f} ms; "
            f"approximate p50 {1000 * percentile(a, .5):.1f} ms, p95 {1000 * percentile(a, .95):.1f} ms "
            f"(p95 ratio {percentile(a, .95) / percentile(e, .95):.2f} of exact; CPU p50 "
            f"{1000 * percentile(ann_c[half:], .5):.1f} ms, p95 {1000 * percentile(ann_c[half:], .95):.1f} ms); "
            f"recall@100 mean {np.mean(r100[half:]):.4f}, min {np.min(r100[half:]):.2f}; "
            f"recall@10 mean {np.mean(r10[half:]):.4f}; within 0.005 of the 100th {np.mean(near[half:]):.4f}")
        if small is not None:
            s = small_t[half:]
            say(f"  the same graph on 4 KB pages (the session-start layout), interleaved: p50 "
                f"{1000 * percentile(s, .5):.1f} ms, p95 {1000 * percentile(s, .95):.1f} ms (CPU p50 "
                f"{1000 * percentile(small_c[half:], .5):.1f} ms, p95 {1000 * percentile(small_c[half:], .95):.1f} ms);"
                f" 2 MB pages / 4 KB: p95 ratio {percentile(a, .95) / percentile(s, .95):.2f}, CPU p95 ratio "
                f"{percentile(ann_c[half:], .95) / percentile(small_c[half:], .95):.2f}; same top 100 in "
                f"{same} of {len(small_t)} searches")
    ann.EXPANSION_SEARCH = default_depth
    del small

    search(session, "warm up", mode="hybrid", limit=10)
    hybrid: dict[str, list[float]] = {"approximate": [], "exact": []}
    cpu: dict[str, list[float]] = {"approximate": [], "exact": []}
    real_ranking = VectorMatrix.ranking
    for q in texts * 2:  # two passes, the first warms the caches
        for kind in ("approximate", "exact"):  # interleaved: fair under a shared CPU
            VectorMatrix.ranking = (  # type: ignore[method-assign]
                real_ranking if kind == "approximate" else lambda self, q, exact=False, r=ref: real_ranking(r, q, True)
            )
            t, c = time.perf_counter(), time.process_time()
            search(session, q, mode="hybrid", limit=10)
            hybrid[kind].append(time.perf_counter() - t)
            cpu[kind].append(time.process_time() - c)  # the process's: both threads of a search
    VectorMatrix.ranking = real_ranking  # type: ignore[method-assign]
    scoped = scoped_searches(session, vm, texts)
    half = len(texts)
    h, x = hybrid["approximate"][half:], hybrid["exact"][half:]
    hc, xc = cpu["approximate"][half:], cpu["exact"][half:]
    say(f"hybrid search (archive.search, limit 10, query embedding, policy and audit included), load {load()}: "
        f"approximate p50 {1000 * percentile(h, .5):.0f} ms, p95 {1000 * percentile(h, .95):.0f} ms "
        f"(CPU p50 {1000 * percentile(hc, .5):.0f} ms, p95 {1000 * percentile(hc, .95):.0f} ms); "
        f"exact vectors p50 {1000 * percentile(x, .5):.0f} ms, p95 {1000 * percentile(x, .95):.0f} ms "
        f"(CPU p50 {1000 * percentile(xc, .5):.0f} ms, p95 {1000 * percentile(xc, .95):.0f} ms); "
        f"p95 ratio {percentile(h, .95) / percentile(x, .95):.2f}, CPU p95 ratio "
        f"{percentile(hc, .95) / percentile(xc, .95):.2f}")
    for share, (wall, cpu_s, full) in scoped.items():
        say(f"hybrid search by a user who may see {share:.0%} of the records (the candidates are theirs: "
            f"archive.search.Visibility.within), load {load()}: p50 {1000 * percentile(wall, .5):.0f} ms, p95 "
            f"{1000 * percentile(wall, .95):.0f} ms (CPU p95 {1000 * percentile(cpu_s, .95):.0f} ms); a full page of "
            f"10 in {full} of {len(wall)}")
    session.close()
    del vm, session, db, ref

    out = subprocess.run(
        [sys.executable, "-X", "faulthandler", __file__, "--unlock", str(root),
         "--ann-from", str(VectorMatrix.ann_from)],
        capture_output=True, text=True,
    )
    if out.returncode:
        raise SystemExit(f"the unlock run failed ({out.returncode}):\n{out.stderr[-3000:]}")
    u = json.loads(out.stdout.strip().splitlines()[-1])
    say(f"unlock-to-ready in a new process (load {load()}): {u['ready_s']:.2f} s = open session "
        f"{u['open_s']:.2f} s (passphrase KDF) + vectors {u['vectors_s']:.2f} s (snapshot: {u['from_snapshot']}; "
        f"of which {u['read_s']:.2f} s reading its parts from the index) "
        f"+ first hybrid search {u['first_search_s']:.2f} s (the model's own load, {u['model_s']:.1f} s, apart: "
        f"full text answers meanwhile); RSS then {u['rss_mb']:.0f} MB "
        f"(peak {u['peak_mb']:.0f} MB)")
    if not args.keep and not args.reuse:
        shutil.rmtree(work, ignore_errors=True)
    return lines


def scoped_searches(session: Any, vm: Any, texts: list[str]) -> dict[float, tuple[list[float], list[float], int]]:
    """Hybrid searches by a user who may see only a share of the records (a random set of them, as
    `Visibility.within` would hand down for a physician under the "assigned" scope): second pass timed."""
    from archive.policy import Action
    from archive.search import Visibility, search

    class Seen(Visibility):
        def __init__(self, within: tuple[int, ...]) -> None:
            super().__init__(session, Action.SEARCH)
            self._within = (within,)
            self.mine = set(within)

    rng = np.random.default_rng(7)
    out = {}
    for share in (0.01, 0.2):
        within = tuple(int(n) for n in np.sort(rng.choice(vm.records, int(share * len(vm.records)), replace=False)))
        wall, cpu_s, full = [], [], 0
        for p, q in enumerate(texts * 2):
            t, c = time.perf_counter(), time.process_time()
            hits = search(session, q, mode="hybrid", limit=10, visible=Seen(within)).hits
            if p >= len(texts):
                wall.append(time.perf_counter() - t)
                cpu_s.append(time.process_time() - c)
                full += len(hits) == 10
        out[share] = (wall, cpu_s, full)
    return out


def unlock(root: Path, ann_from: int) -> None:
    """(In a new process) open the vault, load the vectors, answer one search; print the timings as JSON."""
    from indexer.vectors import VectorMatrix

    VectorMatrix.build_in_background = False  # (a snapshot is there: nothing to build)
    VectorMatrix.ann_from = ann_from
    from archive.embedding import get_embedder
    from archive.login import open_session
    from archive.search import search
    from indexer import ann_store, semantic

    loaded: list[bool] = []
    parts: dict[str, float] = {}
    timed(ann_store, "_read_parts", parts, "read_s")
    real = ann_store.load_snapshot
    ann_store.load_snapshot = lambda db, vm: loaded.append(real(db, vm)) or loaded[-1]  # type: ignore[assignment]
    t0 = time.perf_counter()
    session = open_session(root, "bench", TECH_PASS)
    t1 = time.perf_counter()
    embedder = get_embedder(session)
    semantic.matrix_for(session.db, embedder.model_id, embedder.dim)
    t2 = time.perf_counter()
    # The model loads in the background from unlock on (full text answers meanwhile); its wait is not the
    # index's, so it is timed apart (model_s) and left out of ready_s.
    from archive.embedding import wait_until_ready

    wait_until_ready(embedder)
    tm = time.perf_counter()
    search(session, "shortness of breath on exertion", mode="hybrid", limit=10)
    t3 = time.perf_counter()
    print(json.dumps({"open_s": t1 - t0, "vectors_s": t2 - t1, "first_search_s": t3 - tm,
                      "ready_s": (t3 - tm) + (t2 - t0), "model_s": tm - t2,
                      "from_snapshot": bool(loaded and loaded[0]), "rss_mb": rss_mb(), "peak_mb": peak_mb(),
                      "read_s": parts.get("read_s", 0.0)}))
    session.close()


def count_chunks(root: Path) -> int:
    """How many chunks a kept vault holds (the snapshot's count: no session needed beyond the bench user's)."""
    from archive.login import open_session

    session = open_session(root, "bench", TECH_PASS)
    try:
        return int(session.db.execute("SELECT count(*) FROM chunks").fetchone()[0])
    finally:
        session.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="60k chunks, 30 queries (CI)")
    p.add_argument("--chunks", type=int, default=1_000_000)
    p.add_argument("--per-record", type=int, default=10)
    p.add_argument("--real", type=int, default=10000,
                   help="passages embedded by the real model (fewer: more synthetic vectors per real one, and a graph"
                   " is much harder to search: see bench/RESULTS.md)")
    p.add_argument("--queries", type=int, default=60)
    p.add_argument("--threads", type=int, default=2, help="threads building the graph")
    p.add_argument("--connectivity", type=int, help="graph edges per node (default: indexer.ann.CONNECTIVITY)")
    p.add_argument("--expansion-add", type=int, help="build depth (default: indexer.ann.EXPANSION_ADD)")
    p.add_argument("--fetch", type=int,
                   help="chunks fetched from the graph per query (default: indexer.ann.CHUNKS_PER_QUERY)")
    p.add_argument("--depths", default="800,2000,4000", help="search depths to measure (the default one first)")
    p.add_argument("--apart", action="store_true",
                   help="time the exact top-100s before the approximate ones instead of interleaved: after the exact"
                   " scan's matrix product OpenBLAS's second thread keeps spinning for a while, beside the next"
                   " approximate search (an application searching by the graph makes no such product)")
    p.add_argument("--keep", help="build the vault in this folder and keep it")
    p.add_argument("--reuse", metavar="DIR",
                   help="measure on the vault an earlier --keep DIR run built (minutes instead of ~25 at 1M: no "
                   "build; the graph is read from its snapshot); --chunks is then the vault's own count")
    p.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    p.add_argument("--passage-vectors", help=argparse.SUPPRESS)
    p.add_argument("--unlock", help=argparse.SUPPRESS)
    p.add_argument("--ann-from", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.unlock:
        unlock(Path(args.unlock), args.ann_from)
        return 0
    if args.quick:
        args.chunks, args.queries, args.real = 60_000, 30, 1000
    from indexer import ann

    ann.CONNECTIVITY = args.connectivity or ann.CONNECTIVITY
    ann.EXPANSION_ADD = args.expansion_add or ann.EXPANSION_ADD
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if args.reuse:
        args.chunks = count_chunks(Path(args.reuse) / "vault")
    lines = run(args)
    if args.record:
        with RESULTS.open("a") as f:
            how = "--quick" if args.quick else f"--chunks {args.chunks}"
            how += f" --reuse {args.reuse}" if args.reuse else ""
            f.write(f"\n## issue 18 scale: approximate vector index ({started}, bench/ann.py {how})\n\n```\n"
                    + "\n".join(lines) + "\n```\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
