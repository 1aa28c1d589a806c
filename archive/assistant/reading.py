"""Reading records for the asked fact: what kind of answer a question wants, the sentence that holds it, the fact.

No templates: `understand(question)` keeps the question's content words (the
asked clause weighted above a description of the case) and its answer type
(a drug and dose, a measured value with its unit, a date, a duration, yes/no,
anything else). `best_sentences` scores every sentence of the given record
texts by the question's words (weighted by how rare each word is among those
sentences), by whether the sentence holds an answer of the asked type, and,
when the embedding model is loaded, by meaning (`similarity`, a callable the
caller supplies). A second stage (`joint`, a callable the caller supplies:
archive/assistant/joint.py) reads the asked clause together with each of the
first few sentences (a cross-encoder) and orders them again. `extract` takes
the fact itself out of the chosen sentence.
Every sentence returned is a slice of its record's text (the citation check
runs on it anyway). Mentions the patient does not have (negated, possible,
family, hypothetical: `mention.mention_status`) are marked, never taken as
evidence that the patient has the thing. Pure, no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

from archive.assistant import passages as P
from archive.assistant.drug_classes import drug_classes, find_drug_class
from archive.assistant.intents import FILLER
from archive.assistant.lay_terms import clinical_forms
from archive.assistant.mention import NEGATED, PRESENT, mention_status
from indexer.query.tokens import stem

DRUG, VALUE, DATE, DURATION, YESNO, OTHER = "drug", "value", "date", "duration", "yesno", "other"

_NUMBER_WORDS = r"(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|several|" \
                r"a couple of|a|an)"
DURATION_RE = re.compile(rf"\b(?:for |x ?|past |last |over the (?:past|last) )?{_NUMBER_WORDS}[\s-]*"
                         r"(?:-\s*)?(?:to \d+\s*)?(?:days?|weeks?|months?|years?|hours?|minutes?|nights?|wks?|"
                         r"yrs?|hrs?|mos?)\b(?![\w-]*\s*old\b)(?!-)", re.I)
_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
DATE_RE = re.compile(rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|"
                     rf"{_MONTHS}\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}|\d{{1,2}} {_MONTHS} \d{{4}}|{_MONTHS} \d{{4}}|"
                     r"(?:in |since )(?:19|20)\d{2})\b",
                     re.I)
_UNITS = (r"mm\[hg\]|%|percent|mg/dl|mg/dL|mmol/l|mmol/L|mmhg|mm ?hg|g/dl|g/dL|bpm|beats per minute|kg|lbs?|"
          r"pounds|cm|mm|ml|mL|cc|degrees|°[cf]?|units|iu|ng/ml|pg/ml|meq/l|u/l|k/ul|/ul|/mcl|breaths per minute|"
          r"per minute|liters?|l/min|hz|volts?|french|fr|mph|miles per hour|ounces|oz|inches|feet|ft|seconds|"
          r"gauge|cmh2o|mm|mg|mcg|g")
# "4x6cm", "4 by 6 cm", "2 x 3 x 1.5 cm": a size; "1 in 5 children", "3 out of 10": a proportion
_DIMENSION = r"\d+(?:\.\d+)?\s*(?:x|by|×)\s*\d+(?:\.\d+)?(?:\s*(?:x|by|×)\s*\d+(?:\.\d+)?)?\s*(?:cm|mm|inches|in)\b"
_FEW = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
_PROPORTION = rf"{_FEW}\s+(?:in|out of)\s+(?:{_FEW}|a hundred)\b(?:\s+[a-z]+)?"
VALUE_RE = re.compile(rf"(?<![\w/])(?:{_DIMENSION}|{_PROPORTION}|"
                      rf"\d+\s*(?:pounds?|lbs?|feet|ft)\s*(?:and\s*)?\d+(?:\.\d+)?\s*"
                      rf"(?:ounces?|oz|inches|in)\b|"
                      rf"\d{{2,3}}/\d{{2,3}}(?![\d/])|\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?"
                      rf"(?:\s*(?:{_UNITS})\b)?|\d+(?:\.\d+)?(?:(?:\s*|-)(?:{_UNITS})(?![\w]))?)", re.I)
# The unit an asked measure is stated in ("what did twin A weigh?": a weight; "what ejection fraction?": a
# percentage): (words of the asked clause, the unit after a value or within it).
_UNIT_CLASSES = (
    (re.compile(r"\bweigh|\bheav(?:y|ier)\b|\bbirth ?weight\b", re.I),
     re.compile(r"(?:pounds?|lbs?|ounces?|oz|kg|kilograms?|grams?|g)\b", re.I)),
    (re.compile(r"\bejection fraction\b|\bef\b|\bpercent|\bsaturation\b|\bsats?\b|\bhow common\b|\bproportion\b|"
                r"\bfraction\b", re.I),
     re.compile(r"%|percent\b|(?:in|out of)\s", re.I)),
    (re.compile(r"\bhow (?:large|big|long|wide|deep|tall)\b|\bsize\b|\bdiameter\b|\blength\b|\bwidth\b|"
                r"\bdimensions?\b", re.I),
     re.compile(r"(?:cm|mm|centimeters?|millimeters?|inch(?:es)?|in|french|fr|gauge)\b|(?:x|by|×)\s*\d", re.I)),
    (re.compile(r"\bhow old\b|\bat what age\b", re.I),
     re.compile(r"(?:years?|yrs?|months?|weeks?|days?)[- ]old\b|(?:years?|months?) of age\b", re.I)),
    (re.compile(r"\btemperature\b|\btemp\b|\bfever\b", re.I), re.compile(r"degrees?\b|°", re.I)),
    (re.compile(r"\benergy\b|\bjoules?\b", re.I), re.compile(r"(?:j|joules?)\b", re.I)),
    (re.compile(r"\bblood loss\b|\bebl\b|\bvolume\b|\burine output\b", re.I),
     re.compile(r"(?:ml|cc|liters?|l)\b", re.I)),
)


def unit_class(asked: str) -> re.Pattern[str] | None:
    """The unit the asked measure is stated in, when the asked clause says which measure (else None)."""
    return next((unit for words, unit in _UNIT_CLASSES if words.search(asked)), None)


def _of_class(sentence: str, m: re.Match[str], unit: re.Pattern[str]) -> bool:
    """Whether the value `m` of `sentence` is stated in `unit` ("68%", "4 pounds 7 ounces", "150 J", "4x6cm")."""
    rest = re.sub(r"^-?[\d,.]+", "", sentence[m.start(): m.end() + 12]).lstrip(" -")
    return bool(unit.match(rest)) or bool(unit.search(m.group(0)))


DOSE_RE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms?|milligrams?|g|grams?|ml|mL|units?|iu|%|puffs?|"
                     r"tablets?|sprays?|c?Gy|gray|mCi)\b", re.I)
_DRUG_SUFFIX = re.compile(
    r"\b[A-Za-z]{3,}(?:cillin|mycin|micin|cycline|floxacin|oxacin|pril|sartan|olol|statin|azole|prazole|tidine|"
    r"dipine|semide|thiazide|formin|gliptin|gliflozin|parin|xaban|gatran|triptan|setron|azepam|zolam|olone|isone|"
    r"isolone|asone|lukast|terol|tropium|phylline|umab|ximab|zumab|tinib|ciclovir|cyclovir|navir|caine|codone|"
    r"morphone|profen|fenac|coxib|afil|oxetine|aline|pramine|triptyline|azine|idone|apine|barbital|tretin|"
    r"sone|nide|dronate|glitazone|mide|sterone|estradiol|thyroxine|insulin|aspirin|warfarin|metformin|"
    r"acetaminophen|tylenol|ibuprofen|naproxen|allegra|claritin|zyrtec|flonase|nasonex|nasacort|rhinocort|"
    r"benadryl|motrin|advil|aleve|lasix|coumadin|plavix|eliquis|xarelto|lipitor|zocor|synthroid|hydroxyurea|"
    r"prednisone|albuterol|salbutamol|budesonide|heparin|morphine|oxycodone|lisinopril|ceftriaxone)\b", re.I)


@cache
def _known_drugs() -> re.Pattern[str]:
    """Every drug the class table names (generic and brand: "meloxicam", "Nexium"), as one pattern."""
    names = sorted({m for cls in drug_classes() for m in cls.members if len(m) >= 4}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])", re.I)


def _drug_names(sentence: str) -> list[re.Match[str]]:
    """The drug names of a sentence, in order: by their endings ("-olol") and the class table's members."""
    found = {m.start(): m for m in _known_drugs().finditer(sentence)}
    for m in _DRUG_SUFFIX.finditer(sentence):
        found.setdefault(m.start(), m)
    return [found[k] for k in sorted(found)]


# Capitalised words of notes that are not drug names (section labels, titles, places).
_NOT_BRAND = frozenset("""treatment medical reasoning plan assessment patient history exam examination review
impression diagnosis procedure procedures results education follow instructions doctor hospital clinic center
emergency department medicine physical social family surgical past present chief complaint general""".split())
_COUNT_WORD = re.compile(r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                         r"sixteen|twenty|thirty|a dozen|several|multiple|numerous)\b", re.I)
_STOPPED = re.compile(r"\b(?:stop(?:ped)?|discontinu\w*|d/c'?d|no longer (?:taking|on)|off (?:of )?|held|"
                      r"switched from|came off|quit)\b", re.I)

_YESNO_START = re.compile(r"^\s*(?:did|does|do|has|have|had|is|was|were|are|any|ever)\b", re.I)
_DATE_Q = re.compile(r"^\s*when\b|\bwhat (?:date|day|year|month)\b|\bwhich (?:date|day|year)\b|\bdate of\b|"
                     r"\bon what (?:date|day)\b", re.I)
_DURATION_Q = re.compile(r"\bhow long\b|\bfor how many (?:days|weeks|months|years|hours)\b|\bduration\b|"
                         r"\bhow many (?:days|weeks|months|years|hours)\b", re.I)
_VALUE_Q = re.compile(
    r"\bhow (?:much|high|low|heavy|tall|many|fast|large|big|small|far|wide|deep|old|common)\b|\bat what age\b|"
    r"\bweigh(?:s|ed)?\b|"
    r"\b(?:level|levels|count|value|values|pressure|rate|score|weight|frequency|speed|grade|stage|class|category|index|"
    r"height|bmi|temperature|temp|saturation|sat|a1c|hba1c|glucose|sugar|size|reading|result|results|ejection "
    r"fraction|ef|pulse|heart rate|hemoglobin|haemoglobin|creatinine|potassium|sodium|inr|psa|tsh|cholesterol|"
    r"ldl|hdl|platelets?|wbc|white count|measure|measured|percent|percentage|number|ast|alt|bun|hgb|hct|plt|ptt|"
    r"bilirubin|albumin|troponin|bnp|lactate|lipase|amylase|ferritin|esr|crp|ph|pco2|po2|magnesium|calcium|"
    r"chloride|bicarbonate|co2|e?gfr|vitamin d|b12|iron|hematocrit|"
    r"blood loss|ebl|acuity|volume|output|diameter|length|width|dimensions?|measurements?)\b", re.I)
_DRUG_Q = re.compile(
    r"\b(?:medications?|medicines?|meds?|drugs?|prescri\w*|antibiotics?|dose|dosage|spray|inhaler|cream|"
    r"ointment|injection|shot|pills?|tablets?|samples? of|started on|put on|switched to|treated with|"
    r"given|give|taking|take|therapy|treatment|infusions?|vaccines?|vaccinations?|immuni[sz]ations?|shots?|"
    r"start|started|starting|controller|(?:increased|decreased|reduced|raised|lowered|titrated|changed|tapered) to)\b",
    re.I)
# Words of a question that never name what is asked (beyond FILLER).
_QUESTION_WORDS = frozenset(
    """
    was were is are did does do has have had been being which what when how who whom whose why where much long
    high low value level levels result results time times day days date dose dosage amount number kind type sort
    case patient woman man lady gentleman girl boy child year-old old years yr yo female male she he her his him
    they their them given give gave
    """.split()
)
_KEEP = frozenset("count first last diagnosed diagnosis number total".split())  # FILLER words a fact may hinge on
# The asked clause follows the description after a colon, semicolon or comma, or after a full stop ("Man with a
# left shoulder ...; the repair was converted to an open one. What bony lesion was seen?"); a preposition may
# lead it ("over what time frame", "within how many days").
_ASKED_SPLIT = re.compile(r"(?:[,:;]|(?<=[.!?])(?<!\b[A-Z]\.)(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)"
                          r"(?<!\bvs\.))\s*"
                          r"(?=(?:(?:at|in|on|for|to|by|from|with|and|so|roughly|approximately|about|exactly|then|now|"
                          r"tell me|and then|over|within|after|before|during|until|under|into|of)\s+){0,2}"
                          r"(?:what|which|when|how|who|whom|whose|did|does|do|has|had|was|were|is|are|why|where)\b)",
                          re.I)
# "and why?", "and for what?", "and where?": a second question with no words of its own (joined to the first).
_ADDENDUM = re.compile(r"^\s*(?:and|or|also)\b", re.I)
# What notes abbreviate: a question's words also find these forms ("blood pressure" finds "BP 180/110").
SYNONYMS = {
    "blood pressure": "bp", "heart rate": "hr pulse", "pulse": "hr", "temperature": "temp", "respiratory rate": "rr",
    "oxygen saturation": "spo2 sat o2", "saturation": "spo2 sat", "hemoglobin a1c": "hba1c a1c",
    "haemoglobin a1c": "hba1c a1c", "a1c": "hba1c hemoglobin", "weight": "weighs wt pounds", "height": "tall",
    "glucose": "sugar", "ejection fraction": "ef", "platelet": "platelets",
    "medication": "meds medications", "antibiotic": "meds medications", "ct": "cat", "that day": "today",
    "at the visit": "today", "vaccine": "immunization", "vaccination": "immunization", "shot": "immunization",
    "allergic": "allergy allergies", "allergy": "allergic allergies", "on admission": "admitted admission",
    "at discharge": "discharged discharge", "white blood cell": "leukocytes wbc", "white cell": "leukocytes wbc",
    "white count": "leukocytes wbc", "wbc": "leukocytes", "red blood cell": "erythrocytes rbc", "rbc": "erythrocytes",
    "platelets": "thrombocytes plt", "sugar": "glucose", "flu": "influenza", "heart attack": "myocardial infarction",
    "high blood pressure": "hypertension", "stroke": "cerebrovascular",
    "diagnos": "impression assessment", "suspected": "suggestive consistent concerning",
    # where a note states what was found, and what was decided
    "found": "findings impression", "show": "findings impression", "reveal": "findings impression",
    "started": "plan", "planned": "plan", "recommend": "plan", "prescribed": "plan",
}
_DRUG_WORDS = ("medic", "medications", "meds", "prescri", "started", "given", "include", "taking")


_HAS_VERB = re.compile(r"\b(?:had|have|has|got|get|gotten|received|receive|undergone|undergo|underwent|"
                       r"(?:been |ever )?diagnosed with|(?:been )?treated for|(?:been )?(?:on|taking|prescribed|"
                       r"given|started on|put on))\b", re.I)


# A labelled line of a note ("ESTIMATED BLOOD LOSS: , 10 mL.", "ANESTHESIA: Spinal") whose label is what is asked.
_LABEL = re.compile(r"^\s*([A-Z][A-Z /&-]{2,40}):\W*\w")
LABEL_BONUS = 0.3
UNIT_TYPED = 0.9  # the type bonus of a sentence holding a value in the asked measure's unit
UNIT_FLOOR = 0.5  # ... which counts at least this share of it, whatever words it shares with the question
# What kind of thing answers a question by the thing it asks for: "to which specialty was he referred?" is
# answered by a specialty ("neurology evaluation"), whatever words the sentence shares with the question.
_ANSWER_FORMS = (
    (re.compile(r"\bspecialt(?:y|ies)\b|\bspecialists?\b|\bwhich (?:service|department|clinic)\b", re.I),
     re.compile(r"\b[a-z]+(?:ology|ologist|iatry|iatrist|ologic)\b|\borthop(?:a)?edic\w*|\bsurgeon\b|"
                r"\b(?:general|vascular|plastic|cardiothoracic) surgery\b|\bphysical therapy\b", re.I)),
)
FORM_BONUS = 0.4
QUALIFIED_BONUS = 0.3
# "what splint was applied?", "what kind of suture ...": the asked thing's noun, answered by that noun qualified
_ASKED_NOUN = re.compile(r"^\W*(?:what|which)\s+(?:(?:kind|type|sort|brand|make|model|size) of\s+)?"
                         r"(?:[a-z][a-z-]{2,}\s+){0,2}?([a-z][a-z-]{2,})\s+"
                         r"(?:was|were|is|are|did|does|do|has|had|will|would)\b", re.I)
_PLAIN_BEFORE = frozenset("""with without of a an the and or for to in on at by from as this that these those his her
their its was were is are be been being into onto per via no not any each other another same new""".split())
TYPED = (VALUE, DATE, DURATION, DRUG)
UNTYPED = 0.4  # a sentence holding no answer of the asked type: its score's share (words and meaning)
MEANING_POOL = 150  # one record's sentences compared by meaning with the asked clause (all, up to this many)
MEANING_CHARS = 300  # ... each by its first this many characters (a long line pads the whole batch: latency)
# The second stage (bench/reader_joint.py over the readings of every development round, bench/RESULTS.md session 11):
# the first stage's top 6, a tenth of the cross-encoder's logit added, put an answering sentence first in 509 of 558
# readings against 485 (better on 5 rounds of 7, worse on none); depths 3-12 and weights 0.05-0.4 all score 499-509.
JOINT_DEPTH = 6
JOINT_WEIGHT = 0.1
JOINT_CHARS = 600
CONTEXT_CAP = 0.25  # how much a case description's words may add to a sentence's score (a share of the asked words')


@dataclass(frozen=True)
class Asked:
    """A question, understood: the answer type, the asked clause's stems, the case description's stems."""

    type: str
    words: tuple[str, ...]  # stems of the asked clause (weighted 1)
    context: tuple[str, ...] = ()  # stems of the rest (a described case: weighted less)
    topic: str = ""  # the asked thing in the question's words ("appendectomy" for "has she had an appendectomy?")
    current: bool = False  # asks what is current or latest ("what medications is she on", "most recent BP")
    text: str = ""  # the asked clause as written (compared by meaning with the sentences)
    extra: tuple[str, ...] = ()  # forms the notes use for the asked words ("bp"), and medication words: weighted 1


_DRUG_NOUN = re.compile(r"\b(?:medications?|medicines?|meds|drugs?|pills?|tablets?|spray|inhaler)\b", re.I)
_TAKEN_FOR = re.compile(r"\b(?:take|takes|taking|took|prescribed|given|using|uses|use|on)\s+(?:\w+\s+)?for\b", re.I)


def answer_type(question: str) -> str:
    q = question.strip()
    if _DURATION_Q.search(q):
        return DURATION
    if _DATE_Q.search(q):
        return DATE
    if _YESNO_START.match(_ASKED_SPLIT.split(q)[-1]) and not re.search(r"\b(?:what|which|how)\b",
                                                                      _ASKED_SPLIT.split(q)[-1], re.I):
        return YESNO
    if _VALUE_Q.search(q) and not _DRUG_NOUN.search(q) and not \
            _TAKEN_FOR.search(q):  # "what does she take for her blood pressure?" asks a drug, not a reading
        return VALUE
    if _DRUG_Q.search(q):
        return DRUG
    return OTHER


def content_words(text: str, drop: set[str] | frozenset[str] = frozenset()) -> list[str]:
    out = []
    for w in P._WORD.findall(text):
        low = w.lower().removesuffix("'s")
        named = re.fullmatch(r"([a-z]+)\d+", low)  # "Roe917": a name as Synthea writes it
        if (low in FILLER and low not in _KEEP) or low in _QUESTION_WORDS or low in drop or len(low) < 2 \
                or (named and named.group(1) in drop):
            continue
        if re.fullmatch(r"\d+", low) and len(low) < 2:
            continue
        out.append(w)
    return out


_HEADER = re.compile(r"^(?:patient|mrn|date|dob|sex|title|author|name)\s*:", re.I)


def key(s: str) -> str:
    """A stem as compared here: long stems by their first 7 letters (prescription / prescribed)."""
    return s[:7] if len(s) > 7 and s.isalpha() else s


def _stems(words: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for w in words:
        s = key(stem(w))
        if s not in out:
            out.append(s)
    return tuple(out)


def understand(question: str, drop: set[str] | frozenset[str] = frozenset()) -> Asked:
    """The answer type and the words of `question` (name words in `drop` left out)."""
    parts = _ASKED_SPLIT.split(question)
    if len(parts) > 1 and _ADDENDUM.match(parts[-1]) and not content_words(parts[-1], drop):
        # "When was he referred to cardiology, and for what?": a second, wordless question rides on the first
        parts = parts[:-2] + [parts[-2] + " " + parts[-1]]
    asked, described = (parts[-1], " ".join(parts[:-1])) if len(parts) > 1 else (question, "")
    # "In the case of X, what ..." / "For the man who ..., what ...": the description is weighted less;
    # a description after the asked clause ("what was the dose of the woman with ...") too
    m = re.search(r"\b(?:of|for|in) (?:the|a|an|that) (?:\d+[- ]year[- ]old |young |elderly |old )?"
                  r"(?:case|patient|woman|man|lady|gentleman|girl|boy|child|female|male|person)\b", asked, re.I)
    if m and m.start() > 8:
        described = (described + " " + asked[m.start():]).strip()
        asked = asked[: m.start()]
    kind = answer_type(asked if asked.strip() else question)
    words = content_words(asked, drop)
    low = asked.lower()
    extra: list[str] = []
    for phrase, forms in SYNONYMS.items():
        if re.search(rf"\b{phrase}", low):
            extra += forms.split()
    if kind == DRUG:
        extra += list(_DRUG_WORDS)
    for form, _kinds in clinical_forms(asked, keep_rest=False):  # "what heart rhythm problem": "atrial fibrillation"
        extra += content_words(form)
    ctx = content_words(described, drop)
    # "Is hypochondriasis still on Jon Karls's problem list?": where it is listed is not what is asked
    asked_thing = re.sub(r"\b(?:on|in) (?:his|her|their|the|(?:[\w.-]+ ){0,2}[\w.-]+'s) (?:active )?(?:problem list|"
                         r"chart|records?|notes?|history|medication list|med list)\b", "", asked, flags=re.I)
    verbs = [m for m in _HAS_VERB.finditer(asked_thing) if asked_thing[: m.start()].strip()]  # not the leading "has"
    rest = asked_thing[verbs[0].end():] if verbs else re.sub(r"^\s*\w+", "", asked_thing)
    rest = re.sub(r"^\s*(?:(?:a|an|any|the)\s+)?(?:(?:past |prior |medical )?history|record|diagnosis|episode)s?"
                  r"\s+of\b",
                  "", rest, flags=re.I)
    rest = re.sub(r"\b(?:on|in) (?:his|her|their|the) (?:problem list|chart|records?|notes?|history)\b", "", rest,
                  flags=re.I)
    topic = " ".join(content_words(rest, drop | {"ever", "any", "still", "currently", "now", "presently"}))
    current = bool(re.search(r"\b(?:is|are)\b.*\b(?:on|taking)\b|\bcurrent(?:ly)?\b|\bnow\b|\b(?:most recent|"
                             r"latest|last|newest)\b", asked, re.I))
    own = _stems(words)
    return Asked(kind, own, tuple(s for s in _stems(ctx) if s not in own), topic, current, asked.strip() or question,
                 tuple(s for s in _stems(extra) if s not in own))


@dataclass
class Found:
    record_id: str
    segment: P.Segment
    score: float
    fact: str | None = None
    status: str = PRESENT  # the asked thing's assertion in this sentence (yes/no questions)
    matched: tuple[str, ...] = field(default_factory=tuple)
    typed: bool = False  # holds an answer of the asked type
    joint: float | None = None  # the second stage's score (the question read with the sentence), when it ran


_DOSE_ASKED = re.compile(r"\b(?:dose|doses|dosage|dosing|strength|how much|how many (?:mg|milligrams|units))\b", re.I)


def _type_bonus(kind: str, text: str, asked_text: str = "") -> float:
    if kind == VALUE:
        if not extract(text, Asked(VALUE, (), text=asked_text)):
            return 0.0
        unit = unit_class(asked_text)
        if unit is None:
            return 0.6
        return UNIT_TYPED if any(_of_class(text, m, unit) for m in VALUE_RE.finditer(text)) else 0.3
    if kind == DATE:
        return 0.6 if DATE_RE.search(text) else 0.0
    if kind == DURATION:
        return 0.6 if DURATION_RE.search(text) else 0.0
    if kind == DRUG:
        if _DOSE_ASKED.search(asked_text):  # "what allopurinol dose is she on?": a dose, not the drug named alone
            return 0.6 if DOSE_RE.search(text) else 0.2 if (_drug_names(text) or drug_phrase(text)) else 0.0
        return 0.6 if (DOSE_RE.search(text) or _drug_names(text) or drug_phrase(text)) else 0.0
    return 0.0


def best_sentences(texts: dict[str, str], asked: Asked, *, limit: int = 3,
                   similarity: Callable[[list[str]], list[float]] | None = None, by_meaning: int = 12,
                   whole: bool = False, joint: Callable[[list[str]], list[float] | None] | None = None
                   ) -> list[Found]:
    """The sentences of `texts` (record id -> text) that best answer `asked`, best first. `whole`: one record (a
    past case) whose every sentence is compared by meaning, also those sharing no word with the question. `joint`
    (archive/assistant/joint.py): the second stage, the asked clause read together with each of the first
    `JOINT_DEPTH` sentences; they are ordered by the first stage's score plus `JOINT_WEIGHT` x its score."""
    wanted = {s: 0.35 for s in asked.context}
    wanted.update({s: 1.0 for s in asked.extra})
    wanted.update({s: 2.0 for s in asked.words})
    asked_words = set(asked.words) | set(asked.extra)
    if not wanted:
        return []
    forms = [form for words, form in _ANSWER_FORMS if words.search(asked.text)]
    drug_class, _alias = find_drug_class(asked.text) if asked.type in (DRUG, OTHER) else (None, "")
    noun = _ASKED_NOUN.match(asked.text) if asked.type == OTHER else None
    noun_key = key(stem(noun.group(1))) if noun else ""
    cands: list[tuple[str, P.Segment, set[str], list[tuple[str, int, int]]]] = []
    df: dict[str, int] = {}
    # one record: its every sentence holding an answer of the asked type, by meaning too (or, without the model,
    # when the asked measure's unit says which values answer)
    every = len(texts) == 1 and (similarity is not None or (asked.type == VALUE and unit_class(asked.text) is not None))
    whole = whole and len(texts) == 1 and similarity is not None
    longer = sorted((w for w in wanted if len(w) >= 4 and w.isalpha()), key=len, reverse=True)
    mapped: dict[str, str] = {}

    def as_wanted(s: str) -> str:
        """A sentence's stem as the wanted stem it extends ("weight" for "weigh", "smoker" for "smoke")."""
        if s in wanted or len(s) < 3 or not s.isalpha():
            return s
        if s not in mapped:
            plural = next((w for w in wanted if s in (w + "s", w + "es") or w in (s + "s", s + "es")), None)
            mapped[s] = plural or (s if len(s) < 4 else next(  # "nut" for "nuts"; "flag" for "flagged"
                (w for w in longer if (s.startswith(w) and len(s) >= 5 and len(s) - len(w) <= 3)
                 or (w.startswith(s) and len(w) - len(s) <= 1)), s))
        return mapped[s]

    for rid, text in texts.items():
        heading: set[str] = set()  # the words of the section a sentence is in ("ASSESSMENT AND PLAN")
        line_at, line_label = -1, set[str]()  # the label opening the line ("PLAN:,1.  ...,2.  Being Nexium ...")
        for seg in P.segments(text):
            if P.is_heading(seg.text):
                heading = {key(s) for s, _, _ in P._stems_in(seg.text)}
                continue
            start = text.rfind("\n", 0, seg.start) + 1
            if start != line_at:
                line_at = start
                opened = _LABEL.match(text, start)
                line_label = {key(s) for s, _, _ in P._stems_in(opened.group(1))} if opened is not None else set()
            heading_here = heading | line_label
            if len(seg.text) < 4 or _HEADER.match(seg.text):
                continue
            low = seg.text.lower()
            if not heading_here & set(wanted) and not any(k in low for k in wanted) and not (
                    whole or every and _type_bonus(asked.type, seg.text, asked.text)):
                continue  # stems are word prefixes: a sentence holding none of them matches nothing
            stems_at = [(as_wanted(key(s)), a, b) for s, a, b in P._stems_in(seg.text)]
            have = ({s for s, _, _ in stems_at} | heading_here) & set(wanted)
            for s in have:
                df[s] = df.get(s, 0) + 1
            if have or (len(cands) < MEANING_POOL and (whole or every and _type_bonus(asked.type, seg.text,
                                                                                       asked.text))):
                cands.append((rid, seg, have, stems_at))
    if not cands:
        return []
    n = len(cands) + 1
    idf = {s: math.log(1 + n / (1 + df.get(s, 0))) for s in wanted}
    total = sum(wanted[s] * idf[s] for s in asked.words) or sum(wanted[s] * idf[s] for s in wanted) or 1.0
    scored: list[Found] = []
    for rid, seg, have, stems_at in cands:
        own = sum(wanted[s] * idf[s] for s in have if s in asked_words)
        described = sum(wanted[s] * idf[s] for s in have if s not in asked_words)
        base = (own + min(described, CONTEXT_CAP * total)) / total  # a sentence restating the case is not the answer
        if not have & asked_words and asked_words:
            base *= 0.3
        typed = _type_bonus(asked.type, seg.text, asked.text)
        # a value in the asked measure's unit ("4x6cm" for "how large was the opening?") answers even in other words
        ramp = min(1.0, base * 2)
        bonus = typed * max(UNIT_FLOOR if typed >= UNIT_TYPED else 0.0, ramp)
        if bonus_label(seg.text, asked, asked_words):
            bonus += LABEL_BONUS  # "ANESTHESIA:, Spinal with sedation." answers "what anesthesia was used?"
        if any(form.search(seg.text) for form in forms):
            bonus += FORM_BONUS * ramp
        if drug_class is not None and drug_class.matches(seg.text):  # "what NSAID ...": a member of the class
            bonus += FORM_BONUS * ramp
        if noun_key and _qualified(seg.text, stems_at, noun_key, asked_words):
            bonus += QUALIFIED_BONUS * ramp
        if asked.type in TYPED and not typed:
            base *= UNTYPED  # holds no answer of the asked type
        length = min(len(seg.text), 600) / 6000
        status = PRESENT
        if asked.type == YESNO:
            status = _status_of(seg.text, stems_at, set(asked.words))
        scored.append(Found(rid, seg, base + bonus - length, status=status,
                            matched=tuple(sorted(have)), typed=bool(typed)))
    scored.sort(key=lambda f: -f.score)
    if similarity is not None:
        top = scored[:by_meaning]
        if whole:
            top, rest = scored[:MEANING_POOL], scored[MEANING_POOL:]
        elif every and asked.type in TYPED:  # sentences holding an answer of the asked type
            top += [f for f in scored[by_meaning:] if f.typed][: by_meaning // 2]  # are compared by meaning too
            rest = [f for f in scored[by_meaning:] if f not in top]
        else:
            rest = scored[by_meaning:]
        cos = similarity([f.segment.text[:MEANING_CHARS] if whole else f.segment.text for f in top])
        for f, c in zip(top, cos, strict=False):
            # the answer type constrains meaning too: a sentence like the question holding no value is no answer
            f.score += 1.2 * max(0.0, c) * (UNTYPED if whole and asked.type in TYPED and not f.typed else 1.0)
        top.sort(key=lambda f: -f.score)
        scored = top + rest
    if joint is not None and asked.type != YESNO and not asked.current:  # never for "latest" (the caller orders
        head, tail = scored[:JOINT_DEPTH], scored[JOINT_DEPTH:]           # by date) or a yes/no reading
        read = joint([f.segment.text[:JOINT_CHARS] for f in head])
        if read is not None:  # (None: the model failed on this reading, the first stage's order stands)
            for f, v in zip(head, read, strict=True):
                f.joint = v
            # the first stage's scores stay (the callers' thresholds read them); the order is the two stages' sum
            scored = sorted(head, key=lambda f: -(f.score + JOINT_WEIGHT * (f.joint or 0.0))) + tail
    out = scored[:limit]
    for f in out:
        f.fact = extract(f.segment.text, asked)
    return out


def bonus_label(text: str, asked: Asked, asked_words: set[str]) -> bool:
    """Whether `text` opens with a label naming what is asked ("ANESTHESIA:, Spinal" for "what anesthesia?")."""
    label = _LABEL.match(text)
    return bool(label) and asked.type != YESNO and bool(
        {key(s) for s, _, _ in P._stems_in(label.group(1))} & asked_words)  # type: ignore[union-attr]


def _qualified(text: str, stems_at: list[tuple[str, int, int]], noun: str, asked: set[str]) -> bool:
    """Whether `text` names the asked noun with a word of its own before it ("a sugar-tong splint was applied"
    for "what splint?", not "closed reduction with splint application")."""
    for s, a, _b in stems_at:
        if s != noun:
            continue
        before = re.search(r"([A-Za-z0-9][\w-]*)\W{0,2}$", text[:a])
        if before is None:
            continue
        word, own = before.group(1), key(stem(before.group(1)))
        if word.lower() not in _PLAIN_BEFORE and not word.isdigit() and not any(  # "ventilating" is "ventilation"
                own == w or (len(w) >= 5 and own.startswith(w)) or (len(own) >= 5 and w.startswith(own))
                for w in asked):
            return True
    return False


_STRUCTURED = re.compile(r"^\s*(?:Observation|Problem|Diagnosis|Condition|Procedure|Immunization|Medication|Allergy|"
                         r"Order|Visit|Encounter|Report)\w*\s*:")


def _status_of(text: str, stems_at: list[tuple[str, int, int]], wanted: set[str]) -> str:
    spans = [(a, b) for s, a, b in stems_at if s in wanted]
    if not spans:
        return PRESENT
    if _STRUCTURED.match(text):  # a FHIR/HL7 line states a fact; no clause to negate ("...; flag H; status F")
        return NEGATED if re.search(r"\bstatus (?:refuted|entered.in.error)\b", text, re.I) else PRESENT
    whole = mention_status(text, spans[0][0], spans[-1][1])
    if whole != PRESENT or len(spans) == 1:
        return whole
    first = mention_status(text, *spans[0])  # "Hyperventilation was omitted. Photic stimulation was performed."
    if first == NEGATED:
        return first
    return mention_status(text, *spans[-1])  # "X-rays ... show no obvious signs of acute fracture": the last word's


def _nearest(text: str, matches: list[re.Match[str]], anchors: list[int]) -> re.Match[str] | None:
    if not matches:
        return None
    if not anchors:
        return matches[0]

    def dist(m: re.Match[str]) -> int:
        # prefer a value after the anchor word ("platelet count was 1,240,000")
        return min((m.start() - a) if m.start() >= a else 3 * (a - m.start()) for a in anchors)

    return min(matches, key=dist)


def extract(sentence: str, asked: Asked) -> str | None:
    """The asked fact as it is written in `sentence` (a slice of it), or None."""
    anchors = [a for s, a, _ in P._stems_in(sentence) if key(s) in asked.words or key(s) in asked.extra]
    if asked.type == VALUE and re.search(r"\bat what age\b|\bhow old\b", asked.text, re.I):
        age = re.search(r"\b(?:age|aged) (?:of )?(\d+(?:\s*(?:months?|years?|weeks?))?)|"
                        r"\b(\d+)[- ](?:years?|months?)[- ]old\b|"
                        r"\b(?:until|at|by) (\d+ (?:months?|years?|weeks?))\b", sentence, re.I)
        if age:
            return next(g for g in age.groups() if g)
    if asked.type == VALUE:
        structured = re.search(r";\s*value\s+([^;]+?)\s*;", sentence)  # a FHIR/HL7 line: "...; value 7.3 kg; ..."
        if structured:
            return structured.group(1)
        scale = _SCALE_Q.search(asked.text)
        if scale:  # "what stage?": "stage IIIA"; "what type of acromion?": "type-II plus"
            word = scale.group(1).lower()
            graded = re.search(rf"\b{word}[\s-]*{_GRADE}|{_GRADE}[\s-]*{word}\b", sentence, re.I)
            if graded:
                return graded.group(0)
        found = [m for m in VALUE_RE.finditer(sentence) if not _is_date_part(sentence, m)
                 and not re.match(r"[\s-]*(?:years?|yrs?|months?|weeks?|days?)[\s-]*old|-", sentence[m.end():], re.I)
                 and not re.match(r"\s*(?:\d+\s*)?(?:[-/)]|\.\s)", sentence[m.end():m.end() + 3])
                 or re.fullmatch(r"\d{2,3}/\d{2,3}", m.group(0))]
        found = [m for m in found if not re.fullmatch(r"\d{1,2}", m.group(0)) or len(found) == 1]
        many = re.search(r"\bhow many ([a-z]{3,})", asked.text, re.I)
        if many:  # "how many cycles": the number that counts them ("2 cycles", "three Panalok suture anchors")
            noun = re.escape(many.group(1).lower()[:5])
            counted_ = re.search(rf"\b(\d+|{_COUNT_WORD.pattern[2:-2]})\s+(?:[\w/-]+\s+){{0,2}}?{noun}", sentence, re.I)
            if counted_:
                return counted_.group(1)
        if not found and many:
            found = list(_COUNT_WORD.finditer(sentence))
        unit = unit_class(asked.text)
        if unit is not None:  # "what did twin A weigh?": the weight, not the Apgar score beside it
            found = [m for m in found if _of_class(sentence, m, unit)] or found
        m = _nearest(sentence, found, anchors)
        return m.group(0).strip() if m else None
    if asked.type == DATE:
        m = _nearest(sentence, list(DATE_RE.finditer(sentence)), anchors)
        return m.group(0).removeprefix("in ").removeprefix("since ") if m else None
    if asked.type == DURATION:
        m = _nearest(sentence, list(DURATION_RE.finditer(sentence)), anchors)
        return m.group(0).strip() if m else None
    if asked.type == DRUG:
        return drug_phrase(sentence)
    return None


_SCALE_Q = re.compile(r"\b(stage|grade|type|class|category|score)\b", re.I)
_GRADE = r"(?:\d(?:\.\d)?|(?-i:[IV]{1,4}))(?-i:[A-C])?(?:\s*plus\b|\+)?(?![\w/.-]*\d)"


def _is_date_part(text: str, m: re.Match[str]) -> bool:
    for d in DATE_RE.finditer(text):
        if d.start() <= m.start() < d.end():
            return True
    return False


_TITLED = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Prof)\.?\s+(?:[A-Z][a-z]+\s+)?$")


def drug_phrase(sentence: str) -> str | None:
    """A drug and its dose as written ("furosemide 40 mg by mouth once daily" -> "furosemide 40 mg")."""
    structured = re.match(r"\s*(?:Medication|Immunization|MedicationRequest|MedicationStatement)\w*\s*:\s*"
                          r"([^;\[]+?)\s*[;\[]",
                          sentence)  # a FHIR/HL7 line: "Immunization: TENIVAC [NDC ...]; dose 0.5 mL; ..."
    if structured:
        dose = re.search(r";\s*dose ([^;]+)", sentence)
        return structured.group(1) + (f" ({dose.group(1).strip()})" if dose else "")
    for m in _drug_names(sentence):
        rest = sentence[m.end(): m.end() + 40]
        dose = re.match(r"\s*(?:\(\w+\)\s*)?(\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms?|g|ml|units?|%|puffs?)"
                        r"(?:\s*(?:once|twice|three times|four times|daily|a day|bid|tid|qid|qd|prn|as needed)"
                        r"(?:\s*(?:daily|a day))?)?)", rest, re.I)
        return sentence[m.start(): m.end() + (dose.end() if dose else 0)]
    allergic = re.search(r"\b(?:allergic|sensitive|allergy|allergies|intolerant)\b(?:\s+or\s+\w+)?\s*(?:to|:)\s+"
                         r"([A-Za-z][\w-]{2,}(?:\s+(?:and|or|,)\s+[A-Za-z][\w-]{2,})*)", sentence, re.I)
    if allergic and allergic.group(1).split()[0].lower() not in {"the", "a", "an", "any", "her", "his", "no", "this"}:
        return allergic.group(1)
    dosed = DOSE_RE.search(sentence)
    if dosed:
        before = re.findall(r"[A-Za-z][A-Za-z\-]{3,}", sentence[: dosed.start()])
        if before:
            start = sentence.rfind(before[-1], 0, dosed.start())
            return sentence[start: dosed.end()]
    brand = next((m for m in re.finditer(r"(?<=[a-z,] )([A-Z][a-z]{3,}(?:(?:[- ]| and )[A-Z][a-z]+)?)\b", sentence)
                  if m.group(1).split()[0].lower() not in _NOT_BRAND
                  and not _TITLED.search(sentence, 0, m.start())), None)  # "Dr. Marino Fernandez" is a person
    if brand and re.search(r"\b(?:samples?|prescri\w*|start\w*|given|give|gave|take|taking|use|using|spray|"
                           r"tablet|inhaler|cream|medications?|meds|include)\b", sentence, re.I):
        return brand.group(1)
    return None


def stopped(sentence: str) -> bool:
    """Whether a sentence says a medication was stopped."""
    return bool(_STOPPED.search(sentence))


def is_negated(found: Found) -> bool:
    return found.status == NEGATED
