"""Counts in words for people: "1 record", "6 entries", never "record(s)" or "entr(y/ies)".

The one place the CLI and the TUI turn a number and a noun into text. Pure: no I/O, no imports.
"""

from __future__ import annotations


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """The noun for `n` of it: `singular` for exactly 1, else `plural_form` (default: singular + "s")."""
    if n == 1:
        return singular
    return plural_form if plural_form is not None else singular + "s"


def counted(n: int, singular: str, plural_form: str | None = None) -> str:
    """`n` (with thousands separators) and the noun that agrees with it: "1 record", "1,200 records"."""
    return f"{n:,} {plural(n, singular, plural_form)}"
