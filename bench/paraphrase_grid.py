"""Hybrid ranking variants on every paraphrase set at once, offline: what a fusion change would do, per set.

bench/retrieval.py measures the shipped method through `archive.search.search`; trying a change there costs a
full run per variant. Here the expensive parts are read once from its corpus vault (`--reuse-vault DIR` of
bench/retrieval.py: every MTSamples note, embedded): for each query the embedded text's vector, the typed
query's vector, the keyword plan's BM25 of every record it matches, and the shipped method's own top 10
(`archive.search._fuse`, the code itself). The chunk vectors are held in memory; each variant then ranks all
queries in numpy in seconds. The "shipped" variant re-implements `indexer.hybrid.fuse` + `second_look` and the
run checks it against the code's top 10 (printed as "reproduces the shipped ranking on N/M queries").

Variants (general methods, issue 18; none uses a word list written for a query):
  shipped             the method as it is (cosine + 0.3 * coverage^4; second look below coverage 0.7; the
                      keyword side's first record kept within the first 10 when it holds 70% of the words)
  no-keep             the same without that last rule (the method before session 11)
  vector-only         the embedded query's best-passage cosine alone (bench/retrieval.py's semantic+vocab)
  no-second-look      first fusion only;  always-second-look: the gate at coverage 1.01
  qdf-0.7 / qdf-1.0   query-dependent fusion: the keyword weight times min(1, best coverage / x)
  crowd-10            keyword weight divided by the share of records at coverage >= 0.9 beyond 10
  prf-0.5, prf-k5-0.5-rescan: feedback weight 0.5; 5 records, and new candidates from the moved query
  length-0.01         a length prior: minus 0.01 * log(chunks of the record) (best-of-many favours long notes)
  hub-0.1             minus 0.1 * the record's centroid cosine to the corpus mean (records near every query)
  typed-mix-0.3       the embedded vector plus 0.3 * the typed query's vector
  forms-replace / forms-all / forms-tail: lay wording replaced by its clinical form, followed by its first 3
                      forms, or the forms appended at the end ("; ..."), instead of "lay (clinical)";
  forms-replace-mix   the usual vector plus the replaced text's vector (a second query embedding)
  rank-bonus-0.02     the keyword side's order itself counts too: + 0.02 * 2 / (1 + keyword rank) for records
                      holding half of the query's words (session 11: more recall on some sets, lower MRR on
                      others; not shipped)
  pair-whole          session 12: MiniLM and the second embedder (bge-small, indexer.embedder2) as one vector a
                      passage (the mean of the two cosines), over the whole corpus: the vector side's candidates
                      by the pair (a second full scan, a second ANN at 1M)
  pair-cand           the same pair, but only for the candidates hybrid already has (the vector side's top 100 by
                      MiniLM and the keyword side's): the shipped method of session 12 (archive.search._fuse)
  pair-cand-pool200   pair-cand with the MiniLM pool of 200
  pair-cand-w0.3 ...  the pair weighted: (1 - w) x MiniLM's cosine + w x bge-small's (w = 0.5: the mean)
  pair-cand-gated, pair-whole-gated: the pair only when no candidate holds 70% of the query's words (where the
                      second look is taken; a query whose words the archive holds is ranked as before)
  minilm-only         session 11's method (the pair never used), for the ratios
  (the pair-* variants need the vault's second vectors: `chartvault reindex`; the grid reads them with the rest)
  pair-second-pool100 session 13: the shipped pair (pair-cand-w0.6) with the second embedder's own top 100
                      records over the whole corpus added to the candidates (a second scan); -pool50 likewise
  pair-prf0, pair-prf0.5, pair-kw0.2, pair-centroid0, pair-no-second-look, pair-always-second-look,
  pair-prf0-kw0.2 ... the shipped pair with the feedback weight, keyword weight, centroid weight or the second
                      look's gate changed (bench/paraphrase_misses.py reads where the missed notes rank;
                      bench/query_adapter.py measures a linear query adapter on the same cache)
  icd-0.2 (--icd)     Rocchio toward the 3 ICD-10-CM category/subcategory titles nearest to the query (the
                      shipped simple-icd-10-cm code set, 46k titles embedded once; a few minutes)

    python bench/paraphrase_grid.py --vault /tmp/s8-para-vault [--cache /tmp/grid.pkl] [--icd] [--only a,b]

The query sets are bench/retrieval.py's: its 500 seeded description queries, and every set of
bench/paraphrase_queries.tsv (desc-* sets are description-style). Results: bench/RESULTS.md, "Issue 18,
session 8: paraphrase (development sets)".
"""

from __future__ import annotations

import argparse
import pickle
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def _retrieval() -> Any:
    """bench/retrieval.py (the corpus, the query sets, the vault's users), imported only when a vault is read:
    importing it selects the real embedding model for the process (it drops CHARTVAULT_EMBEDDER), which a test
    that imports this module must not do to the tests around it."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import retrieval

    return retrieval

KEYWORD_WEIGHT, KEYWORD_POWER, POOL = 0.3, 4.0, 100  # indexer.hybrid's constants (checked in the run)
PRF_RECORDS, PRF_WEIGHT, CENTROID_WEIGHT, SECOND_LOOK_BELOW = 3, 0.3, 0.3, 0.7
KEEP_COVERAGE, KEEP_WITHIN = 0.7, 10


@dataclass
class Corpus:
    """The chunk vectors of every record (rows of a record contiguous), as `indexer.vectors` holds them."""

    matrix: np.ndarray  # float32, one row a chunk
    records: np.ndarray  # records.n, ascending
    starts: np.ndarray  # first row of each record
    second: np.ndarray | None = None  # the second embedder's rows (indexer.second_vectors), same order
    centroids: np.ndarray = field(init=False)
    chunks: np.ndarray = field(init=False)
    _pair: Any = field(init=False, default=None)

    def pair(self, w: float = 0.5) -> Corpus:
        """The corpus of the pair vectors (sqrt(1 - w) first ⊕ sqrt(w) second: a cosine is (1 - w) times the
        first model's plus w times the second's; w = 0.5: / sqrt 2, the mean of the two)."""
        if self._pair is None:
            self._pair = {}
        if w not in self._pair:
            assert self.second is not None, "this vault has no second vectors (chartvault reindex)"
            a, b = np.float32(np.sqrt(1 - w)), np.float32(np.sqrt(w))
            self._pair[w] = Corpus(np.hstack([self.matrix * a, self.second * b]), self.records, self.starts)
        return self._pair[w]

    def __post_init__(self) -> None:
        self.chunks = np.diff(np.append(self.starts, len(self.matrix)))
        owner = np.repeat(np.arange(len(self.records)), self.chunks)
        c = np.zeros((len(self.records), self.matrix.shape[1]), np.float32)
        np.add.at(c, owner, self.matrix)
        self.centroids = c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)

    def best(self, query: np.ndarray) -> np.ndarray:
        """Each record's best-passage cosine to `query`."""
        return np.asarray(np.maximum.reduceat(self.matrix @ query, self.starts))

    def best_passage(self, i: int, query: np.ndarray) -> np.ndarray:
        a, b = int(self.starts[i]), int(self.starts[i] + self.chunks[i])
        return np.asarray(self.matrix[a + int(np.argmax(self.matrix[a:b] @ query))])


@dataclass
class QueryData:
    kind: str
    text: str
    relevant: np.ndarray  # row indexes of the records that count as found
    vector: np.ndarray  # the embedded text's (lay wording and abbreviations spelled out)
    typed: np.ndarray  # the query as typed
    coverage: np.ndarray  # per record: BM25 / attainable, capped at 1 (0: no match)
    bm25: np.ndarray  # per record, 0 when not matched
    forms: dict[str, np.ndarray] = field(default_factory=dict)  # other embedded texts' vectors
    shipped: list[int] = field(default_factory=list)  # the code's own top 10 (row indexes)
    vector2: np.ndarray | None = None  # the embedded text by the second embedder (its query prefix)


def rank(c: Corpus, q: QueryData, p: dict[str, Any], icd: np.ndarray | None = None) -> np.ndarray:
    """Row indexes of the candidates, best first, for variant parameters `p` ({} = the shipped method)."""
    order = _fused(c, q, p, icd)
    if p.get("no_keep") or p.get("vector_only"):
        return order
    matched = np.flatnonzero(q.bm25 > 0)
    if not len(matched):
        return order
    best = matched[np.lexsort((c.records[matched], -q.bm25[matched]))][0]
    at = np.flatnonzero(order == best)
    within, least = p.get("keep_within", KEEP_WITHIN), p.get("keep_coverage", KEEP_COVERAGE)
    if not len(at) or at[0] < within or q.coverage[best] < least:
        return order
    rest = np.delete(order, at[0])
    return np.insert(rest, within - 1, best)


def _fused(c: Corpus, q: QueryData, p: dict[str, Any], icd: np.ndarray | None) -> np.ndarray:
    """`rank` before the keyword side's first record is kept within ten (`indexer.hybrid.keep_keyword_best`)."""
    query = q.forms[p["form"]] if "form" in p else q.vector
    if "form_mix" in p:
        query = q.vector + p["form_mix"] * q.forms["replace"]
    if "typed_mix" in p:
        query = q.vector + p["typed_mix"] * q.typed
    if "icd" in p and icd is not None:
        near = np.argsort(-(icd @ query))[:3]
        query = query + p["icd"] * icd[near].mean(axis=0)
    query = query / np.linalg.norm(query)
    pool_cos = None
    if p.get("pair_gated"):  # the pair only where the second look is taken: no candidate holds 70% of the words
        matched = np.flatnonzero(q.bm25 > 0)
        top_cos = np.argsort(-c.best(query), kind="stable")[:POOL]
        top_kw = matched[np.lexsort((c.records[matched], -q.bm25[matched]))][:POOL]
        cand0 = np.union1d(top_cos, top_kw)
        if len(cand0) and float(q.coverage[cand0].max()) >= p.get("gate", SECOND_LOOK_BELOW):
            p = {k: v for k, v in p.items() if k not in ("pair", "pair_gated")}
    second_top = None
    if p.get("pair"):
        assert q.vector2 is not None
        if p["pair"] == "cand":  # the vector side's candidates by MiniLM, as without the pair
            pool_cos = c.best(query)
        if "second_pool" in p:  # and the second embedder's own top records over the whole corpus (a second scan)
            assert c.second is not None
            second_best = np.maximum.reduceat(c.second @ q.vector2, c.starts)
            second_top = np.argsort(-second_best, kind="stable")[: p["second_pool"]]
        w = p.get("pair_w", 0.5)
        a, b = np.float32(np.sqrt(1 - w)), np.float32(np.sqrt(w))
        c, query = c.pair(w), np.concatenate([query * a, q.vector2 * b]).astype(np.float32)
    adjust = np.zeros(len(c.records))
    if "length" in p:
        adjust -= p["length"] * np.log(c.chunks)
    if "hub" in p:
        mean = c.matrix.mean(axis=0)
        adjust -= p["hub"] * (c.centroids @ (mean / np.linalg.norm(mean)))
    cos = c.best(query) + adjust
    vector_top = np.argsort(-(cos if pool_cos is None else pool_cos), kind="stable")[: p.get("pool", POOL)]
    matched = np.flatnonzero(q.bm25 > 0)
    keyword_top = matched[np.lexsort((c.records[matched], -q.bm25[matched]))][:POOL]
    cand = np.union1d(vector_top, keyword_top)
    if second_top is not None:
        cand = np.union1d(cand, second_top)
    cov = q.coverage[cand]
    covered = float(cov.max()) if len(cov) else 0.0
    weight = p.get("kw", KEYWORD_WEIGHT)
    if "qdf" in p:
        weight *= min(1.0, covered / p["qdf"])
    if "crowd" in p:
        full = int((q.coverage >= 0.9).sum())
        weight *= min(1.0, p["crowd"] / full) if full else 1.0
    if p.get("vector_only"):
        weight = 0.0
    bonus = weight * cov**KEYWORD_POWER
    if "rank_bonus" in p:  # the keyword side's order itself: rank_bonus * 2 / (1 + its rank), coverage >= 0.5
        place = {int(x): k for k, x in enumerate(keyword_top, start=1)}
        ranks = np.array([place.get(int(x), 10**9) for x in cand], dtype=np.float64)
        bonus = bonus + p["rank_bonus"] * 2.0 / (1.0 + ranks) * (cov >= 0.5)
    first = cos[cand] + bonus
    order = np.lexsort((c.records[cand], -first))
    if p.get("no_second_look") or covered >= p.get("gate", SECOND_LOOK_BELOW):
        return cand[order]
    top = cand[order[: p.get("prf_records", PRF_RECORDS)]]
    moved = query + p.get("prf", PRF_WEIGHT) * np.mean([c.best_passage(int(i), query) for i in top], axis=0)
    moved = moved / np.linalg.norm(moved)
    again = c.best(moved) + adjust
    if p.get("rescan"):
        cand = np.union1d(cand, np.argsort(-again, kind="stable")[:POOL])
        cov = q.coverage[cand]
        bonus = weight * cov**KEYWORD_POWER  # (not combined with rank_bonus)
    whole = c.centroids[cand] @ query
    share = p.get("centroid", CENTROID_WEIGHT)
    score = (again[cand] + share * whole + bonus) / (1 + share)
    return cand[np.lexsort((c.records[cand], -score))]


PAIR: dict[str, Any] = {"pair": "cand", "pair_w": 0.6}  # session 12's shipped method (indexer.second_vectors)

VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "no-keep": {"no_keep": True},
    "vector-only": {"vector_only": True, "no_second_look": True},
    "no-second-look": {"no_second_look": True},
    "always-second-look": {"gate": 1.01},
    "qdf-0.7": {"qdf": 0.7},
    "qdf-1.0": {"qdf": 1.0},
    "crowd-10": {"crowd": 10},
    "prf-0.5": {"prf": 0.5},
    "prf-k5-0.5-rescan": {"prf": 0.5, "prf_records": 5, "rescan": True},
    "length-0.01": {"length": 0.01},
    "hub-0.1": {"hub": 0.1},
    "typed-mix-0.3": {"typed_mix": 0.3},
    "forms-replace": {"form": "replace"},
    "forms-all": {"form": "all"},
    "forms-tail": {"form": "tail"},
    "forms-replace-mix": {"form_mix": 1.0},
    "icd-0.2": {"icd": 0.2},
    "rank-bonus-0.02": {"rank_bonus": 0.02},
    "minilm-only": {},
    "pair-whole": {"pair": "whole"},
    "pair-cand": {"pair": "cand"},
    "pair-cand-pool200": {"pair": "cand", "pool": 200},
    "pair-cand-gated": {"pair": "cand", "pair_gated": True},
    "pair-whole-gated": {"pair": "whole", "pair_gated": True},
    **{f"pair-cand-w{w}": {"pair": "cand", "pair_w": w} for w in (0.2, 0.3, 0.4, 0.6, 0.7, 0.8)},
    "pair-whole-w0.6": {"pair": "whole", "pair_w": 0.6},
    **{f"pair-cand-gated-w{w}": {"pair": "cand", "pair_gated": True, "pair_w": w} for w in (0.2, 0.3, 0.4, 0.6)},
    # session 13 (s13-para): the shipped pair (w 0.6) and one change each (bench/RESULTS.md, "Session 13: paraphrase")
    "pair-second-pool100": {**PAIR, "second_pool": 100},
    "pair-second-pool50": {**PAIR, "second_pool": 50},
    "pair-prf0": {**PAIR, "prf": 0.0},
    "pair-prf0.5": {**PAIR, "prf": 0.5},
    "pair-kw0.2": {**PAIR, "kw": 0.2},
    "pair-prf0-kw0.2": {**PAIR, "prf": 0.0, "kw": 0.2},
    "pair-prf0-kw0.15": {**PAIR, "prf": 0.0, "kw": 0.15},
    "pair-prf0-kw0.2-pool100": {**PAIR, "prf": 0.0, "kw": 0.2, "second_pool": 100},
    "pair-prf0-kw0.2-centroid0.5": {**PAIR, "prf": 0.0, "kw": 0.2, "centroid": 0.5},
    "pair-no-second-look": {**PAIR, "no_second_look": True},
    "pair-always-second-look": {**PAIR, "gate": 1.01},
    "pair-centroid0": {**PAIR, "centroid": 0.0},
}


def form_text(parsed: Any, senses: dict[str, str], how: str) -> str:
    """The embedded text with lay wording written another way (`VARIANTS` forms-*)."""
    text = parsed.embedding_text(lay=False)
    written = {a: senses.get(a, m[0]) for a, m in parsed.written.items()}
    for abbr, sense in written.items():
        text = re.sub(rf"(?<![\w/]){re.escape(abbr)}(?![\w/])", lambda m, s=sense: f"{m.group(0)} ({s})", text, count=1)
    tail = []
    for phrase, forms in parsed.lay.items():
        pattern = r"(?<!\w)" + r"\W+".join(re.escape(w) for w in phrase.split()) + r"(?!\w)"
        if how == "replace":
            new = forms[0]
        elif how == "all":
            new = "{} (" + ", ".join(forms[:3]) + ")"
        else:
            new, _ = "{}", tail.append(forms[0])
        text = re.sub(pattern, lambda m, n=new: n.format(m.group(0)), text, count=1, flags=re.I)
    return text + ("; " + ", ".join(tail) if tail else "")


def collect(vault: Path) -> tuple[Corpus, list[QueryData]]:
    """Read the corpus vault once: the chunk vectors and every query's evidence and shipped top 10."""
    retrieval = _retrieval()
    from archive.login import open_session
    from archive.search import _embedder, _fuse, _keyword_plan
    from indexer import fts, hybrid

    assert (hybrid.KEYWORD_WEIGHT, hybrid.KEYWORD_POWER, hybrid.POOL) == (KEYWORD_WEIGHT, KEYWORD_POWER, POOL)
    assert (hybrid.PRF_RECORDS, hybrid.PRF_WEIGHT, hybrid.CENTROID_WEIGHT, hybrid.SECOND_LOOK_BELOW) == (
        PRF_RECORDS, PRF_WEIGHT, CENTROID_WEIGHT, SECOND_LOOK_BELOW)
    assert (hybrid.KEEP_COVERAGE, hybrid.KEEP_WITHIN) == (KEEP_COVERAGE, KEEP_WITHIN)
    notes = retrieval.load_notes()
    queries = retrieval.description_queries(notes, 500, 4) + retrieval.paraphrase_queries(notes)
    session = open_session(vault, "bench", retrieval.TECH_PASS)
    try:
        rows = session.db.execute("SELECT n, filename FROM records").fetchall()
        note_of = {int(n): int(name[4:9]) for n, name in rows}
        embedder = _embedder(session)
        records = session.store.records
        vm = records.vectors(embedder.model_id, embedder.dim)
        from indexer import second_vectors
        from indexer.embedder2 import second_embedder

        second = second_embedder(threads=2)
        rows2 = (second_vectors.vectors_of(session.db, np.asarray(vm.chunk_id), second.model_id, second.dim)
                 if second is not None else None)
        print("second vectors:", "none (the pair-* variants cannot run)" if rows2 is None else f"{len(rows2)} rows",
              flush=True)
        corpus = Corpus(vm.rows(np.arange(vm.size)).astype(np.float32), np.asarray(vm.records).copy(),
                        np.asarray(vm.starts).copy(), rows2)
        row_of = {int(n): i for i, n in enumerate(corpus.records)}
        out = []
        for query in queries:
            parsed = hybrid.expand(query.text)
            plan = _keyword_plan(records, parsed)
            every = records.keyword_scores(plan.match, fts.Filters()) if plan.match else hybrid.KeywordScores.empty()
            text = parsed.embedding_text(lay=True, senses=plan.senses)
            vector = embedder.embed_query(text)
            bm25 = np.zeros(len(corpus.records))
            for n, s in zip(every.records, every.scores, strict=True):
                bm25[row_of[int(n)]] = s
            coverage = np.minimum(1.0, bm25 / plan.attainable) if plan.attainable > 0 else np.zeros_like(bm25)
            ranking = vm.ranking(vector)
            fused = _fuse(ranking.scores_for, ranking.top(POOL, None), plan, every, POOL, vm=vm, second_look=vector)
            forms = {how: embedder.embed_query(form_text(parsed, plan.senses, how))
                     for how in ("replace", "all", "tail")}
            out.append(QueryData(
                query.kind, query.text,
                np.array([row_of[n] for n, i in note_of.items() if i in query.relevant and n in row_of]),
                vector, embedder.embed_query(query.text), coverage, bm25, forms,
                [row_of[r.n] for r in fused[:10]],
                second.embed_query(text) if rows2 is not None and second is not None else None,
            ))
        return corpus, out
    finally:
        session.close()


def icd_titles(vault: Path) -> np.ndarray:
    """The embedded titles of the ICD-10-CM categories and subcategories (the shipped code set)."""
    retrieval = _retrieval()
    from archive.login import open_session
    from archive.search import _embedder
    from indexer.icd10 import iter_code_set

    titles = list(dict.fromkeys(r.description for r in iter_code_set() if r.kind in ("category", "subcategory")))
    session = open_session(vault, "bench", retrieval.TECH_PASS)
    try:
        return np.asarray(_embedder(session).embed_documents(titles), dtype=np.float32)
    finally:
        session.close()


def recall_by_set(c: Corpus, data: list[QueryData], p: dict[str, Any], icd: np.ndarray | None) -> dict[str, list[bool]]:
    out: dict[str, list[bool]] = {}
    for q in data:
        top = rank(c, q, p, icd)[:10]
        out.setdefault(q.kind, []).append(bool(np.isin(top, q.relevant).any()))
    return out


def leave_one_set_out(c: Corpus, data: list[QueryData], names: list[str], kinds: list[str],
                      icd: np.ndarray | None) -> None:
    """For each set held out, the variant of `names` (the first: the baseline) chosen on the other sets by session
    12's ship rule (no set loses more than one query against the baseline, the 500 descriptions none; then the
    most hits), and its hits on the held-out set."""
    res = {name: recall_by_set(c, data, VARIANTS[name], icd) for name in names}
    base = names[0]
    print("\nleave-one-set-out (chosen on the other sets; hits on the held-out one, baseline -> chosen):")
    for out in kinds:
        def eligible(name: str, out: str = out) -> bool:
            for k in kinds:
                if k == out:
                    continue
                loss = sum(res[base][k]) - sum(res[name][k])
                if loss > (0 if k == "description" else 1):
                    return False
            return True

        ok = [n for n in names if eligible(n)]
        chosen = max(ok, key=lambda n: (sum(sum(res[n][k]) for k in kinds if k != out), n == base))
        print(f"  {out}: {chosen}: {sum(res[base][out])} -> {sum(res[chosen][out])} of {len(res[base][out])}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vault", required=True, help="bench/retrieval.py's corpus vault (its --reuse-vault DIR)")
    ap.add_argument("--cache", help="keep what was read from the vault in this file and reuse it")
    ap.add_argument("--icd", action="store_true", help="also the ICD-10-CM title variant (embeds 46k titles)")
    ap.add_argument("--only", help="comma-separated variant names (default: all)")
    ap.add_argument("--loso", help="comma-separated variants, the first the baseline: chosen leave-one-set-out")
    args = ap.parse_args(argv)
    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.exists():
        corpus, data = pickle.loads(cache.read_bytes())
    else:
        t = time.perf_counter()
        corpus, data = collect(Path(args.vault))
        print(f"read {len(data)} queries from {args.vault} in {time.perf_counter() - t:.0f} s", flush=True)
        if cache is not None:
            cache.write_bytes(pickle.dumps((corpus, data)))
    same = sum(list(rank(corpus, q, {})[:10]) == q.shipped for q in data)
    print(f"the grid's 'shipped' variant reproduces the shipped ranking on {same}/{len(data)} queries (top 10)")
    icd = icd_titles(Path(args.vault)) if args.icd else None
    names = args.only.split(",") if args.only else [n for n in VARIANTS if n != "icd-0.2" or icd is not None]
    kinds = list(dict.fromkeys(q.kind for q in data))
    para = [k for k in kinds if k.startswith("paraphrase-")]
    print("| variant | paraphrase pooled | " + " | ".join(k.replace("paraphrase-", "") for k in kinds) + " |")
    print("|---" * (len(kinds) + 2) + "|")
    for name in names:
        res = recall_by_set(corpus, data, VARIANTS[name], icd)
        pooled = [h for k in para for h in res[k]]
        cells = " | ".join(str(sum(res[k])) for k in kinds)
        print(f"| {name} | {sum(pooled)}/{len(pooled)} ({sum(pooled) / len(pooled):.3f}) | {cells} |", flush=True)
    if args.loso:
        leave_one_set_out(corpus, data, args.loso.split(","), kinds, icd)
    print("(hits in the top 10 by set; set sizes: " + ", ".join(f"{k} {sum(q.kind == k for q in data)}" for k in kinds)
          + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
