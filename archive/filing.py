"""Filing a record to a patient: the record, then its chart facts, in one transaction.

It sits above both halves so neither needs the other: `archive.records` ties the
record to the patient (and never imports the charts), the charts' landing puts
the record's HL7/FHIR facts (medications, procedures, conditions) on the chart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.charts.landing import land_record
from archive.records import FilingResult, assign_patient
from archive.review import check_record

if TYPE_CHECKING:
    from archive.session import Session


def file_record(session: Session, record_id: str, mrn: str) -> FilingResult:
    """Tie a record to the patient `mrn` (created if new); it leaves the needs-filing queue.

    On its first filing (it had no patient yet) its HL7/FHIR facts join the chart, except what the
    review queue holds (a name that does not match the chart, an impossible date, a placeholder code).
    """
    with session.transaction():
        result = assign_patient(session, record_id, mrn)
        check_record(session, result.record_id)
        if result.previous is None:
            land_record(session, result.record_id)
    return result


__all__ = ["file_record"]
