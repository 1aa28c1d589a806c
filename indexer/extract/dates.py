"""Normalise the date spellings found in clinical files to ISO 8601 (YYYY-MM-DD).

Shared by the format modules: HL7 timestamps (20210801090642+0215), FHIR
dateTimes (1991-06-07T23:37:54+00:00) and the free-text dates of notes
("03/14/2021", "14.03.2021", "March 14, 2021"). Anything that is not a real
calendar date gives None rather than a guess.
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}

_ISO = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})?")
_NUMERIC = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})\b")
_MONTH_FIRST = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})")
_DAY_FIRST = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})")


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def hl7_date(value: str) -> str | None:
    """YYYY[MM[DD[HHMM...]]][+ZZZZ] as used by HL7 v2 -> ISO date (or YYYY-MM)."""
    match = _COMPACT.match(value.strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if match.group(3) is None:
        return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
    return _valid(year, month, int(match.group(3)))


def fhir_date(value: str) -> str | None:
    """FHIR date/dateTime/instant -> ISO date; partial dates stay partial (YYYY-MM, YYYY)."""
    value = value.strip()
    match = _ISO.match(value)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if match.group(3) is None:
            return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
        return _valid(year, month, int(match.group(3)))
    if re.fullmatch(r"\d{4}", value):
        return value
    return None


def text_date(value: str) -> str | None:
    """The first date written in free text -> ISO date.

    Numeric dates with slashes are read month-first (US clinical usage), with
    dots day-first (European usage); when the first number is above 12 it can
    only be a day.
    """
    iso = _ISO.search(value)
    if iso and iso.group(3):
        return _valid(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    numeric = _NUMERIC.search(value)
    if numeric:
        first, sep, second, year_text = numeric.groups()
        year = int(year_text)
        if len(year_text) == 2:
            year += 2000 if year < 50 else 1900
        a, b = int(first), int(second)
        month, day = (b, a) if sep == "." or a > 12 else (a, b)
        return _valid(year, month, day)
    for pattern, month_group, day_group in ((_MONTH_FIRST, 1, 2), (_DAY_FIRST, 2, 1)):
        named = pattern.search(value)
        if named and named.group(month_group).lower() in _MONTHS:
            month = _MONTHS[named.group(month_group).lower()]
            return _valid(int(named.group(3)), month, int(named.group(day_group)))
    return None
