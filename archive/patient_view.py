"""A search seen by patient: one row per patient with how many records matched, when, and of which types.

Built from the hits of `archive.search.search`, which already left out every
record the user may not see, so a row counts only records this user may see
and a patient appears only through them. Records not yet filed to a patient
are counted apart, never grouped under a guess. A patient whose matching records are all
weak hits (under the relevance floor of a search by meaning) is a weak row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.search import SearchHit, SearchResult
    from archive.session import Session

BY_PATIENT_RECORDS = 1000  # records a patients view looks through (the hits' limit)


@dataclass(frozen=True)
class PatientRow:
    patient: str
    name: str | None
    records: int
    first: str | None  # earliest matching record's date (None: no matching record is dated)
    last: str | None
    types: list[str]
    record_ids: list[str] = field(default_factory=list)  # best first
    weak: bool = False  # every matching record of the patient is a weak hit (archive.search: SearchHit.weak)

    def to_json(self) -> dict[str, Any]:
        return {"patient": self.patient, "name": self.name, "records": self.records, "first": self.first,
                "last": self.last, "types": self.types, "record_ids": self.record_ids, "weak": self.weak}


@dataclass(frozen=True)
class PatientsView:
    result: SearchResult
    rows: list[PatientRow]
    unfiled: int  # matching records not filed to a patient yet

    def to_json(self) -> dict[str, Any]:
        return {"query": self.result.query, "mode": self.result.mode, "weak": self.result.weak,
                "patients": [r.to_json() for r in self.rows], "unfiled_records": self.unfiled}


def by_patient(session: Session, hits: list[SearchHit]) -> tuple[list[PatientRow], int]:
    """Group hits (already filtered by policy) by patient: most matching records first, then best hit."""
    groups: dict[str, list[SearchHit]] = {}
    unfiled = 0
    for h in hits:
        if h.patient:
            groups.setdefault(h.patient, []).append(h)
        else:
            unfiled += 1
    rows = []
    for mrn, found in groups.items():
        dates = sorted(h.date[:10] for h in found if h.date)
        types = sorted({h.type or h.format or "-" for h in found})
        rows.append(PatientRow(mrn, session.store.patients.name_of(mrn), len(found), dates[0] if dates else None,
                               dates[-1] if dates else None, types, [h.record_id for h in found],
                               weak=all(h.weak for h in found)))
    order = {mrn: i for i, mrn in enumerate(dict.fromkeys(h.patient for h in hits if h.patient))}
    rows.sort(key=lambda r: (-r.records, order[r.patient]))
    return rows, unfiled


def search_by_patient(session: Session, query: str, **search_args: Any) -> PatientsView:
    """Run the search (audited as any other) over up to BY_PATIENT_RECORDS records and group its hits."""
    from archive.search import search

    search_args["limit"] = max(int(search_args.get("limit") or 0), BY_PATIENT_RECORDS)
    result = search(session, query, **search_args)
    rows, unfiled = by_patient(session, result.hits)
    return PatientsView(result, rows, unfiled)
