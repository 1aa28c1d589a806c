"""Re-deriving the facts of a vault imported before issue 17: dates and encounters of confirmed codes, the
dates of multi-encounter bundles, and the review queue's checks, with before/after counts.

Before, a confirmed code went to the encounter with most chart entries of its record and was dated by the
record (a FHIR bundle's first document: its oldest encounter); now each code is placed where its passage's
facts are (archive.charts.encounters.places_for_passage), a multi-encounter bundle is dated by its last
clinical date, and what does not add up waits for review (archive.review). Idempotent: a second run changes
nothing. `chartvault chart rederive` runs it and prints the counts; decrypts record text in memory only.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from archive.charts import rules
from archive.charts.encounters import places_for_passage
from archive.policy import Action
from archive.review import check_record
from archive.stats import diagnosis_events
from indexer.extract.types import PatientInfo
from indexer.pipeline import meta_text

if TYPE_CHECKING:
    from archive.session import Session


@dataclass
class RederiveReport:
    records_redated: int = 0
    search_rows_refreshed: int = 0  # full-text rows whose date or filter tokens (fact years) were re-derived
    codes_checked: int = 0
    codes_moved: int = 0  # a code whose encounter or dates changed
    undecided: int = 0  # codes whose encounter nobody can tell (left as they were; see the review queue)
    review_items: int = 0
    events_before: dict[str, int] = field(default_factory=dict)  # diagnosis events per year
    events_after: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def last_clinical_date(facts: list[dict[str, Any]]) -> str | None:
    """A multi-encounter record's date: the last date of its facts (None for a record of one encounter)."""
    if sum(f.get("kind") == "encounter" for f in facts) < 2:
        return None
    days = [d for d in (rules.iso(rules.stored_day(f.get("date"))) for f in facts) if d]
    return max(days) if days else None


def _events_by_year(session: Session) -> dict[str, int]:
    years = Counter(e.episode_day[:4] for e in diagnosis_events(session.store))
    return dict(sorted(years.items()))


def rederive_facts(session: Session) -> RederiveReport:
    """Re-date multi-encounter bundles, re-place confirmed codes, run the review checks; one transaction."""
    session.require(Action.EDIT_CHART)
    report = RederiveReport(events_before=_events_by_year(session))
    with session.transaction():
        for rid in session.store.records.with_facts():
            row = session.store.records.get(rid)
            if row is None or row["format"] != "fhir":
                continue
            facts = [f for f in json.loads(row["facts"] or "[]") if isinstance(f, dict)]
            last = last_clinical_date(facts)
            if last and row["date"] != last:
                session.store.records.set_date(rid, last)
                mrn = row["patient_mrn"]
                name = session.store.patients.name_of(mrn) if mrn else None
                # The full-text row holds the date too (its meta and its year token): searched and
                # filtered by the new date, not the first encounter's.
                session.store.records.update_search_row(row["n"], meta=meta_text(
                    row["doc_type"], row["format"], row["author"], mrn, PatientInfo(mrn or "", name), last))
                report.records_redated += 1
        numbers = session.store.records.numbers(session.store.records.with_facts())
        report.search_rows_refreshed = report.records_redated + session.store.records.refresh_facets(numbers)
        for decision_id, rid, code, passage, encounter, occurrences in session.store.coding.confirmed_in_force():
            report.codes_checked += 1
            row = session.store.records.get(rid)
            if row is None:
                continue
            text = session.blobs.get_bytes(row["text_blob_id"]).decode("utf-8", "replace") \
                if passage and row["text_blob_id"] else None
            places = places_for_passage(session, rid, passage, code, text)
            if not places.decided:
                report.undecided += 1
                from archive.review import queue_undecided_encounter

                queue_undecided_encounter(session, rid, row["patient_mrn"], code, places.why)
                continue
            new = [list(p) for p in places.occurrences]
            if places.encounter != encounter or json.loads(occurrences or "null") != new:
                session.store.coding.set_places(decision_id, places.encounter, places.occurrences)
                report.codes_moved += 1
        for rid in session.store.records.all_ids():
            report.review_items += len(check_record(session, rid))
        report.events_after = _events_by_year(session)
        session.store.settings.put("facts_rederive", "done")
        session.audit("facts_rederive", details={k: v for k, v in report.to_json().items()
                                                 if not k.startswith("events_")})
    return report


__all__ = ["RederiveReport", "last_clinical_date", "rederive_facts"]
