"""Where answers come from: record retrieval and chart facts, behind two small interfaces.

`retrieve` finds candidate records for a topic: hybrid (words + meaning, via
archive.search) once records are embedded, else full text with a cascade
(the phrase, then all words, then any word). `chart_facts` lists a patient's
chart entries (archive.charts) with the record each came from; for records
whose facts never reached a chart, it reads the record's extracted facts.
Hits the user may not see are dropped here (`Session.may_see_record`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from archive.assistant.periods import Period
from archive.policy import Action
from indexer import fts
from indexer.query.abbreviations import dominant_senses as abbreviations

if TYPE_CHECKING:
    from archive.session import Session

_WORD = re.compile(r"[A-Za-z0-9]+")
FACT_KIND = {"condition": "diagnosis", "medication": "medication", "procedure": "procedure",
             "complication": "complication", "referral": "referral", "encounter": "encounter"}


@dataclass(frozen=True)
class Hit:
    record_id: str
    patient: str | None
    date: str | None
    score: float


def _term(word: str) -> str:
    """A word, or (word OR "its expansion") for a known abbreviation."""
    sense = abbreviations().get(word.lower())
    if sense and len(word) <= 6 and sense.lower() != word.lower():
        phrase = " ".join(_WORD.findall(sense))
        return f'({word} OR "{phrase}")' if phrase else word
    return word


def fts_queries(topic: str) -> list[str]:
    """The cascade for a topic: phrase, all words, any word."""
    words = _WORD.findall(topic)[:24]
    if not words:
        return []
    out = []
    if len(words) > 1:
        out.append('"' + " ".join(words) + '"')
    out.append(" ".join(_term(w) for w in words))
    if len(words) > 1:
        out.append(" OR ".join(_term(w) for w in words))
    return out


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
    patient: str | None = None,
    period: Period | None = None,
    limit: int = 10,
    action: Action = Action.ASK_ABOUT_PATIENT,
    any_word: bool = True,
    exclude: tuple[str, ...] = (),
    meaning: bool = True,
) -> list[Hit]:
    """Records about `topic`, best first (the period applies to the record's date).

    Words first: records with the phrase or all the words. When there are none, meaning steps in
    (hybrid retrieval, once records are embedded; `meaning=False` for counts, which need the words
    themselves); when there are too few, records with any of the words (`any_word`). Answers quote
    passages that use the topic's words, so word matches lead and the query is embedded only when
    the words find nothing (which also keeps answers fast).
    """
    strict = _fts_cascade(session, topic, patient, period, limit * 2, any_word=False)
    hits = strict
    found = len(_visible(session, strict, period, action, exclude, limit))
    if found < limit and (meaning or any_word):
        more = _hybrid(session, topic, patient, period, limit * 2) if meaning and not found else None
        if more is None and any_word:
            more = _fts_cascade(session, topic, patient, period, limit * 2, any_word=True)
        seen = {h.record_id for h in strict}
        hits = strict + [h for h in more or [] if h.record_id not in seen]
    return _visible(session, hits, period, action, exclude, limit)


def _visible(session: Session, hits: list[Hit], period: Period | None, action: Action, exclude: tuple[str, ...],
             limit: int) -> list[Hit]:
    out = []
    for h in hits:
        if h.record_id in exclude:
            continue
        if period is not None and period.month is not None and not period.contains(h.date):
            continue
        if not session.may_see_record(h.record_id, h.patient, action):
            continue
        out.append(h)
        if len(out) >= limit:
            break
    return out


def _fts_cascade(session: Session, topic: str, patient: str | None, period: Period | None, limit: int,
                 any_word: bool) -> list[Hit]:
    queries = fts_queries(topic)
    if not any_word:
        queries = queries[:2]
    seen: dict[str, Hit] = {}
    for rank, query in enumerate(queries):
        try:
            found = fts.search(session.db, query, _filters(patient, period), limit=limit)
        except fts.BadQuery:
            continue
        for h in found:
            if h.record_id not in seen:
                # earlier (stricter) queries rank first; BM25 orders within one query
                seen[h.record_id] = Hit(h.record_id, h.patient, h.date, h.score - 1000 * rank)
        if len(seen) >= limit:
            break
    return sorted(seen.values(), key=lambda h: -h.score)


def _hybrid(session: Session, topic: str, patient: str | None, period: Period | None, limit: int) -> list[Hit] | None:
    """Hybrid retrieval once any record is embedded (None: not available, use full text)."""
    try:
        from archive.embedding import has_embeddings
        from archive.search import search
    except ImportError:
        return None
    if not topic.strip() or not has_embeddings(session.db):
        return None
    f = _filters(patient, period)
    result = search(session, topic, mode="hybrid", patient=patient, date_from=f.date_from, date_to=f.date_to,
                    limit=limit)
    return [Hit(h.record_id, h.patient, h.date, h.score) for h in result.hits]


def similar_to(session: Session, record_id: str, limit: int,
               action: Action = Action.ASK_ABOUT_PATIENT) -> list[Hit] | None:
    """Records closest in meaning to one record (None: no embeddings yet; the caller falls back to words)."""
    try:
        from archive.embedding import has_embeddings
        from archive.search import similar_cases
    except ImportError:
        return None
    if not has_embeddings(session.db):
        return None
    result = similar_cases(session, record_id, limit=limit * 2)
    return [Hit(h.record_id, h.patient, h.date, h.score) for h in result.hits
            if session.may_see_record(h.record_id, h.patient, action)][:limit]


# ---------------------------------------------------------------- chart facts


@dataclass(frozen=True)
class ChartFact:
    kind: str  # medication, procedure, complication, referral, diagnosis, encounter
    text: str
    date: str | None
    record_id: str | None  # the record it came from (None: entered by hand, nothing to quote)
    status: str | None = None
    detail: str = ""  # dose, route, referral target: shown, not quoted


def _has_table(db: Any, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def charts_available(db: Any) -> bool:
    try:
        import archive.charts  # noqa: F401
    except ImportError:
        return False
    return _has_table(db, "chart_entries")


def chart_facts(session: Session, mrn: str, kinds: tuple[str, ...], period: Period | None,
                with_encounters: bool = False) -> list[ChartFact]:
    """A patient's chart entries of `kinds` in `period` (and encounters), by date."""
    out: list[ChartFact] = []
    landed: set[str] = set()
    if charts_available(session.db):
        from archive.charts import patient_chart

        chart = patient_chart(session, mrn)
        for e in chart.entries:
            if e.source_record:
                landed.add(e.source_record)
            if kinds and e.kind not in kinds:
                continue
            detail = ", ".join(p for p in (e.dose and f"dose {e.dose}", e.route, e.frequency,
                                           e.referral_to and f"to {e.referral_to}") if p)
            out.append(ChartFact(e.kind, e.text, e.date, e.source_record, e.status, detail))
        if with_encounters:
            for enc in chart.encounters:
                if enc.source_record:
                    landed.add(enc.source_record)
                out.append(ChartFact("encounter", enc.text, enc.start, enc.source_record, enc.status))
    out += _record_facts(session, mrn, kinds, with_encounters, skip=landed)
    if period is not None:
        out = [f for f in out if period.contains(f.date)]
    return sorted(out, key=lambda f: (f.date or "9999", f.kind != "encounter", f.text))


def _record_facts(session: Session, mrn: str, kinds: tuple[str, ...], with_encounters: bool,
                  skip: set[str]) -> list[ChartFact]:
    """Facts of the patient's records that are not on the chart (charts missing, or not landed)."""
    out = []
    for rid, date, facts_json in session.db.execute(
        "SELECT id, date, facts FROM records WHERE patient_mrn = ? AND facts != '[]' ORDER BY date, n", [mrn]
    ).fetchall():
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
    landed: set[str] = set()
    db = session.db
    if charts_available(db):
        marks = ",".join("?" * len(kinds))
        rows = db.execute(
            "SELECT e.patient_mrn, v.kind, v.text, v.date, v.source_record, v.status FROM chart_entries e "
            "JOIN chart_entry_versions v ON v.entry_id = e.id AND v.version = e.current_version "
            f"WHERE v.kind IN ({marks}) AND v.status != 'entered_in_error' AND v.text LIKE ?",
            [*kinds, f"%{longest}%"],
        ).fetchall()
        for mrn, kind, text, date, source, status in rows:
            out.append((mrn, ChartFact(kind, text, date, source, status)))
        landed = {r[0] for r in db.execute(
            "SELECT DISTINCT source_record FROM chart_entries WHERE source_record IS NOT NULL").fetchall()}
    for rid, mrn, date, facts_json in db.execute(
        "SELECT id, patient_mrn, date, facts FROM records WHERE facts LIKE ? AND patient_mrn IS NOT NULL",
        [f"%{longest}%"],
    ).fetchall():
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
