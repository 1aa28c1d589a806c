"""Each record's non-affirmed words, worked out once at import so a search labels its hits by lookup.

`build(text)` runs indexer.assertion over a whole text once: its sentence cuts, and the runs of words a
modifier or a section makes negated, possible, hypothetical, historical or family (or that are a heading),
with the start of the first heading. `label(amap, text, start, end)` then gives what `assertion_of` gives
for a mention from those runs, with no sentence splitting and no rule matching at query time.

Stored per record in the encrypted index (table `assertion_spans`, keyed by `records.n`), written wherever
the full-text row's text is written (indexer.fts) and checked against the text's length and CRC when read:
a map that does not fit its text is ignored and the hit is labelled the slow way. Never writes plaintext
outside the index.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any

from indexer.assertion import (
    AFFIRMED,
    FAMILY,
    HISTORICAL,
    HYPOTHETICAL,
    LABELS,
    NEGATED,
    OTHER,
    POSSIBLE,
    _flags_at,
    _habit_prefix,
    _matches,
    _modifiers,
    _span_historical,
    _tokens,
    assertion_of,
    headings,
    sentences,
    text_words,
)

TABLE = "assertion_spans"
VERSION = 15  # of the encoding and of the rules that made it; a map of another version is ignored (and rebuilt)
BITS: dict[str, int] = {NEGATED: 1, POSSIBLE: 2, HYPOTHETICAL: 4, HISTORICAL: 8, FAMILY: 16, OTHER: 128}
HEADING = 32
RULE = 64  # the word is part of a rule's own words ("no", "history"): a span holding it is labelled the slow way


@dataclass(frozen=True)
class AssertionMap:
    cuts: tuple[int, ...]  # sentence cut points, sorted, 0 and the text's length included
    starts: tuple[int, ...]  # runs of non-affirmed words: start, end (exclusive) and bits, in text order
    ends: tuple[int, ...]
    bits: tuple[int, ...]
    first_heading: int  # where the first heading starts (the text's length when there is none)

    def sentence(self, pos: int) -> tuple[int, int]:
        """(start, end) of the sentence holding `pos`."""
        k = bisect_right(self.cuts, pos)
        return self.cuts[max(0, k - 1)], self.cuts[min(len(self.cuts) - 1, k)]


def build(text: str) -> AssertionMap:
    """The assertion map of `text` (see the module doc)."""
    heads = headings(text)
    spans = sentences(text)
    cuts = sorted({0, len(text), *(s for s, _e in spans), *(e for _s, e in spans)})
    starts: list[int] = []
    ends: list[int] = []
    bits: list[int] = []
    hk = 0
    near = text_words(text)
    for s, e in spans:
        toks = _tokens(text, s, e)
        words = [w for w, _a, _b in toks]
        found = _matches(words, near)
        # A word inside a rule's own words is labelled as a span of its own would be (its words masked).
        in_rule = {k for first, last, _r in found for k in range(first, last)}
        mods = _modifiers(words, found)
        for k, (_w, a, b) in enumerate(toks):
            while hk < len(heads) and heads[hk].body_end <= a:
                hk += 1
            head = heads[hk] if hk < len(heads) and heads[hk].start <= a else None
            if head is not None and head.start <= a and b <= head.end:
                value = HEADING
            else:
                if k in in_rule:  # the word alone, masked, as context_of would see it
                    masked = [*words[:k], "\x00", *words[k + 1 :]]
                    flags = _flags_at(masked, _modifiers(masked, _matches(masked, near)), k, k + 1)
                else:
                    flags = _flags_at(words, mods, k, k + 1)
                if head is not None and head.default_at(a) != AFFIRMED:
                    flags[head.default] = True
                value = sum(BITS[label] for label, on in flags.items() if on) | (RULE if k in in_rule else 0)
            if not value:
                continue
            if bits and bits[-1] == value and ends[-1] == _prev_end(toks, k):
                ends[-1] = b
            else:
                starts.append(a)
                ends.append(b)
                bits.append(value)
    first_heading = heads[0].start if heads else len(text)
    return AssertionMap(tuple(cuts), tuple(starts), tuple(ends), tuple(bits), first_heading)


def _prev_end(toks: list[tuple[str, int, int]], k: int) -> int:
    return toks[k - 1][2] if k else -1


def label(amap: AssertionMap, text: str, start: int, end: int) -> str:
    """What `indexer.assertion.assertion_of(text, start, end)` says, read from the map."""
    lo = bisect_left(amap.ends, start + 1)  # the first run ending after `start`
    hi = bisect_left(amap.starts, end)  # runs from here on start at or after `end`
    value = 0
    for k in range(lo, hi):
        if amap.bits[k] == HEADING:
            if amap.starts[k] <= start and end <= amap.ends[k]:
                return HYPOTHETICAL  # a heading is never a finding
            continue
        if amap.bits[k] & RULE:
            return assertion_of(text, start, end)  # the span's own words may trigger or end a scope
        value |= amap.bits[k]
    if value & BITS[OTHER]:
        value |= BITS[FAMILY]  # someone else's: not the patient's (Context.label)
    s, e = amap.sentence(start)
    before, after = text[s:start], text[end : max(e, end)]
    if _span_historical(text, start, end, before, after, start < amap.first_heading, bool(value & BITS[NEGATED])):
        value |= BITS[HISTORICAL]
    habit = _habit_prefix(text[max(s, start - 16) : start], text[start:end])  # "non-smoker", "ex-smoker"
    if habit is not None:
        value |= BITS[habit]
    for name in (NEGATED, FAMILY, HYPOTHETICAL, POSSIBLE, HISTORICAL):  # Context.label's order
        if value & BITS[name]:
            return name
    return AFFIRMED


# -- stored per record ------------------------------------------------------------------------------


def create_schema(db: Any) -> None:
    db.execute(
        f"""CREATE TABLE IF NOT EXISTS {TABLE} (
            record_n INTEGER PRIMARY KEY,
            version INTEGER NOT NULL,
            text_len INTEGER NOT NULL,
            text_crc INTEGER NOT NULL,
            map BLOB NOT NULL
        )"""
    )


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def encode(amap: AssertionMap) -> bytes:
    runs = [v for triple in zip(amap.starts, amap.ends, amap.bits, strict=True) for v in triple]
    out = array("I", [amap.first_heading, len(amap.cuts), *amap.cuts, *runs])
    if sys.byteorder == "big":
        out.byteswap()
    return out.tobytes()


def decode(blob: bytes) -> AssertionMap:
    values = array("I")
    values.frombytes(blob)
    if sys.byteorder == "big":
        values.byteswap()
    first_heading, n_cuts = values[0], values[1]
    cuts = tuple(values[2 : 2 + n_cuts])
    runs = values[2 + n_cuts :]
    return AssertionMap(cuts, tuple(runs[0::3]), tuple(runs[1::3]), tuple(runs[2::3]), first_heading)


def store(db: Any, n: int, text: str) -> None:
    """Work out and keep record `n`'s map (its full-text row's text changed or is new)."""
    db.execute(
        f"INSERT OR REPLACE INTO {TABLE} (record_n, version, text_len, text_crc, map) VALUES (?, ?, ?, ?, ?)",
        [n, VERSION, len(text), _crc(text), encode(build(text))],
    )


def forget(db: Any, n: int) -> None:
    db.execute(f"DELETE FROM {TABLE} WHERE record_n = ?", [n])


def maps(db: Any, texts: dict[int, str]) -> dict[int, AssertionMap]:
    """The stored maps of these records (`records.n` -> its indexed text) that fit their text now."""
    if not texts:
        return {}
    ns = list(texts)
    marks = ", ".join("?" for _ in ns)
    rows = db.execute(
        f"SELECT record_n, version, text_len, text_crc, map FROM {TABLE} WHERE record_n IN ({marks})", ns
    ).fetchall()
    out = {}
    for n, version, length, crc, blob in rows:
        text = texts[int(n)]
        if version == VERSION and length == len(text) and crc == _crc(text):
            out[int(n)] = decode(blob)
    return out


def backfill(db: Any, fts_table: str, batch: int = 500, limit: int | None = None, after: int = 0) -> int:
    """Store the map of every row of the full-text table `fts_table` that has none (or an old one), or of the
    first `limit` such rows after rowid `after`; how many were stored."""
    return backfill_from(db, fts_table, after, batch, limit)[0]


def backfill_from(db: Any, fts_table: str, after: int, batch: int = 500,
                  limit: int | None = None) -> tuple[int, int]:
    """`backfill` from rowid `after`: (how many were stored, the last rowid stored, or `after`). A caller working
    in batches passes it back, so each batch starts where the last stopped instead of rescanning fresh rows."""
    done = 0
    last = after
    while limit is None or done < limit:
        take = batch if limit is None else min(batch, limit - done)
        rows = db.execute(
            f"SELECT f.rowid, f.text FROM {fts_table} f LEFT JOIN {TABLE} m ON m.record_n = f.rowid "
            f"WHERE f.rowid > ? AND (m.record_n IS NULL OR m.version != ?) ORDER BY f.rowid LIMIT ?",
            [last, VERSION, take],
        ).fetchall()
        if not rows:
            break
        for n, text in rows:
            store(db, int(n), str(text or ""))
            done += 1
        last = int(rows[-1][0])
    return done, last


def stale(db: Any, fts_table: str) -> int:
    """How many rows of `fts_table` have no map of this VERSION (a search labels those from their text)."""
    return int(db.execute(
        f"SELECT count(*) FROM {fts_table} f LEFT JOIN {TABLE} m ON m.record_n = f.rowid "
        "WHERE m.record_n IS NULL OR m.version != ?", [VERSION]).fetchone()[0])


__all__ = ["LABELS", "AssertionMap", "backfill", "backfill_from", "build", "label", "maps", "stale", "store"]
