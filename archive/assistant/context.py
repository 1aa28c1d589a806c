"""What every handler works with: the Context of one answer, and the few helpers that name and quote.

Shared by handlers.py (one function per kind of question) and cases.py (the asked fact, past cases).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from archive.assistant import passages as P
from archive.assistant.citations import Citation, RecordTexts
from archive.assistant.patient_refs import PatientRef
from archive.assistant.sources import ChartFact

if TYPE_CHECKING:
    from archive.search import Visibility
    from archive.session import Session


@dataclass
class Context:
    session: Session
    texts: RecordTexts
    patient: PatientRef | None
    general: bool  # the user has only general rights (no patient content beyond minimal quotes)
    visible: Visibility  # the records this answer may use: decided once per record, for the answer's right
    previous_records: list[str] = field(default_factory=list)


def _who(ctx: Context, mrn: str | None) -> str:
    if not mrn:
        return "unfiled"
    name = ctx.session.store.patients.name(mrn)
    return f"MRN {mrn}" + (f", {name}" if name else "")


def _record_label(ctx: Context, rid: str) -> str:
    info = ctx.texts.info(rid)
    if info is None:
        return rid
    title = info.title if info.title and not info.title.isupper() else None  # not a bare section heading
    what = title or info.doc_type or "record"
    return f"{info.date or 'undated'}, {what}"


def _fact_citation(ctx: Context, fact: ChartFact) -> Citation | None:
    """The line of the source record that states the fact (its date included when there is one)."""
    if not fact.record_id:
        return None
    text = ctx.texts.text(fact.record_id)
    line = P.line_with(text, fact.text, fact.date)
    info = ctx.texts.info(fact.record_id)
    if line is None or info is None:
        return None
    date = fact.date if fact.date and fact.date[:10] in line else info.date
    return Citation(fact.record_id, (date or "")[:10] or None, line, info.patient)


