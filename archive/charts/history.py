"""The history of a patient's chart: every change to the patient, their encounters and entries.

Patient and encounter changes are `chart_changes` rows; an entry's history is
its versions (`entries.entry_change_events`). Reading it asks policy and is
audited as `chart_history`. Above `entries`; its SQL is in archive.store.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from archive.charts.changes import ChangeEvent
from archive.charts.entries import entry_change_events
from archive.charts.patients import load_patient
from archive.policy import Action

if TYPE_CHECKING:
    from archive.session import Session


def patient_history(session: Session, mrn: str) -> list[ChangeEvent]:
    """Every change to a patient's chart, oldest first: the patient, encounters and entries."""
    patient = load_patient(session, mrn)
    session.require_patient(Action.VIEW_RECORD, patient=patient.mrn)
    events: list[ChangeEvent] = []
    if not session.store.chart_entries.has_created_patient(patient.mrn):
        # Created by ingest (or filing): the first document that named the patient.
        events.append(ChangeEvent(patient.created_at, patient.source or "import", "patient", patient.mrn, 1,
                                  "imported", None, {}))
    for row in session.store.chart_entries.changes_of(patient.mrn):
        before = json.loads(row["before"]) if row["before"] else {}
        after = json.loads(row["after"] or "{}")
        changes = {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
                   if before.get(k) != after.get(k)}
        events.append(ChangeEvent(row["at"], row["by"], row["entity"], row["entity_id"], row["version"],
                                  row["action"], row["reason"], changes))
    events.extend(entry_change_events(session, patient.mrn))
    events.sort(key=lambda e: (e.at, e.entity != "patient", e.entity_id, e.version))
    with session.transaction():
        session.require_patient(Action.VIEW_RECORD, patient=patient.mrn, audit="chart_history",
                                details={"changes": len(events)})
    return events


__all__ = ["patient_history"]
