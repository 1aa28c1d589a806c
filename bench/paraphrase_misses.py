"""Where hybrid's missed paraphrase queries' notes rank, side by side: which method could reach them.

For every paraphrase query of bench/paraphrase_queries.tsv that the shipped ranking misses (its note not in the
top 10), the note's best rank on each side: the keyword side (BM25 of the OR of the query's words), MiniLM and
bge-small over the whole corpus (best passage), the pair of the two over the whole corpus, and the shipped
fusion; whether it is among hybrid's candidates at all (MiniLM's top 100 and the keyword side's); and a class:
  outside   the note never enters the candidates
  11-50     it enters and the fusion ranks it 11th-50th
  beyond    it enters and ranks below 50th
with, for the last two, whether a near-duplicate note is first (the shipped first record's whole text,
MiniLM's mean passage, at cosine >= NEAR to the note's: another note about the same case or procedure).

Reads bench/paraphrase_grid.py's cache (`--cache` of a grid run on a vault with second vectors):

    python bench/paraphrase_misses.py --cache /tmp/grid.pkl [--sets blind-d,blind-e] [--rows]
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paraphrase_grid import POOL, VARIANTS, Corpus, QueryData, rank  # noqa: E402

NEAR = 0.9  # whole-text cosine (MiniLM) above which two notes are called near-duplicates
SHIPPED = "pair-cand-w0.6"  # session 12's method as the grid writes it


class _Cache(pickle.Unpickler):
    """The grid's cache, written by bench/paraphrase_grid.py run as a script (its classes pickled as __main__'s)."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "__main__" and name in ("Corpus", "QueryData"):
            return {"Corpus": Corpus, "QueryData": QueryData}[name]
        return super().find_class(module, name)


def load_cache(path: Path) -> tuple[Corpus, list[QueryData]]:
    """The grid's (corpus, queries) from its --cache file."""
    with path.open("rb") as fh:
        return _Cache(fh).load()  # type: ignore[no-any-return]


def best_rank(scores: np.ndarray, relevant: np.ndarray, records: np.ndarray) -> int | None:
    """The best 1-based rank of any of `relevant` (row indexes) when rows are ordered by `scores` (ties: lower
    records.n first); None when none of them scores above zero-information (-inf)."""
    order = np.lexsort((records, -scores))
    at = np.flatnonzero(np.isin(order, relevant))
    return int(at[0]) + 1 if len(at) and np.isfinite(scores[order[at[0]]]) else None


def sides(c: Corpus, q: QueryData, w: float = 0.6) -> dict[str, Any]:
    """The note's rank on each side, in the candidates or not, and its rank in the shipped fusion."""
    assert c.second is not None and q.vector2 is not None, "the grid's cache needs the vault's second vectors"
    bm25 = np.where(q.bm25 > 0, q.bm25, -np.inf)
    minilm = c.best(q.vector)
    bge = np.asarray(np.maximum.reduceat(c.second @ q.vector2, c.starts))
    pc = c.pair(w)
    a, b = np.float32(np.sqrt(1 - w)), np.float32(np.sqrt(w))
    pair_best = pc.best(np.concatenate([q.vector * a, q.vector2 * b]).astype(np.float32))
    fused = rank(c, q, VARIANTS[SHIPPED])
    matched = np.flatnonzero(q.bm25 > 0)
    keyword_top = matched[np.lexsort((c.records[matched], -q.bm25[matched]))][:POOL]
    vector_top = np.argsort(-minilm, kind="stable")[:POOL]
    cand = np.union1d(vector_top, keyword_top)
    at = np.flatnonzero(np.isin(fused, q.relevant))
    final = int(at[0]) + 1 if len(at) else None
    near = None
    if len(fused):
        target = c.centroids[q.relevant]
        near = float((target @ c.centroids[fused[0]]).max())
    return {
        "bm25": best_rank(bm25, q.relevant, c.records),
        "minilm": best_rank(minilm, q.relevant, c.records),
        "bge": best_rank(bge, q.relevant, c.records),
        "pair": best_rank(pair_best, q.relevant, c.records),
        "final": final,
        "in_cand": bool(np.isin(q.relevant, cand).any()),
        "first_near": near,
        "max_cov": float(q.coverage[cand].max()) if len(cand) else 0.0,
        "target_cov": float(q.coverage[q.relevant].max()),
    }


def klass(s: dict[str, Any]) -> str:
    if not s["in_cand"]:
        return "outside"
    return "11-50" if s["final"] is not None and s["final"] <= 50 else "beyond"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True, help="bench/paraphrase_grid.py's --cache file")
    ap.add_argument("--sets", help="comma-separated set names (default: every paraphrase set)")
    ap.add_argument("--rows", action="store_true", help="one row per missed query")
    args = ap.parse_args(argv)
    c, data = load_cache(Path(args.cache))
    wanted = {f"paraphrase-{s}" for s in args.sets.split(",")} if args.sets else None
    kinds = [k for k in dict.fromkeys(q.kind for q in data) if k.startswith("paraphrase-")]
    if wanted:
        kinds = [k for k in kinds if k in wanted]
    table: dict[str, Counter[str]] = {}
    rows = []
    reach: Counter[str] = Counter()
    for q in data:
        if q.kind not in kinds:
            continue
        s = sides(c, q)
        if s["final"] is not None and s["final"] <= 10:
            continue
        k = klass(s)
        near = s["first_near"] is not None and s["first_near"] >= NEAR
        table.setdefault(q.kind, Counter())[k + (" (near-dup first)" if near and k != "outside" else "")] += 1
        for side in ("bm25", "minilm", "bge", "pair"):
            for cut in (10, 50, 100):
                if s[side] is not None and s[side] <= cut:
                    reach[f"{side}<={cut}"] += 1
        rows.append((q, s, k))
    misses = len(rows)
    print(f"missed paraphrase queries: {misses} (sets: {', '.join(k.replace('paraphrase-', '') for k in kinds)})")
    print("\n| set | missed | outside the candidates | ranked 11-50 | of which a near-duplicate first | "
          "ranked beyond 50 |")
    print("|---|---|---|---|---|---|")
    for kind in kinds:
        t = table.get(kind, Counter())
        total = sum(t.values())
        mid = t["11-50"] + t["11-50 (near-dup first)"]
        far = t["beyond"] + t["beyond (near-dup first)"]
        print(f"| {kind.replace('paraphrase-', '')} | {total} | {t['outside']} | {mid} | "
              f"{t['11-50 (near-dup first)']} | {far} |")
    print("\nthe missed notes' ranks on each side (of all missed queries):")
    for side in ("bm25", "minilm", "bge", "pair"):
        print(f"  {side}: " + ", ".join(f"top {cut}: {reach[f'{side}<={cut}']}" for cut in (10, 50, 100)))
    if args.rows:
        print("\n| set | query | bm25 | MiniLM | bge | pair (whole) | fused | class | first's cosine to the note |")
        print("|---|---|---|---|---|---|---|---|---|")
        for q, s, k in rows:
            def r(v: int | None) -> str:
                return "-" if v is None else str(v)
            print(f"| {q.kind.replace('paraphrase-', '')} | {q.text} | {r(s['bm25'])} | {r(s['minilm'])} | "
                  f"{r(s['bge'])} | {r(s['pair'])} | {r(s['final'])} | {k} | {s['first_near']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
