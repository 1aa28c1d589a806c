"""Suggesting ICD-10-CM codes for a clinical text, each with the passage that supports it.

`suggest_codes(db, text)` is a pure function of the text and the code tables:
it splits the note into sections (assessment, diagnoses, history, ...), the
sections into clauses, and matches each clause's words against the code set's
names (see code_match). What the note says of a word or a name (negated,
doubted, planned, past, a relative's or someone else's) is indexer.assertion's
answer, never this module's own: one place to fix. Each suggestion carries a
passage that is an exact substring of the text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from indexer.assertion import Context, Heading, context_of_spans, headings, word_contexts
from indexer.code_explains import explains_symptom, is_unspecified, names_more
from indexer.code_match import CodeMatcher, Name, matcher_for
from indexer.query.abbreviations import dominant_senses
from indexer.query.stopwords import FUNCTION_WORDS
from indexer.query.tokens import stem, tokens_with_spans


@dataclass(frozen=True)
class Suggestion:
    code: str
    description: str
    score: float
    passage: str  # an exact substring of the text
    billable: bool
    start: int = 0  # offsets of the passage in the text
    end: int = 0
    section: str = ""
    matched: str = ""  # the code-set wording that matched

    @property
    def category(self) -> str:
        return self.code[:3]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- sections --------------------------------------------------------------------------------------

# (words in a header, weight of a diagnosis found under it); first match wins.
SECTION_WEIGHTS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("FAMILY",), 0.0),
    (("ALLERG",), 0.0),
    (("MEDICATION",), 0.0),
    (("DIAGNOS",), 1.0),
    (("ASSESSMENT",), 1.0),
    (("IMPRESSION",), 1.0),
    (("PROBLEM",), 1.0),
    (("CHIEF COMPLAINT",), 0.9),
    (("CC",), 0.9),
    (("REASON FOR",), 0.9),
    (("INDICATION",), 0.9),
    (("CONCLUSION",), 0.9),
    (("HISTORY OF PRESENT",), 0.7),
    (("PRESENT ILLNESS",), 0.7),
    (("HPI",), 0.7),
    (("SUBJECTIVE",), 0.6),
    (("COURSE",), 0.6),
    (("HX",), 0.6),
    (("FINDINGS",), 0.6),
    (("SURGICAL",), 0.35),
    (("MEDICAL HISTORY",), 0.5),
    (("PAST HISTORY",), 0.5),
    (("PMH",), 0.5),
    (("SOCIAL",), 0.3),
    (("REVIEW OF SYSTEMS",), 0.25),
    (("ROS",), 0.25),
    (("EXAM",), 0.3),
    (("OBJECTIVE",), 0.3),
    (("VITAL",), 0.1),
    (("LAB",), 0.3),
    (("PLAN",), 0.4),
    (("PROCEDURE",), 0.4),
    (("OPERATION",), 0.4),
)
DEFAULT_WEIGHT = 0.5

# An inline header "ASSESSMENT:" or a line that is only a header ("ASSESSMENT AND PLAN").
_INLINE_HEADER = re.compile(r"(?<![A-Za-z])([A-Z][A-Z/&' -]{1,60}[A-Z])\s*:")
_LINE_HEADER = re.compile(r"(?m)^[ \t]*([A-Z][A-Z/&' -]{2,60}[A-Z])[ \t]*:?[ \t]*$")


# A SOAP note's one-letter headings ("S:", "O:", "A:", "P:") at a line's start (or after ".," where line breaks
# were flattened), not a value ("P: 72" is a pulse); read as headings only where the note has two of them.
_SOAP_HEADER = re.compile(r"(?:^|\n|(?<=[.,]))[ \t,]*([SOAP])[ \t]*:(?![ \t]*\d)")
SOAP_NAMES = {"S": "SUBJECTIVE", "O": "OBJECTIVE", "A": "ASSESSMENT", "P": "PLAN"}


def _soap_heads(text: str) -> list[tuple[int, int, str]]:
    found = [(m.start(1), m.end(), SOAP_NAMES[m.group(1)]) for m in _SOAP_HEADER.finditer(text)]
    return found if len({name for _s, _e, name in found}) >= 2 else []


@dataclass(frozen=True)
class Section:
    name: str
    weight: float
    start: int
    end: int


def section_weight(name: str) -> float:
    upper = name.upper()
    words_ = set(re.findall(r"[A-Z]+", upper))
    for keys, weight in SECTION_WEIGHTS:
        # Short keys (CC, HX, ROS, PMH, HPI) must be whole words of the header.
        if any((k in words_) if len(k) <= 3 else (k in upper) for k in keys):
            return weight
    return DEFAULT_WEIGHT


def sections(text: str) -> list[Section]:
    """The text cut at its headers; text before the first header is an unnamed section."""
    heads: list[tuple[int, int, str]] = []
    for rx in (_INLINE_HEADER, _LINE_HEADER):
        for m in rx.finditer(text):
            name = m.group(1).strip()
            if len(name) < 3 or not any(c.isalpha() for c in name):
                continue
            heads.append((m.start(), m.end(), name))
    heads += _soap_heads(text)
    heads.sort()
    merged: list[tuple[int, int, str]] = []
    for h in heads:
        if merged and h[0] < merged[-1][1]:
            continue
        merged.append(h)
    out: list[Section] = []
    pos, name = 0, ""
    for start, end, head in merged:
        if start > pos:
            out.append(Section(name, section_weight(name) if name else DEFAULT_WEIGHT, pos, start))
        pos, name = end, head
    if pos < len(text):
        out.append(Section(name, section_weight(name) if name else DEFAULT_WEIGHT, pos, len(text)))
    return out


# -- clauses and context ---------------------------------------------------------------------------

# A sentence end that is not a decimal point ("E11.9", "2.5 mg"), or a list number.
_CLAUSE_BREAK = re.compile(r"(?:(?<!\d)\.(?!\d)|[;!?\n]|\.(?=\s)|(?:^|\s)\d{1,2}[.)]\s)")

# A condition word followed by one of these names a treatment or a service, not a diagnosis.
NOT_A_DIAGNOSIS_AFTER = frozenset(
    "medication medications medicine medicines meds management control clinic clinics specialist specialists "
    "regimen education educator service services team program "
    "anticoagulant anticoagulants".split()  # "lupus anticoagulant" is a test's name, not lupus
)

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5"}


@dataclass
class _Token:
    word: str
    start: int
    end: int
    stem: str
    negated: bool = False
    ruled_out: bool = False  # "rule out", "r/o": doubted, never a suggestion, listed as uncertain
    historical: bool = False
    family: bool = False


def _mark_context(text: str, toks: list[_Token], start: int, end: int) -> None:
    """Each word's flags as the labeller (indexer.assertion) reads its sentence: one mechanism for what a note
    denies, doubts, dates or gives to someone else."""
    said = {(a, b): ctx for a, b, ctx in word_contexts(text, start, end)}
    for t in toks:
        ctx = _covering(said, t)
        if ctx is None:
            continue
        t.negated = ctx.negated
        t.ruled_out = ctx.possible and not ctx.negated
        t.historical = ctx.historical
        t.family = ctx.family or ctx.other


def _covering(said: dict[tuple[int, int], Context], t: _Token) -> Context | None:
    """The labeller's context of the word holding token t (its tokenizer cuts words a little otherwise)."""
    found = [ctx for (a, b), ctx in said.items() if a < t.end and b > t.start]
    if not found:
        return None
    return Context(negated=any(c.negated for c in found), possible=any(c.possible for c in found),
                   historical=any(c.historical for c in found), family=any(c.family for c in found),
                   other=any(c.other for c in found))


# A person's name is no finding: "Mr Reyes" is not Reye's syndrome, "Dr Smith" not Smith's fracture. A name is
# the capitalised words after a title, or two to four after a name field opening its line ("Patient: Tomas
# Reyes"; one word there may be a finding: "Patient: Diabetic").
_NAME_WORD = r"[A-Z][a-z'’-]+"
_TITLED_NAME = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?[ \t]+({_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}})")
_NAME_FIELD = re.compile(
    rf"(?m)^[ \t]*(?i:patient|name|patient[ \t]+name|pt|pt[ \t]+name)[ \t]*:[ \t]*"
    rf"({_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{1,3}})\b")
# A month in a date is no finding: "since March" is not a march fracture.
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATED_MONTH = re.compile(
    rf"\b(?:(?:since|in|on|from|until|till|by|of|early|late|mid|last|this|next)[ \t]+({_MONTHS})\b"
    rf"|({_MONTHS})[ \t]+\d|(?<=\d)[ \t]+({_MONTHS})\b)")


def not_findings(text: str, known: Callable[[str], bool] | None = None) -> list[tuple[int, int]]:
    """Spans of the text whose words name no condition: people's names and the months of dates. With `known` (a
    word of the code set's names), a name field's words are a name only when none is such a word: "Patient:
    Diabetic Foot Ulcer" names a condition."""
    spans = [m.span(1) for m in _TITLED_NAME.finditer(text)]
    for m in _NAME_FIELD.finditer(text):
        if known is None or not any(known(w.lower()) for w in m.group(1).split()):
            spans.append(m.span(1))
    for m in _DATED_MONTH.finditer(text):
        group = next(g for g in (1, 2, 3) if m.group(g) is not None)
        spans.append(m.span(group))
    return sorted(spans)


class _Skipped:
    """`not_findings`' spans, found for a clause by bisection (a long note has thousands of names and dates)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [a for a, _b in self.spans]
        self.longest = max((b - a for a, b in self.spans), default=0)

    def among(self, start: int, end: int) -> list[tuple[int, int]]:
        """The spans that may overlap [start, end)."""
        return self.spans[bisect_left(self.starts, start - self.longest) : bisect_left(self.starts, end)]


def _clause_tokens(text: str, start: int, end: int, spelling: Callable[[str], str] | None = None,
                   skip: _Skipped | None = None) -> list[_Token]:
    """The clause's words as the names read them: abbreviations spelled out, British spelling in US spelling
    (`spelling`: "anaemia" -> "anemia", see CodeMatcher.spelling); words inside `skip` (`not_findings`) kept in
    their place (the clause's length counts them) as a word that matches no name."""
    table = dominant_senses()
    toks: list[_Token] = []
    prev = ""
    found = _split_slashes(tokens_with_spans(text[start:end]))
    local = skip.among(start, end) if skip is not None else []
    said = {w for w, _s, _e in found}
    if _VITAL_READING.search(text, start, end):
        said.discard("rate")  # "heart rate 92, respiratory rate 16, AF": a vitals line's rate is a reading
    for word, s, e in found:
        before = len(toks)
        original = text[start + s : start + e]
        if spelling is not None and word not in table:
            word = spelling(word)
        if prev in ("type", "stage", "grade", "class") and word in _ROMAN:
            word = _ROMAN[word]
        sense = table.get(word)
        if word in CONTEXT_SENSES and (CONTEXT_SENSES[word][1] & said or prev in ("in", "into")):
            sense = CONTEXT_SENSES[word][0]  # "rapid AF", "AF with RVR", "remains in AF": not afebrile
        site_cancer = word == "ca" and prev in CANCER_SITES
        if site_cancer:
            sense = "cancer"  # "colon ca", "lung ca": a site's cancer, not calcium (the table's dominant sense)
        if word in _HISTOLOGY and prev in CANCER_SITES:
            sense = "cancer"  # "sigmoid adenocarcinoma", "lung carcinoma": the site's cancer
        if word in OWN_SENSES:
            sense = OWN_SENSES[word]
        if word in PREVIOUS_SENSES and prev in PREVIOUS_SENSES[word][1]:
            sense = PREVIOUS_SENSES[word][0]  # 'Grandma had "sugar"': the everyday name of a disease
        if sense and (len(word) >= 3 or not original.islower() or site_cancer):
            # An abbreviation stands for its dominant sense; its words share its span.
            for part, _s, _e in tokens_with_spans(sense):
                toks.append(_Token(part, start + s, start + e, stem(part)))
        else:
            toks.append(_Token(word, start + s, start + e, stem(word)))
        if local and any(a <= start + s and start + e <= b for a, b in local):
            for t in toks[before:]:  # an abbreviation's words share the span
                # still a word of the clause (its share of the clause's words is unchanged), matching no name
                t.stem = t.word = "\x00name"
        prev = word
    # "maternal grandmother", "paternal aunt": kinship, not the obstetric "maternal" of O-codes.
    for k in range(len(toks) - 1):
        if toks[k].word in ("maternal", "paternal") and toks[k + 1].word in KIN:
            toks[k].stem = toks[k].word = "\x00kin"
    return toks


# An abbreviation whose dominant sense gives way to another beside these words of its clause (or after "in",
# "into": a rhythm one is in): "AF" is afebrile in the vitals, atrial fibrillation with a rate or a rhythm drug.
CONTEXT_SENSES: dict[str, tuple[str, frozenset[str]]] = {
    "af": ("atrial fibrillation", frozenset(
        "rapid rvr paroxysmal persistent permanent chronic rate cardioversion cardioverted anticoagulation "
        "anticoagulated ablation flutter diltiazem metoprolol digoxin amiodarone apixaban rivaroxaban warfarin "
        "edoxaban dabigatran chads2 cha2ds2 vasc".split())),
    # peripheral arterial disease beside its signs and tests, not a pad count or a heating pad
    "pad": ("peripheral arterial disease", frozenset(
        "claudication abi arterial femoral popliteal tibial pedal pulses stent angioplasty bypass cilostazol "
        "revascularization ischemia ischemic vascular".split())),
    # multiple sclerosis beside a neurological word or its diagnosis in its clause ("mother dx'd with MS"), not
    # mental status ("MS: alert") or morphine sulphate
    "ms": ("multiple sclerosis", frozenset(
        "dx dx'd dxd diagnosed diagnosis neurology neurologist demyelinating demyelination relapsing remitting "
        "optic neuritis ocrelizumab natalizumab interferon glatiramer fingolimod lesions mri".split())),
}

# Abbreviations the abbreviation table lacks, with the one sense a chart gives them.
OWN_SENSES: dict[str, str] = {"gdm": "gestational diabetes", "mets": "metastases"}
# A word that names a disease after these words: 'had "sugar"' is diabetes, a blood sugar is not.
PREVIOUS_SENSES: dict[str, tuple[str, frozenset[str]]] = {
    "sugar": ("diabetes", frozenset("had has have having got gets".split())),
}
# A cancer's histology after its site: the site's cancer ("sigmoid adenocarcinoma", "prostate carcinoma").
_HISTOLOGY = frozenset("adenocarcinoma adenocarcinomas carcinoma carcinomas malignancy".split())

# A vital sign's reading written out ("heart rate 92", "respiratory rate of 16"): its "rate" is a vitals line's,
# not a rhythm's, so it leaves "AF" afebrile; a rhythm's own words ("rapid", "RVR", "in AF") still read it as AF.
_VITAL_READING = re.compile(r"(?i)\b(?:heart|respiratory|resp|pulse)[ \t]+rate[ \t]*(?:of[ \t]*|[:=][ \t]*)?\d")

# Sites whose "ca" is a cancer ("colon ca", "prostate ca").
CANCER_SITES = frozenset(
    "colon lung breast prostate ovarian ovary pancreatic pancreas bladder cervical cervix skin gastric stomach liver "
    "kidney renal thyroid uterine uterus endometrial esophageal rectal colorectal testicular brain throat bone "
    "oral tongue laryngeal sigmoid cecal rectosigmoid".split())
KIN = frozenset(
    "grandmother grandfather grandparent grandparents aunt aunts uncle uncles cousin cousins side relative "
    "relatives".split())


_SLASHED = re.compile(r"[a-z][a-z'-]{2,}(?:/[a-z][a-z'-]{2,})+")


def _split_slashes(found: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """A list written with slashes ("glossitis/xerostomia/probable allergies") is its words; "h/o", "r/o", "s/p"
    (parts under three letters) stay one word."""
    out = []
    for word, s, e in found:
        if "/" not in word or not _SLASHED.fullmatch(word):
            out.append((word, s, e))
            continue
        pos = s
        for part in word.split("/"):
            out.append((part, pos, pos + len(part)))
            pos += len(part) + 1
    return out


# A genus's initial before its species ("C. diff", "E. coli", "H. pylori"): its full stop ends no clause.
_INITIAL = re.compile(r"(?<![A-Za-z])[A-Z]\.[ \t]?[a-z]")


# A line break inside a hard-wrapped sentence: a word (or a comma) before it, a lowercase word after it
# ("Diagnosis: acute on\nchronic systolic congestive heart failure"). A list's lines start with a capital, a
# number or a bullet, and stay apart.
_WRAPPED = re.compile(r"[ \t]*[a-z]")


def _wraps(text: str, at: int, end: int) -> bool:
    """Whether the line break at `at` only wraps a sentence (see _WRAPPED). Reads back over the spaces before it
    only (copying the text before it, at every line break, made a long note's reading quadratic)."""
    i = at - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    before = text[i] if i >= 0 else ""
    return bool(before) and (before.isalnum() or before == ",") and bool(_WRAPPED.match(text, at + 1, end))


def clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    pos = start
    for m in _CLAUSE_BREAK.finditer(text, start, end):
        if m.group() == "." and _INITIAL.match(text, m.start() - 1):
            continue
        if m.group() == "\n" and _wraps(text, m.start(), end):
            continue
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = m.end()
    if pos < end:
        out.append((pos, end))
    return [(s, e) for s, e in out if text[s:e].strip()]


# -- suggestions -----------------------------------------------------------------------------------

MAX_PASSAGE = 160


@dataclass
class _Mention:
    code: str
    score: float
    start: int
    end: int
    section: str
    matched: str
    past_of: str = ""  # a personal-history code's condition code (the mention said it was in the past)
    past_score: float = 0.0  # what the mention would score for that condition
    name: Name | None = None  # the code-set name it matched (None: the full-text fallback)
    coverage: float = 0.0  # the share of that name's (weighted) words the clause said
    past: bool = False  # the note speaks of it as past (historical), and it is not treated now
    named_at: int = 0  # where the name's first matched word is in the text


def _passage(text: str, toks: list[_Token], clause: tuple[int, int], first: int, last: int) -> tuple[int, int]:
    s, e = clause
    while s < e and text[s] in " \t\r\n,:-":
        s += 1
    while e > s and text[e - 1] in " \t\r\n,:-":
        e -= 1
    if e - s <= MAX_PASSAGE:
        return s, e
    lo = toks[max(0, first - 8)].start
    hi = toks[min(len(toks) - 1, last + 8)].end
    return max(s, lo), min(e, hi)


_PREGNANCY = re.compile(r"\b(pregnan\w*|gestation\w*|obstetric\w*|gravida|G\d+P\d+|postpartum|labor|delivery|"
                        r"trimester|prenatal|antepartum|intrapartum|fetal|fetus|cesarean|c-section)\b", re.I)
_NEWBORN = re.compile(r"\b(newborn|neonat\w*|infant|preterm|premature|birth weight|nicu|day[- ]old)\b", re.I)


def _note_context(text: str) -> set[str]:
    found = set()
    if _PREGNANCY.search(text):
        found.add("pregnancy")
    if _NEWBORN.search(text):
        found.add("newborn")
    return found


def _chapter_gate(code: str, context: set[str]) -> float:
    """Weight for codes that only apply in a context: pregnancy (O), the perinatal period (P);
    external causes (V-Y) are secondary codes, never the diagnosis itself."""
    first = code[:1]
    if first == "O" and "pregnancy" not in context:
        return 0.2
    if first == "P" and "newborn" not in context:
        return 0.2
    if first in "VWXY":
        return 0.5
    return 1.0


def mentions(matcher: CodeMatcher, text: str, db: Any = None,
             uncertain: list[_Mention] | None = None) -> list[_Mention]:
    """Every (code, score, passage) a clause of the text supports.

    With `db`, a short clause of a diagnosis section (or a short text) that
    matches no name exactly falls back to a full-text code search. With
    `uncertain`, the mentions the note only doubts ("possible pneumonia", "rule
    out PE") are added to that list; they are never among the returned ones.
    """
    out: list[_Mention] = []
    context = _note_context(text)
    vocabulary = getattr(matcher.spelling, "words", None)
    skip = _Skipped(not_findings(text, vocabulary.__contains__ if vocabulary is not None else None))
    for sec in sections(text):
        if sec.weight <= 0 and "FAMILY" not in sec.name.upper():
            continue
        for clause in clauses(text, sec.start, sec.end):
            toks = _clause_tokens(text, *clause, spelling=matcher.spelling, skip=skip)
            if not toks:
                continue
            _mark_context(text, toks, *clause)
            stems = [
                "" if (t.negated or t.ruled_out or t.word in FUNCTION_WORDS) else t.stem
                for t in toks
            ]
            if uncertain is not None and any(t.ruled_out and not t.negated for t in toks):
                # "rule out PE": the words the suggestions skip, read again for the uncertain list only
                doubted = ["" if (t.negated or t.word in FUNCTION_WORDS) else t.stem for t in toks]
                ruled = {k for k, t in enumerate(toks) if t.ruled_out}
                again = [m for m in matcher.match(doubted, limit=8) if m.used & ruled]
                _clause_mentions(matcher, text, toks, doubted, again, clause, sec, context, uncertain)
            if not any(stems):
                continue
            found = matcher.match(stems, limit=8)
            if sec.weight >= 0.9 and "," in text[clause[0] : clause[1]]:
                found = _with_segments(matcher, text, toks, stems, found)
            if not found and db is not None:
                fallback = _search_fallback(db, text, toks, stems, clause, sec)
                if fallback is not None:
                    out.append(fallback)
                continue
            out += _clause_mentions(matcher, text, toks, stems, found, clause, sec, context, uncertain)
    return out


def _with_segments(matcher: CodeMatcher, text: str, toks: list[_Token], stems: list[str],
                   found: list[Any]) -> list[Any]:
    """A diagnosis list item ("Rhabdomyolysis, most likely secondary to statins, gemfibrozil, ...") names its
    condition in one comma-separated part: each part is matched alone too, and a code keeps its better match
    (the whole clause's words no longer dilute a name said in a few of them)."""
    cuts = [0]
    for k in range(1, len(toks)):
        if "," in text[toks[k - 1].end : toks[k].start]:
            cuts.append(k)
    cuts.append(len(toks))
    best = {m.name.code: m for m in found}
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        part = [st if lo <= k < hi else "" for k, st in enumerate(stems)]
        if not any(part) or hi - lo == len(toks):
            continue
        for m in matcher.match(part, limit=8):
            if m.name.code not in best or m.score > best[m.name.code].score:
                best[m.name.code] = m
    return sorted(best.values(), key=lambda m: -m.score)


def _clause_mentions(matcher: CodeMatcher, text: str, toks: list[_Token], stems: list[str], found: list[Any],
                     clause: tuple[int, int], sec: Section, context: set[str],
                     uncertain: list[_Mention] | None) -> list[_Mention]:
    """The mentions of one clause's matches; the doubted ones go to `uncertain` (when given), never to the result."""
    out: list[_Mention] = []
    family_section = "FAMILY" in sec.name.upper()
    said_of = {id(m): _said(text, _named(toks, stems, m) or [toks[k] for k in range(m.start, m.end + 1) if stems[k]])
               for m in found}
    # A reading the labeller rejects subsumes no other ("Type 2 diabetes WITHOUT complications": E11.8 "with
    # unspecified complications" reads its words and is denied; E11.9 stands).
    live = [o for o in found if not _rejected(said_of[id(o)])]
    for m in found:
        # A name whose words all lie inside a longer match's words is subsumed by it
        # ("pain" inside "low back pain").
        if any(m.used < o.used and o.coverage > 0.99 and o.score >= m.score for o in live):
            continue
        # Another reading of the same words that matches them better ("hypertension": I10, not I1A.0
        # resistant hypertension) is what they say; this one is only an alternative.
        alternative = ALTERNATIVE_WEIGHT if any(m.used <= o.used and o.score > m.score for o in live) else 1.0
        used = [toks[k] for k in range(m.start, m.end + 1) if stems[k]]
        after = toks[m.end + 1].word if m.end + 1 < len(toks) else ""
        if after in NOT_A_DIAGNOSIS_AFTER:  # "pain medication", "diabetes education"
            continue
        code = m.name.code
        is_family_code = code[:3] in FAMILY_CATEGORIES
        is_history_code = code[:3] in HISTORY_CATEGORIES
        # The name's own words in the clause (not every word between them) must name a condition.
        used_stems = {toks[k].stem for k in m.used if stems[k]} - GENERIC_STEMS
        if not used_stems or all(w.isdigit() for w in used_stems):
            continue  # "the patient was prescribed the following medications"; a list number "1"
        if code[:3] == "Z09" and _a_plan(toks, m.start, m.end):
            continue  # "follow up with Cardiology", "will follow up in 2 weeks": a plan, not the visit's reason
        if (is_family_code or is_history_code) and not used_stems - HISTORY_WORDS:
            continue  # "family history of" alone names no condition
        if _collision(used_stems, toks):
            continue  # "weight down", "felt fit", "cold to touch"
        if _site_only(m.name.text, used_stems):
            continue  # "signal in posterior horn medial meniscus may represent a tear": a site, no "cystic meniscus"
        if _lack_unnamed(m.name.text, toks):
            continue  # "vitamin K given to the newborn", "Vitamin D 1000 units daily": a supplement, not its deficiency
        if _neoplasm_unnamed(m.name.text, toks):
            continue  # "benign colonic mucosa, no dysplasia or malignancy": tissue, no benign neoplasm of the colon
        span_end = max(t.end for t in used)
        said = said_of[id(m)]
        if _rejected(said):
            # "History of Present Illness:", "never smoker", "return if", "her roommate has strep throat"
            continue
        family = family_section or said.family or any(t.family for t in used)
        doubted = said.possible or any(t.ruled_out for t in used)
        if doubted and (uncertain is None or family or not said.possible):
            continue  # "rule out PE", "possible pneumonia": never a suggestion
        weight = 1.0 if family_section else sec.weight
        past_of = ""
        past = False
        if family and not is_family_code:
            # A relative's condition suggests only its family-history code (Z80-Z84).
            code = matcher.family_code(matcher.default.get(code, code)) or ""
            if not code:
                continue
        elif said.historical and not is_history_code and _treated_now(text[span_end : clause[1]]):
            pass  # "Hx of breast cancer, currently on anastrozole": still treated, so still the condition
        elif said.historical and not is_history_code:
            # A past condition suggests its personal-history code (Z85-Z87) where there is one.
            history = matcher.personal_history_code(matcher.default.get(code, code))
            if history:
                past_of, code = code, history
            elif _REMOVED.search(text[clause[0] : used[0].start]):
                continue  # "s/p appendectomy 2005 for appendicitis": it went with the organ, and has no history code
            else:
                weight *= 0.7
                past = True
        elif any(t.historical for t in used) and not is_history_code:
            weight *= 0.7
            past = True
        gate = _chapter_gate(code, context)
        s, e = _passage(text, toks, clause, m.start, m.end)
        past_score = m.score * weight * 0.7 * _chapter_gate(past_of, context) if past_of else 0.0
        mention = _Mention(code, m.score * weight * gate * alternative, s, e, sec.name, m.name.text, past_of,
                           past_score, m.name, m.coverage, past, used[0].start)
        if doubted and uncertain is not None:
            uncertain.append(mention)
        else:
            out.append(mention)
    return out


# A past condition still under treatment is the current condition (ICD-10-CM I.C.2.d: a malignancy whose treatment
# goes on is coded as the malignancy, not as its personal history).
_TREATED_NOW = re.compile(
    r"\b(?:(?:currently|still|now|presently) (?:on|taking|receiving|undergoing|treated|being treated)|"
    r"on (?:adjuvant|maintenance|active|ongoing) \w+|"
    r"on (?:art|haart|cart|arvs?|antiretroviral\w*)|(?:undergoing|receiving) (?:chemo\w*|radiation|radiotherapy|"
    r"immunotherapy|treatment|therapy)|"
    # a thrombosis still anticoagulated is still treated ("Hx of DVT on rivaroxaban": I82, Coding Clinic)
    r"on (?:anticoagula\w*|apixaban|rivaroxaban|dabigatran|edoxaban|warfarin|coumadin|eliquis|xarelto|enoxaparin|"
    r"lovenox|heparin)|"
    # the past condition is back ("Remote h/o breast ca, now biopsy-proven chest wall recurrence")
    r"now\b[^.;]{0,40}\b(?:recurren\w*|relaps\w*|metasta\w*|mets|progressi\w*|progressed|spread)|"
    r"recurren(?:ce|t)|recurred|relapsed?|"
    # treatment taken up again ("restarting therapy", "resumed chemo"): the condition is being treated
    r"(?:restart|resum|reinitiat|re-initiat)\w*\s+(?:\w+\s+)?(?:therapy|treatment|chemo\w*|radiation|"
    r"immunotherapy|hormon\w+|endocrine|letrozole|anastrozole|tamoxifen))\b", re.I)


# A word that names a neoplasm (a growth, not the tissue it grows in): a benign neoplasm's code needs one, affirmed,
# in its clause ("benign colonic mucosa" is tissue; "benign colon polyp", "lipoma" name growths).
_NEOPLASM_WORD = re.compile(
    r"(?:neoplasm|neoplasia|neoplastic|tumou?r|polyp|polyps|polyposis|adenoma|mass|masses|lesion|lesions|growth|cancer|"
    r"carcinoma|ca|malignancy|malignant|cyst|nodule|nodules|lump|\w+omas?|\w+blastoma)")
# An organ removed before the condition's name ("s/p appendectomy for appendicitis", "status post cholecystectomy
# for cholecystitis"): the condition went with it.
_REMOVED = re.compile(r"(?i)\b\w+ectomy\b")


def _neoplasm_unnamed(name: str, toks: list[_Token]) -> bool:
    return name.lower().startswith("benign neoplasm") and not any(
        _NEOPLASM_WORD.fullmatch(t.word) and not t.negated for t in toks)


# The words that say a substance is lacking: a deficiency's name needs one of them in its clause, not only the
# substance's name ("vitamin K given" is no vitamin K deficiency).
_LACK_NAME = re.compile(r"(?i)\bdeficien")
_LACK_WORD = re.compile(r"(?:deficien\w*|insufficien\w*|lack\w*|low|lower|depleted|depletion|deprivation|deprived)")


def _lack_unnamed(name: str, toks: list[_Token]) -> bool:
    """Whether a deficiency's name ("Deficiency of vitamin K") was matched in a clause with no word of a lack."""
    return bool(_LACK_NAME.search(name)) and not any(_LACK_WORD.fullmatch(t.word) for t in toks)


def _site_only(name: str, used_stems: set[str]) -> bool:
    """Whether a code's name ("Cystic meniscus, posterior horn of medial meniscus, unspecified knee": the condition,
    then after a comma its site) was matched by none of the words that name its condition alone, only by its site's
    ("signal in the posterior horn of the medial meniscus": a place, not a cystic meniscus)."""
    head, comma, tail = name.partition(",")
    if not comma:
        return False
    words = [{stem(w) for w in re.findall(r"[a-z0-9]+", part.lower())} - FUNCTION_WORDS for part in (head, tail)]
    own = words[0] - words[1] - {stem("other"), stem("unspecified")}
    return bool(own) and not own & used_stems and bool(used_stems & words[1])


# "cured, no recurrence", "without relapse": the return denied
_DENIED_BEFORE = re.compile(r"(?i)\b(?:no|without|nor|denies|free of|negative for)\s+(?:\w+\s+){0,3}$")


def _treated_now(after: str) -> bool:
    return any(not _DENIED_BEFORE.search(after[: m.start()]) for m in _TREATED_NOW.finditer(after))


def _rejected(said: Context) -> bool:
    """A heading, a denied or planned condition, or someone else's (not a relative's): never a suggestion."""
    return said.heading or said.negated or said.hypothetical or said.other


def _named(toks: list[_Token], stems: list[str], m: Any) -> list[_Token]:
    """The clause's words that are the name's: the words it matched, and the words between them that its own
    wording holds ("Type 2 diabetes WITHOUT complications": a negation word of the code's name is no negation)."""
    wording = set(re.findall(r"[a-z0-9]+", m.name.text.lower()))
    return [toks[k] for k in range(m.start, m.end + 1) if (k in m.used and stems[k]) or toks[k].word in wording]


def _said(text: str, named: list[_Token]) -> Context:
    """What the labeller says of a name's matched words, read as one concept (indexer.assertion.context_of_spans):
    the words between them are not the concept's, so a trigger there acts ("ANEMIA has resolved with IRON",
    "MIGRAINE versus TENSION TYPE"). Adjacent words ("chest pain") are one piece."""
    pieces = _pieces(text, named)
    said = context_of_spans(text, pieces)
    if said.heading and _names_its_heading(text, pieces):
        return context_of_spans(text, pieces, problem_line=True)
    return said


def _names_its_heading(text: str, pieces: list[tuple[int, int]]) -> bool:
    """Whether a name's words are all the words of the heading they lie in ("Hypertension:", not "Chief
    complaint:"): a condition-named heading, which a problem list writes before the condition's data."""
    head = next((h for h in headings(text) if h.start <= pieces[0][0] < h.end), None)
    if head is None:
        return False
    own = {w for a, b in pieces for w in re.findall(r"[a-z0-9]+", text[a:b].lower())}
    return set(re.findall(r"[a-z0-9]+", head.name.lower())) - FUNCTION_WORDS <= own


def _pieces(text: str, named: list[_Token]) -> list[tuple[int, int]]:
    """A name's matched words as spans of the text; adjacent words ("chest pain") are one piece."""
    runs: list[list[_Token]] = []
    for t in named:
        if runs and (t.start < runs[-1][-1].end or re.fullmatch(r"[\s,'/-]*", text[runs[-1][-1].end : t.start])):
            runs[-1].append(t)
        else:
            runs.append([t])
    return [(run[0].start, max(t.end for t in run)) for run in runs]


# A reading of a clause's words that another reading matches better (tuned on the dev notes).
ALTERNATIVE_WEIGHT = 0.6
FAMILY_CATEGORIES = frozenset(("Z80", "Z81", "Z82", "Z83", "Z84"))
HISTORY_CATEGORIES = frozenset(("Z85", "Z86", "Z87", "Z92", "Z95", "Z96", "Z98"))
# Words that name no condition on their own.
GENERIC_STEMS = frozenset(
    stem(w) for w in "patient patients medication medications medicine medicines drug drugs following prescribed "
    "prescription treatment treated".split()
)
HISTORY_WORDS = frozenset(stem(w) for w in "family history personal past".split())
# An everyday word that is also the only distinctive word of a diagnosis counts only beside one of these
# ("weight down" is not Down syndrome, "felt fit" is not a convulsion, "cold to touch" is not a common cold).
COLLISIONS: dict[str, frozenset[str]] = {
    stem(word): frozenset(stem(w) for w in companions.split())
    for word, companions in (
        ("down", "syndrome trisomy"),
        ("fit", "fits seizure seizures convulsion convulsions epilepsy epileptic jerking shaking tonic clonic "
                "unresponsive"),
        ("cold", "common head chest symptoms flu runny nose congestion sneezing sore throat coryza"),
        # "flu shot given" is a vaccine, not a firearm's discharge (W34)
        ("shot", "gun guns gunshot firearm firearms rifle pistol handgun shotgun bullet bullets gsw"),
        # "still having hot flashes" is no Still's disease (M06.1, M08.2)
        ("still", "disease adult onset juvenile systemic arthritis sjia aosd"),
        # "LDL" is low-density lipoprotein, no dense ("low density") breast tissue (R92.3)
        ("dense", "breast breasts mammogram mammography mammographic"),
        ("low", "breast breasts mammogram mammography mammographic"),
        # "MRI" is magnetic resonance imaging, no resonance disorder (R49.9)
        ("resonance", "voice speech vocal nasal hypernasal hyponasal hypernasality hyponasality velopharyngeal "
                      "cleft palate"),
    )
}


# "follow up" is the reason for the visit (Z09) only where it is not a plan: not after "will", "to", ..., nor
# before "with", "in", ... ("follow up with Cardiology", "follow up in 2 weeks").
PLAN_BEFORE = frozenset("will to should shall please may can could would must and then".split())
PLAN_AFTER = frozenset("with in on at as by per after prn closely appointment".split())


def _a_plan(toks: list[_Token], first: int, last: int) -> bool:
    before = toks[first - 1].word if first > 0 else ""
    after = toks[last + 1].word if last + 1 < len(toks) else ""
    return before in PLAN_BEFORE or after in PLAN_AFTER


def _collision(used_stems: set[str], toks: list[_Token]) -> bool:
    everyday = used_stems & COLLISIONS.keys()
    if not everyday or used_stems - everyday:
        return False
    clause = {t.stem for t in toks}
    return not any(COLLISIONS[w] & clause for w in everyday)


FALLBACK_MAX_WORDS = 6


def _search_fallback(db: Any, text: str, toks: list[_Token], stems: list[str],
                     clause: tuple[int, int], sec: Section) -> _Mention | None:
    content = [t for t, s in zip(toks, stems, strict=True) if s]
    if any(t.negated or t.ruled_out or t.family for t in toks) or not 0 < len(content) <= FALLBACK_MAX_WORDS:
        return None
    if all(t.word.isdigit() for t in content):
        return None  # a list number cut from its item ("DIAGNOSES:,1.  Asthma"), not a diagnosis
    if sec.weight < 0.9 and len(text) > 120:
        return None
    said = context_of_spans(text, [(content[0].start, content[-1].end)])
    if said.heading or said.label != "affirmed":
        return None
    from indexer.icd10 import search_codes

    hits = search_codes(db, " ".join(t.word for t in content), limit=1)
    if not hits or hits[0].match not in ("text", "term") or hits[0].score < 0.5:
        return None
    s, e = _passage(text, toks, clause, 0, len(toks) - 1)
    weight = 1.0 if len(text) <= 120 and not sec.name else sec.weight
    return _Mention(hits[0].code, 0.6 * hits[0].score * weight, s, e, sec.name, hits[0].description,
                    named_at=content[0].start)


# Each further passage naming a code adds this much to its best score, up to REPEAT_CAP passages.
REPEAT_BONUS = 0.1
REPEAT_CAP = 3
# Family- and personal-history codes (Z80-Z87 and the status codes) say something beside the visit's
# conditions, never instead of them: they rank after a condition of like support (tuned on the dev notes).
HISTORY_CODE_WEIGHT = 0.5
FIRST_BONUS = 0.5
FIRST_DECAY = 0.5


# How the uncertain codes are shown: never suggestions, for the coder to decide.
UNCERTAIN_RULE = ("uncertain: code only under the inpatient rule (ICD-10-CM Official Guidelines II.H: an uncertain "
                  "diagnosis at discharge is coded as if established); never for an outpatient visit (IV.H)")


@dataclass(frozen=True)
class CodeSuggestions:
    """The suggestions, and apart from them the codes of what the text only doubts.

    ICD-10-CM Official Guidelines: an inpatient's uncertain diagnosis at discharge ("probable", "suspected",
    "rule out") is coded as if established (Section II.H); an outpatient's never is (Section IV.H). The archive
    does not know which rule a record falls under, so the doubted codes are never suggestions: they are listed
    for the coder to decide.
    """

    suggestions: list[Suggestion]
    uncertain: list[Suggestion]


def suggest_codes(db: Any, text: str, limit: int = 10, matcher: CodeMatcher | None = None) -> list[Suggestion]:
    """Codes for `text`, best first (billable codes before headings), each with its supporting passage."""
    matcher = matcher or matcher_for(db)
    return _ranked(matcher, text, mentions(matcher, text, db), limit)


def code_suggestions(db: Any, text: str, limit: int = 10, matcher: CodeMatcher | None = None,
                     uncertain_limit: int = 5) -> CodeSuggestions:
    """`suggest_codes`, and the codes of the mentions the text doubts ("possible X", "rule out X") that no
    suggestion already names, best first; those are never suggestions (see CodeSuggestions)."""
    matcher = matcher or matcher_for(db)
    doubted: list[_Mention] = []
    suggestions = _ranked(matcher, text, mentions(matcher, text, db, uncertain=doubted), limit)
    return CodeSuggestions(suggestions, doubted_codes(matcher, text, doubted, suggestions, limit, uncertain_limit))


def doubted_codes(matcher: CodeMatcher, text: str, doubted: list[_Mention], named_by: list[Suggestion], limit: int,
                  uncertain_limit: int) -> list[Suggestion]:
    """The codes of the doubted mentions that no code of `named_by` already names, one a category (the doubt is
    about it), best first."""
    named = {matcher.default.get(s.code, s.code) for s in named_by}
    uncertain: list[Suggestion] = []
    for s in _ranked(matcher, text, doubted, limit):
        if matcher.default.get(s.code, s.code) not in named and s.category not in {u.category for u in uncertain}:
            uncertain.append(s)
    return uncertain[:uncertain_limit]


def _ranked(matcher: CodeMatcher, text: str, found_all: list[_Mention], limit: int) -> list[Suggestion]:
    """The codes of the mentions best first, at most `limit`."""
    by_code: dict[str, list[_Mention]] = defaultdict(list)
    for mention in found_all:
        target = matcher.default.get(mention.code, mention.code)
        by_code[target].append(mention)
    # A condition the note affirms now is that condition also where the note speaks of its past ("history of
    # mesothelioma ... Impression: mesothelioma, partial remission"): those mentions count for it, as before
    # issue 22, not for its personal-history code. A condition only ever said to be past keeps that code.
    for mention in found_all:
        if not mention.past_of:
            continue
        condition = matcher.default.get(mention.past_of, mention.past_of)
        # The note may affirm it in other words of the same category ("history of lung cancer ...
        # Diagnosis: adenocarcinoma of the right upper lobe"): the past mention counts for that code.
        current = [c for c, found in by_code.items() if c[:3] == condition[:3] and any(not m.past_of for m in found)]
        if current:
            target = condition if condition in current else max(current, key=lambda c: max(m.score for m in by_code[c]))
            by_code[matcher.default.get(mention.code, mention.code)].remove(mention)
            by_code[target].append(replace(mention, code=target, score=mention.past_score, past_of="", past=True))
    by_code = defaultdict(list, {code: found for code, found in by_code.items() if found})
    # A note names the reason for the visit first (chief complaint, diagnosis, indication): the code whose first
    # passage is the note's k-th ranks as if its support were 1 + FIRST_BONUS * FIRST_DECAY**k times as strong
    # (tuned on the dev notes). The score shown is that rank over the first code's bonus: the text's support for
    # the code first named, a little less for the ones named after it.
    order = {start: k for k, start in enumerate(sorted({min(m.start for m in found) for found in by_code.values()}))}
    scored: list[tuple[float, str, _Mention]] = []
    for code, found in by_code.items():
        best = max(found, key=lambda m: m.score)
        repeats = len({(m.start, m.end) for m in found}) - 1
        weight = HISTORY_CODE_WEIGHT if code[:3] in FAMILY_CATEGORIES | HISTORY_CATEGORIES else 1.0
        support = best.score * weight * (1.0 + REPEAT_BONUS * min(REPEAT_CAP, repeats))
        first = 1.0 + FIRST_BONUS * FIRST_DECAY ** order[min(m.start for m in found)]
        scored.append((support * first / (1.0 + FIRST_BONUS), code, best))
    # An unspecified code ranks below the code of the same category that names its condition's form (I.B.2).
    lifted, below = _specific_first(matcher, by_code, {code: score for score, code, _best in scored})
    scored = [(lifted[code], code, best) for _score, code, best in scored]
    scored.sort(key=lambda x: (-x[0], x[1] in below, x[1]))
    # Several codes of one category say less than one code of each of several categories.
    seen_categories: dict[str, int] = defaultdict(int)
    diversified = []
    for score, code, best in scored:
        diversified.append((score * (0.6 ** seen_categories[code[:3]]), code, best))
        seen_categories[code[:3]] += 1
    # A symptom ranks below a diagnosis of the text that explains it (I.B.4-5), after the categories are weighed,
    # so that it lands below the diagnosis as listed.
    capped, below = _diagnosis_first(text, by_code, {code: score for score, code, _best in diversified}, below)
    diversified = [(capped[code], code, best) for _score, code, best in diversified]
    diversified.sort(key=lambda x: (not matcher.billable.get(x[1], False), -x[0], x[1] in below, x[1]))
    return [_suggestion(matcher, text, code, score, best) for score, code, best in diversified[:limit]]


# A heading under which a note states its diagnoses (not "Diagnostic data", a test's results), and one under
# which it gives the encounter's reason ("Chief complaint", "CC", "Reason for exam", "Indications").
_DIAGNOSIS_HEADING = re.compile(r"(?i)\b(?:diagnos[ie]s|assessments?|impressions?|problems?)\b")
_REASON_HEADING = re.compile(r"(?i)chief|complaint|\bcc\b|reason|indication")
# A name counts as said where the clause held all its required words.
FULL_COVERAGE = 0.99


def _said_in_full(found: list[_Mention]) -> list[Name]:
    """The names of a code that a current (not past) mention said in full: what a definitive code rests on."""
    return [m.name for m in found if m.name is not None and m.coverage >= FULL_COVERAGE and not m.past
            and not m.past_of]


def _name_words(name: Name) -> tuple[tuple[str, ...], frozenset[str], bool]:
    return name.required, name.optional, name.other


def _specific_first(matcher: CodeMatcher, by_code: dict[str, list[_Mention]],
                    score: dict[str, float]) -> tuple[dict[str, float], set[str]]:
    """The ranking scores with each unspecified code's support given to the code of its category that the text
    names in full and whose name says more (code_explains.names_more), and the codes so placed below another.

    The unspecified code stays listed (the coder sees it, one place below); its category ranks where it did."""
    score = dict(score)
    below: set[str] = set()
    # Each code's names said in full, found once per code and kept once per distinct name: a note repeating a
    # condition repeats its mentions, and comparing them pair by pair for every unspecified code grew with their
    # square (a line repeated 1,500 times: 25 million comparisons, 16 s).
    full = {c: list(dict.fromkeys((n.code, _name_words(n)) for n in _said_in_full(by_code[c]))) for c in score}
    for general in sorted(score, key=lambda c: (-score[c], c)):
        if not is_unspecified(matcher.descriptions.get(general, "")):
            continue
        said = list(dict.fromkeys(_name_words(m.name) for m in by_code[general] if m.name is not None))
        # the specific code's own wording, or its heading's where it is that heading's unspecified form ("systolic
        # heart failure", I50.2: I50.20); a heading's default that names another form is no form the text named
        # (K40 "inguinal hernia" stands for K40.00, bilateral and obstructed, by the code set's order alone)
        over = [c for c in score if c != general and c[:3] == general[:3]
                and any(names_more(words, g) for code, words in full[c]
                        if code == c or is_unspecified(matcher.descriptions.get(c, "")) for g in said)]
        if not over:
            continue
        specific = max(over, key=lambda c: (c not in below, score[c], c))
        score[specific] = max(score[specific], score[general])
        below.add(general)
    return score, below


def _diagnosis_first(text: str, by_code: dict[str, list[_Mention]], score: dict[str, float],
                     below: set[str]) -> tuple[dict[str, float], set[str]]:
    """The scores with each symptom that `_explained` finds explained lowered to its diagnosis' score (it ranks
    just below it), and the codes so placed below another. Every other symptom keeps its place."""
    score = dict(score)
    below = set(below)
    for symptom, explaining in _explained(text, {c: found for c, found in by_code.items() if c in score}).items():
        score[symptom] = min(score[symptom], max(score[c] for c in explaining))
        below.add(symptom)
    return score, below


def _explained(text: str, by_code: dict[str, list[_Mention]]) -> dict[str, list[str]]:
    """Symptom code (R00-R69) -> the codes of the diagnoses the note establishes that explain it.

    A diagnosis is established where the note states it in full, not as past, under a diagnosis heading
    ("Diagnosis:", "Assessment:", "Impression:", "Problems:"), in other words than the symptom's ("seizures" alone
    is no epilepsy beside its convulsions); it explains the symptom by code_explains.explains_symptom. Only a
    symptom the note narrates (history, course, examination) is explained: one it gives as the encounter's reason
    (a chief complaint, a reason for the visit or the exam, an indication, the opening lines before any heading)
    or lists among its diagnoses keeps its place, as the note's author put it (the smaller rule of the two
    measured: bench/RESULTS.md, session 14, s14-rank).
    """
    symptoms = [c for c in by_code if "R00" <= c[:3] <= "R69"]
    if not symptoms:
        return {}
    heads = headings(text)
    stated = [h for h in heads if _DIAGNOSIS_HEADING.search(h.name)]
    given = [h for h in heads if _DIAGNOSIS_HEADING.search(h.name) or _REASON_HEADING.search(h.name)]
    established = {code: _said_in_full([m for m in found if _under(m, stated)])
                   for code, found in by_code.items() if code[:1] not in "RZ"}
    out: dict[str, list[str]] = {}
    for symptom in symptoms:
        if any(_under(m, given) or (heads and m.named_at < heads[0].start) for m in by_code[symptom]):
            continue
        own = {w for m in by_code[symptom] if m.name is not None for w in (*m.name.required, *m.name.optional)}
        explaining = [c for c, names in established.items() if explains_symptom(c, symptom)
                      and any(set(n.required) - own for n in names)]
        if explaining:
            out[symptom] = explaining
    return out


def _under(mention: _Mention, heads: list[Heading]) -> bool:
    return any(h.end <= mention.named_at < h.body_end for h in heads)


def _suggestion(matcher: CodeMatcher, text: str, code: str, score: float, best: _Mention) -> Suggestion:
    return Suggestion(
        code=code,
        description=matcher.descriptions.get(code, ""),
        score=round(min(1.0, score), 3),
        passage=text[best.start : best.end],
        billable=matcher.billable.get(code, False),
        start=best.start,
        end=best.end,
        section=best.section,
        matched=best.matched,
    )
