"""Passages: the exact pieces of a record's text that an answer quotes.

Every passage returned here is a slice of the text it came from, so it passes
the citation check by construction; the check (citations.py) still runs on
every answer. Texts are split into lines (structured records: one FHIR or HL7
item per line) and sentences (notes). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.mentions import affirms
from indexer.query.abbreviations import dominant_senses as abbreviations
from indexer.query.tokens import WORD as _WORD
from indexer.query.tokens import stem

MAX_PASSAGE = 320
# a full stop ends a sentence, not a title's ("I referred him to Dr. ABC for neurology evaluation.")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bSt\.)(?<!\bProf\.)"
                           r"(?<!\bvs\.)\s+(?=[A-Z0-9\"'(•\-])")
NEGATIONS = (
    "no", "not", "denies", "denied", "deny", "without", "negative", "never", "none", "absent", "free of",
    "ruled out", "rule out", "no evidence of", "no history of", "no signs of", "no sign of", "unremarkable for",
)
_NEGATION = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in NEGATIONS) + r")\b", re.I)


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    text: str  # text[start:end]


def segments(text: str) -> list[Segment]:
    """Lines, and sentences within long lines: spans of `text` with their exact content."""
    out: list[Segment] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        start = pos
        pos += len(line)
        if not body.strip():
            continue
        cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(body)] + [len(body)]
        for a, b in zip(cuts, cuts[1:], strict=False):
            piece = body[a:b]
            lead = len(piece) - len(piece.lstrip())
            piece = piece.strip()
            if piece:
                out.append(Segment(start + a + lead, start + a + lead + len(piece), piece))
    return out


def is_heading(text: str) -> bool:
    """A section heading ("ASSESSMENT AND PLAN", "Plan:"): nothing to quote on its own."""
    stripped = text.strip().rstrip(":")
    if re.search(r":\s*[\d<>+-]", stripped):  # "AST: 39" is a value, not a heading
        return False
    if stripped.endswith(".") and len(stripped.split()) > 3:  # "SHE IS ALLERGIC TO MACRODANTIN." is a sentence
        return False
    return (stripped.isupper() and len(stripped) < 60) or bool(re.fullmatch(r"[A-Z][A-Za-z /&]{1,40}:", text.strip()))


def section_after(text: str, heading: str, limit: int = 4) -> list[Segment]:
    """The first segments under a heading matching the regex `heading` (e.g. the assessment's diagnoses)."""
    segs = segments(text)
    for i, seg in enumerate(segs):
        if is_heading(seg.text) and re.search(heading, seg.text, re.I):
            out = []
            for nxt in segs[i + 1:]:
                if is_heading(nxt.text):
                    break
                out.append(nxt)
                if len(out) >= limit:
                    break
            return out
    return []


def query_stems(topic: str) -> list[str]:
    """Stems of the topic's words, abbreviations also expanded ("htn" also finds "hypertension")."""
    table = abbreviations()
    out: list[str] = []
    for word in _WORD.findall(topic.lower()):
        forms = [word]
        sense = table.get(word)
        if sense and len(word) <= 6:
            forms += [w.lower() for w in _WORD.findall(sense)]
        for form in forms:
            s = stem(form)
            if s not in out and (len(s) > 1 or s.isdigit()):
                out.append(s)
    return out


def _distinct_words(topic: str) -> set[str]:
    """The topic's own words (an abbreviation's expansion does not raise the bar)."""
    return {stem(w) for w in _WORD.findall(topic.lower())}


def _stems_in(text: str) -> list[tuple[str, int, int]]:
    return [(stem(m.group(0)), m.start(), m.end()) for m in _WORD.finditer(text)]


def negated(segment: str, start: int) -> bool:
    """Whether the mention at `start` is preceded by a negation in its clause ("denies chest pain")."""
    clause_start = max(segment.rfind(c, 0, start) for c in (".", ";", ":", ",", "\n", "•"))
    before = segment[clause_start + 1: start]
    if re.search(r"\b(?:but|however|although|except)\b", before, re.I):
        before = re.split(r"\b(?:but|however|although|except)\b", before, flags=re.I)[-1]
    return bool(_NEGATION.search(before))


@dataclass(frozen=True)
class Match:
    segment: Segment
    score: float
    first: int  # offset of the first matched word within the segment
    last: int  # end offset of the last matched word within the segment
    matched: tuple[str, ...]


def enough(n: int) -> int:
    """How many of a topic's n words a passage must mention to be about it (most of them)."""
    return max(1, -(-3 * n // 5))


def best_matches(text: str, topic_stems: list[str], *, limit: int = 1, need_all: bool = False,
                 skip_negated: bool = True, need: int = 1) -> list[Match]:
    """The segments that mention most of the topic (at least `need` of its words), best first."""
    if not topic_stems:
        return []
    wanted = set(topic_stems)
    found: list[Match] = []
    for seg in segments(text):
        if is_heading(seg.text):
            continue
        hits = [(s, a, b) for s, a, b in _stems_in(seg.text) if s in wanted]
        if not hits:
            continue
        distinct = {s for s, _, _ in hits}
        if (need_all and distinct != wanted) or len(distinct) < need:
            continue
        if skip_negated and (negated(seg.text, hits[0][1]) or not affirms(seg.text, hits[0][1], hits[-1][2])):
            continue
        phrase = _phrase_bonus(seg.text, topic_stems)
        score = len(distinct) / len(wanted) + phrase - min(len(seg.text), 2000) / 20000
        found.append(Match(seg, score, hits[0][1], hits[-1][2], tuple(sorted(distinct))))
    found.sort(key=lambda m: (-m.score, m.segment.start))
    return found[:limit]


def _phrase_bonus(text: str, topic_stems: list[str]) -> float:
    if len(topic_stems) < 2:
        return 0.0
    seq = [s for s, _, _ in _stems_in(text)]
    n = len(topic_stems)
    for i in range(len(seq) - n + 1):
        if seq[i: i + n] == topic_stems:
            return 0.5
    return 0.0


def trim(segment: Segment, first: int = 0, last: int | None = None, limit: int = MAX_PASSAGE) -> str:
    """The segment, or a window of it around [first, last) at word boundaries, at most `limit` characters."""
    text = segment.text
    if len(text) <= limit:
        return text
    last = len(text) if last is None else last
    centre = (first + last) // 2
    a = max(0, min(first, centre - limit // 2))
    b = min(len(text), a + limit)
    a = max(0, b - limit)
    if a > 0:
        space = text.find(" ", a)
        a = space + 1 if 0 <= space < first else a
    if b < len(text):
        space = text.rfind(" ", a, b)
        b = space if space > last else b
    return text[a:b].strip()


def passage_for(text: str, topic: str, need_all: bool = False, most: bool = False) -> Match | None:
    """The best passage of `text` about `topic` (with `most`: mentioning most of its words), or None."""
    stems = query_stems(topic)
    found = best_matches(text, stems, need_all=need_all, need=enough(len(_distinct_words(topic))) if most else 1)
    return found[0] if found else None


def line_with(text: str, needle: str, date: str | None = None) -> str | None:
    """The line of a structured record that states `needle` (on `date`, when given), verbatim."""
    if not needle:
        return None
    low = needle.lower()
    fallback = None
    for seg in segments(text):
        if low not in seg.text.lower():
            continue
        if date and date[:10] in seg.text:
            return trim(seg, seg.text.lower().find(low), seg.text.lower().find(low) + len(low))
        if fallback is None:
            fallback = seg
    if fallback is not None and not date:
        i = fallback.text.lower().find(low)
        return trim(fallback, i, i + len(low))
    return None


def lead_passage(text: str, limit: int = 200) -> str | None:
    """A short opening passage of a note (its chief complaint, when it has a heading)."""
    segs = segments(text)
    for i, seg in enumerate(segs):
        if re.fullmatch(r"(?:CHIEF COMPLAINT|CC|REASON FOR (?:VISIT|CONSULTATION)|HISTORY OF PRESENT ILLNESS)\s*:?",
                        seg.text, re.I) and i + 1 < len(segs):
            return trim(segs[i + 1], limit=limit)
        m = re.match(r"(?:CHIEF COMPLAINT|CC|REASON FOR VISIT)\s*:\s*(\S.*)", seg.text, re.I)
        if m:
            return trim(seg, limit=limit)
    for seg in segs:
        if len(seg.text) > 25 and not re.match(r"^(?:patient|mrn|dob|date|sex|name)\b", seg.text, re.I):
            return trim(seg, limit=limit)
    return trim(segs[0], limit=limit) if segs else None
