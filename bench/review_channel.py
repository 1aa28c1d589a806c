"""The review channel (issue 22, session 12): measured, NOT shipped. It failed the ship rule written before it was
measured (bench/RESULTS.md, "Session 12: a review channel ..."), so none of it is in archive/, indexer/ or tui/;
it lives here so that `bench/coding.py --review-channel` can measure it again. It imports the shipped modules;
they never import it.

The rules (indexer.assertion) decide what a sentence says of a mention; on wording they do not know they may
decide wrongly and a code is suggested from "Pertussis PCR: NOT DETECTED". `review_cue` was the safety net: it
looks at the mention's whole sentence (and its heading) for any cue of doubt, from linguistics, not from the
benchmarks' misses:

- a trigger of the ConText lexicon (medspaCy's context_rules.json, the rules indexer.assertion reads: negation,
  uncertainty, conditionals, the past, family and other experiencers), terminators and pseudo-triggers excepted;
- a NegEx-style result frame ("X: not detected", "X ... negative", "nonreactive", "no growth");
- a person other than the patient (a kinship or role noun: relative, newborn, partner, donor, classmate, ...);
- prevention, vaccination, screening or exposure words;
- a question mark.

A cue is attributed, and so not doubt, when the rules' reading of the mention already holds its category (a
relative's condition made a family-history code, a past one a personal-history code), or when, as ConText pairs
a trigger with its target, the cue's scope leaves the mention out and names another condition ("Denies FEVER but
reports productive cough": the denial is about the fever). Any other cue sends the suggestion to review: shown
with its sentence and cue, never a code until a person accepts it.

`code_suggestions_with_review` is the channel over the shipped suggester: a code whose every mention carries a
cue is held (`Review`), not suggested. Until session 12's s12-neg2 it ran inside indexer.code_suggest; here it
re-reads each mention's matched words from its passage (the name's words in it), which the suggester kept
internally, and ranks the held codes apart from the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from indexer import assertion
from indexer.assertion import Context
from indexer.code_match import CodeMatcher, matcher_for
from indexer.code_suggest import (
    FAMILY_CATEGORIES,
    HISTORY_CATEGORIES,
    CodeSuggestions,
    Suggestion,
    _clause_tokens,
    _Mention,
    _pieces,
    _ranked,
    _said,
    doubted_codes,
    mentions,
)
from indexer.query.abbreviations import dominant_senses
from indexer.query.stopwords import FUNCTION_WORDS
from indexer.query.tokens import stem

NEGATION = "negation"
UNCERTAINTY = "uncertainty"
CONDITIONAL = "conditional"
TEMPORAL = "temporal"
PERSON = "another person"
RESULT = "test result"
PREVENTION = "prevention"
QUESTION = "question"

# ConText categories -> cue kinds (OTHER: someone who is no relative).
_KIND = {
    assertion.NEGATED: NEGATION,
    assertion.POSSIBLE: UNCERTAINTY,
    assertion.HYPOTHETICAL: CONDITIONAL,
    assertion.HISTORICAL: TEMPORAL,
    assertion.FAMILY: PERSON,
    assertion.OTHER: PERSON,
}

# A result word after a test's or a condition's name (NegEx's post-negation triggers for results, and
# pyConText's "definite negated existence" results).
_RESULT = re.compile(
    r"\b(?:not\s+(?:detected|seen|identified|isolated|present|found|visualized|established|confirmed)|"
    r"undetect(?:ed|able)|negative|neg|non-?reactive|non-?detected|no\s+growth|absent|unremarkable|"
    r"within\s+normal\s+limits|wnl|resolved|cleared|excluded|ruled\s+out)\b", re.I)

# Kinship and role nouns: anyone the sentence may be about who is not the patient.
_PERSON = re.compile(
    r"\b(?:mother|mothers|mom|mum|mama|father|fathers|dad|papa|parents?|brothers?|sisters?|siblings?|sons?|"
    r"daughters?|child|children|kids?|babies|baby|infants?|newborns?|neonates?|twins?|"
    r"grand(?:mother|father|parents?|ma|pa|son|daughter|child|children)s?|granny|aunts?|uncles?|cousins?|nieces?|"
    r"nephews?|husbands?|wife|wives|spouses?|partners?|boyfriends?|girlfriends?|fianc[eé]e?s?|relatives?|family|"
    r"familial|kindred|household|roommates?|housemates?|classmates?|schoolmates?|coworkers?|co-workers?|"
    r"colleagues?|friends?|neighbou?rs?|donors?|recipients?|contacts?|visitors?|caregivers?|carers?|teammates?|"
    r"students?|teachers?|residents?|inmates?|travel(?:l)?ers?|passengers?|someone|somebody|others|everyone|"
    r"maternal|paternal|fh|fhx)\b", re.I)

# Prevention, vaccination, screening and exposure.
_PREVENTION = re.compile(
    r"\b(?:vaccin\w*|immuni[sz]\w*|inoculat\w*|boosters?|shots?|series|doses?|prophyla\w*|prevent\w*|"
    r"screen\w*|surveillance|exposures?|exposed|counsel(?:l)?ing|carriers?|pre-?exposure|post-?exposure|"
    r"pep|prep|titers?|titres?|immune)\b", re.I)

# A scope is cut at these (a clause of its own).
_CUT = frozenset(",;:()[]") | {"but", "however", "although", "though", "yet"}


@dataclass(frozen=True)
class Cue:
    """What makes a suggestion wait for a person: the kind of doubt, the words carrying it, and the sentence."""

    kind: str
    words: str
    sentence: str

    def __str__(self) -> str:
        return f'{self.kind}: "{self.words}"'


def review_cue(text: str, spans: Sequence[tuple[int, int]], said: Context,
               names_condition: Callable[[list[str]], bool], attributed: frozenset[str] = frozenset()) -> Cue | None:
    """The first cue of doubt the rules could not attribute in the sentence (and heading) of the mention written
    as `spans` of `text`, or None for a clean sentence.

    `said` is the rules' reading of the mention; `attributed` the cue kinds the suggestion already answers (a
    family-history code answers PERSON, a personal-history code TEMPORAL). `names_condition(words)` tells
    whether some words name a condition (the code matcher): a cue whose scope leaves the mention out and names
    another condition is that condition's.
    """
    start, end = min(a for a, _b in spans), max(b for _a, b in spans)
    s, e = assertion.sentence_around(text, start, end)
    sentence = text[s:e].strip()
    held = set(attributed)
    if said.historical:
        held.add(TEMPORAL)
    if said.family or said.other:
        held.add(PERSON)
    toks = assertion._tokens(text, s, e)
    words = [w for w, _a, _b in toks]
    mine = {k for k, (_w, a, b) in enumerate(toks) if any(a < pe and b > ps for ps, pe in spans)}
    masked = ["\x00" if k in mine else w for k, w in enumerate(words)]

    def clean_elsewhere(lo: int, hi: int, trigger: tuple[int, int]) -> bool:
        """Whether words[lo:hi] leave the mention out and name another condition (the trigger's own words
        excepted)."""
        if mine & set(range(lo, hi)):
            return False
        rest = [words[k] for k in range(lo, hi) if not trigger[0] <= k < trigger[1] and words[k] not in _CUT
                and words[k] not in assertion.PUNCT]
        return bool(rest) and names_condition(rest)

    # ConText triggers, with the scopes the rules give them.
    for mod in assertion._modifiers(masked, assertion._matches(masked, assertion.text_words(text))):
        if mod.rule.direction in ("TERMINATE", "PSEUDO"):
            continue
        kind = _KIND.get(mod.rule.category, "")
        if not kind or kind in held:
            continue
        lo, hi = mod.scope
        if clean_elsewhere(min(lo, mod.first), max(hi, mod.last), (mod.first, mod.last)):
            continue
        return Cue(kind, _said_words(text, toks, mod.first, mod.last), sentence)
    # Result frames, people, prevention: the clause holding the words (and a test's name before a colon).
    for kind, rx in ((RESULT, _RESULT), (PERSON, _PERSON), (PREVENTION, _PREVENTION)):
        if kind in held:
            continue
        for m in rx.finditer(text, s, e):
            first = next((k for k, (_w, a, b) in enumerate(toks) if b > m.start()), len(toks))
            last = next((k for k, (_w, a, _b) in enumerate(toks) if a >= m.end()), len(toks))
            if first in mine:
                continue  # the mention's own words ("Hep C antibody NEGATIVE" is read as a frame below)
            lo, hi = _clause(words, first, last, reach_back=kind == RESULT)
            if clean_elsewhere(lo, hi, (first, last)):
                continue
            return Cue(kind, m.group(), sentence)
    if "?" in text[s:e]:
        return Cue(QUESTION, "?", sentence)
    head = assertion.heading_at(text, start)
    if head is not None and not said.heading:
        for kind, rx in ((PERSON, _PERSON), (PREVENTION, _PREVENTION), (RESULT, _RESULT)):
            found = rx.search(head.name)
            if found and kind not in held:
                return Cue(kind, f"{head.name}: {found.group()}", sentence)
    return None


def _clause(words: list[str], first: int, last: int, reach_back: bool) -> tuple[int, int]:
    """The words around words[first:last] up to a cut; a result word just after a colon also reaches back over
    the name before it ("Pertussis PCR: NOT DETECTED")."""
    lo = first
    while lo > 0 and words[lo - 1] not in _CUT and words[lo - 1] not in ".!?":
        lo -= 1
    if reach_back and lo > 0 and words[lo - 1] == ":":
        lo -= 1
        while lo > 0 and words[lo - 1] not in _CUT and words[lo - 1] not in ".!?":
            lo -= 1
    hi = last
    while hi < len(words) and words[hi] not in _CUT and words[hi] not in ".!?":
        hi += 1
    return lo, hi


def _said_words(text: str, toks: list[tuple[str, int, int]], first: int, last: int) -> str:
    if not toks or first >= len(toks):
        return ""
    return text[toks[first][1] : toks[min(last, len(toks)) - 1][2]]


# -- the channel over the shipped suggester -------------------------------------------------------


@dataclass(frozen=True)
class Review:
    """A code held back for a person: the suggestion it would have been, and the doubt in its sentence."""

    suggestion: Suggestion
    cue: Cue


def names_condition(matcher: CodeMatcher) -> Callable[[list[str]], bool]:
    """Whether some words (the labeller's lower-case words) name a condition of the code set."""
    table = dominant_senses()

    def check(words: list[str]) -> bool:
        stems = []
        for w in words:
            for part in (table.get(w) or w).split():
                if part not in FUNCTION_WORDS:
                    stems.append(stem(part))
        return bool(stems) and bool(matcher.match(stems, limit=1))

    return check


def mention_cue(matcher: CodeMatcher, text: str, mention: _Mention,
                condition: Callable[[list[str]], bool]) -> Cue | None:
    """The doubt the rules could not attribute in a mention's sentence; a family-history code answers the
    relative, a personal-history code the past. The mention's words are its passage's words that its matched
    name holds (the whole passage when none does)."""
    toks = _clause_tokens(text, mention.start, mention.end)
    wording = {stem(w) for w in re.findall(r"[a-z0-9]+", mention.matched.lower())}
    named = [t for t in toks if t.stem in wording and t.word not in FUNCTION_WORDS]
    spans = _pieces(text, named) if named else [(mention.start, mention.end)]
    said = _said(text, named) if named else assertion.context_of_spans(text, spans)
    attributed = set()
    if mention.code[:3] in FAMILY_CATEGORIES:
        attributed.add(PERSON)
    if mention.past_of or mention.code[:3] in HISTORY_CATEGORIES:
        attributed.add(TEMPORAL)
    return review_cue(text, spans, said, condition, frozenset(attributed))


def code_suggestions_with_review(db: Any, text: str, limit: int = 10, matcher: CodeMatcher | None = None,
                                 uncertain_limit: int = 5) -> tuple[CodeSuggestions, list[Review]]:
    """The shipped suggestions with the channel on: a code whose every mention carries a cue is held for review
    (returned apart, never a suggestion); the doubted codes as the shipped suggester lists them."""
    matcher = matcher or matcher_for(db)
    doubted: list[_Mention] = []
    found = mentions(matcher, text, db, uncertain=doubted)
    condition = names_condition(matcher)
    cues = [mention_cue(matcher, text, m, condition) for m in found]
    by_code: dict[str, list[int]] = {}
    for k, m in enumerate(found):
        by_code.setdefault(matcher.default.get(m.code, m.code), []).append(k)
    held_codes = {code for code, ks in by_code.items() if all(cues[k] is not None for k in ks)}
    clean = [m for m in found if matcher.default.get(m.code, m.code) not in held_codes]
    held = [(m, cue) for m, cue in zip(found, cues, strict=True)
            if matcher.default.get(m.code, m.code) in held_codes and cue is not None]
    suggestions = _ranked(matcher, text, clean, limit)
    reviews = []
    for s in _ranked(matcher, text, [m for m, _c in held], limit):
        cue = next(c for m, c in held if matcher.default.get(m.code, m.code) == s.code or m.code == s.code)
        reviews.append(Review(s, cue))
    uncertain = doubted_codes(matcher, text, doubted, [*suggestions, *(r.suggestion for r in reviews)], limit,
                              uncertain_limit)
    return CodeSuggestions(suggestions, uncertain), reviews
