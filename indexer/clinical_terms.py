"""Clinical wording: tokens, a light stemmer, abbreviation senses and everyday index terms.

The abbreviation table (indexer/data/clinical_abbreviations.tsv) is derived from
the Vanderbilt sense inventories of lisavirginia/clinical-abbreviations, CC BY 4.0
(Grossman Liu et al., Scientific Data 2021); only each abbreviation's dominant
sense is kept (see tools/build_abbreviations.py). The index terms
(indexer/data/icd10_index_terms.tsv) are hand-written, in the spirit of the
ICD-10-CM Alphabetic Index. Pure functions; no I/O beyond reading those files.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['/][A-Za-z0-9]+)*")

STOPWORDS = frozenset(
    "a an the of and or in on at to for with by from as is are was were be been this that these those "
    "his her their its into than then there which who whom whose due".split()
)


def words(text: str) -> list[str]:
    """The words of `text` as written (letters and digits; keeps "crohn's", "s/p")."""
    return _WORD_RE.findall(text)


def tokens_with_spans(text: str) -> list[tuple[str, int, int]]:
    """(lower-case word, start, end) for each word of `text`."""
    return [(m.group(0).lower(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]


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


@cache
def abbreviations() -> dict[str, str]:
    """Abbreviation (lower case) -> its dominant sense."""
    out: dict[str, str] = {}
    text = files("indexer.data").joinpath("clinical_abbreviations.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        abbr, sense, _freq = line.split("\t")
        out[abbr] = sense
    return out


def expand_abbreviations(tokens: list[str]) -> list[str]:
    """Replace each known abbreviation token by the words of its dominant sense."""
    table = abbreviations()
    out: list[str] = []
    for tok in tokens:
        sense = table.get(tok.lower())
        if sense:
            out.extend(w.lower() for w in words(sense))
        else:
            out.append(tok)
    return out


@cache
def index_terms() -> tuple[tuple[str, str], ...]:
    """(term, code) pairs of the hand-written mini index."""
    out = []
    text = files("indexer.data").joinpath("icd10_index_terms.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, code = line.split("\t")
        out.append((term.strip(), code.strip()))
    return tuple(out)
