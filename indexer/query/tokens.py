"""Tokenisation: what a word is, and a light stemmer to compare related forms."""

from __future__ import annotations

import re
from functools import cache

# Letters and digits; an inner apostrophe or slash stays inside the word ("crohn's", "s/p").
WORD = re.compile(r"[A-Za-z0-9]+(?:['/][A-Za-z0-9]+)*")


def words(text: str) -> list[str]:
    """The words of `text` as written (letters and digits; keeps "crohn's", "s/p")."""
    return WORD.findall(text)


def tokens_with_spans(text: str) -> list[tuple[str, int, int]]:
    """(lower-case word, start, end) for each word of `text`."""
    return [(m.group(0).lower(), m.start(), m.end()) for m in WORD.finditer(text)]


_SUFFIXES = (
    "ational", "ations", "ation", "ically", "ical", "ities", "ity", "ness", "ments", "ment",
    "ings", "ing", "ives", "ive", "ions", "ion", "ies", "ied", "ed", "es", "ic", "al", "s", "y", "e",
)  # fmt: skip


@cache
def stem(word: str) -> str:
    """A crude suffix stripper: only needs to map related forms to the same key.

    diabetes/diabetic -> diabet, hypertension/hypertensive -> hypertens,
    fractures/fracture -> fractur. Both sides of every comparison use it.
    """
    w = word.lower().replace("'s", "").replace("'", "")
    for _ in range(2):
        for suffix in _SUFFIXES:
            if w.endswith(suffix) and len(w) - len(suffix) >= 4:
                w = w[: -len(suffix)]
                break
        else:
            break
    return w
