"""What every chart change shares: ids, versions and change rows.

Encounters and entries get numbered ids (`e12`, `c7`); every write to a chart
bumps a version, and an edit names the version it started from (optimistic
concurrency, `check_version`); every change to a patient or an encounter is a
`chart_changes` row with who, when, before, after and why (`record_change`),
read back as `ChangeEvent`s. The bottom of archive.charts with `rules`: it
imports no other chart module, and its SQL is in archive.store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from archive.audit import now_iso
from archive.charts.rules import check_mrn
from archive.errors import ConcurrentEdit, NotFound

if TYPE_CHECKING:
    from archive.session import Session

# The prefix of each numbered chart id.
ID_PREFIX = {"encounter": "e", "entry": "c"}


@dataclass(frozen=True)
class ChangeEvent:
    """One change in a chart: who, when, what, why, and each changed field before and after."""

    at: str
    by: str
    entity: str  # patient | encounter | entry
    entity_id: str
    version: int
    action: str  # created | updated | corrected | imported
    reason: str | None
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field -> [before, after]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def next_id(session: Session, entity: str) -> tuple[int, str]:
    """The next (n, id) of an encounter or an entry; call inside the write transaction."""
    repo = session.store.encounters if entity == "encounter" else session.store.chart_entries
    n = repo.next_n()
    return n, f"{ID_PREFIX[entity]}{n}"


def normalise_id(value: str, prefix: str) -> str:
    """'e12', 'E12' or '12' -> 'e12'."""
    text = (value or "").strip().lower()
    return prefix + text if text.isdigit() else text


def check_version(what: str, current: int, expected: int | None, by: str | None, at: str | None,
                  review: str) -> None:
    """Optimistic concurrency: refuse (ConcurrentEdit) when the edit started from an older version."""
    if expected is None or expected == current:
        return
    who = f" by {by}" if by else ""
    when = f" at {at}" if at else ""
    raise ConcurrentEdit(
        f"{what} was changed{who}{when} (now version {current}) after you started from version {expected}; "
        "your change was not saved.",
        f"Review the change with '{review}', then make yours again from version {current}.",
    )


def record_change(session: Session, mrn: str, entity: str, entity_id: str, version: int, action: str,
                  before: dict[str, Any] | None, after: dict[str, Any], reason: str | None) -> None:
    """A row of chart_changes: who, when, the fields before and after, and why."""
    session.store.chart_entries.add_change(mrn, entity, entity_id, version, action, now_iso(), session.user.name,
                                           reason, before, after)


def patient_row(session: Session, mrn: str) -> dict[str, Any]:
    """The row of the patient a chart belongs to (unaudited); NotFound when there is none."""
    clean = check_mrn(mrn)
    row = session.store.patients.row(clean)
    if row is None:
        raise NotFound(f"No patient with MRN '{clean}'.", "List patients with 'chartvault patient list'.")
    return row


__all__ = ["ChangeEvent", "check_version", "next_id", "normalise_id", "patient_row", "record_change"]
