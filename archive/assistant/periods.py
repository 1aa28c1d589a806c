"""Periods in a question: "in March", "in March 2020", "in 2019", "between 2018 and 2020", "since June 2019".

Pure text handling (no I/O). `find_period` returns the period and the question
with the period's words taken out, so they do not end up in a search topic.
A month without a year ("in March") means that month in any year, unless the
conversation already has a year (see `Period.with_year`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, replace

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ISO = r"\d{4}-\d{2}(?:-\d{2})?"
_YEAR = r"(?:19|20)\d{2}"
# One date expression: an ISO date, "March 2020", "March", "2020".
_EXPR = rf"(?:{_ISO}|{_MONTH}\.?\s+{_YEAR}|{_MONTH}\.?|{_YEAR})"

_BETWEEN = re.compile(rf"\b(?:between|from)\s+(?P<a>{_EXPR})\s+(?:and|to|until|through|-)\s+(?P<b>{_EXPR})\b", re.I)
_SINCE = re.compile(rf"\b(?:since|after|from|starting)\s+(?P<a>{_EXPR})\b", re.I)
_BEFORE = re.compile(rf"\b(?:before|until|prior\s+to|up\s+to)\s+(?P<b>{_EXPR})\b", re.I)
_IN = re.compile(
    rf"\b(?:in|during|on|for|of|throughout)\s+(?:the\s+month\s+of\s+|the\s+year\s+)?(?P<a>{_EXPR})\b", re.I
)
_BARE = re.compile(rf"\b(?P<a>{_ISO}|{_MONTH}\.?\s+{_YEAR}|{_YEAR})\b", re.I)
_RELATIVE = re.compile(
    r"\b(?:in\s+|during\s+|over\s+)?(?:the\s+)?(?P<which>last|past|this)\s+(?:(?P<n>\d+)\s+)?"
    r"(?P<unit>year|month|week|day)s?\b",
    re.I,
)


@dataclass(frozen=True)
class Period:
    """A closed range of days (ISO strings, either end open), or a month in any year."""

    date_from: str | None = None
    date_to: str | None = None
    month: int | None = None  # 1..12: that month in any year (date_from/date_to then None)
    label: str = ""

    def contains(self, date: str | None) -> bool:
        """Whether an ISO date (or date-time) falls in the period; an undated item never does."""
        if not date:
            return False
        day = date[:10]
        if self.month is not None:
            return len(day) >= 7 and day[5:7] == f"{self.month:02d}"
        if self.date_from and day < self.date_from[: len(day)]:
            return False
        return not (self.date_to and day[: len(self.date_to)] > self.date_to)

    def with_year(self, year: int) -> Period:
        """A month-in-any-year period pinned to `year` (used when the conversation has a year)."""
        if self.month is None:
            return self
        last = calendar.monthrange(year, self.month)[1]
        return replace(
            self, date_from=f"{year}-{self.month:02d}-01", date_to=f"{year}-{self.month:02d}-{last:02d}",
            month=None, label=f"in {calendar.month_name[self.month]} {year}",
        )

    @property
    def year(self) -> int | None:
        """The year when the whole period lies in one year."""
        if self.date_from and self.date_to and self.date_from[:4] == self.date_to[:4]:
            return int(self.date_from[:4])
        return None


def _range(expr: str) -> tuple[str, str, int | None]:
    """(first day, last day, month-in-any-year) of one date expression."""
    text = expr.strip().lower().rstrip(".")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return text, text, None
    if re.fullmatch(r"\d{4}-\d{2}", text):
        y, m = int(text[:4]), int(text[5:7])
        return f"{text}-01", f"{text}-{calendar.monthrange(y, m)[1]:02d}", None
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-01-01", f"{text}-12-31", None
    parts = text.replace(".", " ").split()
    month = MONTHS[parts[0]]
    if len(parts) == 2:
        y = int(parts[1])
        return f"{y}-{month:02d}-01", f"{y}-{month:02d}-{calendar.monthrange(y, month)[1]:02d}", None
    return "", "", month


def _label(expr: str) -> str:
    text = expr.strip().rstrip(".")
    parts = text.split()
    if parts and parts[0].lower() in MONTHS:
        parts[0] = calendar.month_name[MONTHS[parts[0].lower()]]
    return " ".join(parts)


def _plausible_may(match: re.Match[str], expr: str) -> bool:
    """'may' is a month only with a year or after 'in'/'during' ("what may cause..." is not a period)."""
    first = expr.strip().split()[0].lower()
    return first != "may" or len(expr.split()) > 1 or match.group(0).lower().startswith(("in ", "during "))


def find_period(text: str, today: dt.date | None = None) -> tuple[Period | None, str]:
    """The first period named in `text`, and `text` without it."""
    today = today or dt.date.today()
    m = _BETWEEN.search(text)
    if m:
        a0, _a1, am = _range(m.group("a"))
        _b0, b1, bm = _range(m.group("b"))
        if am is None and bm is None:
            return Period(a0, b1, label=f"between {_label(m.group('a'))} and {_label(m.group('b'))}"), _cut(text, m)
    m = _RELATIVE.search(text)
    if m:
        n = int(m.group("n") or 1)
        unit = m.group("unit").lower()
        if m.group("which").lower() == "this":
            start = today.replace(month=1, day=1) if unit == "year" else today.replace(day=1)
            if unit in ("week", "day"):
                start = today - dt.timedelta(days=today.weekday() if unit == "week" else 0)
            return Period(start.isoformat(), today.isoformat(), label=f"this {unit}"), _cut(text, m)
        days = {"year": 365, "month": 30, "week": 7, "day": 1}[unit] * n
        start = today - dt.timedelta(days=days)
        label = f"in the last {n} {unit}s" if n > 1 else f"in the last {unit}"
        return Period(start.isoformat(), today.isoformat(), label=label), _cut(text, m)
    for pattern, kind in ((_SINCE, "since"), (_BEFORE, "before"), (_IN, "in"), (_BARE, "in")):
        for m in pattern.finditer(text):
            expr = m.group("a") if kind != "before" else m.group("b")
            if not _plausible_may(m, expr):
                continue
            first, last, month = _range(expr)
            label = _label(expr)
            if kind == "since":
                if month is not None:
                    continue
                return Period(first, None, label=f"since {label}"), _cut(text, m)
            if kind == "before":
                if month is not None:
                    continue
                before = (dt.date.fromisoformat(first) - dt.timedelta(days=1)).isoformat()
                return Period(None, before, label=f"before {label}"), _cut(text, m)
            if month is not None:
                return Period(month=month, label=f"in {label}"), _cut(text, m)
            return Period(first, last, label=f"on {label}" if first == last else f"in {label}"), _cut(text, m)
    return None, text


def _cut(text: str, m: re.Match[str]) -> str:
    return " ".join((text[: m.start()] + " " + text[m.end():]).split())

