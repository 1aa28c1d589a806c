"""Search by meaning: semantic and hybrid modes, and similar cases.

`search` runs one query in mode "fts" (BM25 over the words, as typed),
"semantic" (cosine of the query's embedding to each record's best chunk) or
"hybrid" (both, fused on absolute scales; see indexer.hybrid). With no mode
it uses hybrid once any record is embedded, else full text. When the model
is still loading and the caller cannot wait (the TUI), it answers with full
text and says so (`SearchResult.note`).

Every search is one audit entry (query text, mode, hits) like full-text
search, and hits the user may not see are dropped (`Session.may_see_record`).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archive.errors import BadInput, NotFound, UserError
from archive.policy import Action
from archive.records import SearchHit, search_records

if TYPE_CHECKING:
    from archive.session import Session
    from indexer.hybrid import KeywordPlan, KeywordScores, ParsedQuery

MODES = ("fts", "semantic", "hybrid")
SNIPPET_CHARS = 220
# Semantic scores never reach zero, so every record "matches" a query by meaning. Hits whose cosine
# is far below the best hit's (and that do not hold most of the query's words) are left out, so a
# query about one rare thing lists the records about it, not the whole archive.
COSINE_MARGIN = 0.25
MIN_COSINE = 0.2  # below this the model sees no relation (all-MiniLM-L6-v2: unrelated texts score ~0-0.15)
STRONG_KEYWORDS = 0.5


@dataclass
class SearchResult:
    query: str
    mode: str  # the mode that produced the hits
    hits: list[SearchHit] = field(default_factory=list)
    note: str | None = None  # e.g. "the model is loading: full-text results"
    requested: str | None = None

    def to_json(self) -> list[dict[str, Any]]:
        return [h.to_json() for h in self.hits]


def default_mode(session: Session) -> str:
    """hybrid once any record is embedded, else fts."""
    from archive.embedding import has_embeddings

    return "hybrid" if has_embeddings(session.db) else "fts"


def search(
    session: Session,
    query: str,
    *,
    mode: str | None = None,
    patient: str | None = None,
    doc_type: str | None = None,
    author: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    limit: int = 20,
    mark: tuple[str, str] = ("**", "**"),
    wait_for_model: bool = True,
    as_you_type: bool = False,
) -> SearchResult:
    """Search the records in `mode` (fts, semantic, hybrid; None = the default). See module doc.

    `wait_for_model=False` (the TUI) answers with full text while the model loads;
    `as_you_type` treats the last word of a full-text query as a prefix.
    """
    if mode is not None and mode not in MODES:
        raise BadInput(f"Unknown search mode '{mode}'.", f"Use one of: {', '.join(MODES)}.")
    if limit < 1:
        raise BadInput("--limit must be at least 1.", "For example --limit 20.")
    requested = mode
    mode = mode or default_mode(session)
    filters: dict[str, Any] = dict(
        patient=patient, doc_type=doc_type, author=author, date_from=date_from, date_to=date_to
    )
    if as_you_type:
        filters["as_you_type"] = True
    if mode == "fts":
        hits = search_records(session, query, limit=limit, mark=mark, **filters)
        return SearchResult(query, "fts", hits, requested=requested)

    from archive.embedding import get_embedder, has_embeddings, wait_until_ready

    session.require(Action.SEARCH, patient=patient)
    if not query.strip():
        raise BadInput("There is nothing to search for.", "Type a few words describing what you look for.")
    if not has_embeddings(session.db):
        if requested is None:
            hits = search_records(session, query, limit=limit, mark=mark, **filters)
            return SearchResult(query, "fts", hits, requested=requested)
        raise UserError(
            "No record is embedded for semantic search yet.",
            "Run 'chartvault reindex' (it embeds the backlog), or search with --mode fts.",
        )
    embedder = get_embedder(session.db)
    if not getattr(embedder, "ready", True):
        if not wait_for_model:
            hits = search_records(session, query, limit=limit, mark=mark, **filters)
            return SearchResult(query, "fts", hits, note="The model is loading: full-text results.", requested=mode)
        wait_until_ready(embedder)
    from indexer import fts, hybrid

    filters.pop("as_you_type", None)
    f = fts.Filters(**filters)
    parsed = hybrid.expand(query, as_you_type=as_you_type)
    raw = _semantic_hits(session.db, embedder, parsed, f, limit, mode)
    words = _query_words(query)
    if mode == "hybrid":  # the clinical forms that stood in for the query's everyday wording are marked too
        words += _query_words(" ".join(form for forms in parsed.lay.values() for form in forms))
    hits = _to_hits(session, raw, words, mark)[:limit]
    _audit(session, "search", query, mode, patient, f, hits)
    return SearchResult(query, mode, hits, requested=requested)


@dataclass
class _Raw:
    n: int
    score: float
    cosine: float | None
    coverage: float | None
    start: int = 0
    end: int = 0


def _semantic_hits(db: Any, embedder: Any, parsed: ParsedQuery, filters: Any, limit: int, mode: str) -> list[_Raw]:
    from indexer import hybrid, semantic

    vm = semantic.matrix_for(db, embedder.model_id, embedder.dim)
    mask = vm.mask_for(semantic.allowed_records(db, filters))
    plan = _keyword_plan(db, parsed) if mode == "hybrid" else None
    # FTS5 ranks the keyword side on the connection in a second thread while this one embeds the
    # query and scores the vectors (ONNX Runtime, numpy and SQLite all release the GIL); leaving the
    # block waits for it, so nothing else touches the connection meanwhile.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-keywords") as pool:
        keyword = pool.submit(hybrid.KeywordScores.of, db, plan.match, filters) if plan and plan.match else None
        qvec = embedder.embed_query(parsed.embedding_text(lay=plan is not None))
        scores = vm.record_scores(qvec)
        # Over-fetch: hits the user may not see are dropped afterwards.
        want = max(limit * 2, hybrid.POOL if mode == "hybrid" else limit * 2)
        vector_top = vm.top(scores, want, mask)
        every = keyword.result() if keyword else hybrid.KeywordScores.empty()
    if plan is None:
        out = [_Raw(n, s, s, None) for n, s in vector_top]
    else:
        out = _fuse(vm, scores, vector_top, plan, every, want)
    out = relevant(out)
    for raw in out[: limit * 2]:
        best = vm.best_chunk(qvec, raw.n)
        if best:
            raw.start, raw.end = best[1], best[2]
    return out[: limit * 2]


def relevant(ranked: list[_Raw]) -> list[_Raw]:
    """Drop hits far below the best by meaning that lack the query's words (see COSINE_MARGIN)."""
    cosines = [r.cosine for r in ranked if r.cosine is not None]
    if not cosines:
        return ranked
    floor = max(max(cosines) - COSINE_MARGIN, MIN_COSINE)
    return [
        r
        for r in ranked
        if (r.cosine is not None and r.cosine >= floor) or (r.coverage or 0.0) >= STRONG_KEYWORDS
        or (r.cosine is None and (r.coverage or 0.0) > 0)
    ]


def _keyword_plan(db: Any, parsed: ParsedQuery) -> KeywordPlan:
    from indexer import hybrid

    if parsed.structured:
        return hybrid.KeywordPlan(parsed.match(), 0.0, structured=True)
    total = int(db.execute("SELECT count(*) FROM records").fetchone()[0])
    return hybrid.plan_keywords(db, parsed, total)


def _fuse(
    vm: Any, scores: Any, vector_top: list[tuple[int, float]], plan: KeywordPlan, every: KeywordScores, want: int
) -> list[_Raw]:
    from indexer import hybrid

    keyword = every.top(hybrid.POOL)
    keyword.update(every.only([n for n, _ in vector_top if n not in keyword]))
    candidates = {n for n, _ in vector_top} | set(keyword)
    cosine = vm.scores_for(scores, sorted(candidates))
    attainable = plan.attainable
    if plan.structured and keyword:
        attainable = max(keyword.values())  # as typed: trust the user's syntax, scale to its best hit
    fused = hybrid.fuse(
        cosine,
        keyword,
        attainable,
        keyword_rank={n: i for i, n in enumerate(sorted(keyword, key=lambda k: -keyword[k]), start=1)},
        vector_rank={n: i for i, (n, _) in enumerate(vector_top, start=1)},
    )
    return [_Raw(f.n, f.score, f.cosine, f.coverage) for f in fused[:want]]


def _to_hits(session: Session, raw: list[_Raw], words: list[str], mark: tuple[str, str]) -> list[SearchHit]:
    """The hits the user may see, with snippets that mark `words` (by prefix)."""
    if not raw:
        return []
    from indexer import semantic

    db = session.db
    ns = [r.n for r in raw]
    marks = ", ".join("?" for _ in ns)
    rows = {
        int(r[0]): r
        for r in db.execute(
            f"SELECT n, id, filename, patient_mrn, date, doc_type, format, title FROM records WHERE n IN ({marks})", ns
        ).fetchall()
    }
    may_see = getattr(session, "may_see_record", None)
    hits: list[SearchHit] = []
    for r in raw:
        row = rows.get(r.n)
        if row is None:
            continue
        if may_see is not None and not may_see(row[1], row[3], Action.SEARCH):
            continue
        text = semantic.record_text(db, r.n)
        snippet = _snippet(text, r.start, r.end, words, mark)
        hit = SearchHit(
            record_id=row[1],
            filename=row[2],
            patient=row[3],
            date=row[4],
            type=row[5],
            score=round(float(r.score), 4),
            snippet=snippet,
            title=row[7],
            format=row[6],
        )
        hits.append(hit)
    return hits


def _query_words(query: str) -> list[str]:
    from indexer.query.stopwords import STOPWORDS

    return [w for w in re.findall(r"[A-Za-z0-9]{3,}", query.lower()) if w not in STOPWORDS]


def _snippet(text: str, start: int, end: int, words: list[str], mark: tuple[str, str]) -> str:
    """An excerpt of the best-matching chunk, query words (by prefix) marked."""
    chunk = text[start:end] if end > start else text
    chunk = re.sub(r"\s+", " ", chunk).strip()
    cut = chunk[:SNIPPET_CHARS]
    if len(chunk) > SNIPPET_CHARS:
        cut = cut.rsplit(" ", 1)[0] + "…"
    if start > 0:
        cut = "…" + cut
    if words:
        stems = sorted({w[:5] for w in words}, key=len, reverse=True)
        pattern = re.compile(r"\b(" + "|".join(re.escape(s) for s in stems) + r")\w*", re.I)
        cut = pattern.sub(lambda m: f"{mark[0]}{m.group(0)}{mark[1]}", cut)
    return cut


def _audit(
    session: Session, action: str, query: str, mode: str, patient: str | None, filters: Any, hits: list[SearchHit]
) -> None:
    from dataclasses import asdict

    details = {
        "query": query,
        "mode": mode,
        "filters": {k: v for k, v in asdict(filters).items() if v},
        "hits": len(hits),
        "records": [h.record_id for h in hits],
        "patients": sorted({h.patient for h in hits if h.patient}),
    }
    with session.transaction():
        session.audit(action, patient=patient, details=details)


# ---------------------------------------------------------------- similar cases


def similar_cases(
    session: Session, record_id: str, *, limit: int = 10, mark: tuple[str, str] = ("**", "**")
) -> SearchResult:
    """Records most similar in meaning to one record (its chunks against every record's chunks).

    Reading a record's neighbours tells something about the record itself, so
    the user must be allowed to see it (`require_record`, audited); the
    record is embedded on the spot if it is still in the backlog.
    """
    from archive.embedding import get_embedder, wait_until_ready
    from indexer import semantic

    if limit < 1:
        raise BadInput("--limit must be at least 1.", "For example --limit 10.")
    db = session.db
    row = db.execute("SELECT n, id, patient_mrn FROM records WHERE id = ?", [record_id.strip()]).fetchone()
    if row is None:
        raise NotFound(f"No record '{record_id}'.", "Find record ids with 'chartvault search QUERY'.")
    n, rid, patient = int(row[0]), str(row[1]), row[2]
    session.require(Action.SEARCH, patient=patient, record=rid)
    with session.transaction():
        session.require_record(Action.VIEW_RECORD, record=rid, patient=patient, details={"for": "similar"})
    embedder = get_embedder(db)
    wait_until_ready(embedder)
    if db.execute("SELECT 1 FROM embedded WHERE record_n = ? AND model = ?", [n, embedder.model_id]).fetchone() is None:
        semantic.embed_pending(db, embedder, only=[n])
    vm = semantic.matrix_for(db, embedder.model_id, embedder.dim)
    if not len(vm.record_vectors(n)):
        return SearchResult(rid, "similar", [], note="This record has no text to compare.")
    scores = vm.similar_scores(n)
    top = vm.top(scores, limit * 2, exclude=[n])
    mine = vm.record_vectors(n).mean(axis=0)
    raw = []
    for m, s in top:
        best = vm.best_chunk(mine, m)
        raw.append(_Raw(m, s, s, None, best[1] if best else 0, best[2] if best else 0))
    hits = _to_hits(session, raw, [], mark)[:limit]
    from indexer import fts

    _audit(session, "similar", rid, "similar", patient, fts.Filters(), hits)
    return SearchResult(rid, "similar", hits)
