"""Where a record mentions a query's concepts, and what it says of each mention (indexer.assertion).

A mention is a sentence holding the most of the query's concepts any sentence of the text holds
(each concept by its word or one of its alternatives: abbreviation, long form, clinical form), from
the first such word to the last; its label is `assertion_of` that span, read from the record's stored
assertion map when there is one (indexer.assertion_map), else worked out at query time. Pure functions of
the text; no users, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from indexer.assertion import AFFIRMED, HISTORICAL, assertion_of, sentence_around
from indexer.assertion_map import AssertionMap, label
from indexer.hybrid import Concept

# Labels that say the patient has, or had, the condition: what `search --positive` keeps.
POSITIVE = frozenset((AFFIRMED, HISTORICAL))
# Past this many characters a text is labelled around its first mentions only (a long report's
# later pages add time, rarely a different answer).
MAX_SCAN = 200_000
MAX_MENTIONS = 20
MAX_OCCURRENCES = 200  # the first occurrences of the query's words are enough to find its mentions


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    label: str

    @property
    def positive(self) -> bool:
        return self.label in POSITIVE


@lru_cache(maxsize=256)
def _pattern(form: str, prefix: bool) -> re.Pattern[str]:
    words = re.findall(r"[A-Za-z0-9]+", form)
    body = r"\W+".join(re.escape(w) for w in words)
    tail = r"\w*" if prefix else r"(?:s|es)?"  # "pneumonias", "fevers"
    return re.compile(rf"(?<![A-Za-z0-9]){body}{tail}(?![A-Za-z0-9])", re.I)


def _occurrences(text: str, low: str, concept: Concept, ascii_text: bool = False) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    forms = [(concept.word, concept.prefix), *((a, False) for a in concept.alternatives)]
    for form, prefix in forms:
        words = re.findall(r"[a-z0-9]+", form.lower())
        # A plain substring test first: most forms are in few texts, and the word-bounded pattern is slower.
        if words and all(w in low for w in words):
            pattern = _pattern(form, prefix)
            if ascii_text:
                out.extend(_spans_at(pattern, text, low, re.findall(r"[A-Za-z0-9]+", form)[0].lower()))
            else:
                out.extend(m.span() for m in pattern.finditer(text, 0, MAX_SCAN))
    return sorted(out)


def _spans_at(pattern: re.Pattern[str], text: str, low: str, first: str) -> list[tuple[int, int]]:
    """What `pattern.finditer(text, 0, MAX_SCAN)` finds, tried only where `low` (the scanned text, lower-cased)
    holds the pattern's first word: the same spans when the text is ASCII (a case-blind match of an ASCII word
    is then that word in `low`, at the same place), several times faster than scanning case-blind with the
    look-behind tried at every character."""
    spans: list[tuple[int, int]] = []
    at = low.find(first)
    while at != -1:
        m = pattern.match(text, at, MAX_SCAN)
        if m is None:
            at = low.find(first, at + 1)
        else:
            spans.append(m.span())
            at = low.find(first, m.end())
    return spans


def mentions(
    text: str, concepts: list[Concept], *, until_positive: bool = False, amap: AssertionMap | None = None
) -> list[Mention]:
    """The text's mentions of the concepts (see the module doc), in text order, each with its label;
    `until_positive`: stop at the first affirmed or historical one (all a search hit needs); `amap`: the
    text's stored assertion map (indexer.assertion_map), which gives sentences and labels by lookup."""
    if not text or not concepts:
        return []
    found: list[tuple[int, int, int]] = []  # (start, end, concept index)
    scanned = text[:MAX_SCAN]
    low = scanned.lower()
    ascii_text = scanned.isascii()
    for k, concept in enumerate(concepts):
        found.extend((s, e, k) for s, e in _occurrences(text, low, concept, ascii_text))
    if not found:
        return []
    found.sort()
    by_sentence: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    sentence = (0, 0)
    for occurrence in found[:MAX_OCCURRENCES]:
        if not sentence[0] <= occurrence[0] < sentence[1]:
            sentence = (amap.sentence(occurrence[0]) if amap is not None
                        else sentence_around(text, occurrence[0], occurrence[1]))
        by_sentence.setdefault(sentence, []).append(occurrence)
    most = max(len({k for _s, _e, k in occ}) for occ in by_sentence.values())
    out: list[Mention] = []
    for occ in by_sentence.values():
        if len({k for _s, _e, k in occ}) < most:
            continue
        start, end = occ[0][0], max(e for _s, e, _k in occ)
        said = label(amap, text, start, end) if amap is not None else assertion_of(text, start, end)
        out.append(Mention(start, end, said))
        if len(out) >= MAX_MENTIONS or (until_positive and out[-1].positive):
            break
    return out


def affirms(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is an affirmed or historical mention (the assistant's evidence filter)."""
    return assertion_of(text, start, end) in POSITIVE


def shown(found: list[Mention]) -> Mention | None:
    """The mention a hit shows: its first positive one, else its first."""
    return next((m for m in found if m.positive), found[0] if found else None)
