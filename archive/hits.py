"""Where a search's terms occur in a record's text: what the record view highlights and steps through.

`hit_terms` says which words of a query to look for (its words, and in the modes by
meaning the clinical forms that stood in for its everyday words, as the snippets
mark them); `hit_spans` finds them in a text, by word prefix as the snippets do,
or a cited passage as a whole. Pure functions: no session, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STEM = 5  # letters of a word matched as a prefix ("fractures" finds "fracture", "fractured")
MAX_SPANS = 5000


@dataclass(frozen=True)
class HitTerms:
    words: tuple[str, ...] = ()  # matched by prefix, case-insensitive
    phrases: tuple[str, ...] = ()  # matched whole, whitespace-insensitive (a cited passage)
    stand_ins: tuple[str, ...] = ()  # of `words`, the clinical forms that stood in for lay ones

    def __bool__(self) -> bool:
        return bool(self.words or self.phrases)


def hit_terms(query: str, mode: str | None = None) -> HitTerms:
    """The words a search for `query` matched on: its own, plus (semantic, hybrid) the clinical stand-ins."""
    from indexer.query.stopwords import STOPWORDS

    structured = re.sub(r"\b(OR|AND|NOT)\b|\b\w+:|-\w+", " ", query)  # operators and excluded words are not hits
    phrases = tuple(p.strip() for p in re.findall(r'"([^"]+)"', structured) if p.strip())
    own = [w for w in re.findall(r"[A-Za-z0-9]{3,}", structured.lower()) if w not in STOPWORDS]
    stand_ins: list[str] = []
    if mode in ("semantic", "hybrid", None):
        from indexer import hybrid

        parsed = hybrid.expand(query)
        for forms in parsed.lay.values():
            for form in forms:
                stand_ins += [w for w in re.findall(r"[A-Za-z0-9]{3,}", form.lower()) if w not in STOPWORDS]
    words = tuple(dict.fromkeys(own + stand_ins))
    return HitTerms(words, phrases, tuple(w for w in dict.fromkeys(stand_ins) if w not in own))


def passage_terms(passage: str) -> HitTerms:
    """A cited passage: found as a whole."""
    passage = " ".join(passage.split()).strip(" .…")
    return HitTerms(phrases=(passage,)) if passage else HitTerms()


def hit_spans(text: str, terms: HitTerms) -> list[tuple[int, int]]:
    """(start, end) of every occurrence of the terms in `text`, in order, overlaps merged."""
    spans: list[tuple[int, int]] = []
    if terms.words:
        stems = sorted({w[:STEM] for w in terms.words}, key=len, reverse=True)
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(s) for s in stems) + r")\w*", re.I)
        spans += [m.span() for m in pattern.finditer(text)]
    for phrase in terms.phrases:
        parts = [re.escape(p) for p in phrase.split()]
        if parts:
            pattern = re.compile(r"\s+".join(parts), re.I)
            spans += [m.span() for m in pattern.finditer(text)]
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans[:MAX_SPANS]:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
