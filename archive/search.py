"""The one search facade: full text, by meaning, hybrid, similar cases; filters and policy applied once.

The CLI, the TUI and the assistant all search through here.

`search` runs one query in mode "fts" (BM25 over the words, as typed),
"semantic" (cosine of the query's embedding to each record's best chunk) or
"hybrid" (both, fused on absolute scales; see indexer.hybrid). With no mode
it uses hybrid once any record is embedded, else full text. When the mode
by meaning cannot answer yet (the model is loading, or no record is embedded)
and the caller cannot wait (the TUI), it answers with full text and says why
as data (`SearchResult.fallback`: a reason code and the backlog), so that each
edge words the remedy its own user has; a caller that can wait (the CLI) gets
`NotEmbedded` when no record is embedded. `search_records` is full text alone
(with how many matched: `search_records_page`); `similar_cases` lists the
records closest in meaning to one record (those at least `similar_floor`
similar), optionally fused with the words it is about; `words_first` is the assistant's full-text cascade.
Each hit of a query carries what its record says of the query where it mentions it (`SearchHit.assertion`:
affirmed, negated, possible, hypothetical, historical, family; indexer.assertion, labelled on the hits only,
by lookup in each record's assertion map stored at import); `positive=True` keeps the records with an
affirmed or historical mention, in every mode.

Policy: the role is checked once per search (`session.require`), and each
hit's record once (`Visibility`: hits the user may not see are dropped). The
assistant makes one Visibility per answer, after its own role check, and
passes it in, so one answer decides each record once. Every search is one
audit entry (query text, mode, hits); the assistant's full-text cascade is
audited as part of its question. Query text is kept only in that audit log,
inside the encrypted index, never in a file. The SQL lives in `archive.store`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from archive.errors import BadInput, NotFound, UserError
from archive.plural import counted, plural
from archive.policy import Action
from indexer import fts

if TYPE_CHECKING:
    from archive.session import Session
    from archive.store.records import RecordsRepo
    from indexer.embedder import Embedder
    from indexer.hybrid import KeywordPlan, KeywordScores, ParsedQuery
    from indexer.vectors import VectorMatrix

MODES = ("fts", "semantic", "hybrid")
SNIPPET_CHARS = 220
# Semantic scores never reach zero, so every record "matches" a query by meaning. Hits whose cosine
# is far below the best hit's (and that do not hold most of the query's words) are left out, so a
# query about one rare thing lists the records about it, not the whole archive.
COSINE_MARGIN = 0.25
MIN_COSINE = 0.2  # below this the model sees no relation (all-MiniLM-L6-v2: unrelated texts score ~0-0.15)
STRONG_KEYWORDS = 0.5
# Similar cases less similar than this are not listed (the score: mean best-passage cosine). Chosen by
# bench/similar_floor.py on 72 MTSamples notes of 12 specialties (bench/RESULTS.md): with
# all-MiniLM-L6-v2, 99% of the pairs of notes of different specialties score below 0.55 (max 0.63),
# and 64% of the pairs kept at 0.55 are of one specialty (7% of all pairs are). The tests' fake
# (hashed words) knows only shared words: short notes sharing no content word score below 0.2.
SIMILAR_FLOOR = {"all-MiniLM-L6-v2": 0.55, "fake-hash-64": 0.2}
SIMILAR_FLOOR_OTHER = 0.55  # another model: the default model's floor until measured
# A search by meaning always lists something. A hit that scores below this floor (per model and mode: the
# hybrid score is cosine + keyword bonus, semantic the cosine) and does not hold every word of the query is
# weak (`SearchHit.weak`): after one good match, the unrelated closest ones (`_weak_marked`). When every hit
# is, no record matches well: the result says so (`SearchResult.weak`) and lists only the WEAK_SHOWN
# closest. Calibrated (on the best hit) by
# bench/weak_floor.py on one MTSamples corpus and reported on another (bench/RESULTS.md).
WEAK_FLOOR = {
    ("all-MiniLM-L6-v2", "hybrid"): 0.45,
    ("all-MiniLM-L6-v2", "semantic"): 0.47,
    ("fake-hash-64", "hybrid"): 0.27,  # the tests' fake (hashed words): a query sharing no word scores lower
    ("fake-hash-64", "semantic"): 0.27,
}
WEAK_SHOWN = 5

# Why a search answered with full text instead of the mode by meaning (`Fallback.reason`).
MODEL_LOADING = "model_loading"  # the embedding model is still loading
NOT_EMBEDDED = "not_embedded"  # no record is embedded yet (the backlog is being embedded, or waits)


class NotEmbedded(UserError):
    """Search by meaning was asked for, but no record is embedded yet; `backlog` records wait."""

    def __init__(self, backlog: int) -> None:
        self.backlog = backlog
        waiting = f"{counted(backlog, 'record')} {plural(backlog, 'waits', 'wait')}"
        super().__init__("No record is embedded for semantic search yet.", f"{waiting} to be embedded.")


@dataclass(frozen=True)
class SearchHit:
    record_id: str
    filename: str
    patient: str | None
    date: str | None
    type: str | None
    score: float
    snippet: str  # matched terms wrapped in ** **
    title: str | None = None
    format: str | None = None
    # What the record says of the query's concepts where it mentions them (indexer.assertion): affirmed,
    # negated, possible, hypothetical, historical or family; None when no word of the query is in the text.
    assertion: str | None = None
    mention: str | None = None  # the mention itself, as written
    fuzzy: bool = False  # found by a near spelling of a query word (OCR errors), ranked below exact matches
    # By meaning: this hit's evidence (`_Raw.evidence`) is under the weak floor (WEAK_FLOOR) and it does not hold
    # every word of the query: listed because it is among the closest, not because it matches (full text and
    # similar cases: never).
    weak: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "filename": self.filename,
            "patient": self.patient,
            "date": self.date,
            "type": self.type,
            "score": self.score,
            "snippet": self.snippet,
            "title": self.title,
            "format": self.format,
            "assertion": self.assertion,
            "mention": self.mention,
            "fuzzy": self.fuzzy,
            "weak": self.weak,
        }


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int  # records matching (at least this many when `more`)
    more: bool = False
    pool: int | None = None  # broad query: ranked among this many most recently imported matches
    fuzzy: int = 0  # of `hits`, found by a near spelling only (not counted in `total`)

    def note(self) -> str:
        """One line for people about how many matched and how they were ranked."""
        total = f"more than {self.total:,}" if self.more else f"{self.total:,}"
        text = f"{total} " + ("record matches" if self.total == 1 and not self.more else "records match")
        if self.fuzzy:
            text += f", and {self.fuzzy:,} by a near spelling (marked ~, listed after)"
        if self.pool:
            text += f"; the {self.pool:,} most recently imported were ranked (add words or filters to narrow)"
        return text + "."


class Visibility:
    """Which records one user may see for one purpose (`action`), each record decided once.

    Made once the role check of `action` has passed (`Visibility.required`, or the
    assistant's own check): one per search, or one per assistant answer, shared by
    everything the answer retrieves and quotes.
    """

    def __init__(self, session: Session, action: Action) -> None:
        self.session = session
        self.action = action
        self._decided: dict[str, bool] = {}
        self._within: tuple[tuple[int, ...] | None] | None = None

    @classmethod
    def required(
        cls, session: Session, action: Action = Action.SEARCH, patient: str | None = None, record: str | None = None
    ) -> Visibility:
        """The role check (AccessDenied, audited, when it fails), then the per-record filter."""
        session.require(action, patient=patient, record=record)
        return cls(session, action)

    def allows(self, record_id: str, patient: str | None) -> bool:
        if record_id not in self._decided:
            self._decided[record_id] = self.session.may_see_record(record_id, patient, self.action)
        return self._decided[record_id]

    def within(self) -> tuple[int, ...] | None:
        """records.n this user may be shown, when the policy shows them only some (None: every record alike):
        what a search ranks among, so that a physician who sees a few patients of a large archive gets a full
        page of their own patients' hits, not the few left of a page ranked over everyone's. Read once."""
        if self._within is None:
            self._within = (self.session.visible_records(self.action),)
        return self._within[0]

    def narrowed(self, filters: fts.Filters) -> fts.Filters:
        """`filters` with the records this user may be shown (`within`): a search's candidates."""
        within = self.within()
        return filters if within is None else replace(filters, within=within)


@dataclass(frozen=True)
class Fallback:
    """Why the hits are full-text ones when a mode by meaning was wanted: data, not words, so that the
    CLI and the TUI each say what their own user can do about it."""

    reason: str  # MODEL_LOADING or NOT_EMBEDDED
    wanted: str  # the mode that could not answer: semantic or hybrid
    backlog: int  # records waiting to be embedded
    chosen: bool  # the user chose `wanted` (False: it was the default mode)


@dataclass
class SearchResult:
    query: str
    mode: str  # the mode that produced the hits: fts, semantic, hybrid, similar
    hits: list[SearchHit] = field(default_factory=list)
    note: str | None = None  # e.g. "This record has no text to compare."
    requested: str | None = None
    fallback: Fallback | None = None  # full text stood in for `fallback.wanted`, and why
    floor: float | None = None  # similar cases: the similarity a record needed to be listed
    weak: bool = False  # every hit is weak (SearchHit.weak): these are only the closest (see WEAK_FLOOR)
    # the floor the best hit was held to (modes by meaning): its score before hybrid's second look (`_Raw.evidence`),
    # which may be below the score it shows (the order's, after the second look)
    weak_floor: float | None = None

    def to_json(self) -> list[dict[str, Any]]:
        return [h.to_json() for h in self.hits]


def semantic_ready(session: Session) -> bool:
    """Whether any record is embedded (search by meaning can answer)."""
    from archive.embedding import has_embeddings

    return has_embeddings(session)


def _embedder(session: Session) -> Embedder:
    from archive.embedding import get_embedder

    return get_embedder(session)


def _second_embedder(session: Session) -> Any:
    """The second embedder for a query (one thread), or None (archive.embedding.second_embedder)."""
    from archive.embedding import second_embedder

    return second_embedder(session, threads=1)


def default_mode(session: Session) -> str:
    """hybrid once any record is embedded, else fts."""
    return "hybrid" if semantic_ready(session) else "fts"


# ---------------------------------------------------------------- full text


def search_records(
    session: Session,
    query: str,
    *,
    patient: str | None = None,
    doc_type: str | None = None,
    author: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    limit: int = 20,
    mark: tuple[str, str] = ("**", "**"),
    as_you_type: bool = False,
    visible: Visibility | None = None,
    patients: tuple[str, ...] | None = None,
    positive: bool = False,
) -> list[SearchHit]:
    """Full-text search (BM25, snippets). BadQuery with a suggestion when the query is malformed.

    `as_you_type`: the query is still being typed (the TUI): its last word is a prefix.
    `positive`: only records that affirm the query (see `Labeller`).
    """
    return search_records_page(
        session, query, patient=patient, doc_type=doc_type, author=author, date_from=date_from,
        date_to=date_to, limit=limit, mark=mark, as_you_type=as_you_type, visible=visible, patients=patients,
        positive=positive,
    ).hits


def search_records_page(
    session: Session,
    query: str,
    *,
    patient: str | None = None,
    doc_type: str | None = None,
    author: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    limit: int = 20,
    mark: tuple[str, str] = ("**", "**"),
    as_you_type: bool = False,
    visible: Visibility | None = None,
    patients: tuple[str, ...] | None = None,
    positive: bool = False,
) -> SearchPage:
    """`search_records`, with how many records matched and how the hits were ranked."""
    visible = visible or Visibility.required(session, Action.SEARCH, patient)
    if limit < 1:
        raise BadInput("--limit must be at least 1.", "For example --limit 20.")
    chosen = fts.Filters(patient=patient, doc_type=doc_type, author=author, date_from=date_from, date_to=date_to,
                         patients=patients)
    filters = visible.narrowed(chosen)  # ranked among the records this user may see
    fetch = min(POSITIVE_POOL, max(limit * 5, 100)) if positive else limit
    page = session.store.records.full_text_page(fts.live_query(query) if as_you_type else query, filters, fetch)
    label = Labeller(session, query, positive)
    hits: list[SearchHit] = []
    allowed = [h for h in page.hits if visible.allows(h.record_id, h.patient)]
    step = max(limit, 10)
    for k in range(0, len(allowed), step):  # the texts of a batch of hits in one read, as many batches as needed
        if len(hits) >= limit:
            break
        batch = allowed[k : k + step]
        texts = session.store.records.indexed_texts([h.n for h in batch])
        label.read_maps(texts)
        for h in batch:
            if len(hits) >= limit:
                break
            hit = label(h.n, _fts_hit(h, mark), texts.get(h.n, ""))
            if hit is not None:
                hits.append(hit)
    fuzzy = 0
    if len(hits) < limit and page.total < limit:  # as you type too: a word being typed has no near spelling
        floor = min((h.score for h in hits), default=None)
        more = _near_spelling_hits(session, query, filters, fetch, visible, label, mark,
                                   {h.record_id for h in hits}, floor)
        fuzzy = len(more[: limit - len(hits)])
        hits += more[:fuzzy]
    details: dict[str, Any] = {
        "query": query,
        "filters": chosen.chosen(),
        "hits": len(hits),
        "matches": page.total,
        "records": [h.record_id for h in hits],
        "patients": sorted({h.patient for h in hits if h.patient}),
    }
    if positive:
        details["positive"] = True
    if fuzzy:
        details["fuzzy"] = fuzzy
    with session.transaction():
        session.audit("search", patient=patient, details=details)
    if positive:  # how many of all matches affirm the query is not known without reading them all
        return SearchPage(hits=hits, total=len(hits) - fuzzy, more=len(hits) >= limit, fuzzy=fuzzy)
    return SearchPage(hits=hits, total=page.total, more=page.more, pool=page.pool, fuzzy=fuzzy)


_PLAIN_WORD = re.compile(r"[A-Za-z0-9]+")


def near_spelling_query(records: RecordsRepo, query: str) -> str | None:
    """The query with each plain word of FUZZY_MIN_LETTERS or more widened to its near spellings in the
    index: "cimetidine 400" -> '(cimetidine OR "cimeti2in") 400'. None when the query is not plain words
    (phrases, operators, prefixes, columns are searched as written) or no word has a near spelling."""
    words = query.split()
    if not words or len(words) > 8 or any(not _PLAIN_WORD.fullmatch(w) or w in ("AND", "OR", "NOT") for w in words):
        return None
    parts, widened = [], False
    for word in words:
        near = records.near_terms(word)
        widened = widened or bool(near)
        parts.append("(" + " OR ".join([word, *(f'"{t}"' for t in near)]) + ")" if near else word)
    return " ".join(parts) if widened else None


def _near_spelling_hits(
    session: Session, query: str, filters: fts.Filters, fetch: int, visible: Visibility, label: Labeller,
    mark: tuple[str, str], seen: set[str], floor: float | None, found: list[fts.FtsHit] | None = None,
) -> list[SearchHit]:
    """Few exact matches: the records (other than `seen`) found by near spellings of the query's words (OCR
    text reads "Cimeti2ine"), marked fuzzy and scored below `floor` (the lowest exact hit's score); `found`:
    those records as `_near_spelling_matches` gave them already (else they are looked up here)."""
    if found is None:
        found = _near_spelling_matches(session.store.records, query, filters, fetch)
    out = []
    for h in found:
        if h.record_id in seen or not visible.allows(h.record_id, h.patient):
            continue
        score = round(h.score / 2, 4) if floor is None else round(min(h.score / 2, floor - 0.01), 4)
        hit = label(h.n, replace(_fts_hit(h, mark, score), fuzzy=True))
        if hit is not None:
            out.append(hit)
    return out


def _near_spelling_matches(records: RecordsRepo, query: str, filters: fts.Filters, fetch: int) -> list[fts.FtsHit]:
    """The full-text matches (at most `fetch`) of the query widened to its words' near spellings (none when no
    word has one)."""
    widened = near_spelling_query(records, query)
    return [] if widened is None else records.full_text_page(widened, filters, fetch).hits


# `positive`: the most full-text matches read to find `limit` that affirm the query.
POSITIVE_POOL = 500


class Labeller:
    """Gives each hit the assertion of its mention of the query's concepts (indexer.mentions) and, when
    `positive`, drops hits with no affirmed or historical mention (a record that only denies, doubts,
    plans for or attributes to a relative what was asked). Labelled on the hits only, from each record's
    assertion map stored at import (indexer.assertion_map); a record without one is labelled from its text."""

    def __init__(self, session: Session, query: str, positive: bool) -> None:
        from indexer import hybrid

        self.records = session.store.records
        self.concepts = hybrid.expand(query).concepts
        self.positive = positive
        self.maps: dict[int, Any] = {}

    def read_maps(self, texts: dict[int, str]) -> None:
        """Read the assertion maps of these hits (`records.n` -> indexed text) in one query."""
        if self.concepts:
            self.maps.update(self.records.assertion_maps({n: t for n, t in texts.items() if n not in self.maps}))

    def __call__(self, n: int, hit: SearchHit, text: str | None = None) -> SearchHit | None:
        """`hit` (record `n`) labelled, or None when `positive` drops it; `text`: the record's indexed text
        when the caller has read it already (and its map with `read_maps`)."""
        if text is None:
            text = self.records.indexed_text(n)
            self.read_maps({n: text})
        positive, shown = _labelled(text, tuple(self.concepts), self.maps.get(n))
        if self.positive and not positive:
            return None
        if shown is None:
            return hit
        return replace(hit, assertion=shown[0], mention=shown[1])


def forget_cached_text() -> None:
    """Drop the record text the labelling cache holds in memory (called when a session locks or ends)."""
    _labelled.cache_clear()


@lru_cache(maxsize=512)
def _labelled(text: str, concepts: tuple[Any, ...], amap: Any = None) -> tuple[bool, tuple[str, str] | None]:
    """Whether `text` has a positive mention of `concepts`, and the (label, words) of the mention a hit shows.
    Cached by the text itself, not the record number: a record whose text changes is labelled again, and the
    same hits of a query typed on or run again (as you type, --positive after a plain search) cost nothing.
    `amap`: the text's stored assertion map (checked against the text when read), else None."""
    from indexer.mentions import mentions, shown

    found = mentions(text, list(concepts), until_positive=True, amap=amap)
    first = shown(found)
    words = None if first is None else (first.label, " ".join(text[first.start : first.end].split()))
    return any(m.positive for m in found), words


def _fts_hit(h: fts.FtsHit, mark: tuple[str, str], score: float | None = None) -> SearchHit:
    return SearchHit(
        record_id=h.record_id,
        filename=h.filename,
        patient=h.patient,
        date=h.date,
        type=h.doc_type,
        score=h.score if score is None else score,
        snippet=fts.mark(h.snippet, *mark),
        title=h.title,
        format=h.format,
    )


_WORD = re.compile(r"[A-Za-z0-9]+")


def _term(word: str) -> str:
    """A word, or (word OR "its expansion") for a known abbreviation."""
    from indexer.query.abbreviations import dominant_senses as abbreviations

    sense = abbreviations().get(word.lower())
    if sense and len(word) <= 6 and sense.lower() != word.lower():
        phrase = " ".join(_WORD.findall(sense))
        return f'({word} OR "{phrase}")' if phrase else word
    return word


def cascade(topic: str) -> list[str]:
    """The full-text queries for a topic, strictest first: the phrase, all words, any word."""
    words = _WORD.findall(topic)[:24]
    if not words:
        return []
    out = []
    if len(words) > 1:
        out.append('"' + " ".join(words) + '"')
    out.append(" ".join(_term(w) for w in words))
    if len(words) > 1:
        out.append(" OR ".join(_term(w) for w in words))
    return out


def words_first(
    session: Session, topic: str, filters: fts.Filters, limit: int, visible: Visibility, *, any_word: bool = True
) -> list[SearchHit]:
    """Records with the topic's phrase, then all its words, then (`any_word`) any of them, until `limit` are found.

    For the assistant (its question is the audit entry, its role already checked):
    a query the index cannot parse is skipped; earlier queries rank first, BM25
    within one; hits the user may not see are dropped at the end.
    """
    queries = cascade(topic)
    if not any_word:
        queries = queries[:2]
    seen: dict[str, SearchHit] = {}
    for rank, query in enumerate(queries):
        try:
            found = session.store.records.full_text(query, filters, limit)
        except fts.BadQuery:
            continue
        for h in found:
            if h.record_id not in seen:
                seen[h.record_id] = _fts_hit(h, ("", ""), h.score - 1000 * rank)
        if len(seen) >= limit:
            break
    ranked = sorted(seen.values(), key=lambda h: -h.score)
    return [h for h in ranked if visible.allows(h.record_id, h.patient)]


# ---------------------------------------------------------------- by meaning


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
    visible: Visibility | None = None,
    patients: tuple[str, ...] | list[str] | None = None,
    positive: bool = False,
) -> SearchResult:
    """Search the records in `mode` (fts, semantic, hybrid; None = the default). See module doc.

    `wait_for_model=False` (the TUI) answers with full text while the model loads;
    `as_you_type` treats the last word of a full-text query as a prefix; `visible`:
    the caller's per-record filter (its role already checked), else the user's right to search;
    `patients`: only these patients' records (a patient list). By meaning, each hit under the relevance
    floor that does not hold every word of the query is marked `weak` (`SearchHit.weak`), and a result all
    of whose hits are is `weak` (only the closest few are listed).
    `positive`: only records with an affirmed (or historical) mention of the query, in every mode.
    Each hit carries the assertion of its mention (`SearchHit.assertion`).
    """
    if mode is not None and mode not in MODES:
        raise BadInput(f"Unknown search mode '{mode}'.", f"Use one of: {', '.join(MODES)}.")
    if limit < 1:
        raise BadInput("--limit must be at least 1.", "For example --limit 20.")
    requested = mode
    mode = mode or default_mode(session)
    filters: dict[str, Any] = dict(
        patient=patient, doc_type=doc_type, author=author, date_from=date_from, date_to=date_to,
        patients=None if patients is None else tuple(patients),
    )
    if mode == "fts":
        page = search_records_page(session, query, limit=limit, mark=mark, as_you_type=as_you_type,
                                   visible=visible, positive=positive, **filters)
        note = f"{counted(page.fuzzy, 'hit')} by a near spelling, after the exact matches." if page.fuzzy else None
        return SearchResult(query, "fts", page.hits, note=note, requested=requested)

    from archive.embedding import wait_until_ready

    visible = visible or Visibility.required(session, Action.SEARCH, patient)
    if not query.strip():
        raise BadInput("There is nothing to search for.", "Type a few words describing what you look for.")
    if not semantic_ready(session):
        if requested is None:
            hits = search_records(session, query, limit=limit, mark=mark, as_you_type=as_you_type, visible=visible,
                                  positive=positive, **filters)
            return SearchResult(query, "fts", hits, requested=requested)
        if wait_for_model:
            raise NotEmbedded(_backlog(session))
        hits = search_records(session, query, limit=limit, mark=mark, as_you_type=as_you_type, visible=visible,
                              positive=positive, **filters)
        fallback = Fallback(NOT_EMBEDDED, mode, _backlog(session), chosen=True)
        return SearchResult(query, "fts", hits, requested=requested, fallback=fallback)
    embedder = _embedder(session)
    if not getattr(embedder, "ready", True):
        if not wait_for_model:
            hits = search_records(session, query, limit=limit, mark=mark, as_you_type=as_you_type, visible=visible,
                                  positive=positive, **filters)
            fallback = Fallback(MODEL_LOADING, mode, _backlog(session), chosen=requested is not None)
            return SearchResult(query, "fts", hits, requested=requested, fallback=fallback)
        wait_until_ready(embedder)
    from indexer import hybrid

    f = fts.Filters(**filters)
    among = visible.narrowed(f)  # the candidates: the records this user may see (each hit still checked)
    parsed = hybrid.expand(query, as_you_type=as_you_type)
    second = _second_embedder(session) if mode == "hybrid" else None
    raw, holding, near_found = _semantic_hits(session.store.records, embedder, parsed, among,
                                              limit * 3 if positive else limit, mode, exact=(query, limit),
                                              second=second)
    words = _query_words(query)
    if mode == "hybrid":  # the clinical forms that stood in for the query's everyday wording are marked too
        words += _query_words(" ".join(form for forms in parsed.lay.values() for form in forms))
    label = Labeller(session, query, positive)
    kept = _to_hits(session, visible, raw, words, mark, label, limit)
    floor = weak_floor(embedder.model_id, mode)
    hits, weak = _weak_marked(session.store.records, query, kept, floor, holding, limit)
    if weak:
        hits = hits[:WEAK_SHOWN]
    note = None
    near = _near_spellings_by_meaning(session, query, among, visible, label, mark, limit, holding, near_found)
    if near and mode == "hybrid":
        if weak:  # nothing passed the floor: the near spellings listed beside the closest are weak matches too
            near = [replace(h, weak=True) for h in near]
        hits = _place_near_spellings(hits, near, holding or set(), limit)
        listed = sum(h.fuzzy for h in hits)
        note = f"{counted(listed, 'hit')} by a near spelling, after the records holding the words." if listed \
            else None
    elif unlisted := [h for h in near if h.record_id not in {k.record_id for k in hits}]:
        n = len(unlisted)
        note = (f"Semantic mode ranks by meaning and does not look up near spellings (OCR misreadings): "
                f"{counted(n, 'more record')} {'holds' if n == 1 else 'hold'} a near spelling "
                f"of the query's words; --mode hybrid or fts lists {'it' if n == 1 else 'them'}.")
    _audit(session, "search", query, mode, patient, f, hits, weak=weak, positive=positive,
           fuzzy=sum(h.fuzzy for h in hits))
    return SearchResult(query, mode, hits, note=note, requested=requested, weak=weak, weak_floor=floor)


def _weak_marked(
    records: RecordsRepo, query: str, kept: list[tuple[_Raw, SearchHit]], floor: float, holding: set[str] | None,
    limit: int,
) -> tuple[list[SearchHit], bool]:
    """The hits, each under the weak floor marked weak unless it holds every word of the query as typed (it is
    about what was asked, however far its passages are by meaning: a long FHIR bundle naming the condition among
    hundreds of facts); and whether every hit is weak (no hit passes: the result is weak). `holding`: the records
    the words' side found holding the words, all of them when fewer than `limit` (else they are looked up among
    the hits under the floor)."""
    below = [(r, h) for r, h in kept if float(r.evidence) < floor]
    if not below:
        return [h for _r, h in kept], False
    if holding is not None and len(holding) < limit:
        held = holding
    else:
        try:
            held = records.holding_among(query, [r.n for r, _h in below])
        except fts.BadQuery:  # not full-text syntax: no hit holds "the words as typed"
            held = set()
    marked = {h.record_id for _r, h in below if h.record_id not in held}
    hits = [replace(h, weak=True) if h.record_id in marked else h for _r, h in kept]
    return hits, len(marked) == len(kept)


def _near_spellings_by_meaning(
    session: Session, query: str, filters: fts.Filters, visible: Visibility, label: Labeller,
    mark: tuple[str, str], limit: int, holding: set[str] | None, found: list[fts.FtsHit] | None = None,
) -> list[SearchHit]:
    """The modes by meaning: when fewer than `limit` records hold the query's words exactly (`holding`, looked
    up beside the search: `_words_side`; None when the query is not valid full-text syntax, which a query by
    meaning need not be), the records found only by a near spelling of them (OCR text), as full text finds
    them (marked fuzzy; `found`: as the words' side looked them up, beside the search). Hybrid mode lists them;
    semantic mode says how many there are and where to look."""
    if holding is None or len(holding) >= limit:
        return []
    return _near_spelling_hits(session, query, filters, _near_fetch(limit), visible, label, mark, holding, None,
                               found)


def _near_fetch(limit: int) -> int:
    """How many near-spelling matches a search by meaning reads."""
    return max(limit * 2, 20)


def _place_near_spellings(hits: list[SearchHit], near: list[SearchHit], holding: set[str],
                          limit: int) -> list[SearchHit]:
    """Hybrid hits with the near-spelling ones right after the last hit that holds the query's words exactly
    (first when none does), scored between their neighbours; a record found both by meaning and by a near
    spelling is listed once, as a near spelling."""
    ids = {h.record_id for h in near}
    kept = [h for h in hits if h.record_id not in ids]
    exact = [i for i, h in enumerate(kept) if h.record_id in holding]
    at = exact[-1] + 1 if exact else 0
    upper = kept[at - 1].score if at > 0 else None
    lower = kept[at].score if at < len(kept) else None
    gap = 0.01 * (len(near) + 1)
    if upper is None:
        upper = (lower if lower is not None else 0.0) + gap
    if lower is None or lower >= upper:
        lower = upper - gap
    step = (upper - lower) / (len(near) + 1)
    placed = [replace(h, score=round(upper - step * (i + 1), 4)) for i, h in enumerate(near)]
    return (kept[:at] + placed + kept[at:])[:limit]


def weak_floor(model_id: str, mode: str) -> float:
    """The score the best hit of a search by meaning must reach to count as a good match (WEAK_FLOOR)."""
    return WEAK_FLOOR.get((model_id, mode), WEAK_FLOOR[("all-MiniLM-L6-v2", mode)])


def _backlog(session: Session) -> int:
    from archive.embedding import backlog

    return backlog(session)


@dataclass
class _Raw:
    n: int
    score: float
    cosine: float | None
    coverage: float | None
    start: int = 0
    end: int = 0
    # The score before hybrid's second look, which the weak-match floor is calibrated on: the second look
    # moves the query toward the best records themselves, so it would lift a weak best hit over the floor.
    first: float | None = None

    @property
    def evidence(self) -> float:
        """The score the weak floor judges: before the second look, when there was one (a hit shows `score`)."""
        return self.score if self.first is None else self.first


def _semantic_hits(
    records: RecordsRepo, embedder: Embedder, parsed: ParsedQuery, filters: fts.Filters, limit: int, mode: str,
    exact: tuple[str, int] | None = None, second: Any = None,
) -> tuple[list[_Raw], set[str] | None, list[fts.FtsHit] | None]:
    """The ranked records of a search by meaning (hybrid: fused with the keyword side), best passages found;
    with `exact` (the query as typed, how many), the ids of the records holding its words, at most that many
    (None when it is not valid full-text syntax): whether to look up near spellings (`_near_spellings_by_meaning`);
    and when fewer hold them, the near spellings' full-text matches, looked up beside the search. With `second`
    (the second embedder, hybrid only), hybrid's candidates are ranked by the pair (`_fuse`)."""
    with _one_blas_thread():
        return _scored(records, embedder, parsed, filters, limit, mode, exact, second)


@lru_cache(maxsize=1)
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread() -> Any:
    """numpy's BLAS on one thread while a search by meaning runs (restored after). Its products here are
    one query against every chunk (memory-bound: a second thread saves little), and OpenBLAS's helper
    thread spins between calls: at 100k chunks a hybrid search cost 90 ms of CPU with two BLAS threads
    and 66 with one, same results (bench/RESULTS.md, "session 7: search latency"), and the second core
    is left to the keyword side's thread."""
    return _blas().limit(limits=1, user_api="blas")


def _scored(
    records: RecordsRepo, embedder: Embedder, parsed: ParsedQuery, filters: fts.Filters, limit: int, mode: str,
    exact: tuple[str, int] | None, second: Any = None,
) -> tuple[list[_Raw], set[str] | None, list[fts.FtsHit] | None]:
    from indexer import hybrid

    vm = records.vectors(embedder.model_id, embedder.dim)
    mask = records.vector_mask(vm, filters)
    by_words = mode == "hybrid"
    if second is not None and not records.has_second(second.model_id):
        second = None  # a vault not given its second vectors yet: no candidate could use the query's
    # The embedded text needs the keyword plan only for the meaning an abbreviation of the written list has in
    # this archive (`KeywordPlan.senses`); else the plan is made in the second thread, with the rest below.
    plan = _keyword_plan(records, parsed) if by_words and parsed.written else None
    # The words' side (hybrid's keyword plan and FTS5's ranking, the records holding the words as typed) runs on
    # the connection in a second thread while this one embeds the query and scores the vectors (ONNX Runtime,
    # numpy and SQLite all release the GIL); leaving the block waits for it, so nothing else touches the
    # connection meanwhile.
    # A broad match's BM25 is computed only for the holders of its rarest words and the vector side's
    # candidates (`hybrid.KEYWORD_BOUND`): the second thread waits for those (`candidates`) after its other work.
    candidates: Future[list[int]] = Future()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-keywords") as pool:
        side = pool.submit(_words_side, records, parsed, filters, plan, by_words, exact, candidates)
        try:
            embedded = parsed.embedding_text(lay=by_words, senses=plan.senses if plan else None)
            qvec = embedder.embed_query(embedded)
            ranking = vm.ranking(qvec)  # exact on a small archive, from the approximate index on a large one
            # Over-fetch: hits the user may not see are dropped afterwards.
            want = max(limit * 2, hybrid.POOL if mode == "hybrid" else limit * 2)
            vector_top = ranking.top(want, mask)
            candidates.set_result([n for n, _ in vector_top])
        finally:
            if not candidates.done():  # failed above: the second thread must not wait for ever (the error propagates)
                candidates.set_result([])
        # the second embedder's query (while the words' side may still be running); its candidates are read after
        q2 = _second_query(second, embedded) if by_words else None
        plan, every, holding, near = side.result()
    if plan is None:
        out = [_Raw(n, s, s, None) for n, s in vector_top]
    else:
        pair = None
        if q2 is not None:
            pair = (lambda cands: records.pair_view(vm, cands, second.model_id, second.dim), q2)
        out = _fuse(ranking.scores_for, vector_top, plan, every, want, vm=vm, second_look=qvec, pair=pair)
    out = relevant(out)
    for raw in out[: limit * 2]:
        best = vm.best_chunk(qvec, raw.n)
        if best:
            raw.start, raw.end = best[1], best[2]
    return out[: limit * 2], holding, near


def _second_query(second: Any, text: str) -> Any:
    """The second embedder's vector of the embedded query text, or None (no second embedder, or it failed: the
    search goes on by the first model alone, and the log says why)."""
    if second is None:
        return None
    try:
        return second.embed_query(text)
    except Exception as exc:  # noqa: BLE001 - onnxruntime's errors are its own classes; the first model still ranks
        logging.getLogger(__name__).warning(
            "The second embedder failed on a query (%s: %s); ranked by the first model alone.", type(exc).__name__,
            exc)
        return None


def _words_side(
    records: RecordsRepo, parsed: ParsedQuery, filters: fts.Filters, plan: KeywordPlan | None, by_words: bool,
    exact: tuple[str, int] | None, candidates: Future[list[int]] | None = None,
) -> tuple[KeywordPlan | None, KeywordScores, set[str] | None, list[fts.FtsHit] | None]:
    """The second thread of `_scored`: with `by_words` (hybrid), the keyword plan (`plan` when made already)
    and the BM25 of every record its match finds (of a broad match, `KeywordPlan.rare`: only the holders of its
    rarest words and the vector side's `candidates`, once the first thread has them); with `exact`, the
    records holding the query's words, and when fewer than `exact[1]` do, the full-text matches of their near
    spellings (`_near_spellings_by_meaning` lists them; looked up here, beside the vectors' search, as the
    lookup of near spellings in the vocabulary costs tens of ms on a large archive)."""
    from indexer import hybrid

    every = hybrid.KeywordScores.empty()
    bounded = False
    scope: tuple[int, ...] | None = None
    if by_words:
        plan = plan or _keyword_plan(records, parsed)
        # Bounded as an unfiltered search is, among the records a user may see when they are many (a few are
        # all ranked, as any filtered search's matches are).
        scope = filters.within if filters.only_within() else None
        bounded = plan.rare is not None and bool(plan.match) and (
            not filters.narrows() or (scope is not None and len(scope) > hybrid.KEYWORD_BOUND))
        if plan.match and not bounded:
            every = records.keyword_scores(plan.match, filters)
    holding = None
    if exact is not None:
        try:  # unranked: only whether `exact[1]` records hold the words, and which when fewer do
            holding = set(records.holders(exact[0], filters, exact[1]))
        except fts.BadQuery:
            holding = None
    near = None
    if exact is not None and holding is not None and len(holding) < exact[1]:
        near = _near_spelling_matches(records, exact[0], filters, _near_fetch(exact[1]))
    if bounded and plan is not None and plan.match and plan.rare is not None:
        every = _bounded_scores(records, plan.match, records.keyword_candidates(plan.rare, plan.together, scope),
                                candidates)
    return plan, every, holding, near


def _bounded_scores(records: RecordsRepo, match: str, ranked: list[int],
                    candidates: Future[list[int]] | None) -> KeywordScores:
    """The BM25 of `ranked` (a bounded keyword side's own records) and of the vector side's `candidates`. While
    the first thread is still searching the vectors, `ranked` is scored at once and the candidates it lacks after
    (each statement scans the match again: a few ms, here in time the thread would have waited); when they are
    there already, all in one statement."""
    if candidates is not None and not candidates.done():
        first = records.keyword_scores_of(match, ranked)
        have = set(ranked)
        rest = [n for n in candidates.result() if n not in have]
        if not rest:
            return first
        return first.joined(records.keyword_scores_of(match, sorted(set(rest))))
    also = candidates.result() if candidates is not None else []
    return records.keyword_scores_of(match, sorted(set(ranked) | set(also)))


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


def _keyword_plan(records: RecordsRepo, parsed: ParsedQuery) -> KeywordPlan:
    from indexer import hybrid

    if parsed.structured:
        return hybrid.KeywordPlan(parsed.match(), 0.0, structured=True)
    return records.keyword_plan(parsed)


def _fuse(
    cosine_of: Callable[[list[int]], dict[int, float]],
    vector_top: list[tuple[int, float]],
    plan: KeywordPlan,
    every: KeywordScores,
    want: int,
    vm: Any = None,
    second_look: Any = None,
    pair: tuple[Callable[[list[int]], Any], Any] | None = None,
) -> list[_Raw]:
    """Hybrid's candidates fused (indexer.hybrid.fuse); with `second_look` (the query's vector), fused again
    on the vector evidence `hybrid.second_look` reads from `vm` (the vector matrix) for them after the first
    fusion; the keyword side's first record kept within the first ten when it holds the query's words
    (`hybrid.keep_keyword_best`).

    With `pair` (a function giving the candidates' indexer.second_vectors.PairView, and the second embedder's
    query vector), the candidates are ranked, in both fusions and the second look, by a weighted mean of the
    two models' cosines (indexer.second_vectors.SECOND_WEIGHT): the candidates themselves are the first
    model's (its top POOL) and the keyword side's, so the pair adds no scan of the archive. When a candidate
    passage lacks its second vector (a vault part-way through `chartvault reindex`), the first model ranks
    alone. The relevance margin (`relevant`) and the weak floor still judge the first model's evidence, on
    which they were calibrated."""
    from indexer import hybrid

    keyword = every.top(hybrid.POOL)
    keyword.update(every.only([n for n, _ in vector_top if n not in keyword]))
    candidates = {n for n, _ in vector_top} | set(keyword)
    cosine = cosine_of(sorted(candidates))
    attainable = plan.attainable
    if plan.structured and keyword:
        attainable = max(keyword.values())  # as typed: trust the user's syntax, scale to its best hit
    keyword_rank = {n: i for i, n in enumerate(sorted(keyword, key=lambda k: -keyword[k]), start=1)}
    vector_rank = {n: i for i, (n, _) in enumerate(vector_top, start=1)}
    fused = hybrid.fuse(cosine, keyword, attainable, keyword_rank, vector_rank)
    first = {f.n: (f.score, f.cosine) for f in fused}
    covered = max((f.coverage for f in fused), default=0.0)
    view = pair[0](sorted(candidates)) if pair is not None and vm is not None and second_look is not None else None
    if view is not None and pair is not None:
        from indexer.second_vectors import pair_query

        vm, second_look = view, pair_query(second_look, pair[1])
        fused = hybrid.fuse(view.scores_for(second_look)(sorted(candidates)), keyword, attainable, keyword_rank,
                            vector_rank)
    if vm is not None and second_look is not None and covered < hybrid.SECOND_LOOK_BELOW:
        top = [f.n for f in fused if f.cosine is not None][: hybrid.PRF_RECORDS]
        cosine, centroid = hybrid.second_look(vm, second_look, sorted(candidates), top)
        fused = hybrid.fuse(cosine, keyword, attainable, keyword_rank, vector_rank, centroid=centroid)
    fused = hybrid.keep_keyword_best(fused)
    # Each record keeps its best passage's cosine to the query as typed: the relevance margin (`relevant`)
    # and the weak floor judge that evidence; the second look only changes the order.
    return [_Raw(f.n, f.score, first[f.n][1] if f.n in first else f.cosine, f.coverage,
                 first=first[f.n][0] if f.n in first else None) for f in fused[:want]]


def _to_hits(
    session: Session, visible: Visibility, raw: list[_Raw], words: list[str], mark: tuple[str, str],
    label: Labeller | None = None, limit: int | None = None,
) -> list[tuple[_Raw, SearchHit]]:
    """The hits the user may see (at most `limit`), each beside its `_Raw`, with snippets that mark `words`
    (by prefix), each labelled by `label` (which may drop it)."""
    if not raw:
        return []
    records = session.store.records
    rows = records.hit_rows([r.n for r in raw])
    texts = records.indexed_texts([r.n for r in raw])  # one read for every hit's snippet and label
    if label is not None:
        label.read_maps(texts)
    hits: list[tuple[_Raw, SearchHit]] = []
    for r in raw:
        if limit is not None and len(hits) >= limit:
            break
        row = rows.get(r.n)
        if row is None:
            continue
        if not visible.allows(row.id, row.patient):
            continue
        text = texts.get(r.n, "")
        snippet = _snippet(text, r.start, r.end, words, mark)
        hit = SearchHit(
            record_id=row.id,
            filename=row.filename,
            patient=row.patient,
            date=row.date,
            type=row.doc_type,
            score=round(float(r.score), 4),  # the order's own score (the weak floor judges r.evidence)
            snippet=snippet,
            title=row.title,
            format=row.format,
        )
        labelled = label(r.n, hit, text) if label is not None else hit
        if labelled is not None:
            hits.append((r, labelled))
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
    session: Session, action: str, query: str, mode: str, patient: str | None, filters: fts.Filters,
    hits: list[SearchHit], weak: bool = False, positive: bool = False, fuzzy: int = 0, words: str = "",
) -> None:
    details: dict[str, Any] = {
        "query": query,
        "mode": mode,
        "filters": filters.chosen(),
        "hits": len(hits),
        "records": [h.record_id for h in hits],
        "patients": sorted({h.patient for h in hits if h.patient}),
    }
    if weak:
        details["weak"] = True
    if positive:
        details["positive"] = True
    if fuzzy:
        details["fuzzy"] = fuzzy
    if words:
        details["words"] = words
    with session.transaction():
        session.audit(action, patient=patient, details=details)


# ---------------------------------------------------------------- similar cases


def similar_cases(
    session: Session,
    record_id: str,
    *,
    limit: int = 10,
    mark: tuple[str, str] = ("**", "**"),
    words: str = "",
    filters: fts.Filters | None = None,
    visible: Visibility | None = None,
    floor: float | None = None,
) -> SearchResult:
    """Records most similar in meaning to one record (its chunks against every record's chunks).

    Reading a record's neighbours tells something about the record itself, so
    the user must be allowed to see it (`require_record`, audited); the
    record is embedded on the spot if it is still in the backlog. Records less
    similar than `floor` (None: the model's `similar_floor`) are left out, so
    the list may be short or empty ("no close cases"); each hit's score is its
    similarity (0-1). With `words` (what the record is about), records holding
    them rise too: the hybrid fusion of `search`, the record's similarity
    standing in for the query's cosine (`filters` narrow that keyword side);
    a record holding most of the words is kept below the floor.
    """
    from archive.embedding import wait_until_ready

    if limit < 1:
        raise BadInput("--limit must be at least 1.", "For example --limit 10.")
    records = session.store.records
    row = records.ref(record_id.strip())
    if row is None:
        raise NotFound(f"No record '{record_id}'.", "Find record ids with 'chartvault search QUERY'.")
    n, rid, patient = row.n, row.id, row.patient
    visible = visible or Visibility.required(session, Action.SEARCH, patient, rid)
    with session.transaction():
        session.require_record(Action.VIEW_RECORD, record=rid, patient=patient, details={"for": "similar"})
    embedder = _embedder(session)
    wait_until_ready(embedder)
    if not records.is_embedded(n, embedder.model_id):
        records.embed_now(embedder, n, second=_second_embedder(session))
    vm = records.vectors(embedder.model_id, embedder.dim)
    least = similar_floor(embedder.model_id) if floor is None else floor
    if not len(vm.record_vectors(n)):
        return SearchResult(rid, "similar", [], note="This record has no text to compare.", floor=least)
    scores = vm.similar_scores(n)
    # ranked among the records this user may see (the words' side also within `filters`)
    seen = records.vector_mask(vm, visible.narrowed(fts.Filters()))
    if words.strip():
        raw = _similar_by_both(records, vm, scores, n, words, visible.narrowed(filters or fts.Filters()), limit, seen)
    else:
        raw = [_Raw(m, s, s, None) for m, s in vm.top(scores, limit * 2, seen, exclude=[n])]
    raw = [r for r in raw if (r.cosine or 0.0) >= least or (r.coverage or 0.0) >= STRONG_KEYWORDS]
    mine = vm.record_vectors(n).mean(axis=0)
    for r in raw:
        best = vm.best_chunk(mine, r.n)
        if best:
            r.start, r.end = best[1], best[2]
    hits = [h for _r, h in _to_hits(session, visible, raw, [], mark, limit=limit)]
    # the words and the filters that narrowed their side are part of what was asked (they shape the ranking)
    chosen = (filters or fts.Filters()) if words.strip() else fts.Filters()
    _audit(session, "similar", rid, "similar", patient, chosen, hits, words=words.strip())
    return SearchResult(rid, "similar", hits, floor=least)


def similar_floor(model_id: str) -> float:
    """The similarity below which a record is not a similar case, for this embedding model (SIMILAR_FLOOR)."""
    return SIMILAR_FLOOR.get(model_id, SIMILAR_FLOOR_OTHER)


def _similar_by_both(
    records: RecordsRepo, vm: VectorMatrix, scores: Any, n: int, words: str, filters: fts.Filters, limit: int,
    mask: Any = None,
) -> list[_Raw]:
    """Neighbours of record `n` (of those `mask` allows) fused with the records that hold `words` (as `search`
    fuses a query)."""
    from indexer import hybrid

    want = max(limit * 2, hybrid.POOL)
    vector_top = vm.top(scores, want, mask, exclude=[n])
    plan = _keyword_plan(records, hybrid.expand(words))
    every = records.keyword_scores(plan.match, filters) if plan.match else hybrid.KeywordScores.empty()
    fused = _fuse(lambda ns: vm.scores_for(scores, ns), vector_top, plan, every, want)
    return [r for r in fused if r.n != n][: limit * 2]
