"""What the second embedder (bge-small-en-v1.5, indexer.embedder2) costs: bulk embedding with and without it, its
query embedding, and its memory, in one run.

Bulk: the same 64 MTSamples chunks (>= 200 word pieces, as bench/retrieval.py's throughput part) embedded by the
first model's bulk path (onnx-int8) alone and then by both, interleaved rounds, chunks per wall second and per
CPU second (process time: what the machine's load distorts least). Query: 60 paraphrase queries embedded by each
model, CPU ms. Memory: the process's resident set before and after loading the second model.

    python bench/second_embedder.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import percentile  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    os.environ.pop("CHARTVAULT_EMBEDDER", None)
    import retrieval

    from indexer.chunking import chunk_text
    from indexer.embedder import SentenceTransformerEmbedder
    from indexer.embedder2 import second_embedder

    notes = retrieval.load_notes()
    first = SentenceTransformerEmbedder("all-MiniLM-L6-v2", precision="onnx-int8")
    first.load()
    texts: list[str] = []
    for note in notes:
        for c in chunk_text(note.text, first.tokenizer, max_tokens=first.max_tokens):
            if c.tokens >= 200:
                texts.append(c.text_of(note.text))
        if len(texts) >= 64:
            break
    texts = texts[:64]
    first.embed_documents(texts[:8])  # warm
    before = rss_mb()
    second = second_embedder(threads=2)
    if second is None:
        print("the second embedder is not available (see the log)")
        return 1
    second.embed_documents(texts[:8])
    after = rss_mb()
    both: dict[str, list[float]] = {"first alone": [], "first + second": []}
    cpu: dict[str, list[float]] = {"first alone": [], "first + second": []}
    for _ in range(args.rounds):
        for way in both:
            t, c = time.perf_counter(), time.process_time()
            first.embed_documents(texts)
            if way == "first + second":
                second.embed_documents(texts)
            both[way].append(time.perf_counter() - t)
            cpu[way].append(time.process_time() - c)
    n = len(texts) * args.rounds
    for way in both:
        print(f"bulk, {way}: {n / sum(both[way]):.1f} chunks/s wall, {n / sum(cpu[way]):.1f} chunks per CPU-second")
    ratio = (sum(cpu["first + second"]) / sum(cpu["first alone"]))
    print(f"bulk CPU with the second model / without: x{ratio:.2f}")
    queries = [q.text for q in retrieval.paraphrase_queries(notes)][:60]
    one = second_embedder(threads=1)
    q_cpu: dict[str, list[float]] = {"first (fp32 query path)": [], "second (bge-small, 1 thread)": []}
    first.embed_query("warm up")
    one.embed_query("warm up")
    for q in queries:
        c = time.process_time()
        first.embed_query(q)
        q_cpu["first (fp32 query path)"].append(time.process_time() - c)
        c = time.process_time()
        one.embed_query(q)
        q_cpu["second (bge-small, 1 thread)"].append(time.process_time() - c)
    for way, xs in q_cpu.items():
        print(f"query embedding, {way}: CPU p50 {1000 * percentile(xs, .5):.1f} ms, "
              f"p95 {1000 * percentile(xs, .95):.1f} ms")
    print(f"memory: resident {before:.0f} MB before the second model, {after:.0f} MB after (+{after - before:.0f} MB, "
          f"two-thread copy); +{rss_mb() - after:.0f} MB more for the one-thread query copy")
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
