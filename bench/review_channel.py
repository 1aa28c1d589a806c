"""The review channel (issue 22): measured, NOT shipped. Session 12's channel (a cue anywhere in the sentence)
failed its ship rule; session 13's (bench/review_scope.py: each cue counted only when the mention lies in its
scope, as ConText does) failed its evidence rule (bench/RESULTS.md, "Session 13: ..."). None of it is in
archive/, indexer/ or tui/; it lives here so that `bench/coding.py --review-channel` can measure it. It imports the
shipped modules; they never import it.

The rules (indexer.assertion) decide what a sentence says of a mention; on wording they do not know they may
decide wrongly. `review_cue` (bench/review_scope.py) is the safety net for cues they could not attribute.

`code_suggestions_with_review` is the channel over the shipped suggester: a code whose every mention carries a
cue is held (`Review`), not suggested. It re-reads each mention's matched words from its passage (the name's
words in it), which the suggester keeps internally, and ranks the held codes apart from the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.review_scope import PERSON, TEMPORAL, Cue, review_cue
from indexer import assertion
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
