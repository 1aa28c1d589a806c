"""The MRN column of a text table: as wide as the widest MRN shown, never cutting one.

An MRN identifies the patient, so a table prints it whole. A hospital's MRN fits in
12 characters, a Synthea one is a 36-character UUID: a fixed width either wastes the line
or, too narrow, pushes every later column of the longer rows out of line. The CLI's tables
and the TUI's lists size the column here. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

MRN_LEAST = 12  # the column as it always was: a hospital MRN and the header "patient" fit
MRN_CAP = 40  # the longest MRN a list takes (archive.saved); a longer one is printed whole on its own row


def mrn_width(mrns: Iterable[str | None], least: int = MRN_LEAST) -> int:
    """The width of an MRN column holding `mrns` (None or empty: whatever stands in, up to `least`):
    the widest of them, at least `least` and at most MRN_CAP (or `least`, when that is larger)."""
    widest = max((len(m) for m in mrns if m), default=0)
    return max(least, min(widest, MRN_CAP))


def mrn_cell(mrn: str, width: int) -> str:
    """`mrn` padded to `width`, whole even when longer."""
    return f"{mrn:<{width}}"
