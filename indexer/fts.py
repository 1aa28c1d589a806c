"""Full-text search over records: the FTS5 table, the query language, snippets, BM25.

The FTS5 table `records_fts` lives in the SQLCipher index (so its text is
encrypted at rest) and is keyed by `records.n`. Columns: title, filename,
text (the extracted text, plus any transcription) and meta (document type,
author, patient, date). Tokenizer: `porter unicode61`, so "fractures" finds
"fracture" and accents do not matter.

Query language (what a person types; see `parse_query`):
    chest pain            both words (AND is implied)
    "heart failure"       a phrase
    cardi*                a prefix (at least two letters)
    fall OR syncope       either
    fracture -hip         exclude a word (also: fracture NOT hip)
    (fall OR syncope) hip grouping
    title:discharge       one column: title, filename, text, meta (author:, type:, patient: search meta)
Anything else (punctuation, `s/p`, `C.diff`) is searched literally as a
phrase, so no user input can produce an FTS5 syntax error. Malformed queries
raise `BadQuery` with a suggestion.

Knows nothing of users or policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any

from indexer import assertion_map
from vault.errors import BadInput, BadQuery

TABLE = "records_fts"
COLUMNS = ("title", "filename", "text", "meta", "facets")
# BM25 weights per column: a word in the title or file name says more than one in the body. The
# facets column (filter tokens, see facet_tokens) weighs nothing: a filter narrows, it never ranks.
WEIGHTS = (6.0, 3.0, 1.0, 2.0, 0.0)
V3_COLUMNS, V3_WEIGHTS = COLUMNS[:4], WEIGHTS[:4]  # the table as schema migration 3 made it
FACET = "cvfacet"  # in the facets column of every row: the type and year tokens below are there
# In the facets of a record with a fact dated in another year than the record (a bundle of many encounters):
# the year tokens cannot rule it out, so the date filter's join tests its fact dates (_filter_sql).
FACT_YEARS = "cvfactyears"
MAX_FACET_YEARS = 60  # a date range over more years is filtered by the join alone
TOKENIZE = "porter unicode61 remove_diacritics 2"
COLUMN_ALIASES = {
    "title": "title",
    "filename": "filename",
    "file": "filename",
    "text": "text",
    "meta": "meta",
    "author": "meta",
    "type": "meta",
    "patient": "meta",
    "mrn": "meta",
}
MIN_PREFIX = 2
MAX_QUERY_CHARS = 1000
MAX_TERMS = 64
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
SNIPPET_TOKENS = 18
# Above this many matches, only the most recent RANK_ALL are ranked by BM25 (see search_page).
RANK_ALL = 2000


def create_schema(db: Any, table: str = TABLE, columns: tuple[str, ...] = V3_COLUMNS,
                  weights: tuple[float, ...] = V3_WEIGHTS) -> None:
    """Create the FTS5 table and set its BM25 column weights (called by migrations: 3 made the
    four-column table, `add_facets_to_all` rebuilds it with the facets column)."""
    cols = ", ".join(columns)
    db.execute(f"CREATE VIRTUAL TABLE {table} USING fts5({cols}, tokenize='{TOKENIZE}')")
    weighted = ", ".join(str(w) for w in weights)
    db.execute(f"INSERT INTO {table}({table}, rank) VALUES ('rank', 'bm25({weighted})')")


def _norm(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())


def facet_tokens(doc_type: str | None, fmt: str | None, date: str | None, facts: str | None = None) -> str:
    """The facets column of a record: FACET, a token per way --type can name it, its year, and FACT_YEARS
    when one of its facts (the `facts` JSON of its records row) is dated in another year.

    --type T keeps records whose type or format is T, or whose type starts with 'T:'; the
    tokens hold each of those spellings (letters and digits only), so the filter is a token
    FTS5 intersects with the query itself. Normalising may merge two spellings: the
    exact test still runs on the records row, the tokens only narrow first.
    """
    toks = [FACET]
    for value in (doc_type, fmt, (doc_type or "").split(":", 1)[0] if doc_type and ":" in doc_type else None):
        if value and _norm(value):
            toks.append("cvtype" + _norm(value))
    if date and re.match(r"^\d{4}", date):
        toks.append("cvyear" + date[:4])
    if any(year != (date or "")[:4] for year in fact_years(facts)):
        toks.append(FACT_YEARS)
    return " ".join(dict.fromkeys(toks))


def fact_years(facts: str | None) -> set[str]:
    """The years of the dated facts in a records row's `facts` JSON."""
    if not facts or facts == "[]":
        return set()
    try:
        items = json.loads(facts)
    except ValueError:
        return set()
    return {str(f["date"])[:4] for f in items if isinstance(f, dict) and re.match(r"^\d{4}", str(f.get("date") or ""))}


def _facets_of(db: Any, rowid: int) -> str:
    row = db.execute("SELECT doc_type, format, date, facts FROM records WHERE n = ?", [rowid]).fetchone()
    return facet_tokens(*row) if row else ""


def refresh_facets(db: Any, rowids: list[int]) -> int:
    """Re-derive the facets column of these records' FTS rows from their records rows (a record re-dated, or
    an index written before fact years were tokens); how many rows changed."""
    changed = 0
    for rowid in rowids:
        facets = _facets_of(db, rowid)
        row = db.execute(f"SELECT facets FROM {TABLE} WHERE rowid = ?", [rowid]).fetchone()
        if row is not None and row[0] != facets:
            db.execute(f"UPDATE {TABLE} SET facets = ? WHERE rowid = ?", [facets, rowid])
            changed += 1
    return changed


def index_row(db: Any, rowid: int, *, title: str, filename: str, text: str, meta: str) -> None:
    """Insert or replace the FTS row of one record (its records row first: the facets are read from it)."""
    db.execute(f"DELETE FROM {TABLE} WHERE rowid = ?", [rowid])
    db.execute(
        f"INSERT INTO {TABLE} (rowid, title, filename, text, meta, facets) VALUES (?, ?, ?, ?, ?, ?)",
        [rowid, title, filename, text, meta, _facets_of(db, rowid)],
    )
    assertion_map.store(db, rowid, text)


def update_columns(db: Any, rowid: int, **values: str) -> None:
    """Change some columns of one record's FTS row (e.g. `meta` after filing); the facets follow the records row."""
    bad = set(values) - set(COLUMNS)
    if bad:
        raise ValueError(f"unknown FTS columns {sorted(bad)}")
    values = {**values, "facets": _facets_of(db, rowid)}
    sets = ", ".join(f"{col} = ?" for col in values)
    db.execute(f"UPDATE {TABLE} SET {sets} WHERE rowid = ?", [*values.values(), rowid])
    if "text" in values:
        assertion_map.store(db, rowid, values["text"])


def add_facets_to_all(db: Any) -> None:
    """Migration: rebuild the four-column table with the facets column, every row's facets filled in."""
    cols = [r[1] for r in db.execute(f"PRAGMA table_info({TABLE})").fetchall()]
    if "facets" in cols:
        return
    new = TABLE + "_v8"
    create_schema(db, new, COLUMNS, WEIGHTS)
    rows = db.execute(
        f"SELECT f.rowid, f.title, f.filename, f.text, f.meta, r.doc_type, r.format, r.date"
        f" FROM {TABLE} f LEFT JOIN records r ON r.n = f.rowid"
    )
    batch: list[tuple[Any, ...]] = []
    sql = f"INSERT INTO {new} (rowid, title, filename, text, meta, facets) VALUES (?, ?, ?, ?, ?, ?)"
    for n, title, filename, text, meta, doc_type, fmt, date in rows:
        batch.append((n, title, filename, text, meta, facet_tokens(doc_type, fmt, date)))
        if len(batch) >= 500:
            db.conn.executemany(sql, batch)
            batch = []
    if batch:
        db.conn.executemany(sql, batch)
    db.execute(f"DROP TABLE {TABLE}")
    db.execute(f"ALTER TABLE {new} RENAME TO {TABLE}")
    db.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('optimize')")


def facet_match(db: Any, filters: Filters | None) -> tuple[list[str], list[str]]:
    """FTS5 terms a match must hold (`must`) and must not (`must_not`) to pass the type and years of `filters`.

    Years go in whichever way names fewer of the years the archive holds: the years in the
    range (OR), or those outside it (NOT), so --from 2015 over 2010-2024 excludes 5 years
    rather than listing 10. Both lists are empty when there is nothing to narrow by.
    """
    must: list[str] = []
    must_not: list[str] = []
    if filters is None:
        return must, must_not
    if filters.doc_type and _norm(filters.doc_type):
        must.append(_quote("cvtype" + _norm(filters.doc_type)))
    if filters.date_from or filters.date_to:
        # Each a single min() or max() of the indexed column: one index probe (records_date).
        first = (db.execute("SELECT min(date) FROM records").fetchone()[0] or "")[:4]
        last = (db.execute("SELECT max(date) FROM records").fetchone()[0] or "")[:4]
        lo = check_date(filters.date_from, "--from")[:4] if filters.date_from else first
        hi = check_date(filters.date_to, "--to")[:4] if filters.date_to else last
        if first.isdigit() and last.isdigit() and lo.isdigit() and hi.isdigit():
            held = range(int(first), int(last) + 1)
            inside = [y for y in held if int(lo) <= y <= int(hi)]
            outside = [y for y in held if y not in inside]
            if inside and outside and len(held) <= MAX_FACET_YEARS:  # else the join alone decides
                # A record with facts of other years (FACT_YEARS) always passes to the join.
                if len(inside) <= len(outside):
                    must.append("(" + " OR ".join([*(_quote(f"cvyear{y}") for y in inside), _quote(FACT_YEARS)])
                                + ")")
                else:
                    must_not.append("((" + " OR ".join(_quote(f"cvyear{y}") for y in outside)
                                    + f") NOT {_quote(FACT_YEARS)})")
    return must, must_not


def narrowed(match: str, db: Any, filters: Filters | None) -> str:
    """`match` narrowed by the facet terms of `filters` (type and years), when they have any."""
    must, must_not = facet_match(db, filters)
    if not must and not must_not:
        return match
    expr = " AND ".join([f"({match})", *must])
    for term in must_not:
        expr = f"({expr}) NOT {term}"
    return expr


def passing(db: Any, filters: Filters) -> list[int]:
    """records.n of the records that pass `filters`, ascending. When the facet terms require something (a type,
    or a few years) the records holding them are looked up in FTS5 first and each filter then applied exactly
    by the join (a record without a full-text row, which has no vectors either, is not listed); otherwise the
    records table is read with the filters alone."""
    if filters.only_within():
        return filters.within_records()
    where, params = _filter_sql(filters)
    must, must_not = facet_match(db, filters)
    if not must:  # nothing to look up (years left out only: reading the records costs less than their NOT)
        return [int(r[0]) for r in db.execute(f"SELECT r.n FROM records r WHERE 1 = 1{where} ORDER BY r.n", params)]
    match = " AND ".join(must)
    for term in must_not:
        match = f"({match}) NOT {term}"
    sql = (f"SELECT f.rowid FROM {TABLE} f CROSS JOIN records r ON r.n = f.rowid WHERE {TABLE} MATCH ?{where} "
           "ORDER BY f.rowid")
    return [int(r[0]) for r in db.execute(sql, [match, *params])]


def delete_row(db: Any, rowid: int) -> None:
    db.execute(f"DELETE FROM {TABLE} WHERE rowid = ?", [rowid])
    assertion_map.forget(db, rowid)


# ---------------------------------------------------------------- query parsing

_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<quote>-?(?:\w+:)?"[^"]*"\*?)|(?P<word>[^\s()"]+)|(?P<bad>"))')


@dataclass(frozen=True)
class _Tok:
    kind: str  # lp, rp, or, and, not, term
    value: str = ""  # the FTS5 text of a term
    negated: bool = False


def _quote(words: str) -> str:
    return '"' + words.replace('"', '""') + '"'


def texts_of(db: Any, ns: list[int]) -> dict[int, str]:
    """The text column of records `ns` in one query (what the chunks' offsets point into; a search's hits, a
    batch of chunks to embed): records.n -> text."""
    if not ns:
        return {}
    marks = ", ".join("?" for _ in ns)
    rows = db.execute(f"SELECT rowid, text FROM {TABLE} WHERE rowid IN ({marks})", list(ns)).fetchall()
    return {int(r[0]): str(r[1] or "") for r in rows}


def _has_token_chars(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _column_of(raw: str) -> tuple[str | None, str]:
    if ":" in raw:
        name, rest = raw.split(":", 1)
        column = COLUMN_ALIASES.get(name.lower())
        if column and rest:
            return column, rest
    return None, raw


def _term(raw: str, phrase: bool) -> str | None:
    """The FTS5 text for one word or phrase, or None if it holds nothing searchable."""
    column, raw = _column_of(raw)
    prefix = False
    if raw.endswith("*"):
        prefix = True
        raw = raw.rstrip("*")
    if phrase:
        raw = raw[1:-1] if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"') else raw.strip('"')
    if not _has_token_chars(raw):
        if prefix:
            raise BadQuery(
                "A '*' must follow the beginning of a word.",
                "Write a prefix like cardi* (at least two letters before the star).",
            )
        return None
    if prefix:
        last = re.findall(r"\w+", raw)[-1]
        if len(last) < MIN_PREFIX:
            raise BadQuery(
                f"The prefix '{last}*' is too short.",
                f"Give at least {MIN_PREFIX} letters before '*', e.g. cardi*.",
            )
    text = _quote(raw) + (" *" if prefix else "")
    return f"{column} : {text}" if column else text


def _tokens(query: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    query = query.strip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None:  # only trailing whitespace is left
            break
        pos = match.end()
        if match.group("lp"):
            out.append(_Tok("lp"))
        elif match.group("rp"):
            out.append(_Tok("rp"))
        elif match.group("bad"):
            raise BadQuery(
                "The query has an unbalanced quote.",
                'Close the phrase with a second quote, e.g. "heart failure".',
            )
        elif match.group("quote"):
            raw = match.group("quote")
            negated = raw.startswith("-")
            term = _term(raw[1:] if negated else raw, phrase=True)
            if term:
                out.append(_Tok("term", term, negated))
        else:
            raw = match.group("word")
            if raw in ("OR", "|"):
                out.append(_Tok("or"))
            elif raw in ("AND", "&"):
                out.append(_Tok("and"))
            elif raw == "NOT":
                out.append(_Tok("not"))
            else:
                negated = raw.startswith("-") and len(raw) > 1
                term = _term(raw[1:] if negated else raw, phrase=False)
                if term:
                    out.append(_Tok("term", term, negated))
    return out


class _Parser:
    """Recursive descent over the tokens; emits a fully parenthesised FTS5 expression."""

    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> str:
        expr = self.or_expr()
        tok = self.peek()
        if tok is not None:
            if tok.kind == "rp":
                raise BadQuery(
                    "The query has a ')' without a matching '('.",
                    "Remove it, or open the group, e.g. (fall OR syncope) hip.",
                )
            raise BadQuery("The query could not be understood.", 'Try plain words, a "phrase", or word*.')
        return expr

    def or_expr(self) -> str:
        parts = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            parts.append(self.and_expr(after="OR"))
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def and_expr(self, after: str | None = None) -> str:
        positives: list[str] = []
        negatives: list[str] = []
        pending_not = False
        while (tok := self.peek()) is not None and tok.kind not in ("or", "rp"):
            if tok.kind == "and":
                self.take()
                if not positives and not negatives:
                    _dangling("AND")
                continue
            if tok.kind == "not":
                self.take()
                pending_not = True
                continue
            item, negated = self.unary()
            if negated or pending_not:
                negatives.append(item)
            else:
                positives.append(item)
            pending_not = False
        if pending_not:
            _dangling("NOT")
        if not positives:
            if negatives:
                raise BadQuery(
                    "A query cannot only exclude words.",
                    "Add a word to look for, e.g. fracture -hip.",
                )
            tok = self.peek()
            if (tok is not None and tok.kind == "or") or after == "OR":
                _dangling("OR")
            if tok is not None and tok.kind == "rp":
                raise BadQuery("The query has an empty group '()'.", "Put words inside the parentheses or drop them.")
            raise BadQuery("There is nothing to search for.", 'Type a word, a "phrase" or a prefix like cardi*.')
        expr = positives[0] if len(positives) == 1 else "(" + " AND ".join(positives) + ")"
        for neg in negatives:
            expr = f"({expr} NOT {neg})"
        return expr

    def unary(self) -> tuple[str, bool]:
        tok = self.take()
        if tok.kind == "lp":
            inner = self.or_expr()
            close = self.peek()
            if close is None or close.kind != "rp":
                raise BadQuery(
                    "The query has a '(' without a matching ')'.",
                    "Close the group, e.g. (fall OR syncope) hip.",
                )
            self.take()
            # Every compound expression the parser emits is already one parenthesised group.
            return (inner if inner.startswith("(") else f"({inner})"), False
        if tok.kind == "rp":  # pragma: no cover - and_expr stops before ')'
            raise BadQuery("Unexpected ')'.", "Remove it.")
        return tok.value, tok.negated


def _dangling(op: str) -> None:
    examples = {"OR": "fracture OR dislocation", "AND": "fracture AND hip", "NOT": "fracture NOT hip"}
    raise BadQuery(
        f"'{op}' needs a word on each side.",
        f"For example: {examples[op]}. To search for the word itself, write it in lower case or in quotes.",
    )


def live_query(text: str) -> str:
    """What a search-as-you-type box should search for: close an open phrase, make the last word a prefix."""
    if text.count('"') % 2:
        return text + '"'
    stripped = text.rstrip()
    if stripped != text or not stripped or not stripped[-1].isalnum():
        return text
    last = stripped.split()[-1]
    word = last.split(":", 1)[-1].lstrip("-")
    if last in ("OR", "AND", "NOT") or len(word) < MIN_PREFIX or not word.isalnum():
        return text
    return stripped + "*"


def parse_query(query: str) -> str:
    """Turn what a person typed into a safe FTS5 MATCH expression; BadQuery if malformed."""
    if len(query) > MAX_QUERY_CHARS:
        raise BadQuery(
            f"The query is too long ({len(query)} characters).", f"Keep it under {MAX_QUERY_CHARS} characters."
        )
    if query.count('"') % 2:
        raise BadQuery(
            "The query has an unbalanced quote.", 'Close the phrase with a second quote, e.g. "heart failure".'
        )
    toks = _tokens(query)
    if not toks:
        raise BadQuery("There is nothing to search for.", 'Type a word, a "phrase" or a prefix like cardi*.')
    if sum(1 for t in toks if t.kind == "term") > MAX_TERMS:
        raise BadQuery(f"The query has more than {MAX_TERMS} words.", "Search for the few most telling words.")
    depth = 0
    for tok in toks:
        depth += tok.kind == "lp"
        depth -= tok.kind == "rp"
        if depth < 0:
            raise BadQuery(
                "The query has a ')' without a matching '('.",
                "Remove it, or open the group, e.g. (fall OR syncope) hip.",
            )
    if depth > 0:
        raise BadQuery(
            "The query has a '(' without a matching ')'.", "Close the group, e.g. (fall OR syncope) hip."
        )
    return _Parser(toks).parse()


# ---------------------------------------------------------------- searching


@dataclass(frozen=True)
class Filters:
    patient: str | None = None
    doc_type: str | None = None
    author: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    patients: tuple[str, ...] | None = None  # only these patients' records (a patient list); () matches none
    # Only these records (records.n; () matches none): the ones a user may see, as archive/ decides and hands
    # down so that a search ranks among them (never decided here). Not a filter the user set: kept out of audits.
    within: tuple[int, ...] | None = None

    def narrows(self) -> bool:
        """Whether any filter is set (`_filter_sql` adds a condition)."""
        return bool(self.patient or self.doc_type or self.author or self.date_from or self.date_to) \
            or self.patients is not None or self.within is not None

    def only_within(self) -> bool:
        """Whether `within` is the only filter set (the records are then known without a join)."""
        return self.within is not None and not replace(self, within=None).narrows()

    def within_records(self) -> list[int]:
        """`within` once each, ascending (what `json_each` reads); [] when it is not set."""
        return distinct_records(self.within or ())

    def chosen(self) -> dict[str, Any]:
        """The filters a user set (for the audit log): `within` is left out."""
        return {k: v for k, v in asdict(self).items() if v and k != "within"}


def distinct_records(ns: Iterable[int]) -> list[int]:
    """records.n once each, ascending."""
    return sorted({int(n) for n in ns})


@dataclass(frozen=True)
class FtsHit:
    n: int
    record_id: str
    filename: str
    patient: str | None
    date: str | None
    doc_type: str | None
    format: str | None
    title: str | None
    score: float  # higher is better (negated BM25)
    snippet: str  # matched terms between MARK_OPEN and MARK_CLOSE


_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def check_date(value: str, option: str) -> str:
    """`value` (a filter's date: YYYY, YYYY-MM or YYYY-MM-DD) stripped, or BadInput naming `option`. A date that
    has the shape but not a real month or day (2020-13-01, 2024-02-30) is refused too: compared as text it would
    filter silently by a date nobody meant."""
    import datetime as dt

    value = value.strip()
    if not _DATE.match(value):
        raise BadInput(f"{option} must be a date like 2024-03-01 (or 2024-03, or 2024).", f"Got '{value}'.")
    year, month, day = (value.split("-") + ["01", "01"])[:3]
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        raise BadInput(f"{option} {value} is not a calendar date.",
                       "Months run 01-12 and days as the month has them, for example 2024-03-01.") from None
    return value


def _filter_sql(filters: Filters) -> tuple[str, list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if filters.patient:
        where.append("r.patient_mrn = ?")
        params.append(filters.patient.strip())
    if filters.patients is not None:
        mrns = sorted(set(filters.patients))
        where.append(f"r.patient_mrn IN ({', '.join('?' for _ in mrns)})" if mrns else "0")
        params += mrns
    if filters.within is not None:
        where.append("r.n IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(filters.within_records()))
    if filters.doc_type:
        t = filters.doc_type.strip().lower()
        where.append("(lower(r.doc_type) = ? OR lower(r.format) = ? OR lower(r.doc_type) LIKE ? ESCAPE '\\')")
        params += [t, t, _like_escape(t) + ":%"]
    if filters.author:
        where.append("r.author LIKE ? ESCAPE '\\'")
        params.append("%" + _like_escape(filters.author.strip()) + "%")
    if filters.date_from or filters.date_to:
        # The record's date, or the date of one of its facts (a bundle of many encounters is found by each).
        bounds: list[str] = []
        for value, option, op in ((filters.date_from, "--from", ">="), (filters.date_to, "--to", "<=")):
            if value:
                d = check_date(value, option)
                bounds.append(f"substr({{day}}, 1, {len(d)}) {op} ?")
                params.append(d)
        record_day = " AND ".join(b.format(day="r.date") for b in bounds)
        fact_day = " AND ".join(b.format(day="j.value ->> 'date'") for b in bounds)
        where.append(f"(({record_day}) OR (r.facts != '[]' AND EXISTS (SELECT 1 FROM json_each(r.facts) j "
                     f"WHERE {fact_day})))")
        params += params[len(params) - len(bounds):]
    return "".join(f" AND {w}" for w in where), params


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@contextmanager
def _understood() -> Iterator[None]:
    """FTS5's complaint about a query's syntax as BadQuery (what the person typed); other database errors as
    they are. One place for search_page, holders and holding_among."""
    from sqlcipher3 import dbapi2

    try:
        yield
    except dbapi2.OperationalError as exc:
        if "fts5" in str(exc).lower() or "syntax" in str(exc).lower():
            raise BadQuery("The query could not be understood.", 'Try plain words, a "phrase", or word*.') from None
        raise


@dataclass(frozen=True)
class FtsPage:
    hits: list[FtsHit]
    total: int  # matches (after filters); with `more` set, at least this many
    more: bool = False  # there are more matches than were counted
    pool: int | None = None  # when set: ranked among the `pool` most recently imported matches


def search(db: Any, query: str, filters: Filters | None = None, limit: int = 20, offset: int = 0) -> list[FtsHit]:
    """Ranked hits (BM25) with snippets for `query`; BadQuery when it cannot be parsed."""
    return search_page(db, query, filters, limit, offset).hits


def search_page(
    db: Any, query: str, filters: Filters | None = None, limit: int = 20, offset: int = 0
) -> FtsPage:
    """Like `search`, with the number of matches and how they were ranked.

    BM25 costs a few microseconds per matching record, so a word found in a
    fifth of 100,000 records would take far too long to rank in full. When
    more than RANK_ALL records match, the RANK_ALL most recently imported
    matches are ranked (counting is cheap, ranking is not); `pool` says so
    and the person can add words or filters to narrow the search. Without
    filters every step runs on the FTS table alone (a join per match would
    cost more than the ranking itself).
    """
    match = parse_query(query)
    where, params = _filter_sql(filters or Filters())
    limit = max(1, min(int(limit), 1000))
    offset = max(0, int(offset))
    with _understood():
        if not where:
            total = int(db.execute(f"SELECT count(*) FROM {TABLE} WHERE {TABLE} MATCH ?", [match]).fetchone()[0])
            more = False
            edge = None
            if total > RANK_ALL:
                edge = db.execute(
                    f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                    [match, RANK_ALL - 1],
                ).fetchone()[0]
            top = db.execute(
                f"SELECT rowid, rank FROM {TABLE} WHERE {TABLE} MATCH ?"
                + (" AND rowid >= ?" if edge is not None else "")
                + " ORDER BY rank LIMIT ? OFFSET ?",
                [match, *([edge] if edge is not None else []), limit, offset],
            ).fetchall()
        else:
            # Type and years narrow inside FTS5 (the facets column), so the join below tests the
            # matches that pass them, not every match; it still applies each filter exactly.
            narrow = narrowed(match, db, filters)
            # The newest matches that pass the filters: how many, and where the ranked pool starts.
            newest = db.execute(
                f"SELECT f.rowid FROM {TABLE} f CROSS JOIN records r ON r.n = f.rowid "
                f"WHERE {TABLE} MATCH ?{where} ORDER BY f.rowid DESC LIMIT ?",
                [narrow, *params, RANK_ALL + 1],
            ).fetchall()
            more = len(newest) > RANK_ALL
            total = min(len(newest), RANK_ALL)
            edge = newest[RANK_ALL - 1][0] if more else None
            # Ranked: the filtered matches, or (more of them) the RANK_ALL newest, as the narrowed query would
            # rank them (its facet terms weigh nothing) but without reading the facet terms' posting lists.
            top = _rank_within(db, match, [int(r[0]) for r in newest[:RANK_ALL]], limit, offset)
        ns = [int(t[0]) for t in top]
        rows = _record_rows(db, ns)
        snippets = _snippets(db, match, ns)
    hits = []
    for n, rank in top:
        row = rows.get(int(n))
        if row is None:  # an FTS row without its record: never inside one transaction
            continue
        hits.append(
            FtsHit(
                n=int(n), record_id=row[0], filename=row[1], patient=row[2], date=row[3], doc_type=row[4],
                format=row[5], title=row[6], score=round(-float(rank), 4), snippet=snippets.get(int(n), ""),
            )
        )
    return FtsPage(hits=hits, total=total, more=more, pool=RANK_ALL if edge is not None else None)


def holders(db: Any, query: str, filters: Filters | None = None, limit: int = 20) -> list[tuple[int, str]]:
    """Records (records.n, id) that match `query` as `search` reads it, at most `limit`, in no order: whether
    `limit` records hold the query's words and, when fewer do, which (the modes by meaning look up near
    spellings then). The same matches `search_page` counts, without ranking or snippets; BadQuery as it."""
    match = parse_query(query)
    where, params = _filter_sql(filters or Filters())
    if where:
        match = narrowed(match, db, filters)
    sql = (f"SELECT f.rowid, r.id FROM {TABLE} f CROSS JOIN records r ON r.n = f.rowid "
           f"WHERE {TABLE} MATCH ?{where} LIMIT ?")
    with _understood():
        return [(int(n), str(rid)) for n, rid in db.execute(sql, [match, *params, max(1, int(limit))]).fetchall()]


def holding_among(db: Any, query: str, ns: Iterable[int]) -> list[tuple[int, str]]:
    """Of the records `ns` (records.n), those (n, id) that match `query` as `search` reads it (BadQuery as it).
    Each is looked up by its rowid, which FTS5 seeks to in the query's doclists: filtering the matches by a join
    reads a common word's whole doclist (300k records holding it: ~100 ms; 20 seeks: 0.5 ms, bench/RESULTS.md
    session 14)."""
    match = parse_query(query)
    sql = (f"SELECT f.rowid, r.id FROM {TABLE} f CROSS JOIN records r ON r.n = f.rowid "
           f"WHERE {TABLE} MATCH ? AND f.rowid = ?")
    out: list[tuple[int, str]] = []
    with _understood():
        for n in distinct_records(ns):
            row = db.execute(sql, [match, n]).fetchone()
            if row is not None:
                out.append((int(row[0]), str(row[1])))
    return out


RANK_WITHIN = 2 * RANK_ALL  # plain matches ranked to order a filtered set (more: only the set's own are ranked)


def _rank_within(db: Any, match: str, passing: list[int], limit: int, offset: int) -> list[tuple[int, float]]:
    """The best `limit` of `passing` (the filtered matches), ranked by the query's own BM25.

    Ranking the narrowed query (query AND facet terms) makes FTS5's BM25 read every facet
    term's whole posting list for its IDF (a type held by a fifth of 100k records: about
    5 ms a search, more than the ranking itself; 10 ms for the newest 2,000 of a broad query).
    The plain query's BM25 is the narrowed one's (the facets column weighs nothing): it is
    computed over the rowid range of the filtered matches, for every plain match there when
    they are at most RANK_WITHIN (cheaper than testing each), else only for `passing` ones.
    """
    if not passing:
        return []
    lo, hi = min(passing), max(passing)
    inside = f"SELECT {{}} FROM {TABLE} WHERE {TABLE} MATCH ? AND rowid BETWEEN ? AND ?"
    keep = set(passing)
    if int(db.execute(inside.format("count(*)"), [match, lo, hi]).fetchone()[0]) > RANK_WITHIN:
        rows = db.execute(inside.format("rowid, rank") + f" AND +rowid IN ({', '.join('?' for _ in passing)})",
                          [match, lo, hi, *passing])
    else:
        rows = db.execute(inside.format("rowid, rank"), [match, lo, hi])
    ranked = sorted((float(rank), int(n)) for n, rank in rows if int(n) in keep)
    return [(n, rank) for rank, n in ranked[offset : offset + limit]]


def _record_rows(db: Any, ns: list[int]) -> dict[int, tuple[Any, ...]]:
    if not ns:
        return {}
    marks = ", ".join("?" for _ in ns)
    sql = f"SELECT n, id, filename, patient_mrn, date, doc_type, format, title FROM records WHERE n IN ({marks})"
    return {int(r[0]): tuple(r[1:]) for r in db.execute(sql, ns)}


def _snippets(db: Any, match: str, rowids: list[int]) -> dict[int, str]:
    """Snippets for the given rows only (snippet() is costly; never compute it for every match).

    One pass over the rows' rowid range, keeping only the wanted ones: `rowid
    IN (...)` alone would run the whole query again per row (slow for prefixes).
    """
    if not rowids:
        return {}
    marks = ", ".join("?" for _ in rowids)
    sql = (
        f"SELECT rowid, snippet({TABLE}, -1, char(2), char(3), '…', {SNIPPET_TOKENS}) FROM {TABLE} "
        f"WHERE {TABLE} MATCH ? AND rowid BETWEEN ? AND ? AND +rowid IN ({marks})"
    )
    params = [match, min(rowids), max(rowids), *rowids]
    return {int(r[0]): _tidy(str(r[1] or "")) for r in db.execute(sql, params)}


def _tidy(snippet: str) -> str:
    return re.sub(r"\s+", " ", snippet).strip()


def mark(snippet: str, open_mark: str = "**", close_mark: str = "**") -> str:
    """Replace the internal match markers with `open_mark`/`close_mark`."""
    return snippet.replace(MARK_OPEN, open_mark).replace(MARK_CLOSE, close_mark)


# -- near spellings (OCR errors) ------------------------------------------------------------------

VOCAB = "temp.records_fts_vocab"  # fts5vocab over records_fts: per connection, holds nothing itself
FUZZY_MIN_LETTERS = 5  # shorter words have too many neighbours one edit away
FUZZY_MAX_TERMS = 4  # near spellings tried per query word


def edit_distance(a: str, b: str, cap: int) -> int:
    """Levenshtein distance, or cap + 1 as soon as it must exceed `cap`."""
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > cap:
            return cap + 1
        prev = cur
    return prev[-1]


# Letters OCR confuses with each other; a near spelling without a digit must differ only by these
# ("smitl" for "smith"), so that real words one edit away ("heard" for "heart") are not taken.
_CONFUSED = {frozenset(p) for p in ("hl", "li", "il", "ec", "ao", "nh", "uv", "mn", "rn", "cd", "ij", "ft", "bh")}


def _ocr_like(term: str, word: str) -> bool:
    if any(c.isdigit() for c in term):
        return True
    prefix = word[: len(term)]
    if len(prefix) != len(term):
        return False
    return all(a == b or frozenset((a, b)) in _CONFUSED for a, b in zip(term, prefix, strict=True))


def near_terms(db: Any, word: str) -> list[str]:
    """Index terms one edit from `word` (two from words of nine letters or more), most frequent first:
    "cimeti2in" for "cimetidine". The index holds Porter stems, so `word` is compared with a term
    after dropping as many of its last letters as the stemmer could have removed. Candidates share
    `word`'s first two letters (a range scan of the vocabulary, cheap); a misread first or second
    letter is not found. Each term returned matches as a quoted FTS5 term."""
    w = word.lower()
    if len(w) < FUZZY_MIN_LETTERS or not w.isalnum():
        return []
    cap = 2 if len(w) >= 9 else 1
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {VOCAB} USING fts5vocab(main, {TABLE}, row)")
    rows = db.execute(
        f"SELECT term, doc FROM {VOCAB} WHERE term >= ? AND term < ? AND length(term) BETWEEN ? AND ?",
        [w[:2], w[:2] + "\uffff", len(w) - 4, len(w) + cap],
    ).fetchall()
    found: list[tuple[int, str]] = []
    for term, docs in rows:
        term = str(term)
        ends = range(max(1, len(term) - 1), min(len(w), len(term) + 1) + 1)
        best = min((edit_distance(term, w[:k], cap) for k in ends), default=cap + 1)
        if 0 < best <= cap and _ocr_like(term, w):  # 0: the word itself, as stemmed
            found.append((-int(docs), term))
    return [t for _, t in sorted(found)[:FUZZY_MAX_TERMS]]
