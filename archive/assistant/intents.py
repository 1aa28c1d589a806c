"""What a question asks for: rules and keyword patterns, no language model, no I/O.

`recognise(question)` returns an Intent: its kind (find, timeline, list,
count, similar, code, passages), the topic words, the chart entry kinds and
drug class, the period, a record id, and how the patient is referred to (an
MRN, name words to look up, or a pronoun meaning the patient of the
conversation). Whether a follow-up ("and in March?", "what about her
medications?") inherits from the previous turn is decided in conversation.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from archive.assistant.drug_classes import find_drug_class
from archive.assistant.periods import Period, find_period

KINDS = ("find", "timeline", "list", "count", "similar", "code", "passages")
# Chart entry kinds and the words that name them.
ENTRY_WORDS: dict[str, tuple[str, ...]] = {
    "medication": (
        "medications", "medication", "meds", "med", "drugs", "drug", "prescriptions", "prescription", "prescribed",
        "medicines", "medicine", "pills", "treated with", "put on", "taking", "take", "takes", "took", "given",
        "get", "got", "receive", "received", "on any",
    ),
    "procedure": (
        "procedures", "procedure", "surgeries", "surgery", "operations", "operation", "operated", "interventions",
        "intervention", "performed", "underwent", "undergo",
    ),
    "complication": ("complications", "complication", "adverse events", "adverse event", "complicated"),
    "referral": ("referrals", "referral", "referred", "refer", "sent to"),
    "diagnosis": (
        "diagnoses", "diagnosis", "diagnosed", "conditions", "condition", "problems", "problem list", "illnesses",
    ),
}
# Words that name a kind strongly enough on their own (the weaker verbs above need a drug class).
_STRONG_ENTRY = {
    kind: tuple(w for w in words if w not in {"get", "got", "receive", "received", "given", "take", "takes", "took",
                                              "taking", "on any", "performed", "treated with", "put on"})
    for kind, words in ENTRY_WORDS.items()
}

_PRONOUN = re.compile(
    r"\b(?:she|he|her|hers|his|him|they|them|their|this patient|that patient|the patient|same patient)\b", re.I
)
_RECORD_ID = re.compile(r"\b(r[0-9a-f]{12})\b", re.I)
_MRN = re.compile(
    # an MRN holds a digit: "which MRN was merged into MRN 12345" names 12345, not "was"
    r"\b(?:mrn|medical record (?:number|no\.?))\s*[:#]?\s*"
    r"(?P<mrn>(?=[A-Za-z0-9\-_/.]{0,40}\d)[A-Za-z0-9][A-Za-z0-9\-_/.]{0,39}[A-Za-z0-9])", re.I
)
_PATIENT_NUMBER = re.compile(r"\bpatient\s*(?:#|no\.?|number)?\s*(?P<mrn>[A-Za-z0-9\-]*\d[A-Za-z0-9\-]*)\b", re.I)
_FOLLOWUP = re.compile(
    r"^\s*(?:and|also|plus|what about|how about|and what about|same for|same question for|now|ok(?:ay)?,?|"
    r"then|what of|and for|and in|and on|and during|and between|and since|and before)\b",
    re.I,
)

# A request for the code set names it: ICD-10(-CM), "diagnosis/billing/ICD code", "code(s)" as the thing asked
# for or "code"/"coded" as the verb. A bare "ICD" is the implanted defibrillator ("CABG twice and an ICD") unless it
# is asked "for" something and is no one's device; "code status", "full code", "code blue" are orders, not codes.
_CODE = re.compile(
    r"\bicd[- ]?10(?:[- ]?cm)?\b|\bicd10(?:cm)?\b|\b(?:icd|diagnosis|diagnostic|billing) codes?\b|"
    r"(?<!\ban )(?<!\ba )(?<!\bthe )(?<!\bhis )(?<!\bher )(?<!\btheir )(?<!\bwith )(?<!\bhad )\bicd(?=\s+for\b)|"
    r"(?<!\bfull )(?<!\bno )(?<!\bslow )(?<!\bpartial )(?<!\bchemical )(?<!\bdnr )"
    r"\bcodes?\b(?!\s+(?:status|blue|stroke|team|cart|sepsis|stemi|trauma|white|red|grey|gray|pink)\b)|"
    r"\bcoded\b|\bcoding\b",
    re.I,
)
# "ICD" beside a device word is the implantable cardioverter-defibrillator, not the code set
_ICD_DEVICE = re.compile(
    r"\b(?:dual|single|two|one)[- ]chamber\s+a?icd\b|"
    r"\ba?icd(?=\s+(?:implant\w*|placement|pocket|leads?|generator|shocks?|shocked|firing|fired|interrogat\w*|"
    r"device|battery|discharges?)\b)|"
    r"\ba?icd(?=\s+(?:was|were|is|had been|has been)\s+(?:interrogated|implanted|placed|removed|replaced|"
    r"explanted|checked|fired|firing|shocking|changed)\b)|"
    r"\b(?:implant\w*|placement of|interrogat\w*|shocks? from|shocked by|biventricular)\s+(?:an?\s+|the\s+|"
    r"his\s+|her\s+|their\s+)?a?icd\b",
    re.I,
)
_CODE_CONTEXT = re.compile(
    r"\b(?:what|which|how|should|find|give|suggest|look ?up|fits?|best|right|correct|for|is)\b", re.I
)
_COUNT = re.compile(
    r"\b(?:how many(?! (?:days?|weeks?|months?|years?|hours?|minutes?|mg|milligrams?|units?|tablets?|pills?|"
    r"puffs?|pounds?|kilograms?|kg|cigarettes?|packs?|drinks?|times (?:a|per|each) \w+|times daily)\b)|"
    r"number of(?! (?:days?|weeks?|months?|years?)\b)|"
    r"^\s*count(?:ing)?|(?<!platelet )(?<!cell )(?<!blood )(?<!pill )count(?:ing)? (?:of |the )?(?:patients?|people|"
    r"encounters?|visits?|cases?|records?|notes?|admissions?)|how often|how frequently|how common|tally|"
    r"total (?:number|count))\b", re.I
)
_SIMILAR = re.compile(
    r"\b(?:similar|like this|like that|like (?:the )?(?:first|second|last|previous) one|comparable|resembl\w*|"
    r"cases like|analogous|same presentation|matching cases)\b",
    re.I,
)
_TIMELINE = re.compile(
    r"\b(?:timeline|summar(?:y|ise|ize|ised|ized)|overview|chronolog\w*|course of care|clinical course|"
    r"what happened (?:to|with)|(?:medical |clinical |patient )?history of (?:the |this |that )?patient|"
    r"(?:her|his|their) (?:medical |clinical )?history|medical history|brief me|tell me about|walk me through)\b",
    re.I,
)
_FIND = re.compile(
    r"\b(?:find|search|look for|show(?: me)?|list|pull up|get|fetch|any|which|are there|is there|give me)\b"
    r".{0,40}?\b(?:records?|notes?|documents?|reports?|files?|charts?|visits?|encounters?|letters?|summaries)\b"
    r"|\b(?:records?|notes?|documents?|reports?)\s+"
    r"(?:about|on|mentioning|with|regarding|for|of|containing|that mention)\b",
    re.I,
)
_WHICH_PATIENTS = re.compile(r"\b(?:which|what|who|any) patients?\b|\bwho (?:had|has|got|received|was)\b", re.I)

# Words that carry no topic: question words, request verbs, record nouns, kind words, fillers.
FILLER = frozenset(
    """
    a an the of and or in on at to for with by from as is are was were be been being this that these those it its
    what which who whom whose when where why how do does did done doing can could would should will shall may might
    must please me my i we us our you your find search look show list pull up get fetch give tell any some all every
    there here about regarding mentioning mention mentions mentioned containing contain contains concerning re records
    record notes note documents document reports report files file charts chart entries entry visits visit letters
    summaries patients patient people persons person cases case past previous prior earlier many much number count
    counting often frequently common total had have has having got get receive received given take took taking
    she he her hers his him they them their same also and what's whats ok okay now then plus just only ever
    anything something everything diagnosed diagnosis with without icd icd10 icd-10 cm code codes coded coding fit
    fits fitting best right correct suggest look lookup billing similar like comparable resembling analogous
    encounter encounters admissions admission times see saw seen treated describe description described one ones first
    second last say says said saying tell tells told write wrote written mr mrs ms miss mister
    """.split()
)

# Words of a list question that say which entries (current, active orders), not what they are about.
LIST_WORDS = frozenset("current currently active order orders ordered now still present presently today home "
                       "regimen latest recent most newest list all recorded documented noted listed stop stopped "
                       "discontinued".split())
# "What is she on now?", "what's Mr Vale taking?", "what is she on now for her Crohn's?": the medication list.
_ON_NOW = re.compile(r"^\s*what(?:'s| is| are)\s+.+?\s+(?:currently |now |still )?(?:on|taking)"
                     r"(?: now| currently| at the moment| today| at present)?(?:\s+for\s+[^?]+?)?\s*\??\s*$", re.I)


@dataclass(frozen=True)
class Intent:
    kind: str
    topic: str = ""  # the condition or subject, in the question's words
    entry_kinds: tuple[str, ...] = ()
    drug_class: str | None = None  # a class name from drug_classes.tsv
    period: Period | None = None
    count_what: str = "patients"  # patients | encounters
    record_ref: str | None = None  # a record id named in the question
    mrn: str | None = None  # an MRN named in the question
    name_words: tuple[str, ...] = ()  # words that may be a patient's name (looked up by the engine)
    pronoun: bool = False  # refers to the conversation's patient
    followup: bool = False  # elliptical: inherits from the previous turn
    strong: bool = True  # the kind came from a clear pattern (not the fallback)
    which_patients: bool = False  # "which patients ..." across the archive
    refers_back: str | None = None  # "the first one", "that record": an earlier citation
    extras: dict[str, str] = field(default_factory=dict)
    question: str = ""  # the question as asked (the fact readers take its words and answer type from it)

    def with_(self, **changes: object) -> Intent:
        return replace(self, **changes)  # type: ignore[arg-type]


def _has(words: tuple[str, ...], text: str) -> bool:
    return any(re.search(rf"\b{re.escape(w)}\b", text, re.I) for w in words)


def entry_kinds_in(text: str, strong_only: bool = False) -> tuple[str, ...]:
    table = _STRONG_ENTRY if strong_only else ENTRY_WORDS
    return tuple(kind for kind, words in table.items() if _has(words, text))


_NAME_STOP = frozenset(
    """
    What Which Who Whom When Where Why How Find Search Show List Give Tell Get Any Are Is Was Were Did Does Do Can Could
    Would Should Please And Also The A An In On For Of To With Since Before After Between During From Summarise
    Summarize Summary Timeline Overview Count Number Similar Cases Records Record Notes Note Patient Patients Mr Mrs Ms
    Miss Dr Doctor ICD ICD-10 ICD-10-CM CM MRN Her His Their She He They I We OK Okay Now Then Plus Code Codes Chart
    """.split()
)
_NAME_WORD = re.compile(r"\b([A-Za-z][A-Za-z'\-]{1,40})\d*\b")  # Synthea's names carry digits ("Corine538")


def name_candidates(text: str) -> tuple[str, ...]:
    """Words that may be part of a patient's name (the engine checks them against the patients table)."""
    out = []
    for m in _NAME_WORD.finditer(text):
        word = m.group(1)
        if word.endswith("'s"):
            word = word[:-2]
        word = word.strip("'-")
        if len(word) < 2 or word in _NAME_STOP or word.lower() in FILLER:
            continue
        out.append(word)
    return tuple(out)


def topic_of(text: str, drop: tuple[str, ...] | frozenset[str] = ()) -> str:
    """The content words of `text` (fillers, kind words and `drop` removed), in their order."""
    dropped = {d.lower() for d in drop}
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'\-/.+]*", text)
    kept = []
    for w in words:
        low = w.lower().rstrip(".").removesuffix("'s")
        if low in FILLER or low in dropped or _RECORD_ID.fullmatch(low):
            continue
        kept.append(w.rstrip(".").removesuffix("'s"))
    return " ".join(kept)


def _refers_back(text: str) -> str | None:
    m = re.search(r"\b(?:the |that )?(first|second|third|last|previous|top) (?:one|record|case|note|result)\b",
                  text, re.I)
    if m:
        return m.group(1).lower()
    if re.search(r"\b(?:this|that) (?:record|case|note|one)\b", text, re.I):
        return "first"
    return None


def _strip_intent_words(text: str) -> str:
    """Remove the phrases that only say what kind of question it is."""
    patterns = [
        _CODE, _COUNT, _SIMILAR, _TIMELINE,
        re.compile(r"\b(?:records?|notes?|documents?|reports?)\s+(?:about|on|mentioning|with|regarding|for|of|"
                   r"containing|that mention)\b", re.I),
        re.compile(r"\b(?:past|previous|prior|earlier|other)\s+(?:cases?|patients?|records?)\b", re.I),
        re.compile(r"\bdiagnosed with\b|\bsuffer(?:ing|ed|s)? from\b|\bpresent(?:ed|ing)? with\b", re.I),
    ]
    for p in patterns:
        text = p.sub(" ", text)
    return text


def recognise(question: str) -> Intent:
    """The intent of one question, on its own (no conversation context)."""
    text = " ".join(question.strip().split())
    period, rest = find_period(text)
    record = _RECORD_ID.search(rest)
    record_ref = record.group(1).lower() if record else None
    mrn_m = _MRN.search(rest) or _PATIENT_NUMBER.search(rest)
    mrn = mrn_m.group("mrn") if mrn_m else None
    if mrn_m:
        rest = (rest[: mrn_m.start()] + " " + rest[mrn_m.end():]).strip()
    pronoun = bool(_PRONOUN.search(rest))
    followup = bool(_FOLLOWUP.match(text)) or (len(rest.split()) <= 3 and not record_ref and not mrn)
    drug_cls, alias = find_drug_class(rest)
    kinds = entry_kinds_in(rest)
    strong_kinds = entry_kinds_in(rest, strong_only=True)
    if not strong_kinds and _ON_NOW.match(rest):
        kinds = strong_kinds = ("medication",)
    which = bool(_WHICH_PATIENTS.search(rest))
    back = _refers_back(rest)
    names = name_candidates(rest)
    drop = tuple(alias.split()) if alias else ()
    common = {"period": period, "record_ref": record_ref, "mrn": mrn, "name_words": names, "pronoun": pronoun,
              "followup": followup, "which_patients": which, "refers_back": back}

    if _CODE.search(_ICD_DEVICE.sub(" device ", rest)) and (_CODE_CONTEXT.search(rest) or record_ref) and \
            not _COUNT.search(rest):
        pieces = re.split(r"\b(?:for|fits?|describes?|matches|of|is)\b", _strip_intent_words(rest), maxsplit=1,
                          flags=re.I)
        words = topic_of(pieces[-1] if len(pieces) > 1 and topic_of(pieces[-1]) else " ".join(pieces))
        return Intent("code", topic=words, **common)  # type: ignore[arg-type]
    if _COUNT.search(rest):
        what = "encounters" if re.search(r"\b(?:encounters?|visits?|admissions?|times|notes?|records?)\b", rest, re.I) \
            else "patients"
        topic = topic_of(_strip_intent_words(rest))
        return Intent("count", topic=topic, count_what=what, drug_class=drug_cls.name if drug_cls else None,
                      **common)  # type: ignore[arg-type]
    if _SIMILAR.search(rest):
        body = _strip_intent_words(rest)
        parts = re.split(r"\b(?:to|like|with|:)\b|:", body, maxsplit=1, flags=re.I)
        topic = topic_of(parts[-1] if len(parts) > 1 else body)
        return Intent("similar", topic=topic, **common)  # type: ignore[arg-type]
    if (strong_kinds or drug_cls) and (pronoun or mrn or names or followup) and not _FIND.search(rest):
        entry = strong_kinds or ("medication",)
        if drug_cls and "medication" not in entry:
            entry = ("medication", *entry)
        topic = topic_of(rest, drop=drop + tuple(w for k in entry for w in ENTRY_WORDS[k]))
        return Intent("list", topic=topic, entry_kinds=entry, drug_class=drug_cls.name if drug_cls else None,
                      **common)  # type: ignore[arg-type]
    if _TIMELINE.search(rest):
        return Intent("timeline", topic=topic_of(_strip_intent_words(rest)), **common)  # type: ignore[arg-type]
    capitalised = any(w[:1].isupper() for w in names)
    if kinds and (pronoun or mrn or capitalised) and not _FIND.search(rest):
        topic = topic_of(rest, drop=drop + tuple(w for k in kinds for w in ENTRY_WORDS[k]))
        return Intent("list", topic=topic, entry_kinds=kinds, drug_class=drug_cls.name if drug_cls else None,
                      **common)  # type: ignore[arg-type]
    if _FIND.search(rest) or which:
        topic = topic_of(_strip_intent_words(rest))
        return Intent("find", topic=topic, drug_class=drug_cls.name if drug_cls else None,
                      entry_kinds=strong_kinds, **common)  # type: ignore[arg-type]
    if (strong_kinds or drug_cls) and not record_ref:
        entry = strong_kinds or ("medication",)
        topic = topic_of(rest, drop=drop + tuple(w for k in entry for w in ENTRY_WORDS[k]))
        return Intent("list", topic=topic, entry_kinds=entry, drug_class=drug_cls.name if drug_cls else None,
                      strong=False, **common)  # type: ignore[arg-type]
    return Intent("passages", topic=topic_of(rest), strong=False, **common)  # type: ignore[arg-type]
