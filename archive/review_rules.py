"""The review queue's rules: placeholders, implausible dates, one person's name spelled two ways. Pure.

archive.review applies them to imported records; nothing here reads or writes the vault.
"""

from __future__ import annotations

import datetime as dt
import difflib

from archive.charts import rules

EARLIEST_YEAR = 1900
# A value equal to the name of its field (or a template's stand-in) is a placeholder, not data.
PLACEHOLDER_WORDS = {
    "mrn", "id", "pid", "patient", "patient id", "name", "patient name", "code", "diagnosis", "description",
    "dob", "date", "birth date", "sex", "gender", "value", "text", "xxx", "tbd", "n/a", "null", "none",
}
SEX_WORDS = {"f": "F", "female": "F", "m": "M", "male": "M", "x": "X", "other": "X", "u": "U", "unknown": "U"}


def is_placeholder(value: str | None) -> bool:
    """Whether a value is its field's name or a template's stand-in ("MRN", "code", "Diagnosis")."""
    return bool(value) and " ".join(str(value).split()).casefold() in PLACEHOLDER_WORDS


def date_problem(value: str | None, today: dt.date) -> str | None:
    """Why a stored date is impossible or implausible (before 1900, in the future), or None."""
    day = rules.stored_day(value)
    if day is None:
        return None
    if day.year < EARLIEST_YEAR:
        return f"{value} is before {EARLIEST_YEAR}"
    if day > today:
        return f"{value} is in the future"
    return None


def _tokens(name: str) -> list[str]:
    return rules.fold(name).split()


def same_person_name(a: str | None, b: str | None) -> bool:
    """Whether two names are one person's, spelling variants allowed: case, accents, word order, a missing
    middle name, initials, and a slip of a letter or two ('Jon Smyth' ~ 'John Smith')."""
    ta, tb = _tokens(a or ""), _tokens(b or "")
    if not ta or not tb:
        return True  # nothing to compare
    if rules.name_similarity(a, b) >= 0.85:
        return True
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    pool = list(long_)
    for word in short:
        match = next((w for w in pool if _word_alike(word, w)), None)
        if match is None:
            return False
        pool.remove(match)
    return True


def _word_alike(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == 1 or len(b) == 1:  # an initial
        return a[0] == b[0]
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def sex_code(value: str | None) -> str | None:
    """F, M, X or U for the ways senders spell a sex ('female', 'M', ...); None when unknown."""
    return SEX_WORDS.get(str(value or "").strip().casefold()) if value else None


__all__ = ["EARLIEST_YEAR", "PLACEHOLDER_WORDS", "date_problem", "is_placeholder", "same_person_name", "sex_code"]
