"""Where answers come from: record retrieval and chart facts, behind two small interfaces.

`retrieve` finds candidate records for a topic through the search facade
(archive.search): full text with a cascade (the phrase, then all words, then
any word), and hybrid (words + meaning) once records are embedded.
`chart_facts` lists a patient's chart entries (archive.charts) with the
record each came from; for records whose facts never reached a chart, it
reads the record's extracted facts. Hits the user may not see are dropped by
the answer's `Visibility` (one decision per record per answer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archive.assistant.periods import Period
from archive.search import Visibility, search, semantic_ready, similar_cases, words_first
from indexer import fts

if TYPE_CHECKING:
    from archive.session import Session

FACT_KIND = {"condition": "diagnosis", "medication": "medication", "procedure": "procedure",
             "complication": "complication", "referral": "referral", "encounter": "encounter"}


@dataclass(frozen=True)
class Hit:
    record_id: str
    patient: str | None
    date: str | None
    score: float


def _filters(patient: str | None, period: Period | None) -> fts.Filters:
    return fts.Filters(
        patient=patient,
        date_from=period.date_from if period and period.month is None else None,
        date_to=period.date_to if period and period.month is None else None,
    )


def retrieve(
    session: Session,
    topic: str,
    *,
    visible: Visibility,
    patient: str | None = None,
    period: Period | None = None,
    limit: int = 10,
    any_word: bool = True,
    exclude: tuple[str, ...] = (),
    meaning: bool = True,
) -> list[Hit]:
    """Records about `topic` that `visible` lets the user see, best first (the period applies to the record's date).

    Words first: records with the phrase or all the words. When there are none, meaning steps in
    (hybrid retrieval, once records are embedded; `meaning=False` for counts, which need the words
    themselves); when there are too few, records with any of the words (`any_word`). Answers quote
    passages that use the topic's words, so word matches lead and the query is embedded only when
    the words find nothing (which also keeps answers fast).
    """
    strict = _fts_cascade(session, topic, patient, period, limit * 2, visible, any_word=False)
    hits = strict
    found = len(_kept(strict, period, exclude, limit))
    if found < limit and (meaning or any_word):
        more = _hybrid(session, topic, patient, period, limit * 2, visible) if meaning and not found else None
        if more is None and any_word:
            more = _fts_cascade(session, topic, patient, period, limit * 2, visible, any_word=True)
        seen = {h.record_id for h in strict}
        hits = strict + [h for h in more or [] if h.record_id not in seen]
    return _kept(hits, period, exclude, limit)


def _kept(hits: list[Hit], period: Period | None, exclude: tuple[str, ...], limit: int) -> list[Hit]:
    """The first `limit` hits not excluded and inside the period's month (visibility: already applied)."""
    out = []
    for h in hits:
        if h.record_id in exclude:
            continue
        if period is not None and period.month is not None and not period.contains(h.date):
            continue
        out.append(h)
        if len(out) >= limit:
            break
    return out


def _fts_cascade(session: Session, topic: str, patient: str | None, period: Period | None, limit: int,
                 visible: Visibility, any_word: bool) -> list[Hit]:
    found = words_first(session, topic, _filters(patient, period), limit, visible, any_word=any_word)
    return [Hit(h.record_id, h.patient, h.date, h.score) for h in found]


def _hybrid(session: Session, topic: str, patient: str | None, period: Period | None, limit: int,
            visible: Visibility) -> list[Hit] | None:
    """Hybrid retrieval once any record is embedded (None: not available, use full text)."""
    if not topic.strip() or not semantic_ready(session):
        return None
    f = _filters(patient, period)
    result = search(session, topic, mode="hybrid", patient=patient, date_from=f.date_from, date_to=f.date_to,
                    limit=limit, visible=visible)
    return [Hit(h.record_id, h.patient, h.date, h.score) for h in result.hits]


def similar_to(session: Session, record_id: str, limit: int, visible: Visibility, words: str = "",
               period: Period | None = None) -> list[Hit] | None:
    """Records closest to one record in meaning, and holding `words` (what it is about), fused as hybrid
    search fuses; None: no embeddings yet (the caller falls back to words)."""
    if not semantic_ready(session):
        return None
    result = similar_cases(session, record_id, limit=limit, words=words, filters=_filters(None, period),
                           visible=visible)
    return [Hit(h.record_id, h.patient, h.date, h.score) for h in result.hits]


# ---------------------------------------------------------------- chart facts


@dataclass(frozen=True)
class ChartFact:
    kind: str  # medication, procedure, complication, referral, diagnosis, encounter
    text: str
    date: str | None
    record_id: str | None  # the record it came from (None: entered by hand, nothing to quote)
    status: str | None = None
    detail: str = ""  # dose, route, referral target: shown, not quoted
    stop: str | None = None  # a medication's stop date
    stop_reason: str | None = None  # why a medication was stopped, as charted


def chart_facts(session: Session, mrn: str, kinds: tuple[str, ...], period: Period | None,
                with_encounters: bool = False) -> list[ChartFact]:
    """A patient's chart entries of `kinds` in `period` (and encounters), by date."""
    from archive.charts.entries import patient_chart

    out: list[ChartFact] = []
    landed: set[str] = set()
    chart = patient_chart(session, mrn)
    for e in chart.entries:
        if e.source_record:
            landed.add(e.source_record)
        if kinds and e.kind not in kinds:
            continue
        detail = ", ".join(p for p in (e.dose and f"dose {e.dose}", e.route, e.frequency,
                                       e.referral_to and f"to {e.referral_to}",
                                       e.referral_reason and f"reason: {e.referral_reason}",
                                       _stopped(e.stop, e.stop_reason)) if p)
        out.append(ChartFact(e.kind, e.text, e.date, e.source_record, e.status, detail, e.stop, e.stop_reason))
    if with_encounters:
        for enc in chart.encounters:
            if enc.source_record:
                landed.add(enc.source_record)
            out.append(ChartFact("encounter", enc.text, enc.start, enc.source_record, enc.status))
    out += _record_facts(session, mrn, kinds, with_encounters, skip=landed)
    if period is not None:
        out = [f for f in out if period.contains(f.date)]
    return sorted(out, key=lambda f: (f.date or "9999", f.kind != "encounter", f.text))


def _stopped(stop: str | None, reason: str | None) -> str:
    """A medication's stop as a chart line says it: "stop 2021-08-30", "stopped 2021-08-30: upper GI bleed"."""
    if reason:
        return f"stopped {stop}: {reason}" if stop else f"stopped: {reason}"
    return f"stop {stop}" if stop else ""


def _record_facts(session: Session, mrn: str, kinds: tuple[str, ...], with_encounters: bool,
                  skip: set[str]) -> list[ChartFact]:
    """Facts of the patient's records that are not on the chart (charts missing, or not landed)."""
    out = []
    for rid, date, facts_json in session.store.records.facts_of_patient(mrn):
        if rid in skip:
            continue
        for fact in json.loads(facts_json or "[]"):
            if not isinstance(fact, dict):
                continue
            kind = FACT_KIND.get(str(fact.get("kind")))
            if kind is None or (kind == "encounter" and not with_encounters):
                continue
            if kind != "encounter" and kinds and kind not in kinds:
                continue
            text = " ".join(str(fact.get("text") or "").split())
            if text:
                out.append(ChartFact(kind, text, fact.get("date") or date, rid, fact.get("status")))
    return out


def diagnosis_facts(session: Session, topic_words: list[str], period: Period | None,
                    kinds: tuple[str, ...] = ("diagnosis", "complication")) -> list[tuple[str, ChartFact]]:
    """(patient, fact) for every chart diagnosis whose text has all `topic_words` (any patient)."""
    if not topic_words:
        return []
    longest = max(topic_words, key=len)
    out: list[tuple[str, ChartFact]] = []
    store = session.store
    for mrn, kind, text, date, source, status in store.chart_entries.current_mentioning(kinds, longest):
        out.append((mrn, ChartFact(kind, text, date, source, status)))
    landed = store.chart_entries.landed_records()
    for rid, mrn, date, facts_json in store.records.facts_mentioning(longest):
        if rid in landed:
            continue
        for fact in json.loads(facts_json or "[]"):
            if isinstance(fact, dict) and FACT_KIND.get(str(fact.get("kind"))) in kinds:
                text = " ".join(str(fact.get("text") or "").split())
                if longest.lower() in text.lower():
                    out.append((mrn, ChartFact("diagnosis", text, fact.get("date") or date, rid, fact.get("status"))))
    if period is not None:
        out = [(m, f) for m, f in out if period.contains(f.date)]
    return out
