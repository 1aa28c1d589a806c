"""Answering the asked fact: about a named patient, or about a past case described in words.

`patient_fact` reads one patient's chart and records: the last encounter
("when was her last visit?" -> the date), yes/no ("has he had an
appendectomy?" -> yes with the evidence, "no: denied" when only a negated
mention exists, or "no record of it" naming what was searched), and any other
question (the sentence that holds the answer, by the question's words, its
answer type and, when the embedding model is loaded, by meaning; then, when
the reader model is installed, the first few read together with the question
(archive/assistant/joint.py); the fact stated, the sentence quoted).

`past_case` answers a question that names no patient but describes a case
("the 23-year-old woman whose allergies were no longer controlled by Allegra,
which nasal spray was she given?"): the description is searched through the
search facade (hybrid when records are embedded, words otherwise) over the
records the physician may see, the candidate cases are scored by how much of
the description their record holds (and their search rank), the best case
answers the asked fact and is named; when two or more match about equally,
each is listed with its fact. Access was decided by the engine (`ctx.visible`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from archive.assistant import passages as P
from archive.assistant import reading as R
from archive.assistant.answer import Draft, Statement
from archive.assistant.citations import Citation
from archive.assistant.context import Context, _fact_citation, _who
from archive.assistant.context import _record_label as _label
from archive.assistant.intents import ENTRY_WORDS, LIST_WORDS, Intent
from archive.assistant.joint import joint
from archive.assistant.lay_terms import clinical_forms
from archive.assistant.mention import FAMILY, HYPOTHETICAL, NEGATED, POSSIBLE, PRESENT
from archive.assistant.sources import ChartFact, chart_facts
from archive.plural import counted

if TYPE_CHECKING:
    from archive.session import Session

CASE_POOL = 8  # records retrieved for a described case
AMBIGUOUS = 0.93  # a second case scoring at least this share of the best one is listed too
# ... or two cases stand out: another patient's at least PAIR of the best, the next one at least PAIR_GAP (of the
# best) below it. Set leave-one-round-out on the independent rounds 5-7 (session 11, bench/which_case.py,
# bench/RESULTS.md): the most ambiguous pairs listed without listing cases on more clear questions than the
# session-10 values (0.97, 0.85, 0.3) did. Two cases standing well clear of the third are the writers' "about the
# same case" far more often than a close second alone.
PAIR, PAIR_GAP = 0.83, 0.25
MAX_CASES = 3
NOT_TOLD_SHARE = 0.5  # a sentence whose fact the description does not state, answering at least this share as well
LAST_ENCOUNTER = re.compile(
    r"\b(?:last|latest|most recent|previous|recent)\s+(?:encounter|visit|appointment|admission|consultation|"
    r"contact|clinic visit|office visit)\b|\blast (?:seen|saw)\b|\bwhen was (?:she|he|they|\w+) (?:last )?seen\b",
    re.I,
)
# a description opens with an article, or opens the question ("Woman with uveitis ...: what ...?")
_ARTICLE = r"(?:\b(?:the|a|an|that) |^\s*)"
_CASE = re.compile(
    r"\b(?:in |for |about )?the case (?:of|where|in which|with)\b|" + _ARTICLE + r"(?:\d+[- ](?:year|month|week|day)"
    r"[- ]old|"
    r"\d+[- ]?(?:yo|y/o)|young|elderly|older|middle[- ]aged|pregnant)\b|" + _ARTICLE +
    r"(?:[\w-]+ ){0,2}?(?:[a-z]*(?:woman|man|girl|boy)|lady|gentleman|child|infant|toddler|"
    r"teen(?:ager)?|female|male|patient|person|mother|father|baby|newborn|student|smoker|athlete|worker)"
    r"(?: (?:who|whose|with|that|followed|seen|admitted|treated|presenting|on|in whom|being|discharged|brought|"
    r"referred|just|from|after|at|in|born|aged|of|having|undergoing|scheduled|sent|evaluated)\b|\s*[,:(])",
    re.I,
)
# "the water skier with ...", "the runner who ...": a person named by what they do
_DOER = re.compile(r"\b(?:the|a|an|that) (?:[\w-]+ ){0,2}?([a-z]{3,}(?:er|or|ist|ian|ant))s? "
                   r"(?:who|whose|with|in whom)\b", re.I)
_NOT_DOER = frozenset("""cancer ulcer tumor tumour catheter letter order number center centre monitor fever disorder
water paper finger shoulder bladder liver computer inhaler filter meter marker counter register chapter member
encounter factor doctor""".split())


def describes_case(question: str) -> bool:
    """Whether a question describes a past case in words ("the 23-year-old woman whose ...")."""
    doer = _DOER.search(question)
    return bool(_CASE.search(question)) or bool(doer and doer.group(1).lower() not in _NOT_DOER)


def past_case_question(question: str, intent: Intent) -> bool:
    """A question naming no patient that asks a fact of a described case (not a search, count or code)."""
    described = describes_case(question)
    if intent.kind == "count" and described and not intent.which_patients:
        return True  # "the woman who ...: how many anchors were used?" asks a number of the case, not a count
    if intent.kind not in ("list", "timeline", "passages", "find", "similar") or (
            intent.which_patients and not described):
        return False
    if intent.kind in ("find", "similar") and not describes_case(question):
        return False
    if intent.record_ref or intent.refers_back and intent.kind == "similar":
        return False
    return describes_case(question) or len(R.content_words(question)) >= 4


def similarity(session: Session, question: str) -> Callable[[list[str]], list[float]] | None:
    """Cosine of the question to each sentence, when records are embedded and the model is loaded (else None)."""
    from archive.search import semantic_ready

    if not semantic_ready(session):
        return None
    from archive.embedding import get_embedder

    embedder = get_embedder(session)
    if not getattr(embedder, "ready", True):
        return None
    qvec = embedder.embed_query(question)

    def score(sentences: list[str]) -> list[float]:
        if not sentences:
            return []
        vecs = embedder.embed_documents(sentences)
        return [float(v) for v in vecs @ qvec]

    return score


def _cite(ctx: Context, found: R.Found) -> Citation | None:
    info = ctx.texts.info(found.record_id)
    if info is None:
        return None
    seg = found.segment
    passage = P.trim(seg) if len(seg.text) > P.MAX_PASSAGE else seg.text
    if found.fact and found.fact not in passage:
        i = seg.text.find(found.fact)
        passage = P.trim(seg, i, i + len(found.fact)) if i >= 0 else passage
    return Citation(found.record_id, (info.date or "")[:10] or None, passage, info.patient)


def _records_of(ctx: Context, mrn: str) -> dict[str, str]:
    out = {}
    for rid, _date, _title, _type in ctx.session.store.records.filed_to(mrn):
        if ctx.visible.allows(rid, mrn):
            out[rid] = ctx.texts.text(rid)
    return out


def _fact_line(asked: R.Asked, found: R.Found) -> str:
    if asked.type == R.YESNO:
        family = re.search(r"\bfamily\b|\bmother|\bfather|\bsister|\bbrother", asked.text, re.I)
        return {PRESENT: "Yes", NEGATED: "No (the record denies or rules it out)",
                POSSIBLE: "Not confirmed (the record says only possibly)",
                FAMILY: "Yes, in the family" if family else "Not the patient (a family member)",
                HYPOTHETICAL: "No (only discussed, planned or conditional; not stated as done)"}.get(found.status, "")
    return found.fact or ""


# ---------------------------------------------------------------- a named patient


def patient_fact(ctx: Context, intent: Intent) -> Draft:
    assert ctx.patient is not None
    question = intent.question or intent.topic
    if LAST_ENCOUNTER.search(question):
        return last_encounter(ctx, intent)
    if _BIRTH.search(question):
        return birth_date(ctx)
    if _VISIT_REASON.search(question):
        draft = visit_reason(ctx, intent, question)
        if draft.statements:
            return draft
    drop = {w.lower() for w in (ctx.patient.name or "").replace(",", " ").split()}
    drop |= {re.sub(r"\d+$", "", w).lower() for w in drop}
    asked = R.understand(question, drop)
    if asked.type == R.YESNO and asked.topic:
        return has_had(ctx, intent, asked)
    if _WHY.search(question) and _STOP.search(question):
        draft = why_stopped(ctx, intent, asked)
        if draft.statements:
            return draft
    if asked.type == R.DATE:
        draft = _dated_entry(ctx, intent, asked)
        if draft.statements:
            return draft
    draft = _read_patient(ctx, intent, asked, question)
    return _with_chart(ctx, intent, asked, draft)


def _with_chart(ctx: Context, intent: Intent, asked: R.Asked, draft: Draft) -> Draft:
    """The chart first: entries naming what is asked ("what dose of metformin", "how often does she take it")
    before the sentences of the records; alone when the records say nothing of it."""
    assert ctx.patient is not None
    mrn = ctx.patient.mrn
    words = set(asked.words) - _NOT_A_THING
    when = WHEN_SPLIT.split(asked.text, maxsplit=1)
    anchors: list[ChartFact] = []
    if len(when) == 3 and R.content_words(when[2]):  # the event the chart names is when: the entries dated after it
        anchor = " ".join(R.content_words(when[2]))
        anchors = _chart_hits([f for f in chart_facts(ctx.session, mrn, (), None) if f.date], anchor)
        if anchors and words - set(R._stems(R.content_words(when[2] + " " + when[1]))):
            words -= set(R._stems(R.content_words(when[2] + " " + when[1])))
        else:
            anchors = []
    if not words:
        return draft
    kinds = intent.entry_kinds
    if asked.type == R.DRUG and kinds and "medication" not in kinds:  # "what dose of X after his hip surgery?"
        kinds = ("medication", *kinds)
    facts = chart_facts(ctx.session, mrn, kinds, intent.period)
    if anchors:
        day = min(f.date or "" for f in anchors)[:10]
        after = when[1].lower() != "before"
        facts = [f for f in facts if f not in anchors and f.date and ((f.date[:10] >= day) if after else
                                                                      (f.date[:10] <= day))]
    if asked.type == R.DRUG and any(f.kind == "medication" and words & {R.key(s) for s, _, _ in P._stems_in(f.text)}
                                    for f in facts):
        facts = [f for f in facts if f.kind == "medication"]  # a drug is asked: the medication entries answer
    hits = sorted((f for f in facts if words & {R.key(s) for s, _, _ in P._stems_in(f.text)}),
                  key=lambda f: (-len(words & {R.key(s) for s, _, _ in P._stems_in(f.text)}), f.date or ""))
    if not hits:
        return draft
    most = len(words & {R.key(s) for s, _, _ in P._stems_in(hits[0].text)})
    hits = [f for f in hits if len(words & {R.key(s) for s, _, _ in P._stems_in(f.text)}) == most]
    chart = Draft(draft.kind, topic=draft.topic, patients=set(draft.patients) | {mrn})
    for f in hits[:3]:
        _state_fact(ctx, chart, f, mrn)
    if not chart.statements:
        return draft
    had = list(draft.statements)
    chart.statements += had[:2]
    lead = draft.lead
    chart.lead = lead if (lead is not None and had) else (lambda sts: f"From the chart of {_who(ctx, mrn)}:")
    return chart


_SURGERY = frozenset(P.query_stems("surgery surgeries surgical operation operations operated procedure procedures"))
_GENERIC = _SURGERY | frozenset(P.query_stems("condition disease disorder problem"))


def _state_fact(ctx: Context, draft: Draft, f: ChartFact, mrn: str) -> None:
    """One chart fact as a statement: cited from its source record, or stated as typed in (nothing to quote)."""
    day = (f.date or "undated")[:10]
    detail = f"; {f.detail}" if f.detail else ""
    status = f" ({f.status})" if f.status and f.status not in ("active", "completed") else ""
    cite = _fact_citation(ctx, f) if f.record_id and ctx.visible.allows(f.record_id, mrn) else None
    if cite is None and f.record_id is None:  # typed in by hand: stated as a chart entry
        draft.statements.append(Statement(f"{day}: {f.kind} {f.text}{detail}{status} (chart entry typed in; no "
                                          "source record to quote)", [], key=f"{f.text}|{f.date}", from_record=False))
    elif cite is not None:
        draft.statements.append(Statement(f"{day}: {f.kind} {f.text}{detail}{status} (chart)", [cite],
                                          key=f"{f.text}|{f.date}"))


# "what device was implanted after his cardiac arrest?": the words after it say when, not what
WHEN_SPLIT = re.compile(r"\b(after|following|since|before)\b", re.I)
_NOT_A_THING = frozenset(R.key(s) for s in P.query_stems(
    " ".join(LIST_WORDS) + " dose dosage frequency often much many how route strength amount take taking takes "
    "taken prescribed given start started stop stopped still"))
_STOP = re.compile(r"\b(?:stop(?:ped)?|discontinu\w*|came off|quit)\b", re.I)
_NOW = re.compile(r"\b(?:still|currently|now|at present|these days)\b|^\s*(?:is|are)\b|"
                  r"\bon (?:his|her|their|the) (?:active )?problem list\b", re.I)
_FIRST = re.compile(r"\b(?:first|earliest|initial|oldest)\b", re.I)
# a chart status saying the thing is no longer current ("is X still on her problem list?")
_ENDED = frozenset({"deleted", "inactive", "resolved", "refuted", "entered in error", "remission", "stopped",
                    "cancelled", "canceled", "discontinued"})
_STATUS = re.compile(r"\bstatus ([\w -]+?)\s*(?:;|$)", re.I)
_REFERRED = re.compile(r"\b(?:refer(?:s|red|ral|rals)?|sent (?:to|for)|consult(?:s|ed|ation)?)\b", re.I)
_QUALIFIER = re.compile(r"\b(?:during|while|after|before|following|since|when|at the time of)\b", re.I)


_WHY = re.compile(r"\bwhy\b|\bfor what reason\b|\bwhat was the reason\b", re.I)
WHY_STOPPED_DAYS = 90  # a problem charted this long before a medication's stop date may be why it was stopped


def why_stopped(ctx: Context, intent: Intent, asked: R.Asked) -> Draft:
    """"Why was his lisinopril stopped?": the medication entry's recorded stop reason when it has one; else the entry
    with its stop date and the problems (complications, diagnoses) charted in the weeks before it; the chart states
    when, the answer does not claim a cause it lacks."""
    import datetime as dt

    assert ctx.patient is not None
    mrn = ctx.patient.mrn
    draft = Draft("passages", topic=intent.topic, patients={mrn})
    words = set(asked.words) - _NOT_A_THING
    facts = chart_facts(ctx.session, mrn, (), intent.period)
    meds = [f for f in facts if f.kind == "medication" and (f.stop or f.stop_reason)
            and words & {R.key(s) for s, _, _ in P._stems_in(f.text)}]
    if not meds:
        return draft
    med = max(meds, key=lambda f: (f.stop or "", f.date or ""))
    stop = (med.stop or "")[:10]
    if med.stop_reason:  # the chart records why
        _state_fact(ctx, draft, med, mrn)
        if not draft.statements:
            return draft
        when = f"on {stop}" if stop else "(stop date not recorded)"
        reason = med.stop_reason
        draft.lead = lambda sts: (f"{med.text} was stopped {when}; the chart's stop reason: {reason} — "
                                  f"for {_who(ctx, mrn)}:")
        return draft
    try:
        since = (dt.date.fromisoformat(stop) - dt.timedelta(days=WHY_STOPPED_DAYS)).isoformat()
    except ValueError:
        return draft
    _state_fact(ctx, draft, med, mrn)
    before = [f for f in facts if f.kind in ("complication", "diagnosis") and f.date and since <= f.date[:10] <= stop]
    for f in sorted(before, key=lambda f: f.date or "", reverse=True)[:3]:
        _state_fact(ctx, draft, f, mrn)
    if len(draft.statements) < 2:
        return Draft("passages", topic=intent.topic, patients={mrn})  # no problem charted then: the records' words
    draft.lead = lambda sts: (f"{med.text} was stopped on {stop}; charted in the {WHY_STOPPED_DAYS} days before — "
                              f"for {_who(ctx, mrn)}:")
    return draft


def _dated_entry(ctx: Context, intent: Intent, asked: R.Asked) -> Draft:
    """"When was her most recent prescription?", "date of his first procedure": the chart entry's date, cited."""
    assert ctx.patient is not None
    mrn = ctx.patient.mrn
    draft = Draft("passages", topic=intent.topic, patients={mrn})
    words = set(asked.words) - {R.key(s) for s in P.query_stems(" ".join(
        w for k in intent.entry_kinds for w in ENTRY_WORDS[k]) + " " + " ".join(LIST_WORDS) + " first earliest "
        "initial oldest start started date")}
    if not intent.entry_kinds and not words:
        return draft
    facts = [f for f in chart_facts(ctx.session, mrn, intent.entry_kinds, intent.period) if f.date]
    lay = clinical_forms(asked.text, keep_rest=False)  # "when did she give birth?": the chart says "childbirth"
    for form, kinds in lay:
        named = _chart_hits([f for f in facts if not kinds or f.kind in kinds], form)
        if named:
            facts = named
            break
    else:
        if words:  # "when was the metformin started?": the entries that name it
            facts = [f for f in facts if words & {R.key(s) for s, _, _ in P._stems_in(f.text + " " + f.kind)}]
    if not facts:
        return draft
    if not asked.current and not _FIRST.search(asked.text) and len({f.text for f in facts}) > 1:
        return draft  # which one? the sentence reader decides
    fact = min(facts, key=lambda f: f.date or "") if _FIRST.search(asked.text) else max(facts,
                                                                                        key=lambda f: f.date or "")
    day = (fact.date or "")[:10]
    if _STOP.search(asked.text):  # "when did she stop the glipizide?": its stop date
        if not fact.stop:
            return draft
        day = fact.stop[:10]
    _state_fact(ctx, draft, fact, mrn)
    draft.lead = lambda sts: f"{day} — for {_who(ctx, mrn)}:"
    return draft


def _read_patient(ctx: Context, intent: Intent, asked: R.Asked, question: str) -> Draft:
    assert ctx.patient is not None
    mrn = ctx.patient.mrn
    draft = Draft("passages", topic=intent.topic, patients={mrn})
    texts = _records_of(ctx, mrn)
    if intent.period is not None:  # the records of the period (a bundle dated later holds earlier facts: then all)
        texts = {rid: t for rid, t in texts.items() if intent.period.contains(_date_of(ctx, rid))} or texts
    found = R.best_sentences(texts, asked, limit=80 if asked.current else 3,
                             similarity=similarity(ctx.session, asked.text), joint=joint(asked.text))
    found = [f for f in found if f.score > 0.25]
    if not found:
        return draft
    if asked.current:  # "most recent", "latest": of the sentences answering about as well, the latest dated
        close = [f for f in found if f.score >= 0.85 * found[0].score or (  # the same words (meaning was
            f.matched == found[0].matched and bool(f.fact) == bool(found[0].fact))]  # compared for the first only)
        found = sorted(close, key=lambda f: _when(ctx, f), reverse=True) + [f for f in found if f not in close]
    best = found[0]
    keep = [best] + [f for f in found[1:] if f.score >= 0.8 * best.score and f.fact and f.fact != best.fact][:1]
    for f in keep:
        cite = _cite(ctx, f)
        if cite is None:
            continue
        fact = _fact_line(asked, f)
        text = (f"{fact} ({_label(ctx, f.record_id)})" if fact else _label(ctx, f.record_id)) + f": \"{cite.passage}\""
        draft.statements.append(Statement(text, [cite], key=f.record_id))
    lead_fact = _fact_line(asked, best)
    draft.lead = lambda sts: (f"{lead_fact} — for {_who(ctx, mrn)}:" if lead_fact
                              else f"From the records of {_who(ctx, mrn)}:")
    return draft


def _when(ctx: Context, found: R.Found) -> str:
    """The date a sentence states (an ISO date in it), else its record's date."""
    m = re.search(r"\b\d{4}-\d{2}-\d{2}\b", found.segment.text)
    info = ctx.texts.info(found.record_id)
    return m.group(0) if m else ((info.date or "") if info else "")


def _date_of(ctx: Context, rid: str) -> str | None:
    info = ctx.texts.info(rid)
    return info.date if info else None


_BIRTH = re.compile(r"\b(?:date of birth|birth ?date|dob|when was\b.{0,40}\bborn|born on|how old)\b", re.I)


def birth_date(ctx: Context) -> Draft:
    """The patient's birth date: the record line that states it, else the chart's patient details (typed in)."""
    assert ctx.patient is not None
    mrn, dob = ctx.patient.mrn, ctx.patient.dob
    draft = Draft("passages", topic="date of birth", patients={mrn})
    if not dob:
        return draft
    for rid, text in _records_of(ctx, mrn).items():
        line = P.line_with(text, dob[:10])
        info = ctx.texts.info(rid)
        if line and info is not None and re.search(r"\b(?:born|birth|dob)\b", line, re.I):
            draft.statements.append(Statement(f"{_label(ctx, rid)}: \"{line}\"",
                                              [Citation(rid, (info.date or "")[:10] or None, line, mrn)], key=rid))
            break
    if not draft.statements:
        draft.statements.append(Statement(f"date of birth {dob} (chart entry typed in; no source record to quote)",
                                          [], key=mrn, from_record=False))
    draft.lead = lambda sts: f"Born {dob} — {_who(ctx, mrn)}:"
    return draft


_VISIT_REASON = re.compile(
    r"\bwhat brought\b|\breason for (?:the |her |his |their |this |that )?(?:visit|admission|encounter|appointment|"
    r"consultation)\b|\bwhy (?:was|did|were|had)\b.{0,60}\b(?:seen|admitted|come|came|visit|go|went|brought|"
    r"hospitali[sz]ed|taken)\b", re.I)


def visit_reason(ctx: Context, intent: Intent, question: str) -> Draft:
    """"What brought her to the emergency room in July 2020?": the encounter (the words' kind, in the period, the
    latest) and what it was for: its stated reason, and the diagnoses charted on its day."""
    assert ctx.patient is not None
    mrn = ctx.patient.mrn
    draft = Draft("passages", topic="reason for the visit", patients={mrn})
    facts = chart_facts(ctx.session, mrn, (), intent.period, with_encounters=True)
    encounters = [f for f in facts if f.kind == "encounter" and f.date]
    words = {R.key(s) for s in P.query_stems(" ".join(R.content_words(question)))} - _VISIT_WORDS
    named = [f for f in encounters if words & {R.key(s) for s, _, _ in P._stems_in(f.text)}]
    if not (named or encounters):
        return draft
    enc = max(named or encounters, key=lambda f: f.date or "")
    day = (enc.date or "")[:10]
    _state_fact(ctx, draft, enc, mrn)
    for f in facts:
        if f.kind in ("diagnosis", "complication") and (f.date or "")[:10] == day:
            _state_fact(ctx, draft, f, mrn)
    if len(draft.statements) < 2 and not re.search(r"\breason\b", enc.text + " ".join(
            c.passage for st in draft.statements for c in st.citations), re.I):
        return Draft("passages", topic=draft.topic, patients={mrn})  # no reason stated: the records' sentences
    draft.lead = lambda sts: f"The {enc.text} of {day} — for {_who(ctx, mrn)}:"
    return draft


_VISIT_WORDS = frozenset(R.key(s) for s in P.query_stems("brought bring reason visit why seen admitted come came went "
                                                          "go taken hospitalized hospitalised"))


def last_encounter(ctx: Context, intent: Intent) -> Draft:
    """The latest encounter (chart) or dated record of the patient, cited."""
    assert ctx.patient is not None
    mrn = ctx.patient.mrn
    draft = Draft("passages", topic="last encounter", patients={mrn})
    facts = [f for f in chart_facts(ctx.session, mrn, ("encounter",), intent.period, with_encounters=True)
             if f.kind == "encounter" and f.date]
    dated: list[tuple[str, Citation, str]] = []
    for f in sorted(facts, key=lambda f: f.date or "", reverse=True)[:5]:
        cite = _fact_citation(ctx, f) if f.record_id and ctx.visible.allows(f.record_id, mrn) else None
        if cite is not None:
            dated.append(((f.date or "")[:10], cite, f.text))
            break
    for rid, date, _title, _type in reversed(ctx.session.store.records.filed_to(mrn)):
        if not date or not ctx.visible.allows(rid, mrn):
            continue
        if intent.period is not None and not intent.period.contains(date):
            continue
        text = ctx.texts.text(rid)
        line = P.line_with(text, date[:10]) or P.lead_passage(text)
        if line:
            dated.append((date[:10], Citation(rid, date[:10], line, mrn), _label(ctx, rid)))
        break
    if not dated:
        return draft
    day, cite, what = max(dated, key=lambda t: t[0])
    draft.statements.append(Statement(f"{day}: {what}: \"{cite.passage}\"", [cite], key=day))
    draft.lead = lambda sts: f"The last encounter of {_who(ctx, mrn)} was on {day}."
    return draft


def has_had(ctx: Context, intent: Intent, asked: R.Asked) -> Draft:
    """Yes with the evidence (chart first, then notes), "no: denied", or no record of it, saying what was searched."""
    assert ctx.patient is not None
    mrn = ctx.patient.mrn
    topic = asked.topic
    draft = Draft("passages", topic=topic, patients={mrn})
    facts = chart_facts(ctx.session, mrn, (), intent.period, with_encounters=True)
    kind_asked = [k for k, words in ENTRY_WORDS.items()
                  if topic and all(w.lower() in words for w in topic.split())]
    referrals: list[ChartFact] = []
    if not kind_asked and not _REFERRED.search(asked.text):
        # "has he had bariatric surgery?": a referral for it says it was asked for, not that it was done
        referrals = [f for f in facts if f.kind == "referral"]
        facts = [f for f in facts if f.kind != "referral"]
    referred = _chart_hits(referrals, topic) if referrals else []
    if kind_asked:  # "is she on any medications?": any entry of that kind, not a text naming the word
        facts = [f for f in facts if f.kind in kind_asked]
        hits = [f for f in facts if f.kind != "medication" or not (f.stop or f.status == "stopped")] \
            if _NOW.search(asked.text) else list(facts)
    else:
        hits = _chart_hits(facts, topic)
    head = _QUALIFIER.split(topic)[0].strip()  # "preeclampsia during her pregnancy": the thing, not when
    forms: list[tuple[str, tuple[str, ...]]] = [(head, ())] if head and head != topic else []
    forms += clinical_forms(topic, broad=True)  # "her appendix removed": the chart says "appendectomy"
    lay = [] if hits or kind_asked else forms
    for form, kinds in lay:
        hits = _chart_hits([f for f in facts if not kinds or f.kind in kinds], form)
        if hits:
            break
    same: dict[tuple[str, str, str | None], ChartFact] = {}
    for f in hits:  # the same fact from several sources (one message repeated): stated once
        same.setdefault((f.kind, f.text.lower(), (f.date or "")[:10]), f)
    for f in list(same.values())[:6]:
        _state_fact(ctx, draft, f, mrn)
    texts = _records_of(ctx, mrn)
    negated: list[Statement] = []
    for form in ([] if kind_asked else [topic] + [f for f, kinds in lay if not kinds]):  # (a drug alone is no
        if draft.statements or negated:  # "reaction to" it)
            break
        plain = R._stems(R.content_words(form))  # the words as asked; abbreviations' senses are alternatives
        only = R.Asked(R.YESNO, plain, (), form, extra=tuple(dict.fromkeys(
            k for k in (R.key(s) for s in P.query_stems(form)) if k not in plain)))
        for found in R.best_sentences(texts, only, limit=6):
            if not set(only.words) <= set(found.matched) and len(found.matched) < P.enough(len(only.words)):
                continue
            cite = _cite(ctx, found)
            if cite is None:
                continue
            st = Statement(f"{_label(ctx, found.record_id)}: \"{cite.passage}\"", [cite], key=found.record_id)
            if found.status == PRESENT:
                draft.statements.append(st)
            elif found.status == NEGATED:
                negated.append(st)
    meds = [f for f in hits if f.kind == "medication"]
    if draft.statements and meds and _NOW.search(asked.text) and all(f.stop or f.status == "stopped" for f in meds):
        stops = ", ".join(sorted({(f.stop or "date not recorded")[:10] for f in meds}))
        draft.lead = lambda sts: f"No: {topic} was stopped ({stops}) — {_who(ctx, mrn)}:"
        return draft
    chart_ended = [(f.status or "").lower().replace("-", " ") for f in hits]
    cited = [m.group(1).lower().replace("-", " ") for st in draft.statements for c in st.citations
             for m in _STATUS.finditer(c.passage)]  # the cited line's own status ("...; status Deleted")
    ended = chart_ended if chart_ended and all(x in _ENDED for x in chart_ended) else \
        cited if cited and all(x in _ENDED for x in cited) else []
    if draft.statements and ended and _NOW.search(asked.text):
        states = ", ".join(sorted(set(ended)))
        draft.lead = lambda sts: f"No: {topic} is recorded as {states} — {_who(ctx, mrn)}:"
        return draft
    if draft.statements:
        draft.lead = lambda sts: f"Yes: {_who(ctx, mrn)} has a record of {topic}:"
        return draft
    if negated:
        draft.statements = negated[:3]
        when = ", ".join(sorted({(s.citations[0].date or "undated") for s in draft.statements}))
        draft.lead = lambda sts: f"No: {topic} is denied or ruled out in the records of {_who(ctx, mrn)} ({when}):"
        return draft
    entries = len([f for f in facts if f.kind != "encounter"]) + len(referrals)  # referrals were searched too
    searched = counted(entries, "chart entry", "chart entries")
    none = (f"No record of {topic} for {_who(ctx, mrn)}: searched {searched} (diagnoses, procedures, "
            f"medications, referrals) and the text of {counted(len(texts), 'record')}.")
    if referred:  # the referral is shown as what it is, with the answer "no record of it done"
        for f in referred[:3]:
            _state_fact(ctx, draft, f, mrn)
        draft.lead = lambda sts: f"{none} Only a referral for it:"
        return draft
    draft.plain = none
    return draft


def _chart_hits(facts: list[ChartFact], topic: str) -> list[ChartFact]:
    """The chart facts naming `topic`: all its words, else most of them ("cataract surgery": a procedure naming
    the cataract)."""
    stems = set(P.query_stems(topic))
    if not stems:
        return []
    generic = stems & _GENERIC
    hits: list[ChartFact] = []
    if generic and stems - generic:
        kinds = {"procedure"} if generic & _SURGERY else {"diagnosis", "complication"}
        specific = stems - generic
        hits = [f for f in facts if f.kind in kinds and specific <= {s for s, _, _ in P._stems_in(f.text)}]
    hits = hits or [f for f in facts if stems <= {s for s, _, _ in P._stems_in(f.text)}]
    if not hits and len(stems) > 1:
        need = P.enough(len(stems))
        hits = [f for f in facts if len(stems & {s for s, _, _ in P._stems_in(f.text)}) >= need]
    return hits


# ---------------------------------------------------------------- a described case


def past_case(ctx: Context, intent: Intent) -> Draft:
    question = intent.question or intent.topic
    asked = R.understand(question)
    draft = Draft("case", topic=intent.topic)
    words = " ".join(R.content_words(question))
    if not words.strip():
        return draft
    hits = _case_hits(ctx, words, intent)
    if not hits:
        return draft
    scored = rank_cases(ctx, asked, question, hits)
    sim = similarity(ctx.session, asked.text)  # the asked fact by meaning: only in the cases kept
    read = joint(asked.text)  # ... and read together with the question (the second stage)
    close = listed_cases(scored)
    chosen = []
    for _case_score, rid, mrn in close:
        found = R.best_sentences({rid: ctx.texts.text(rid)}, asked, limit=6, similarity=sim,
                                 by_meaning=8 if len(close) == 1 else 4, whole=True, joint=read)
        if found:
            chosen.append((_case_score, rid, mrn, _not_told(found, question, asked.text)))
    if not chosen:
        return draft
    seen_patients: set[str] = set()
    facts: dict[str, str] = {}  # the fact each statement states, by its key: a lead names only a kept one's
    for _s, rid, mrn, f in chosen:
        if mrn in seen_patients:
            continue
        seen_patients.add(mrn or rid)
        cite = _cite(ctx, f)
        if cite is None:
            continue
        fact = _fact_line(asked, f)
        case = f"{_who(ctx, mrn)} ({_label(ctx, rid)})"
        draft.statements.append(Statement((f"{fact} — " if fact else "") + f"case {case}: \"{cite.passage}\"",
                                          [cite], key=rid))
        facts[rid] = fact
        if mrn:
            draft.patients.add(mrn)
    if len(draft.statements) > 1:
        def listed(sts: list[Statement]) -> str:  # the cases kept agree: their answer once (it holds whichever)
            kept = {facts.get(st.key) for st in sts}
            same = kept.pop() if len(kept) == 1 else None
            return (f"{len(sts)} cases match the description about equally (which case do you mean?); "
                    + (f"each gives the same answer. Answer: {same}:" if same else "the answer from each:"))
        draft.lead = listed
    else:  # the lead states the fact of the statement kept (its citation passed the check), never another's
        draft.lead = lambda sts: ("The best-matching case: " + sts[0].text.split("case ", 1)[-1].split(": \"")[0]
                                  + (f". Answer: {facts[sts[0].key]}" if facts.get(sts[0].key) else "") + ":"
                                  ) if sts else ""
    return draft


def listed_cases(scored: list[tuple[float, str, str | None]]) -> list[tuple[float, str, str | None]]:
    """The cases a past-case answer lists (more than one: "which case do you mean?"), of the ranked ones: those
    scoring at least AMBIGUOUS of the best, or the best and another patient's case when the two stand out."""
    if not scored:
        return []
    best_score = scored[0][0]
    close = [t for t in scored if t[0] >= AMBIGUOUS * best_score][:MAX_CASES]
    others = [t for t in scored[1:] if t[2] is None or t[2] != scored[0][2]]  # other patients' cases
    if len(close) == 1 and others and others[0][0] >= PAIR * best_score and (
            len(others) == 1 or others[0][0] - others[1][0] >= PAIR_GAP * best_score):
        close.append(others[0])  # two cases stand out from the rest about equally
    return close


def rank_cases(ctx: Context, asked: R.Asked, question: str, hits: list[tuple[str, float, str | None]]
               ) -> list[tuple[float, str, str | None]]:
    """The retrieved cases (record, retrieval score, MRN) scored by how much of the description each asserts and by
    retrieval, best first: (case score, record, MRN)."""
    desc = set(asked.words) | set(asked.context)
    sex = _sex(question)
    scored = []
    top = hits[0][1] or 1.0
    for rank, (rid, score, mrn) in enumerate(hits):
        text = ctx.texts.text(rid)
        coverage = len(desc & asserted_stems(text, desc)) / max(1, len(desc))
        rel = score / top if top > 0 else 1.0 / (1 + rank)
        case_score = 0.6 * coverage + 0.4 * max(0.0, min(1.0, rel))
        if sex and _sex(text, record=True) not in (None, sex):
            case_score *= 0.7  # "the man with ..." is not a woman's case
        scored.append((case_score, rid, mrn))
    scored.sort(key=lambda t: -t[0])
    return scored


def _not_told(found: list[R.Found], question: str, asked: str) -> R.Found:
    """The best sentence whose fact the case description does not already state ("despite Norvasc 10 mg ...: what
    new drug was prescribed?" is not answered by Norvasc; "what dose of Lasix ...?" is), when one answers nearly as
    well; else the best."""
    described = question.lower().replace(asked.lower(), " ")

    def told(f: R.Found) -> bool:
        word = (f.fact or "").split()[0].lower() if f.fact else ""
        return bool(word) and re.search(rf"\b{re.escape(word)}\b", described) is not None \
            and re.search(rf"\b{re.escape(word)}\b", asked.lower()) is None

    best = found[0]
    if not told(best):
        return best
    for f in found[1:]:
        if f.fact and not told(f) and f.score >= NOT_TOLD_SHARE * best.score:
            return f
    return best


_MALE = re.compile(r"\b(?:man|men|gentleman|male|boy|he|his|him|mr)\b", re.I)
_FEMALE = re.compile(r"\b(?:woman|women|lady|female|girl|she|her|hers|mrs|ms|pregnant)\b", re.I)


def _sex(text: str, record: bool = False) -> str | None:
    """"male" or "female" when the question (or a record, by its majority of words) says so, else None."""
    male, female = len(_MALE.findall(text)), len(_FEMALE.findall(text))
    if record:
        return "male" if male > 2 * female + 1 else "female" if female > 2 * male + 1 else None
    return "male" if male and not female else "female" if female and not male else None


def asserted_stems(text: str, wanted: set[str]) -> set[str]:
    """The `wanted` stems that `text` mentions as present at least once (not only denied, possible, family)."""
    from archive.assistant.mention import PRESENT, mention_status

    out: set[str] = set()
    for seg in P.segments(text):
        low = seg.text.lower()
        if not any(k in low for k in wanted if k not in out):  # stems are word prefixes: a cheap first look
            continue
        for s, a, b in P._stems_in(seg.text):
            k = R.key(s)
            if k in wanted and k not in out and mention_status(seg.text, a, b) == PRESENT:
                out.add(k)
    return out


def _case_hits(ctx: Context, words: str, intent: Intent) -> list[tuple[str, float, str | None]]:
    """(record id, score, patient) of the records matching a case description: hybrid when embedded, else words."""
    from archive.assistant.sources import _filters
    from archive.search import search, semantic_ready, words_first

    out: list[tuple[str, float, str | None]] = []
    if semantic_ready(ctx.session):
        f = _filters(None, None)  # a year in a description is the case's history ("bypass in 2001"), not a filter
        result = search(ctx.session, words, mode="hybrid", date_from=f.date_from, date_to=f.date_to,
                        limit=CASE_POOL, visible=ctx.visible, mark=("", ""))
        out = [(h.record_id, h.score, h.patient) for h in result.hits]
    if len(out) < CASE_POOL:  # too few by meaning and words together: any of the words as well, ranked after
        hits = words_first(ctx.session, words, _filters(None, None), CASE_POOL, ctx.visible,
                           any_word=True)
        # the cascade's score: BM25 within a query, 1000 less per looser query (phrase, all words, any word)
        tiers = [(0, h.score) if h.score > 0 else (int(-h.score // 1000) + 1, h.score + 1000 * (-h.score // 1000 + 1))
                 for h in hits]
        first = tiers[0][0] if tiers else 0
        worded = [(h.record_id, raw * (1.0 if tier == first else 0.5), h.patient) for h, (tier, raw) in zip(hits, tiers,
                                                                                                            strict=True)]
        if out:  # after the hybrid hits, scaled below the last of them
            floor = min(s for _, s, _ in out)
            top = max((s for _, s, _ in worded), default=1.0) or 1.0
            worded = [(rid, floor * 0.9 * max(0.0, s) / top, mrn) for rid, s, mrn in worded]
        out = out + worded
    seen: set[str] = set()
    uniq = []
    for rid, score, mrn in out:
        if rid in seen:
            continue
        seen.add(rid)
        uniq.append((rid, score, mrn))
    return uniq[:CASE_POOL]
