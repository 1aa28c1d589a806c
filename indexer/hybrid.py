"""Hybrid ranking: full-text (BM25) and vector (cosine) evidence fused on absolute scales.

Why not plain reciprocal rank fusion: RRF looks only at ranks, so the top of
a keyword list that matched nothing but "patient" and "pain" counts as much
as the top of a keyword list that matched every rare word of the query.
On paraphrased queries that share no word with the right note, documents
that match both lists weakly then outrank the note the vector side found
first, and RRF falls far below the vector side alone (the figures are in
bench/RESULTS.md; the baseline itself is bench/baselines.py).

What we do instead (`fuse`):
  1. Candidates: the union of the top keyword hits (an OR query of the
     query's words, BM25) and the top vector hits (best-chunk cosine).
  2. Every candidate gets both scores, exactly: its cosine from the vector
     matrix, and its BM25 from the same OR query restricted to it.
  3. BM25 is put on an absolute scale: divided by the BM25 a document would
     get for containing every query word once (the sum of the words' IDF).
     This "keyword coverage" is near 1 when a record has the query's rare
     words and small when it shares only common ones, so the keyword list
     carries weight only when it is confident, without per-query min-max
     stretching (which turns any weak top hit into a 1.0).
  4. score = cosine + KEYWORD_WEIGHT * coverage ** KEYWORD_POWER. The high
     power keeps the bonus for records that hold (nearly) all of the query's
     words and makes partial overlaps, which is what a paraphrased query has
     with unrelated notes, almost free of effect.
The two constants were chosen on a tuning split (half of the MTSamples
description queries by a hash of their text, and the paraphrase "dev" set)
over the full corpus, not on the reported queries, where the same values were
best on both tuning sets (bench/retrieval.py; results in bench/RESULTS.md).
Clinical abbreviations in the query (CHF, s/p, COPD...) add their expansion
as an alternative on the keyword side and in the text that is embedded; long
forms add the abbreviation on the keyword side (see `expand`). Everyday and
British wording (indexer/data/lay_terms.tsv: "gullet", "fits", "anaemia") adds
the clinical forms a chart uses, as alternatives on the keyword side (unless
the archive itself uses the lay word: `plan_keywords`) and spelled out in the
embedded query of hybrid mode. Paraphrased queries share no word with their
note, so this vocabulary is what the keyword side can contribute to them; on
the benchmark it lifts hybrid above semantic on the held-out paraphrase sets.
Abbreviations the clinical table lacks come from a larger written list
(`written_abbreviation`); of several meanings, `plan_keywords` keeps the one the
archive's records use most. Then a second look (`second_look`), only when no
candidate holds 70% of the query's words: the query moved toward its first
three records' best passages (pseudo-relevance feedback) and each record's
whole-text cosine beside its best passage. A paraphrase's first hits usually
hold the words its note uses, so the moved query reaches that note; queries
whose words the archive holds are left as ranked (the look moved
near-duplicate notes at the edge of their top 10).
The vocabulary itself (words, stop words, abbreviations, lay terms) is indexer.query.

Pure query-time logic over `indexer.fts` and `indexer.vectors`; knows nothing of users.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexer import fts
from indexer.query.abbreviations import long_forms, long_forms_in, unambiguous_senses, written_abbreviation
from indexer.query.lay_terms import lay_phrases_in
from indexer.query.stopwords import STOPWORDS
from indexer.query.tokens import WORD

KEYWORD_WEIGHT = 0.3  # cosine units a record gains for containing all of the query's words
KEYWORD_POWER = 4.0  # how sharply the bonus falls for records holding only part of them
POOL = 100  # candidates taken from each list

_STRUCTURED = re.compile(r'["()*]|(^|\s)-\w|\b(OR|AND|NOT)\b|\b\w+:\S')


def is_structured(query: str) -> bool:
    """Whether the user wrote search syntax (phrases, OR, -word, prefix*, field:) to be honoured as typed."""
    return bool(_STRUCTURED.search(query))


@dataclass(frozen=True)
class Concept:
    """One query word, with the alternatives that count as the same thing."""

    word: str
    alternatives: tuple[str, ...] = ()  # phrases (abbreviation <-> long form)
    prefix: bool = False  # the word is still being typed (search as you type)

    def forms(self) -> list[str]:
        """FTS5 expressions of the word and each alternative."""
        return [_phrase(self.word) + (" *" if self.prefix else ""), *(_phrase(a) for a in self.alternatives)]

    def fts(self) -> str:
        parts = self.forms()
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


@dataclass
class ParsedQuery:
    text: str
    concepts: list[Concept] = field(default_factory=list)
    expansions: dict[str, str] = field(default_factory=dict)  # abbreviation -> long form found in the query
    lay: dict[str, tuple[str, ...]] = field(default_factory=dict)  # everyday wording -> its clinical forms
    # abbreviations only the larger written list knows ("TURBT", "HFrEF") -> their meanings; hybrid mode
    # only: the keyword plan keeps the meaning the archive uses most (`KeywordPlan.senses`)
    written: dict[str, tuple[str, ...]] = field(default_factory=dict)
    structured: bool = False

    def match(self, skip: set[str] | frozenset[str] = frozenset()) -> str | None:
        """The FTS5 expression for the keyword side (None if nothing searchable); `skip`: concept words left out."""
        if self.structured:
            return fts.parse_query(self.text)
        return _any_of([c for c in self.concepts if c.word not in skip])

    def embedding_text(self, lay: bool = False, senses: dict[str, str] | None = None) -> str:
        """The text to embed: the query, with abbreviations followed by their long form.

        `lay`: everyday wording is followed by its clinical form too ("gullet" -> "gullet (esophagus)"),
        and abbreviations of the written list by the meaning in `senses` (else their first).
        """
        text = self.text
        written = {a: (senses or {}).get(a, m[0]) for a, m in self.written.items()} if lay else {}
        for abbr, sense in [*self.expansions.items(), *written.items()]:
            text = re.sub(rf"(?<![\w/]){re.escape(abbr)}(?![\w/])", f"{abbr} ({sense})", text, count=1, flags=re.I)
        for phrase, forms in self.lay.items() if lay else ():
            words = r"\W+".join(re.escape(w) for w in phrase.split())
            text = re.sub(rf"(?<!\w)({words})(?!\w)", rf"\1 ({_escape_template(forms[0])})", text, count=1, flags=re.I)
        return text


def _any_of(concepts: list[Concept]) -> str | None:
    """The FTS5 OR expression of the concepts (None if there are none)."""
    return " OR ".join(c.fts() for c in concepts) or None


def _escape_template(text: str) -> str:
    return text.replace("\\", "\\\\")


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _looks_abbreviated(word: str) -> bool:
    """Written like an abbreviation: CAPS, a slash (s/p), or a lower-case word of 3+ letters in the table."""
    letters = re.sub(r"[^A-Za-z]", "", word)
    return "/" in word or (len(letters) >= 2 and letters.isupper()) or len(word) >= 3


def expand(query: str, abbreviations: bool = True, as_you_type: bool = False) -> ParsedQuery:
    """Parse a natural-language query into concepts (stopwords dropped), with abbreviation alternatives.

    A lay phrase ("heart attack") becomes one concept with its clinical forms as alternatives.
    `abbreviations=False`: no vocabulary at all (neither abbreviations nor lay wording).
    `as_you_type`: the last word is still being typed, so it matches as a prefix.
    """
    parsed = ParsedQuery(text=query.strip(), structured=is_structured(query))
    table = unambiguous_senses() if abbreviations else {}
    written = WORD.findall(query)
    lay = lay_phrases_in([w.lower() for w in written]) if abbreviations else {}
    seen: set[str] = set()
    for i, word in enumerate(written):
        if i in lay:
            phrase, length, forms = lay[i]
            if phrase not in seen:
                seen.add(phrase)
                parsed.concepts.append(Concept(phrase, forms))
                parsed.lay[phrase] = forms
            continue
        if any(start < i < start + length for start, (_, length, _) in lay.items()):
            continue  # a word of a lay phrase matched above
        low = word.lower()
        if low in STOPWORDS or low in seen or len(low) < 2 and not low.isdigit():
            continue
        seen.add(low)
        sense = table.get(low) if _looks_abbreviated(word) else None
        meanings = written_abbreviation(word) if abbreviations and not sense else ()
        if sense and sense != low:
            parsed.expansions[word] = sense
            parsed.concepts.append(Concept(low, (sense,)))
        elif meanings:
            parsed.written[word] = meanings
            parsed.concepts.append(Concept(low, meanings))
        else:
            parsed.concepts.append(Concept(low))
    if as_you_type and parsed.concepts and query[-1:].isalnum() and not parsed.structured:
        last = parsed.concepts[-1]
        if last.word == query.split()[-1].lower() and len(last.word) >= 2:
            parsed.concepts[-1] = Concept(last.word, (), prefix=True)
            parsed.expansions.pop(query.split()[-1], None)
            parsed.written.pop(query.split()[-1], None)
            parsed.lay.pop(last.word, None)
    if abbreviations:
        for sense in long_forms_in([w.lower() for w in written]):
            abbr = long_forms()[sense]
            if abbr not in seen:
                parsed.concepts.append(Concept(abbr, (sense,)))
                seen.add(abbr)
    return parsed


# ---------------------------------------------------------------- keyword evidence


MAX_SHARE = 0.5  # words in more than half of the records weigh nothing in BM25 (FTS5 clamps their IDF)
PRUNE_FROM = 1000  # records: below this, matching every word costs nothing worth saving
LAY_SHARE = 0.25  # a lay word in at least this share of its clinical form's records is chart wording itself
MAX_CONCEPTS = 8  # the rarest query concepts matched on the keyword side (more did not raise recall)
# At most this many of a broad match's records are ranked by BM25 (beside the vector side's candidates and as
# many of the newest holding two or three of the next rarer forms): the holders of the query's rarest forms
# (`KeywordPlan.rare`). BM25 costs ~1.5 us a match and a query's OR of
# 8 concepts matches a third of a 100k-record archive (~45 ms of CPU, the critical path of hybrid at 1M
# chunks); a record holding none of the rarer concepts has a low keyword coverage, which the fusion's fourth
# power makes almost worthless. bench/keyword_bound.py measures what it changes (bench/RESULTS.md, session 10).
KEYWORD_BOUND = 2000
PAIR_FORMS = 4  # and the newest KEYWORD_BOUND holders of any two, and of any three, of this many next rarer forms


def _idf_of(hits: int, total: int) -> float:
    """FTS5's BM25 IDF of a word found in `hits` of `total` records (how rare it is).

    The two counts come from separate statements: another process may commit
    records between them, so `hits` can exceed `total` (a math domain error,
    seen under bench/concurrency.py); it is clamped.
    """
    hits = max(0, min(hits, total))
    return max(math.log((total - hits + 0.5) / (hits + 0.5)), 1e-6)


def _ensure_vocab(db: Any) -> None:
    """Per-connection, in-memory helpers: the index's own tokenizer for query words, and its vocabulary."""
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.cv_qwords USING fts5(x, tokenize='{fts.TOKENIZE}')")
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.cv_qwords_v USING fts5vocab(temp, cv_qwords, 'instance')")
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.cv_records_v USING fts5vocab(main, {fts.TABLE}, 'row')")


def document_frequencies(db: Any, words: list[str]) -> dict[str, int]:
    """How many records contain each word: stemmed by the index's tokenizer, looked up in its vocabulary.

    One lookup per word instead of a scan of its posting list (a word in most of
    100k records costs milliseconds to count). Words that split into several
    tokens (s/p) are counted as phrases.
    """
    _ensure_vocab(db)
    db.execute("DELETE FROM temp.cv_qwords")
    for i, word in enumerate(words, start=1):
        db.execute("INSERT INTO temp.cv_qwords (rowid, x) VALUES (?, ?)", [i, word])
    tokens: dict[int, list[str]] = {}
    for term, doc in db.execute("SELECT term, doc FROM temp.cv_qwords_v ORDER BY doc, offset").fetchall():
        tokens.setdefault(int(doc), []).append(str(term))
    db.execute("DELETE FROM temp.cv_qwords")
    out: dict[str, int] = {}
    for i, word in enumerate(words, start=1):
        toks = tokens.get(i, [])
        if len(toks) == 1:
            row = db.execute("SELECT doc FROM temp.cv_records_v WHERE term = ?", [toks[0]]).fetchone()
            out[word] = int(row[0]) if row else 0
        elif toks:
            out[word] = _count(db, _phrase(word))
        else:
            out[word] = 0
    return out


@dataclass
class KeywordPlan:
    """The keyword side of one query: the words worth matching and the attainable BM25."""

    match: str | None
    attainable: float  # 0 when `structured`: the caller scales to the best hit instead
    common: set[str] = field(default_factory=set)  # words left out of the match (no BM25 weight)
    structured: bool = False  # search syntax, matched as typed
    senses: dict[str, str] = field(default_factory=dict)  # written abbreviation -> the meaning the archive uses
    # When the match may find more than KEYWORD_BOUND records: the OR of its rarest forms (fewest holders
    # first, while their holders add up to at most KEYWORD_BOUND; the rarest alone when it has more), whose
    # holders are the records ranked (`bounded_candidates`, `KeywordScores.of_these`). None: every match is ranked.
    rare: str | None = None
    # with `rare`: any two, and any three, of the next rarer forms, whose holders are ranked too
    together: tuple[str, ...] = ()


def plan_keywords(db: Any, parsed: ParsedQuery, total: int) -> KeywordPlan:
    """Which concepts to match and the BM25 of a record of average length holding each once.

    Concepts whose every form is in more than MAX_SHARE of the records are left
    out of the OR query: their IDF is ~0, so they change no score, but matching
    them would make FTS5 rank nearly every record. Of the rest, only the
    MAX_CONCEPTS rarest are matched (a pasted paragraph has dozens of words;
    the rare ones carry the BM25 evidence, and each extra word costs a posting
    list scan); the attainable score counts the matched concepts only.
    """
    if total <= 0 or not parsed.concepts:
        return KeywordPlan(None, 0.0)
    # every word and alternative counted by one vocabulary lookup each (phrases: by matching)
    terms = list(dict.fromkeys([*(c.word for c in parsed.concepts if not c.prefix),
                                *(a for c in parsed.concepts for a in c.alternatives)]))
    dfs = document_frequencies(db, terms) if terms else {}
    idfs: dict[str, float] = {}
    common: set[str] = set()
    concepts = []
    held: dict[str, list[tuple[str, int]]] = {}
    senses: dict[str, str] = {}
    written = {w.lower(): w for w in parsed.written}
    for concept in parsed.concepts:
        if concept.word in written and concept.alternatives:
            # An abbreviation with several meanings means what the archive writes most: the others would
            # only pull in records about something else ("AF": atrial fibrillation, not annulus fibrosus).
            sense = max(concept.alternatives, key=lambda a: (dfs[a], -concept.alternatives.index(a)))
            concept = Concept(concept.word, (sense,), concept.prefix)
            senses[written[concept.word]] = sense
        hits = [dfs[concept.word]] if concept.word in dfs else [_count(db, concept.forms()[0])]
        hits += [dfs[a] for a in concept.alternatives]
        if concept.word in parsed.lay and hits[0] >= LAY_SHARE * max(hits[1:], default=0):
            # The archive itself writes it this way ("cancer", "eye"): match it as typed. Its clinical
            # forms would only add records that have several synonyms (FTS5 adds up each form's BM25).
            concept, hits = Concept(concept.word, prefix=concept.prefix), hits[:1]
        concepts.append(concept)
        held[concept.word] = list(zip(concept.forms(), hits, strict=True))  # each form and its records
        # A form no record uses cannot be matched: the concept is worth what its rarest used form is.
        # (A word with no form in any record keeps its full weight, which lowers every record's coverage.)
        used = [h for h in hits if h > 0] or hits
        idfs[concept.word] = max(_idf_of(h, total) for h in used)
        if min(hits) > MAX_SHARE * total:
            common.add(concept.word)
    if total < PRUNE_FROM or len(common) == len(concepts):
        common = set()  # a small vault (every word is "common") or nothing left: match them all
    ranked = sorted((c.word for c in concepts if c.word not in common), key=lambda w: -idfs[w])
    common.update(ranked[MAX_CONCEPTS:])
    score = sum(v for w, v in idfs.items() if w not in common)
    matched = [c for c in concepts if c.word not in common]
    rare, together = _rare([f for c in matched for f in held[c.word]], total)
    return KeywordPlan(_any_of(matched), score, common, senses=senses,
                       rare=rare, together=together)


def _rare(forms: list[tuple[str, int]], total: int) -> tuple[str | None, tuple[str, ...]]:
    """`KeywordPlan.rare` and `.together` from the matched concepts' forms (FTS5 phrase, records holding it): None
    when their holders add up to at most KEYWORD_BOUND (or the archive has no more records), so every match is
    ranked and nothing changes. Else the rarest forms, while their holders add up to at most KEYWORD_BOUND (the
    rarest alone when it has more), and any two, and any three, of the PAIR_FORMS next rarer forms (from the
    rarest when it alone has more): a record holding several mid-frequency words ("carotid", "stroke", "risk")
    outranks one holding a single rarer word; of "heart", "cardiac", "catheterization" (100k records: 26,865,
    12,888 and 5,868 holders), 7,546 hold two and 1,100 all three. By form, not concept: BM25 adds up each
    phrase's weight, so a record holding a concept's rare form ("port-a-cath") ranks high though the concept's
    common form ("port") is everywhere."""
    used: dict[str, int] = {}
    for form, hits in forms:
        if hits > 0:
            used[form] = hits
    if min(sum(used.values()), total) <= KEYWORD_BOUND:
        return None, ()
    order = sorted(used, key=lambda f: (used[f], f))
    chosen: list[str] = []
    count = 0
    for form in order:
        if chosen and count + used[form] > KEYWORD_BOUND:
            break
        chosen.append(form)
        count += used[form]
    rest = order[len(chosen) - (1 if count > KEYWORD_BOUND else 0):][:PAIR_FORMS]
    together = tuple(" OR ".join(f"({' AND '.join(group)})" for group in itertools.combinations(rest, k))
                     for k in (2, 3) if len(rest) >= k)
    return " OR ".join(chosen), together


def bounded_candidates(db: Any, rare: str, together: tuple[str, ...] = (),
                       within: tuple[int, ...] | None = None) -> list[int]:
    """The records a bounded keyword side ranks (`KeywordPlan.rare`) besides the vector side's candidates: the
    KEYWORD_BOUND newest holders of `rare` and of each of `together` (of those in `within`, when given: the
    records a user may see, `fts.Filters.within`), ascending."""
    only = "" if within is None else " AND +rowid IN (SELECT value FROM json_each(?))"
    sql = f"SELECT rowid FROM {fts.TABLE} WHERE {fts.TABLE} MATCH ?{only} ORDER BY rowid DESC LIMIT ?"
    among = [] if within is None else [json.dumps(fts.distinct_records(within))]
    found: set[int] = set()
    for expression in (rare, *together):
        found.update(int(r[0]) for r in db.execute(sql, [expression, *among, KEYWORD_BOUND]).fetchall())
    return sorted(found)


def _count(db: Any, expression: str) -> int:
    """How many records an FTS5 expression matches."""
    sql = f"SELECT count(*) FROM {fts.TABLE} WHERE {fts.TABLE} MATCH ?"
    return int(db.execute(sql, [expression]).fetchone()[0])


@dataclass
class KeywordScores:
    """The BM25 (positive) of every record a MATCH finds, as arrays.

    One pass: FTS5 computes the rank of every match to sort them anyway, so
    reading them all costs about what `ORDER BY rank LIMIT k` does, and it
    gives the exact BM25 of vector-side candidates too (restricting the
    MATCH to a list of rowids is not pushed into FTS5 and costs seconds).
    """

    records: np.ndarray  # records.n, int64
    scores: np.ndarray  # BM25, float64
    bounded: bool = False  # only given records were ranked (`of_these`), not every match

    @classmethod
    def of(cls, db: Any, match: str, filters: fts.Filters | None) -> KeywordScores:
        """Every record `match` finds (within `filters`), with its BM25. A bounded keyword side ranks given
        records instead (`bounded_candidates`, then `of_these`: archive.search's `_words_side`)."""
        if filters is not None and filters.only_within():  # (the records are known: no join, as `of_these`)
            known = cls.of_these(db, match, filters.within_records())
            return cls(known.records, known.scores)
        where, params = fts._filter_sql(filters or fts.Filters())
        if where:
            sql = (
                f"SELECT f.rowid, -f.rank FROM {fts.TABLE} f JOIN records r ON r.n = f.rowid "
                f"WHERE {fts.TABLE} MATCH ?{where}"
            )
            match = fts.narrowed(match, db, filters)  # type and years narrow inside FTS5 first (weight 0)
        else:
            sql = f"SELECT rowid, -rank FROM {fts.TABLE} WHERE {fts.TABLE} MATCH ?"
        rows = db.execute(sql, [match, *params]).fetchall()
        table = np.array(rows, dtype=np.float64).reshape(-1, 2)
        return cls(table[:, 0].astype(np.int64), table[:, 1])

    @classmethod
    def of_these(cls, db: Any, match: str, records: list[int]) -> KeywordScores:
        """The BM25 of those of `records` that `match` finds, the same as ranking every match gives them: FTS5
        scans the whole match (a few ms) but ranks only those (seeking each rowid instead costs seconds)."""
        sql = (f"SELECT rowid, -rank FROM {fts.TABLE} WHERE {fts.TABLE} MATCH ? "
               "AND +rowid IN (SELECT value FROM json_each(?))")
        rows = db.execute(sql, [match, json.dumps([int(n) for n in records])]).fetchall()
        table = np.array(rows, dtype=np.float64).reshape(-1, 2)
        return cls(table[:, 0].astype(np.int64), table[:, 1], bounded=True)

    def joined(self, other: KeywordScores) -> KeywordScores:
        """These scores and `other`'s (of other records), as one."""
        return KeywordScores(np.concatenate([self.records, other.records]),
                             np.concatenate([self.scores, other.scores]), bounded=self.bounded or other.bounded)

    @classmethod
    def empty(cls) -> KeywordScores:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))

    def top(self, limit: int) -> dict[int, float]:
        """The `limit` best records, best first (ties: lower records.n first)."""
        if not len(self.records) or limit <= 0:
            return {}
        order = np.lexsort((self.records, -self.scores))[:limit]
        return {int(self.records[i]): float(self.scores[i]) for i in order}

    def only(self, records: list[int]) -> dict[int, float]:
        """The BM25 of those of `records` that the MATCH found."""
        hit = np.isin(self.records, np.asarray(records, dtype=np.int64))
        return {int(n): float(v) for n, v in zip(self.records[hit], self.scores[hit], strict=True)}


# ---------------------------------------------------------------- fusion


@dataclass
class Fused:
    n: int
    score: float
    cosine: float | None
    coverage: float
    keyword_rank: int | None
    vector_rank: int | None


def fuse(
    cosine: dict[int, float],
    bm25: dict[int, float],
    attainable: float,
    keyword_rank: dict[int, int],
    vector_rank: dict[int, int],
    weight: float = KEYWORD_WEIGHT,
    power: float = KEYWORD_POWER,
    centroid: dict[int, float] | None = None,
) -> list[Fused]:
    """Rank the union of candidates by cosine + weight * coverage ** power (see module doc).

    With `centroid` (the second look, `second_look`), a record's whole-text cosine counts beside its
    best passage's: (cosine + CENTROID_WEIGHT * centroid + weight * coverage ** power) / (1 + CENTROID_WEIGHT),
    so the score stays on the cosine's scale.
    """
    candidates = set(cosine) | set(bm25)
    # Records not embedded yet (backlog) have no cosine: give them the median candidate's, so
    # keyword evidence alone decides whether they rise above the rest.
    known = sorted(cosine.values())
    fallback = known[len(known) // 2] if known else 0.0
    share = CENTROID_WEIGHT if centroid is not None else 0.0
    out = []
    for n in candidates:
        cov = min(1.0, bm25.get(n, 0.0) / attainable) if attainable > 0 else 0.0
        cos = cosine.get(n)
        evidence = cos if cos is not None else fallback
        whole = (centroid or {}).get(n, evidence)
        score = (evidence + share * whole + weight * cov**power) / (1.0 + share)
        out.append(Fused(n, score, cos, cov, keyword_rank.get(n), vector_rank.get(n)))
    out.sort(key=lambda f: (-f.score, f.n))
    return out


# A record the keyword side ranks first and that holds at least KEEP_COVERAGE of the query's words is never
# ranked below KEEP_WITHIN (`keep_keyword_best`). Description-style queries ("Left heart catheterization and
# coronary angiography") are held in full by dozens of notes: every one of them gets the whole keyword bonus,
# cosine alone orders them, and the note that BM25 ranks first (the query's words most often, in the fewest
# words) fell to ranks 11-23 behind near neighbours by meaning (bench/RESULTS.md, session 11). Chosen
# leave-one-set-out over every paraphrase and description set (coverage 0.5/0.7/0.9/1.0, place 1/2/3/5/10):
# 0.7 and 10 gained 7 queries and lost none; higher places raised MRR on some sets and lowered it on others.
KEEP_COVERAGE = 0.7
KEEP_WITHIN = 10


def keep_keyword_best(fused: list[Fused]) -> list[Fused]:
    """`fused` with the keyword side's first record moved up to place KEEP_WITHIN when it ranks below it and
    holds at least KEEP_COVERAGE of the query's words (its score is left as it is)."""
    at = next((i for i, f in enumerate(fused) if f.keyword_rank == 1), None)
    if at is None or at < KEEP_WITHIN or fused[at].coverage < KEEP_COVERAGE:
        return fused
    return [*fused[: KEEP_WITHIN - 1], fused[at], *fused[KEEP_WITHIN - 1 : at], *fused[at + 1 :]]


# ---------------------------------------------------------------- second look

# Chosen on the paraphrase sets (dev, test, blind-a, blind-b) and the description queries of
# bench/retrieval.py, as a grid of a few values each (bench/RESULTS.md, "issue 18: paraphrase recall").
PRF_RECORDS = 3  # the first fusion's best records the query moves toward
PRF_WEIGHT = 0.3  # how far: query + PRF_WEIGHT * the mean of their best passages
CENTROID_WEIGHT = 0.3  # a record's whole text (the mean of its passages) beside its best passage
# Only when no candidate holds this much of the query's words (keyword coverage; 0.5 and 0.7 kept the
# description queries at 0.930, 0.7 kept 2 more paraphrases, no gate lost 4 descriptions): a query whose words
# the archive uses is answered by them (the second look moved near-duplicate notes around at ranks 8-10
# of description queries), one that shares no word with its note is the case the look is for.
SECOND_LOOK_BELOW = 0.7


def second_look(
    vm: Any, query: np.ndarray, candidates: list[int], top: list[int]
) -> tuple[dict[int, float], dict[int, float]]:
    """Vector evidence for hybrid's candidates after a first fusion: (cosine, centroid) by records.n.

    cosine: each candidate's best passage against the query moved toward the best passages of
    `top` (the first fusion's best records: pseudo-relevance feedback). A paraphrased query names
    a note's subject in other words; the notes it finds first also carry the words the others use,
    so the moved query reaches notes the typed words alone did not. centroid: the cosine of the
    record's mean passage (normalised) to the query as typed, so a note that is about the query
    throughout outranks one with a single passage that resembles it. Only the candidates' own
    passages are read (a few hundred rows), whatever the archive's size.
    """
    ns, rows, offsets = vm.passages_of(candidates)  # offsets: each candidate's first row among `rows`
    if not len(ns):
        return {}, {}
    owner = np.repeat(np.arange(len(ns)), np.diff(np.append(offsets, len(rows))))
    passages = vm.rows(rows)
    first = passages @ query
    if top:
        best = []
        for n in top:
            k = int(np.searchsorted(ns, n))
            if k < len(ns) and ns[k] == n:
                mine = np.flatnonzero(owner == k)
                best.append(passages[mine[int(np.argmax(first[mine]))]])
        moved = query + PRF_WEIGHT * np.mean(best, axis=0) if best else query
        moved = moved / (np.linalg.norm(moved) or 1.0)
        sims = passages @ moved.astype(np.float32)
    else:
        sims = first
    # per candidate, over its own consecutive rows (ufunc.at on the (rows, dim) passages took ~8 ms a search)
    cosine = np.maximum.reduceat(sims, offsets)
    centre = np.add.reduceat(passages, offsets, axis=0)
    centre /= np.maximum(np.linalg.norm(centre, axis=1, keepdims=True), 1e-12)
    whole = centre @ query
    return ({int(n): float(c) for n, c in zip(ns, cosine, strict=True)},
            {int(n): float(w) for n, w in zip(ns, whole, strict=True)})
