"""One function per kind of question, each turning an Intent into a Draft of cited statements.

Handlers only read (through sources.py and the per-question RecordTexts) and
quote; they never decide access (the engine did) and never invent: a
statement exists only with the passage that supports it, and the citation
check runs on everything they return.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from archive.assistant import passages as P
from archive.assistant.answer import Draft, Statement
from archive.assistant.cases import WHEN_SPLIT, _chart_hits, past_case, patient_fact
from archive.assistant.citations import Citation
from archive.assistant.context import Context, _fact_citation, _record_label, _who
from archive.assistant.drug_classes import class_by_name, find_drug_class, member_pattern
from archive.assistant.intents import LIST_WORDS, Intent
from archive.assistant.sources import ChartFact, chart_facts, diagnosis_facts, retrieve, similar_to
from archive.plural import counted

if TYPE_CHECKING:
    pass

MAX_LIST = 40
MAX_TIMELINE = 40
MAX_FIND = 8
MAX_COUNT_LINES = 50
KIND_LABEL = {"medication": "medication", "procedure": "procedure", "complication": "complication",
              "referral": "referral", "diagnosis": "diagnosis", "encounter": "encounter"}
KIND_PLURAL = {"medication": "medications", "procedure": "procedures", "complication": "complications",
               "referral": "referrals", "diagnosis": "diagnoses", "encounter": "encounters"}
# The note section whose first lines state a kind (when a note has no chart entries).
KIND_SECTION = {"diagnosis": r"assessment|impression|diagnos", "medication": r"medication|prescri",
                "procedure": r"procedure|operation", "referral": r"referral", "complication": r"complication"}
# Words that find a kind in the text of notes that have no chart entries.
KIND_WORDS = {
    "medication": "prescribed prescription mg",
    "procedure": "procedure surgery underwent performed biopsy injection repair",
    "complication": "complication complications complicated",
    "referral": "refer referral referred referring",
    "diagnosis": "diagnosis diagnosed",
}


def _note_citation(ctx: Context, rid: str, topic: str, need_all: bool = False, most: bool = False
                   ) -> Citation | None:
    info = ctx.texts.info(rid)
    if info is None:
        return None
    match = P.passage_for(ctx.texts.text(rid), topic, need_all=need_all, most=most)
    if match is None:
        return None
    return Citation(rid, (info.date or "")[:10] or None, P.trim(match.segment, match.first, match.last), info.patient)


def _period_label(intent: Intent) -> str:
    return f" {intent.period.label}" if intent.period else ""


# ---------------------------------------------------------------- find / passages / similar


def find(ctx: Context, intent: Intent) -> Draft:
    topic = intent.topic
    cls = class_by_name(intent.drug_class) if intent.drug_class else None
    query = member_pattern(cls) if cls and not topic else topic
    if cls and topic:
        query = topic
    draft = Draft("find", topic=topic)
    if not query.strip():
        return draft
    mrn = ctx.patient.mrn if ctx.patient else None
    hits = retrieve(ctx.session, query, visible=ctx.visible, patient=mrn, period=intent.period, limit=MAX_FIND,
                    any_word=intent.kind != "find" or len(topic.split()) > 3)
    for h in hits:
        cite = _note_citation(ctx, h.record_id, query, most=True) if not cls else \
            _note_citation(ctx, h.record_id, " ".join(cls.members))
        if cite is None:
            continue
        who = "" if mrn else f" ({_who(ctx, h.patient)})"
        draft.statements.append(Statement(f"{_record_label(ctx, h.record_id)}{who}: \"{cite.passage}\"", [cite],
                                          key=h.record_id))
        if h.patient:
            draft.patients.add(h.patient)
    about = topic or (cls.aliases[0] if cls else "that")
    draft.lead = lambda sts: f"{counted(len(sts), 'record')} about {about}{_period_label(intent)}" + (
        f" for {_who(ctx, mrn)}:" if mrn else ":")
    return draft


def passages(ctx: Context, intent: Intent) -> Draft:
    """Anything else: the best passages (several from the best record), quoted."""
    draft = Draft("passages", topic=intent.topic)
    mrn = ctx.patient.mrn if ctx.patient else None
    if not intent.topic.strip():
        return draft
    stems = P.query_stems(intent.topic)
    hits = retrieve(ctx.session, intent.topic, visible=ctx.visible, patient=mrn, period=intent.period, limit=3)
    for rank, h in enumerate(hits):
        info = ctx.texts.info(h.record_id)
        if info is None:
            continue
        need = P.enough(len(P._distinct_words(intent.topic)))
        for m in P.best_matches(ctx.texts.text(h.record_id), stems, limit=3 if rank == 0 else 1, need=need):
            cite = Citation(h.record_id, (info.date or "")[:10] or None, P.trim(m.segment, m.first, m.last),
                            info.patient)
            who = "" if mrn else f" ({_who(ctx, h.patient)})"
            draft.statements.append(Statement(f"{_record_label(ctx, h.record_id)}{who}: \"{cite.passage}\"",
                                              [cite], key=h.record_id))
        if h.patient:
            draft.patients.add(h.patient)
    draft.lead = lambda sts: "The most relevant passages:"
    return draft


def similar(ctx: Context, intent: Intent) -> Draft:
    draft = Draft("similar")
    source = intent.record_ref
    if source is None and intent.refers_back and ctx.previous_records:
        order = {"first": 0, "top": 0, "second": 1, "third": 2, "last": -1, "previous": -1}
        i = order.get(intent.refers_back, 0)
        source = ctx.previous_records[i] if -len(ctx.previous_records) <= i < len(ctx.previous_records) else None
    topic = intent.topic
    exclude: tuple[str, ...] = ()
    if source:
        info = ctx.texts.info(source)
        if info is None:
            return draft
        text = ctx.texts.text(source)
        topic = _key_words(text, info)
        exclude = (source,)
        draft.patients.add(info.patient or "")
        # the source record's own content is read to find its neighbours: it is cited too
        lead = P.lead_passage(text)
        if lead:
            draft.statements.append(Statement(f"The case you asked about: {_record_label(ctx, source)}",
                                              [Citation(source, info.date, lead, info.patient)], key="source"))
    if not topic:
        return draft
    # a record's neighbours in meaning, fused with the records holding its key words (hybrid search's fusion);
    # by words alone until records are embedded, or when the case is described rather than named
    hits = similar_to(ctx.session, source, MAX_FIND, ctx.visible, words=topic, period=intent.period) \
        if source else None
    if hits is None:
        hits = retrieve(ctx.session, topic, visible=ctx.visible, period=intent.period, limit=MAX_FIND * 2,
                        exclude=exclude, any_word=True, meaning=not source)[:MAX_FIND]
    for h in hits:
        cite = _note_citation(ctx, h.record_id, intent.topic or topic)
        if cite is None and source:  # close in meaning without sharing words: quote its opening
            info, lead = ctx.texts.info(h.record_id), P.lead_passage(ctx.texts.text(h.record_id))
            cite = Citation(h.record_id, (info.date or "")[:10] or None, lead, info.patient) if info and lead else None
        if cite is None:
            continue
        draft.statements.append(Statement(f"{_record_label(ctx, h.record_id)} ({_who(ctx, h.patient)}): "
                                          f"\"{cite.passage}\"", [cite], key=h.record_id))
        if h.patient:
            draft.patients.add(h.patient)
    draft.patients.discard("")
    draft.lead = lambda sts: f"{counted(sum(s.key != 'source' for s in sts), 'similar past case')}:"
    return draft


def _key_words(text: str, info: object) -> str:
    """What a record is about: its chief complaint / opening and its diagnoses (for "similar cases")."""
    lead = P.lead_passage(text, limit=300) or ""
    words = [w for w in P._WORD.findall(lead) if len(w) > 3][:20]
    return " ".join(words)


# ---------------------------------------------------------------- one patient


def list_entries(ctx: Context, intent: Intent) -> Draft:
    """The patient's chart entries of the asked kinds (the chart first; notes only when the chart has none).

    One statement per thing (the same drug from several sources is one statement citing all of them),
    current before stopped; a typed-in entry with no source record is stated as a chart entry.
    """
    assert ctx.patient is not None
    mrn = ctx.patient.mrn
    kinds = intent.entry_kinds or ("medication",)
    cls = class_by_name(intent.drug_class) if intent.drug_class else None
    facts = [f for f in chart_facts(ctx.session, mrn, kinds, intent.period) if plausible_entry(f.kind, f.text)]
    if cls is not None:
        facts = [f for f in facts if f.kind in kinds and (f.kind != "medication" or cls.matches(f.text))]
    topic = " ".join(w for w in intent.topic.split() if w.lower() not in LIST_WORDS | _ATTRIBUTE)
    when = WHEN_SPLIT.split(topic, maxsplit=1)
    if len(when) == 3 and when[2].strip():  # "what complication did he have after his hip replacement?"
        anchors = _chart_hits([f for f in chart_facts(ctx.session, mrn, (), None) if f.date], when[2])
        if anchors:  # the entries dated after (or before) the event the chart names; the event is when, not what
            day = min(f.date or "" for f in anchors)[:10]
            after = when[1].lower() != "before"
            facts = [f for f in facts if f.date and ((f.date[:10] >= day) if after else (f.date[:10] <= day))
                     and f not in anchors]
            topic = when[0]
    topic_stems = P.query_stems(topic)
    reason_note = ""
    if topic_stems:
        named = [f for f in facts if set(topic_stems) & {s for s, _, _ in P._stems_in(f.text)}]
        # "what antibiotic did she get for her port-site infection?": the class's entries, when the rest of the
        # topic is what it was for (no entry of the class names it)
        for_what = re.search(r"\bfor\b", intent.question or "", re.I) and (cls is not None or kinds == ("medication",))
        if not named and for_what and cls is None:  # "what does she take for her blood pressure?": the class
            unnamed = " ".join(w for w in topic.split() if w.lower() not in LIST_WORDS)  # of "blood pressure
            by_use, _alias = find_drug_class(f"{unnamed} medication")  # medication", when the chart has any
            named = [f for f in facts if by_use is not None and f.kind == "medication" and by_use.matches(f.text)]
        facts = named or (facts if for_what else [])
        if facts and not named:
            unnamed = " ".join(w for w in intent.topic.split() if w.lower() not in LIST_WORDS)
            reason_note = f"(No entry names '{unnamed}': these are all the {'matching' if cls else 'listed'} entries.)"
    current_only = bool(_CURRENT.search(intent.question))
    draft = Draft("list", patients={mrn})
    if reason_note:
        draft.notes.append(reason_note)
    groups: OrderedDict[str, list[ChartFact]] = OrderedDict()
    for fact in facts:
        groups.setdefault(_same_thing(fact), []).append(fact)
    rows: list[tuple[bool, Statement]] = []
    for group in groups.values():
        latest = max(group, key=lambda f: f.date or "")
        cites: list[Citation] = []
        for fact in sorted(group, key=lambda f: f.date or "", reverse=True):
            if len(cites) >= 3:
                break
            cite = _fact_citation(ctx, fact) or _source_citation(ctx, fact)
            if cite is not None and (cite.record_id, cite.passage) not in {(c.record_id, c.passage) for c in cites}:
                cites.append(cite)
        typed_in = any(f.record_id is None for f in group)
        if not cites and typed_in:  # a typed-in entry: the patient's note that names it, when there is one
            cite = _note_naming(ctx, latest)
            cites += [cite] if cite else []
        if not cites and not typed_in:
            continue
        stopped = latest.kind == "medication" and _is_stopped(latest)
        status = " (stopped)" if stopped else (
            f" ({latest.status})" if latest.status and latest.status not in ("active", "completed") else "")
        detail = f"; {latest.detail}" if latest.detail else ""
        where = "" if cites else " (chart entry typed in; no source record to quote)"
        text = f"{latest.date or 'undated'}: {latest.text}{detail}{status}{where}"
        rows.append((stopped, Statement(text, cites, key=f"{latest.text}|{latest.date}", from_record=bool(cites))))
    if current_only and any(not stopped for stopped, _ in rows):
        rows = [r for r in rows if not r[0]] + [r for r in rows if r[0]]
    for _stopped, st in rows[:MAX_LIST]:
        draft.statements.append(st)
    if len(rows) > MAX_LIST:
        draft.notes.append(f"(first {MAX_LIST}; name a period to narrow it)")
    if not any(st.from_record or not st.citations for st in draft.statements):
        _mentions_in_notes(ctx, intent, kinds, cls, draft)
    label = cls.aliases[0] if cls else " / ".join(KIND_PLURAL[k] for k in kinds)
    if current_only and kinds == ("medication",):
        draft.lead = lambda sts: (f"Current {label} of {_who(ctx, mrn)}{_period_label(intent)}: "
                                  f"{sum('(stopped)' not in s.text for s in sts)}" +
                                  (" (stopped ones after them):" if any("(stopped)" in s.text for s in sts) else ":"))
    else:
        draft.lead = lambda sts: f"{len(sts)} {label} for {_who(ctx, mrn)}{_period_label(intent)}:"
    return draft


# what a question asks of an entry, not which entry ("which anticoagulant is he taking now, and what dose?")
_ATTRIBUTE = frozenset("dose doses dosage dosing strength frequency route".split())
_CURRENT = re.compile(r"\b(?:is|are)\s+(?:\S+\s+){0,3}?(?:on|taking)\b|\bcurrent(?:ly)?\b|\bnow\b|\bstill\b|"
                      r"\bactive\b", re.I)

_NOT_AN_ENTRY = re.compile(r"^\s*(?:date|dob|mrn|patient|name|sex|time)\b\s*:?|^\W*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\W*$|"
                           r"\b(?:he|she|they|has|have|had|was|were|is|are|tried|will|would)\b", re.I)


def plausible_entry(kind: str, text: str) -> bool:
    """Whether mined text can be a chart entry of `kind`: not a date, a header field or a whole sentence."""
    if not re.search(r"[A-Za-z]{3,}", text):
        return False
    if kind == "medication" and (_NOT_AN_ENTRY.search(text) or (text.rstrip().endswith(".") and len(text.split()) > 5)
                                 or len(text.split()) > 25):
        return False
    return len(text) <= 200


def _same_thing(fact: ChartFact) -> str:
    """What makes two facts the same entry: the kind and the drug's first word (medications), else the text."""
    words = [w for w in re.findall(r"[a-z]{3,}", fact.text.lower()) if w not in _FORMS]
    if fact.kind == "medication" and words:
        return f"medication|{' '.join(words)}"
    return f"{fact.kind}|{' '.join(words)}|{(fact.date or '')[:10]}"


_FORMS = frozenset("mg mcg oral tablet tablets capsule capsules solution injection extended release hour day daily "
                   "once twice the and".split())


def _is_stopped(fact: ChartFact) -> bool:
    import datetime as dt

    if fact.status in ("stopped", "completed", "cancelled", "entered-in-error", "inactive", "ended"):
        return True
    stop = re.search(r"\bstop (\d{4}-\d{2}-\d{2})", fact.detail)
    return bool(stop and stop.group(1) < dt.date.today().isoformat())


def _note_naming(ctx: Context, fact: ChartFact) -> Citation | None:
    """The line of one of the patient's records that names a typed-in entry (its first word), on its date first."""
    assert ctx.patient is not None
    first = re.findall(r"[A-Za-z]{4,}", fact.text)
    if not first:
        return None
    records = ctx.session.store.records.filed_to(ctx.patient.mrn)
    records.sort(key=lambda r: (r[1] or "")[:10] != (fact.date or "")[:10])
    for rid, date, _title, _type in records:
        if not ctx.visible.allows(rid, ctx.patient.mrn):
            continue
        line = P.line_with(ctx.texts.text(rid), first[0])
        if line:
            return Citation(rid, (date or "")[:10] or None, line, ctx.patient.mrn)
    return None


def _source_citation(ctx: Context, fact: ChartFact) -> Citation | None:
    """A chart entry's source record: the line naming it (any date), or None."""
    if not fact.record_id or not ctx.visible.allows(fact.record_id, ctx.patient.mrn if ctx.patient else None):
        return None
    text = ctx.texts.text(fact.record_id)
    info = ctx.texts.info(fact.record_id)
    if info is None:
        return None
    line = P.line_with(text, fact.text)
    if line is None:
        first = re.findall(r"[A-Za-z]{3,}", fact.text)
        line = P.line_with(text, first[0]) if first else None
    if line is None:
        return None
    return Citation(fact.record_id, (info.date or "")[:10] or None, line, info.patient)


def _mentions_in_notes(ctx: Context, intent: Intent, kinds: tuple[str, ...], cls: object, draft: Draft) -> None:
    """No chart entries: quote the patient's notes where they state the kind (or the drug class)."""
    assert ctx.patient is not None
    from archive.assistant.drug_classes import DrugClass, drug_classes

    if isinstance(cls, DrugClass):
        words = " ".join(cls.members)
    elif intent.topic:
        words = intent.topic
    elif "medication" in kinds:
        words = " ".join(sorted({m for c in drug_classes() for m in c.members})) + " mg prescribed prescription"
    else:
        words = " ".join(KIND_WORDS[k] for k in kinds)
    stems = P.query_stems(words)
    for rid, date in ctx.session.store.records.notes_of_patient(ctx.patient.mrn):
        if intent.period is not None and not intent.period.contains(date):
            continue
        if not ctx.visible.allows(rid, ctx.patient.mrn):
            continue
        text = ctx.texts.text(rid)
        segs = [] if isinstance(cls, DrugClass) or intent.topic else \
            [s for k in kinds for s in P.section_after(text, KIND_SECTION[k])]
        if not segs:
            segs = [m.segment for m in P.best_matches(text, stems, limit=4)]
        for seg in segs:
            cite = Citation(rid, (date or "")[:10] or None, P.trim(seg), ctx.patient.mrn)
            draft.statements.append(Statement(f"{_record_label(ctx, rid)}: \"{cite.passage}\"", [cite], key=rid))


def timeline(ctx: Context, intent: Intent) -> Draft:
    assert ctx.patient is not None
    mrn = ctx.patient.mrn
    facts = chart_facts(ctx.session, mrn, (), intent.period, with_encounters=True)
    by_day: OrderedDict[str, list[ChartFact]] = OrderedDict()
    for f in facts:
        by_day.setdefault((f.date or "undated")[:10], []).append(f)
    draft = Draft("timeline", patients={mrn})
    days = list(by_day.items())
    if len(days) > MAX_TIMELINE:  # keep the days where something beyond a routine visit happened
        eventful = [(d, fs) for d, fs in days if any(f.kind != "encounter" for f in fs)]
        days = (eventful if len(eventful) >= MAX_TIMELINE // 2 else days)[-MAX_TIMELINE:]
        draft.notes.append(f"(the {len(days)} most recent days with diagnoses, treatments or procedures; "
                           f"{len(by_day)} days in all: name a period to see others)")
    for day, fs in days:
        parts, cites = [], []
        for f in fs[:6]:
            cite = _fact_citation(ctx, f)
            if cite is None:
                continue
            parts.append(f.text if f.kind == "encounter" else f"{KIND_LABEL[f.kind]}: {f.text}")
            cites.append(cite)
        if cites:
            draft.statements.append(Statement(f"{day}: " + "; ".join(parts), cites, key=day))
    # notes (no structured facts): one line each, with their opening passage
    for rid, date in ctx.session.store.records.notes_of_patient(mrn):
        if intent.period is not None and not intent.period.contains(date):
            continue
        if not ctx.visible.allows(rid, mrn):
            continue
        lead = P.lead_passage(ctx.texts.text(rid))
        if lead:
            draft.statements.append(Statement(f"{_record_label(ctx, rid)}: \"{lead}\"",
                                              [Citation(rid, (date or "")[:10] or None, lead, mrn)], key=date or ""))
    draft.statements.sort(key=lambda s: s.key)
    draft.lead = lambda sts: (f"Timeline of {_who(ctx, mrn)}{_period_label(intent)}"
                              f" ({counted(len(sts), 'entry', 'entries')}):")
    return draft


# ---------------------------------------------------------------- aggregates


def count(ctx: Context, intent: Intent) -> Draft:
    topic = intent.topic
    draft = Draft("count", topic=topic)
    stems = P.query_stems(topic)
    if not stems:
        return draft
    words = [w for w in P._WORD.findall(topic.lower()) if len(w) > 2] or [topic.lower()]
    found: list[tuple[str, str, Citation]] = []  # (patient, encounter key, citation)
    for mrn, fact in diagnosis_facts(ctx.session, words, intent.period):
        if not set(stems) <= {s for s, _, _ in P._stems_in(fact.text)}:
            continue
        if not fact.record_id or not ctx.visible.allows(fact.record_id, mrn):
            continue
        cite = _fact_citation(ctx, fact)
        if cite is not None:
            found.append((mrn, f"{mrn}|{(fact.date or '')[:10]}", cite))
    for h in retrieve(ctx.session, topic, visible=ctx.visible, period=intent.period, limit=200, any_word=False,
                      meaning=False):
        info = ctx.texts.info(h.record_id)
        if info is None or info.has_facts or not h.patient:
            continue
        match = P.passage_for(ctx.texts.text(h.record_id), topic, need_all=True)
        if match is None:
            continue
        passage = P.trim(match.segment, match.first, match.last)
        if ctx.general:  # name no patient: quote only the words that match
            passage = match.segment.text[match.first: match.last]
        found.append((h.patient, f"{h.patient}|{(info.date or '')[:10]}",
                      Citation(h.record_id, (info.date or "")[:10] or None, passage, h.patient)))
    per_key: OrderedDict[str, list[Citation]] = OrderedDict()
    for mrn, enc, cite in sorted(found, key=lambda t: (t[2].date or "", t[0])):
        key = enc if intent.count_what == "encounters" else mrn
        per_key.setdefault(key, []).append(cite)
    for key, cites in per_key.items():
        first = cites[0]
        who = f"record {first.record_id}" if ctx.general else _who(ctx, first.patient)
        draft.statements.append(Statement(f"{first.date or 'undated'}: {who}", [first], key=key))
        if not ctx.general and first.patient:
            draft.patients.add(first.patient)
    what = "patient" if intent.count_what == "patients" else "encounter"
    verb = "had" if what == "patient" else "for"
    draft.lead = lambda sts: f"{counted(len({s.key for s in sts}), what)} {verb} {topic}{_period_label(intent)}" + (
        " (the first record of each):" if what == "patient" else ":")
    if len(draft.statements) > MAX_COUNT_LINES:
        draft.notes.append(f"(listing the first {MAX_COUNT_LINES})")
    return draft


# ---------------------------------------------------------------- codes


def code(ctx: Context, intent: Intent) -> Draft:
    from archive.coding import search_codes, suggest_for_text

    draft = Draft("code", topic=intent.topic)
    if intent.record_ref:
        return _record_codes(ctx, intent)
    if not intent.topic.strip():
        return draft
    hits = search_codes(ctx.session, intent.topic, limit=5)
    lines = [f"{h.code} {h.description}" + ("" if h.billable else " (not billable: choose a child code)")
             for h in hits]
    if not lines:
        suggestions = suggest_for_text(ctx.session, intent.topic, limit=5).suggestions
        lines = [f"{s.code} {s.description}" for s in suggestions]
    for line in lines:
        draft.statements.append(Statement(line, [], from_record=False))
    draft.lead = lambda sts: f"ICD-10-CM codes for '{intent.topic}' (best first; from the code set, not a record):"
    return draft


def _record_codes(ctx: Context, intent: Intent) -> Draft:
    from archive.coding import suggest_for_record

    assert intent.record_ref is not None
    draft = Draft("code")
    info = ctx.texts.info(intent.record_ref)
    if info is None:
        return draft
    result = suggest_for_record(ctx.session, intent.record_ref, limit=5)
    for s in result.suggestions:
        draft.statements.append(Statement(f"{s.code} {s.description}",
                                          [Citation(info.record_id, info.date, s.passage, info.patient)]))
    if info.patient:
        draft.patients.add(info.patient)
    draft.lead = lambda sts: f"ICD-10-CM codes that fit record {info.record_id} (each with the passage it rests on):"
    return draft


HANDLERS: dict[str, Callable[[Context, Intent], Draft]] = {
    "find": find,
    "passages": passages,
    "similar": similar,
    "list": list_entries,
    "timeline": timeline,
    "count": count,
    "code": code,
    "fact": patient_fact,  # a question about a named patient's fact (routed by the engine)
    "case": past_case,  # a question about a past case described in words
}
