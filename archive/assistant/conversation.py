"""A conversation with the assistant: turns, the patient and topic in context, policy, checking, audit.

`Conversation.ask(question)` runs one turn:
  recognise the intent -> resolve follow-ups against the previous turn ->
  find the patient (MRN, name, or the one in context) -> policy, decided once
  for the answer (patient files only for registered, active physicians:
  Action.ASK_ABOUT_PATIENT; codes and statistics naming no patient:
  Action.ASK_GENERAL; each record the answer retrieves is decided once, by
  one `Visibility` shared with the search facade) -> the handler drafts cited
  statements -> every citation is checked against the record's decrypted
  text and every cited record is read through `Session.require_record` (the
  audited read) ->
  (optionally a local model rephrases the verified passages; its output is
  checked again) -> one audit entry for the question.
Nothing is written to disk; record texts live in memory for one turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archive.assistant import passages as P
from archive.assistant.answer import NOTHING_FOUND, Answer, Draft, Statement, render
from archive.assistant.cases import LAST_ENCOUNTER, describes_case, past_case_question
from archive.assistant.citations import RecordTexts, check_citations
from archive.assistant.handlers import HANDLERS, Context
from archive.assistant.intents import _FOLLOWUP, LIST_WORDS, Intent, recognise, topic_of
from archive.assistant.patient_refs import PatientRef, Resolution, by_mrn, by_words, pick_candidate
from archive.assistant.reading import DATE, DURATION, VALUE, YESNO, answer_type
from archive.assistant.sources import chart_facts
from archive.errors import AccessDenied, BadInput
from archive.policy import Action, decide
from archive.search import Visibility

if TYPE_CHECKING:
    from archive.assistant.generative import LlmConfig
    from archive.session import Session

MAX_QUESTION = 2000
PATIENT_KINDS = ("list", "timeline")
GENERAL_KINDS = ("code", "count")


@dataclass
class Turn:
    question: str
    intent: Intent
    answer: Answer


@dataclass
class Conversation:
    """One person's conversation: what the follow-ups refer to. Holds no record text between turns."""

    session: Session
    llm: LlmConfig | None = None
    turns: list[Turn] = field(default_factory=list)
    patient: PatientRef | None = None
    intent: Intent | None = None
    records: list[str] = field(default_factory=list)  # records cited by the last answer, in order
    pending: tuple[Intent, list[PatientRef]] | None = None  # a question waiting for "which patient?"

    def ask(self, question: str, patient: str | None = None) -> Answer:
        """Answer one question (see the module doc). AccessDenied never escapes: it is a refused Answer."""
        question = " ".join((question or "").split())
        if not question:
            raise BadInput("Ask a question.", 'For example: chartvault ask "what antibiotics did MRN 123 get in 2020?"')
        if len(question) > MAX_QUESTION:
            raise BadInput(f"The question is too long ({len(question)} characters).",
                           f"Keep it under {MAX_QUESTION} characters.")
        raw = recognise(question)
        chosen: PatientRef | None = None
        if self.pending is not None and patient is None:
            pending_intent, candidates = self.pending
            chosen = pick_candidate(question, candidates)
            if chosen is not None:
                raw = pending_intent
        self.pending = None
        intent = raw if chosen is not None else self._merge(raw, question)
        intent = intent.with_(question=question)
        answer = self._answer(question, intent, patient, chosen)
        self.turns.append(Turn(question, intent, answer))
        return answer

    # -- follow-ups -----------------------------------------------------------
    def _merge(self, raw: Intent, question: str) -> Intent:
        prev = self.intent
        if prev is None:
            return raw
        explicit = bool(_FOLLOWUP.match(question))
        period = raw.period
        if period is not None and period.month is not None and prev.period is not None and prev.period.year:
            period = period.with_year(prev.period.year)
        if raw.followup and (not raw.strong or raw.kind == "passages") and not raw.record_ref:
            had_patient = bool(self.turns) and self.turns[-1].answer.patient is not None
            changes: dict[str, Any] = {"followup": True, "pronoun": raw.pronoun or had_patient, "mrn": raw.mrn,
                                       "name_words": raw.name_words, "refers_back": raw.refers_back}
            if period is not None:
                changes["period"] = period
            if raw.entry_kinds or raw.drug_class:
                changes["entry_kinds"] = raw.entry_kinds or ("medication",)
                changes["drug_class"] = raw.drug_class
                changes["topic"] = raw.topic
                if prev.kind not in ("list", "count", "find"):
                    changes["kind"] = "list"
            elif raw.topic:
                changes["topic"] = raw.topic
                if prev.kind == "list":
                    changes["kind"] = "find"
            return prev.with_(**changes)
        if explicit and period is None and prev.period is not None:
            period = prev.period
        return raw.with_(period=period)

    # -- one turn -------------------------------------------------------------
    def _resolve(self, intent: Intent, option: str | None, chosen: PatientRef | None,
                 question: str) -> tuple[PatientRef | None, Resolution, bool]:
        """(patient, resolution of names, whether the question itself named a patient)."""
        described = describes_case(question)
        if chosen is not None:
            return chosen, Resolution(chosen, [chosen]), True
        if option:
            ref = by_mrn(self.session, option)
            return ref, Resolution(ref, [ref] if ref else []), True
        if intent.mrn:
            ref = by_mrn(self.session, intent.mrn)
            return ref, Resolution(ref, [ref] if ref else [], (intent.mrn,)), True
        words = intent.name_words
        if intent.kind not in PATIENT_KINDS or intent.pronoun or described:  # "the little girl ... old": a description
            words = tuple(w for w in words if w[:1].isupper())
        resolution = by_words(self.session, words, question if not intent.followup else question)
        if resolution.patient is not None or resolution.candidates:
            return resolution.patient, resolution, True
        if self.patient is not None and not described and (intent.pronoun or intent.followup
                                                            or intent.kind in PATIENT_KINDS):
            return self.patient, Resolution(self.patient, [self.patient]), False
        return None, resolution, False

    def _answer(self, question: str, intent: Intent, option: str | None, chosen: PatientRef | None) -> Answer:
        session = self.session
        patient, resolution, named = self._resolve(intent, option, chosen, question)
        about_patient = named or patient is not None or intent.kind not in GENERAL_KINDS or bool(intent.record_ref)
        # A question naming no patient needs only the general right; a physician still gets patient-level detail.
        session.refresh_user()
        may_discuss = decide(session.user, Action.ASK_ABOUT_PATIENT).allowed
        action = Action.ASK_ABOUT_PATIENT if about_patient or may_discuss else Action.ASK_GENERAL
        mrn = patient.mrn if patient else None
        try:
            if not may_discuss:  # the right to discuss patients was just decided; anything else is checked here
                session.require(action, patient=mrn)  # (a denial is audited there)
            if patient is not None:
                session.require_patient(Action.ASK_ABOUT_PATIENT, patient=patient.mrn)
        except AccessDenied as exc:
            return self._refuse(question, intent, exc, mrn, resolution)
        if (option or intent.mrn) and patient is None:
            return self._finish(question, intent, action, Answer(
                f"Which patient do you mean? There is no patient with MRN {option or intent.mrn}: check the MRN, "
                "or name the patient.", kind="clarify"), [])  # a question back, stating no fact
        if resolution.words:
            drop = {w.lower() for w in resolution.words}
            intent = intent.with_(topic=" ".join(
                w for w in intent.topic.split()
                if not {(bare := w.lower().removesuffix("'s").strip("'")), re.sub(r"\d+$", "", bare)} & drop))
        narrowed: list[PatientRef] = []
        if resolution.ambiguous:
            chosen_ref = _by_what_is_asked(session, intent.topic, resolution.candidates, Visibility(session, action))
            if chosen_ref is not None:
                try:
                    session.require_patient(Action.ASK_ABOUT_PATIENT, patient=chosen_ref.mrn)
                except AccessDenied as exc:
                    return self._refuse(question, intent, exc, chosen_ref.mrn, resolution)
                narrowed = [c for c in resolution.candidates if c.mrn != chosen_ref.mrn]
                patient, resolution = chosen_ref, Resolution(chosen_ref, [chosen_ref], resolution.words)
        if resolution.ambiguous:
            self.pending = (intent, resolution.candidates)
            listing = "; ".join(c.describe() for c in resolution.candidates)
            return self._finish(question, intent, action, Answer(
                f"Several patients match '{' '.join(resolution.words)}'. Which one do you mean? {listing}. "
                "Reply with the MRN.", kind="clarify", candidates=[c.to_json() for c in resolution.candidates]),
                [c.mrn for c in resolution.candidates])
        route = intent.kind
        if patient is not None and (LAST_ENCOUNTER.search(question) or (
                intent.kind == "passages" and intent.topic) or (
                intent.kind == "list" and answer_type(question) in (VALUE, DATE, DURATION)) or (
                intent.kind == "list" and not intent.drug_class and _DOSE_ASKED.search(question)) or (
                intent.kind == "list" and not intent.drug_class and answer_type(question) == YESNO
                and topic_of(intent.topic, drop=LIST_WORDS)) or (
                intent.kind == "count" and named and not intent.which_patients)):  # "how often does she take it?"
            route = "fact"  # the asked fact of this patient (the answer keeps the intent's kind)
        elif intent.kind == "find" and patient is not None and named and re.match(r"\s*who\b", question, re.I):
            route = "fact"  # "who was the attending physician for Timothy Bixby?"
        elif intent.kind in ("find", "passages") and patient is not None and not intent.topic:
            intent = intent.with_(kind="timeline")
            route = "timeline"
        elif patient is None and past_case_question(question, intent):
            intent = intent.with_(kind="case")
            route = "case"
        if intent.kind in PATIENT_KINDS and patient is None:
            return self._finish(question, intent, action, Answer(
                "Which patient do you mean? Name them, or give their MRN (for example 'MRN 12345' or --patient).",
                kind="clarify"), [])
        self.intent = intent
        if patient is not None:
            self.patient = patient
        texts = RecordTexts(session)
        ctx = Context(session, texts, patient, general=action == Action.ASK_GENERAL,
                      visible=Visibility(session, action), previous_records=self.records)
        handler = HANDLERS[route]
        draft = handler(ctx, intent)
        if route == "list" and patient is not None and not draft.statements and draft.plain is None:
            draft = HANDLERS["fact"](ctx, intent)  # not a chart entry ("which vaccine", "what allergy"): the records
        if narrowed and patient is not None:
            others = "; ".join(c.describe() for c in narrowed)
            draft.notes.append(f"(Other patients have this name too: {others}. This answer is about MRN {patient.mrn}, "
                               f"the only one whose records mention '{intent.topic}'.)")
        if route == "case" and len(draft.patients) == 1:  # "she" in a follow-up is the case's patient
            self.patient = by_mrn(session, next(iter(draft.patients)))
        return self._verified(question, intent, action, draft, texts, patient)

    def _verified(self, question: str, intent: Intent, action: Action, draft: Draft, texts: RecordTexts,
                  patient: PatientRef | None) -> Answer:
        session = self.session
        kept: list[Statement] = []
        dropped = 0
        for st in draft.statements:
            if not st.from_record:
                kept.append(st)
                continue
            good, bad = check_citations(st.citations, texts)
            if bad or not good:
                dropped += len(bad) or 1
                continue
            kept.append(st)
        # every cited record passes the per-record policy (audited as a read)
        allowed: dict[str, bool] = {}
        with session.transaction():
            for st in kept:
                for c in st.citations:
                    if c.record_id in allowed:
                        continue
                    try:
                        session.require_record(action, record=c.record_id, patient=c.patient,
                                               details={"for": "assistant"})
                        allowed[c.record_id] = True
                    except AccessDenied:
                        allowed[c.record_id] = False
        kept = [st for st in kept if all(allowed.get(c.record_id, False) for c in st.citations)]
        if not kept and draft.plain is not None and not draft.statements:
            answer = Answer(draft.plain, kind=intent.kind, patient=patient.mrn if patient else None)
        elif not kept:
            answer = Answer(NOTHING_FOUND, kind=intent.kind, patient=patient.mrn if patient else None,
                            dropped=dropped)
        else:
            text, citations = render(draft, kept)
            answer = Answer(text, citations, kind=intent.kind, patient=patient.mrn if patient else None,
                            dropped=dropped)
            if self.llm is not None and citations:
                from archive.assistant.generative import rephrase_answer

                answer = rephrase_answer(self.llm, question, answer, kept)
        texts.forget()
        self.records = list(dict.fromkeys(c.record_id for c in answer.citations))
        patients = set(draft.patients) | {c.patient for c in answer.citations if c.patient}
        if patient is not None:
            patients.add(patient.mrn)
        return self._finish(question, intent, action, answer, sorted(p for p in patients if p))

    def _refuse(self, question: str, intent: Intent, exc: AccessDenied, mrn: str | None,
                resolution: Resolution) -> Answer:
        reason = exc.message + (f" {exc.hint}" if exc.hint else "")
        answer = Answer(f"I can't answer that: {exc.message}", refused=True, reason=reason, kind=intent.kind,
                        patient=mrn)
        touched = [mrn] if mrn else [c.mrn for c in resolution.candidates]
        return self._finish(question, intent, None, answer, touched, outcome="denied")

    def _finish(self, question: str, intent: Intent, action: Action | None, answer: Answer, patients: list[str],
                outcome: str = "ok") -> Answer:
        """The one audit entry of the question: what was asked, whom it touched, what it cited."""
        details = {
            "question": question,
            "intent": intent.kind,
            "mode": answer.mode,
            "right": action.value if action else None,
            "patients": patients,
            "records": list(dict.fromkeys(c.record_id for c in answer.citations)),
            "citations": len(answer.citations),
            "dropped": answer.dropped,
            "found": answer.found and not answer.refused,
        }
        with self.session.transaction():
            self.session.audit("assistant_ask", outcome=outcome, patient=answer.patient or
                               (patients[0] if len(patients) == 1 else None),
                               reason=answer.reason, details=details)
        return answer


# "what dose of enoxaparin was he given after his hip surgery?": the dose of one drug, not a list of entries
_DOSE_ASKED = re.compile(r"\bwhat (?:\w+ )?(?:dose|dosage|strength)\b|\bhow much\b", re.I)


def _by_what_is_asked(session: Session, topic: str, candidates: list[PatientRef],
                      visible: Visibility) -> PatientRef | None:
    """Of several patients sharing a name, the one whose records mention what is asked ("Adam Everyman ... the RDE
    O25 pharmacy order", "... a biopsy of colon"): most of the topic's words, and more of them than any other."""
    from archive.search import words_first
    from indexer import fts

    words = [w for w in topic_of(topic, drop=LIST_WORDS).split() if len(w) > 1][:8]
    if not words:
        return None
    found = []
    for ref in candidates:
        filters = fts.Filters(patient=ref.mrn)
        chart = " ".join(f"{f.kind} {f.text} {f.detail}" for f in chart_facts(session, ref.mrn, (), None)) \
            if session.may_see_patient(ref.mrn, visible.action) else ""
        on_chart = {s for s, _, _ in P._stems_in(chart)}  # typed-in entries have no record to search
        found.append(sum(bool(set(P.query_stems(w)) & on_chart)
                         or bool(words_first(session, w, filters, 1, visible, any_word=False)) for w in words))
    best = max(found)
    if best < max(1, -(-len(words) // 2)) or found.count(best) > 1:
        return None
    return candidates[found.index(best)]


def ask(session: Session, question: str, *, patient: str | None = None, llm: LlmConfig | None = None) -> Answer:
    """One question, no conversation (the CLI's `chartvault ask`)."""
    return Conversation(session, llm=llm).ask(question, patient=patient)

