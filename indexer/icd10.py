"""The ICD-10-CM code set in the index: loading, lookup, hierarchy and code search.

The code set comes from the `simple-icd-10-cm` package (the CMS tabular list it
ships); `ensure_loaded` copies it once into `icd10_codes` + the FTS5 table
`icd10_fts` (tables made by archive/schema.py). Knows nothing of users, records
or policy: every function takes the index database and returns dataclasses.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from indexer.code_names import parse_name
from indexer.query.abbreviations import expand_abbreviations
from indexer.query.index_terms import index_terms
from indexer.query.spelling import UsSpelling
from indexer.query.tokens import WORD, words
from vault.db import transaction

KINDS = ("chapter", "block", "category", "subcategory", "extension")
_SETTING = "icd10_release"
# A code as people type it: letter, digit, alphanumeric, then optionally a dot and up to 4 more.
_CODE_RE = re.compile(r"^\s*([A-Za-z])(\d)([0-9A-Za-z])\.?([0-9A-Za-z]{0,4})\s*$")
_RANGE_RE = re.compile(r"^\s*[A-Za-z]\d[0-9A-Za-z]-[A-Za-z]\d[0-9A-Za-z]\s*$")


@dataclass(frozen=True)
class CodeRow:
    code: str
    compact: str
    description: str
    kind: str
    billable: bool
    chapter: str
    block: str
    category: str
    parent: str
    depth: int
    terms: str


@dataclass(frozen=True)
class CodeInfo:
    code: str
    description: str
    kind: str
    billable: bool
    chapter: str
    block: str
    category: str
    parent: str
    depth: int
    terms: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["terms"] = list(self.terms)
        return data


@dataclass(frozen=True)
class CodeHit:
    code: str
    description: str
    billable: bool
    kind: str
    score: float
    match: str  # "code" (the typed code), "prefix" (below it), "near" (it does not exist), "term" or "text"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoadReport:
    release: str
    codes: int
    billable: int
    seconds: float
    loaded: bool  # False when the code set was already present


# -- reading the package ---------------------------------------------------------------------------


def package_release() -> str:
    """The release the installed package ships, e.g. 'simple-icd-10-cm 1.5.0 (April-1-2026)'.

    Read from the package's metadata and data file names: importing the package
    parses its whole XML (seconds), which only a load needs.
    """
    from importlib.metadata import version
    from importlib.resources import files

    names = sorted(p.name for p in files("simple_icd_10_cm.data").iterdir() if p.name.endswith(".xml"))
    m = re.search(r"(\w+-\d+-\d{4})", names[-1]) if names else None
    return f"simple-icd-10-cm {version('simple-icd-10-cm')}" + (f" ({m.group(1)})" if m else "")


def iter_code_set() -> Iterator[CodeRow]:
    """Every chapter, block and code of the package's tabular list, parents before children.

    Uses the public API only. Some blocks share their name with their single
    category (B99, C7A, ...): the package keeps the category under that name and
    so do we; the block is then that category's block.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import simple_icd_10_cm as icd

    seen: set[str] = set()
    chapter_of: dict[str, str] = {}
    block_of: dict[str, str] = {}
    category_of: dict[str, str] = {}
    depth_of: dict[str, int] = {}
    for code in icd.get_all_codes(with_dots=True):
        if code in seen:
            continue
        seen.add(code)
        if icd.is_chapter(code):
            kind = "chapter"
        elif icd.is_category(code):
            kind = "category"
        elif icd.is_extended_subcategory(code):
            kind = "extension"
        elif icd.is_subcategory(code):
            kind = "subcategory"
        else:
            kind = "block"
        parent = icd.get_parent(code)
        if parent == code:  # a category named like its block
            parent = icd.get_parent(code, prioritize_blocks=True)
        depth = depth_of.get(parent, -1) + 1 if parent else 0
        depth_of[code] = depth
        chapter = code if kind == "chapter" else chapter_of.get(parent, "")
        chapter_of[code] = chapter
        if kind == "block":
            block = code
        elif kind == "category" and icd.is_block(code):
            block = code
        else:
            block = block_of.get(parent, "")
        block_of[code] = block
        category = code if kind == "category" else category_of.get(parent, "")
        category_of[code] = category
        leaf = icd.is_leaf(code)
        terms = [*icd.get_inclusion_term(code), *icd.get_includes(code)]
        yield CodeRow(
            code=code,
            compact=code.replace(".", "").upper(),
            description=icd.get_description(code),
            kind=kind,
            billable=leaf and kind not in ("chapter", "block"),
            chapter=chapter,
            block=block,
            category=category,
            parent=parent or "",
            depth=depth,
            terms=" | ".join(terms),
        )


# -- loading ---------------------------------------------------------------------------------------


@cache
def _package_rows() -> list[tuple[Any, ...]]:
    """The package's code set as table rows, read once per process (several vaults may load it)."""
    return [
        (r.code, r.compact, r.description, r.kind, int(r.billable), r.chapter, r.block, r.category, r.parent,
         r.depth, r.terms)
        for r in iter_code_set()
    ]


@cache
def known_codes() -> frozenset[str]:
    """Every code of the packaged code set (a few seconds, once per process): for checking imported codes
    when the vault has not loaded the code set into its index yet."""
    return frozenset(str(row[0]) for row in _package_rows() if row[3] in ("category", "subcategory", "extension"))


def is_loaded(db: Any) -> bool:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [_SETTING]).fetchone()
    return row is not None


LoadProgress = Callable[[int, int, str], None]  # (done, total, what is happening now)
_CHUNK = 10_000  # rows per insert batch: the unit of load progress


def ensure_loaded(db: Any, progress: LoadProgress | None = None) -> LoadReport:
    """Load the code set into the index unless this release is already there (idempotent).

    `progress` hears (done, total, what) as the package is read, the rows inserted and the index built."""
    start = time.perf_counter()
    tell = progress or (lambda done, total, what: None)
    release = package_release()
    row = db.execute("SELECT value FROM settings WHERE key = ?", [_SETTING]).fetchone()
    if row is not None and row[0] == release:
        total, billable = db.execute("SELECT count(*), coalesce(sum(billable), 0) FROM icd10_codes").fetchone()
        return LoadReport(release, int(total), int(billable), time.perf_counter() - start, loaded=False)
    tell(0, 1, "reading the ICD-10-CM package")
    rows = _package_rows()
    chunks = max(1, -(-len(rows) // _CHUNK))
    steps = chunks + 2  # read, insert the chunks, build the search index
    tell(1, steps, f"inserting {len(rows):,} codes")
    with transaction(db):
        # Another process may have loaded it while we read the package.
        again = db.execute("SELECT value FROM settings WHERE key = ?", [_SETTING]).fetchone()
        if again is None or again[0] != release:
            db.execute("DELETE FROM icd10_codes")
            for n in range(chunks):
                db.conn.executemany(
                    "INSERT INTO icd10_codes (code, compact, description, kind, billable, chapter, block, category,"
                    " parent, depth, terms) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    rows[n * _CHUNK:(n + 1) * _CHUNK],
                )
                tell(2 + n, steps, f"inserted {min((n + 1) * _CHUNK, len(rows)):,} of {len(rows):,} codes"
                     if n + 1 < chunks else "building the code search index")
            db.execute("INSERT INTO icd10_fts(icd10_fts) VALUES ('rebuild')")
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [_SETTING, release],
            )
    tell(steps, steps, "code set loaded")
    total, billable = db.execute("SELECT count(*), coalesce(sum(billable), 0) FROM icd10_codes").fetchone()
    return LoadReport(release, int(total), int(billable), time.perf_counter() - start, loaded=True)


# -- lookup and hierarchy --------------------------------------------------------------------------

_COLUMNS = "code, description, kind, billable, chapter, block, category, parent, depth, terms"


def _info(row: Any) -> CodeInfo:
    terms = tuple(t.strip() for t in (row[9] or "").split(" | ") if t.strip())
    return CodeInfo(row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6], row[7], int(row[8]), terms)


def normalize_code(text: str) -> str | None:
    """'e119' / 'E11.9' / ' e11 ' -> 'E11.9' / 'E11'; a block 'e08-e13' -> 'E08-E13'; else None.

    Only the shape is checked, not that the code exists.
    """
    if _RANGE_RE.match(text):
        return text.strip().upper()
    m = _CODE_RE.match(text)
    if not m:
        return None
    head = (m.group(1) + m.group(2) + m.group(3)).upper()
    tail = m.group(4).upper()
    return f"{head}.{tail}" if tail else head


def lookup(db: Any, code: str) -> CodeInfo | None:
    """The code, block or chapter `code` (any spelling normalize_code accepts, or a chapter number)."""
    norm = normalize_code(code) or code.strip()
    row = db.execute(f"SELECT {_COLUMNS} FROM icd10_codes WHERE code = ?", [norm]).fetchone()
    if row is None:
        row = db.execute(
            f"SELECT {_COLUMNS} FROM icd10_codes WHERE compact = ?", [norm.replace(".", "").upper()]
        ).fetchone()
    return _info(row) if row else None


def children(db: Any, code: str) -> list[CodeInfo]:
    rows = db.execute(f"SELECT {_COLUMNS} FROM icd10_codes WHERE parent = ? ORDER BY rowid", [code]).fetchall()
    return [_info(r) for r in rows]


def ancestors(db: Any, code: str) -> list[CodeInfo]:
    """From the chapter down to the code's parent."""
    out: list[CodeInfo] = []
    info = lookup(db, code)
    while info is not None and info.parent:
        info = lookup(db, info.parent)
        if info is not None:
            out.append(info)
    return list(reversed(out))


def chapters(db: Any) -> list[CodeInfo]:
    rows = db.execute(f"SELECT {_COLUMNS} FROM icd10_codes WHERE kind = 'chapter' ORDER BY rowid").fetchall()
    return [_info(r) for r in rows]


def in_category(db: Any, prefix: str) -> list[CodeInfo]:
    """Every code whose compact form starts with `prefix` ('E11' -> E11, E11.0, ... E11.9)."""
    p = prefix.replace(".", "").upper()
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM icd10_codes WHERE compact >= ? AND compact < ? AND kind NOT IN ('chapter','block')"
        " ORDER BY compact",
        [p, p + "\uffff"],
    ).fetchall()
    return [_info(r) for r in rows]


def default_billable(db: Any, code: str) -> str | None:
    """The billable code a coder picks under `code` when nothing more is said ('unspecified' first)."""
    info = lookup(db, code)
    if info is None:
        return None
    if info.billable:
        return info.code
    under = [c for c in in_category(db, info.code) if c.billable and c.code != info.code]
    if not under:
        return None
    return min(under, key=lambda c: default_key(c.code, c.description)).code


def default_key(code: str, description: str) -> tuple[int, int, int, int, str]:
    """Sort key for the default among billable codes: shortest, '.9'/'X' (unspecified), initial encounter."""
    compact = code.replace(".", "")
    seventh = len(compact) == 7 and not compact[-1].isdigit()
    body = compact[:-1] if seventh else compact
    return (
        len(body),
        0 if body[-1:] in ("9", "X") else 1,
        0 if "unspecified" in description.lower() else 1,
        0 if (not seventh or compact[-1] == "A") else 1,
        code,
    )


def near_codes(db: Any, code: str, limit: int = 5) -> list[CodeInfo]:
    """Existing codes nearest to a code that does not exist: its longest existing prefix and siblings."""
    compact = (normalize_code(code) or code).replace(".", "").upper()
    for n in range(len(compact), 2, -1):
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM icd10_codes WHERE compact >= ? AND compact < ? AND kind NOT IN"
            " ('chapter','block') ORDER BY billable DESC, compact LIMIT ?",
            [compact[:n], compact[:n] + "\uffff", limit],
        ).fetchall()
        if rows:
            return [_info(r) for r in rows]
    if compact[:1].isalpha():
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM icd10_codes WHERE kind = 'category' AND compact >= ? ORDER BY compact LIMIT ?",
            [compact[:3], limit],
        ).fetchall()
        return [_info(r) for r in rows]
    return []


# -- search ----------------------------------------------------------------------------------------


def _fts_phrase(tokens: list[str]) -> str:
    return " ".join(f'"{t}"' for t in tokens)


def search_codes(db: Any, query: str, limit: int = 20, billable_only: bool = False) -> list[CodeHit]:
    """Codes for a code ('E11', 'e119') or words ('type 2 diabetes without complications').

    Ranking: the exact code first, then codes under it; a code that does not
    exist gives its nearest codes (match "near"). For words: a term of the
    mini index ('heart attack' -> I21.9) first, then codes containing every
    query word (abbreviations such as HTN or CHF also match their sense),
    ordered by how well the description or an inclusion term says what was
    asked, billable codes before headings at equal fit, then BM25. When no code
    has all the words, codes with most of them follow. `score` is that fit (0-1).
    """
    query = query.strip()
    if not query:
        return []
    hits: list[CodeHit] = []
    seen: set[str] = set()
    norm = normalize_code(query)
    if norm:
        info = lookup(db, norm)
        if info is not None and not (billable_only and not info.billable):
            hits.append(CodeHit(info.code, info.description, info.billable, info.kind, 1.0, "code"))
            seen.add(info.code)
        if "-" not in norm:
            rows = db.execute(
                "SELECT code, description, billable, kind FROM icd10_codes WHERE compact > ? AND compact < ?"
                " AND kind NOT IN ('chapter','block')" + (" AND billable = 1" if billable_only else "")
                + " ORDER BY length(compact), compact LIMIT ?",
                [norm.replace(".", ""), norm.replace(".", "") + "\uffff", limit],
            ).fetchall()
            for code, desc, billable, kind in rows:
                if code not in seen:
                    hits.append(CodeHit(code, desc, bool(billable), kind, 0.9, "prefix"))
                    seen.add(code)
        if hits:
            return hits[:limit]
        if "-" not in norm:  # a code that does not exist: its nearest codes, marked as such
            return [
                CodeHit(c.code, c.description, c.billable, c.kind, 0.5, "near")
                for c in near_codes(db, norm, limit)
                if c.billable or not billable_only
            ]
    query = WORD.sub(lambda m: spelling_for(db)(m.group(0)), query)  # "haemolytic anaemia": the names' spelling
    groups = _query_groups(query)
    if not groups:
        return hits
    hits.extend(_index_term_hits(db, query, billable_only, seen))
    pool = _fts(db, " AND ".join(groups), CANDIDATES, billable_only, seen)
    if len(groups) > 1 and len(pool) < limit:
        taken = seen | {h.code for h, _t in pool}
        pool += _fts(db, " OR ".join(groups), CANDIDATES, billable_only, taken, relaxed=True)
    hits.extend(_rerank(query, pool))
    return hits[:limit]


CANDIDATES = 200

_SPELLINGS: dict[str, UsSpelling] = {}
_SPELLINGS_LOCK = threading.Lock()


def spelling_for(db: Any) -> UsSpelling:
    """British spelling read in the code set's US spelling (indexer.query.spelling), over the words of the names
    loaded in `db` (descriptions, inclusion terms, the mini index): built once per process and release."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [_SETTING]).fetchone()
    release = row[0] if row else ""
    with _SPELLINGS_LOCK:
        if release not in _SPELLINGS:
            names = (f"{d} {t}" for d, t in db.execute("SELECT description, terms FROM icd10_codes"))
            vocabulary = {w.lower() for text in names for w in WORD.findall(text)}
            vocabulary.update(w.lower() for term, _code in index_terms() for w in WORD.findall(term))
            _SPELLINGS[release] = UsSpelling(vocabulary)
        return _SPELLINGS[release]


def _index_term_hits(db: Any, query: str, billable_only: bool, seen: set[str]) -> list[CodeHit]:
    """The mini index's code when the query is one of its terms ('heart attack' -> I21.9)."""
    wanted = " ".join(w.lower() for w in words(query))
    expanded = " ".join(expand_abbreviations(wanted.split()))
    out = []
    for term, code in index_terms():
        if term in (wanted, expanded) and code not in seen:
            info = lookup(db, code)
            if info is not None and (info.billable or not billable_only):
                out.append(CodeHit(info.code, info.description, info.billable, info.kind, 1.0, "term"))
                seen.add(code)
    return out


def _tie_break(hit: CodeHit) -> tuple[bool, bool]:
    """At equal fit: not an "Other ..." code, and the initial encounter of a 7th-character code."""
    other = hit.description.lower().startswith("other ")
    later = hit.kind == "extension" and not hit.code.endswith("A")
    return (other, later)


def _rerank(query: str, pool: list[tuple[CodeHit, str]]) -> list[CodeHit]:
    """Order FTS candidates by how well a description or inclusion term says what was asked.

    Score = (share of the name's words the query has) x (share of the query's words
    the name has); ties go to billable codes, then BM25.
    """
    # The query is read like a name: "X without Y" asks for X and for the absence of Y.
    q_required, q_absent = parse_name(" ".join(expand_abbreviations([w.lower() for w in words(query)])))
    q = set(q_required) | q_absent
    q_absent = q_absent - set(q_required)
    if not q:
        return [hit for hit, _terms in pool]
    scored = []
    for hit, terms in pool:
        best = 0.0
        description = hit.description
        if hit.kind == "extension":  # ", initial encounter for closed fracture" is not what was asked
            description = description.rsplit(",", 1)[0]
        for name in [description, *(t for t in terms.split(" | ") if t.strip())]:
            required, optional = parse_name(name)
            if not required:
                continue
            name_cov = len(q & set(required)) / len(required)
            query_cov = len(q & (set(required) | optional)) / len(q)
            contradicted = 0.5 if q_absent & set(required) else 1.0
            best = max(best, name_cov * query_cov * contradicted)
        scored.append((round(best, 2), hit))
    scored.sort(key=lambda x: (-x[0], not x[1].billable, _tie_break(x[1]), -x[1].score))
    return [CodeHit(h.code, h.description, h.billable, h.kind, rel, h.match) for rel, h in scored]


def _query_groups(query: str) -> list[str]:
    """One FTS5 group per query word: the word OR its abbreviation sense, e.g. (htn OR "hypertension")."""
    groups = []
    for word in words(query):
        token = word.lower()
        alternatives = [f'"{token}"']
        expansion = expand_abbreviations([token])
        if expansion != [token]:
            alternatives.append(f"({_fts_phrase(expansion)})")
        groups.append(alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")")
    return groups


def _fts(
    db: Any, match: str, limit: int, billable_only: bool, seen: set[str], relaxed: bool = False
) -> list[tuple[CodeHit, str]]:
    sql = (
        "SELECT c.code, c.description, c.billable, c.kind, bm25(icd10_fts, 0.5, 10.0, 3.0) AS rank, c.terms"
        " FROM icd10_fts JOIN icd10_codes c ON c.rowid = icd10_fts.rowid"
        " WHERE icd10_fts MATCH ? AND c.kind NOT IN ('chapter','block')"
        + (" AND c.billable = 1" if billable_only else "")
        + " ORDER BY c.billable DESC, rank LIMIT ?"
    )
    try:
        rows = db.execute(sql, [match, limit + len(seen)]).fetchall()
    except Exception as exc:  # noqa: BLE001 - an FTS syntax error means "nothing matches this"
        if "fts5" in str(exc).lower() or "syntax" in str(exc).lower():
            return []
        raise
    out = []
    for code, desc, billable, kind, rank, terms in rows:
        if code in seen:
            continue
        seen.add(code)
        score = -float(rank)  # bm25() is negative, lower is better; kept as higher-is-better
        out.append((CodeHit(code, desc, bool(billable), kind, score * (0.5 if relaxed else 1.0), "text"), terms))
    return out
