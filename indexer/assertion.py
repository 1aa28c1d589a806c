"""What a note says about a mention: affirmed, negated, possible, hypothetical, historical or family.

`assertion_of(text, start, end)` labels the span `text[start:end]` with the
ConText algorithm (Harkema et al. 2009) over the rule set medspaCy publishes
(indexer/data/context_rules.json, MIT, licence kept in the file) and a few
additions of ours; no spaCy. The text is cut into sentences (`sentences`); in
the span's sentence each rule match is a modifier whose scope runs forward
(or backward) to the sentence's end, cut short by a terminator of its
category or by the next modifier of the same category.

Sections set the default: a line under "Family history:" is about a relative,
one under "PAST MEDICAL HISTORY:" is historical, until the next heading.
Headings themselves are never findings (`is_heading`). Pure functions of the
text; nothing here reads a database or knows of users.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any, Literal

Label = Literal["affirmed", "negated", "possible", "hypothetical", "historical", "family"]
AFFIRMED: Label = "affirmed"
NEGATED: Label = "negated"
POSSIBLE: Label = "possible"
HYPOTHETICAL: Label = "hypothetical"
HISTORICAL: Label = "historical"
FAMILY: Label = "family"
LABELS: tuple[Label, ...] = (AFFIRMED, NEGATED, POSSIBLE, HYPOTHETICAL, HISTORICAL, FAMILY)
# Someone other than the patient who is no blood relative ("her roommate has strep", "a donor"): labelled `family`
# (not the patient's), told apart in Context.other (a relative's condition is a family history, theirs is not).
OTHER = "other"

# ConText categories -> our labels.
_CATEGORY: dict[str, str] = {
    "NEGATED_EXISTENCE": NEGATED,
    "POSSIBLE_EXISTENCE": POSSIBLE,
    "HYPOTHETICAL": HYPOTHETICAL,
    "HISTORICAL": HISTORICAL,
    "FAMILY": FAMILY,
    "OTHER_EXPERIENCER": OTHER,
}

# A modifier reaches at most this many words from its trigger (negex uses 5, ConText the sentence); tuned on
# the tune half of bench/assertion.py. A relative named early in a long sentence rarely owns its end.
MAX_SCOPE: dict[str, int] = {NEGATED: 15, POSSIBLE: 15, HYPOTHETICAL: 15, HISTORICAL: 15, FAMILY: 8, OTHER: 15}


# -- words -----------------------------------------------------------------------------------------

# Words as spaCy's English tokenizer cuts them where the rules care: "didn't" -> did n't, "mother's" -> mother 's.
_TOKEN = re.compile(r"[a-z0-9]+(?=n't\b)|n't\b|'s\b|[a-z0-9]+|[^\sa-z0-9]")


def _tokens(text: str, start: int = 0, end: int | None = None) -> list[tuple[str, int, int]]:
    """The words of text[start:end], lowercased, with their offsets in `text`. Only the span is lowercased: a
    note's sentences are read one by one, and lowercasing the whole note for each made that quadratic."""
    stop = len(text) if end is None else end
    low = _lower_in_place(text[start:stop])
    return [(m.group(), m.start() + start, m.end() + start) for m in _TOKEN.finditer(low)]


def _lower_in_place(part: str) -> str:
    """part.lower(), keeping each character where it was: a character whose lowercase is longer ("İ": "i̇") stays
    as written, so that every offset still points into the text."""
    low = part.lower()
    if len(low) == len(part):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in part)


# -- rules -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    category: str  # a Label or OTHER
    direction: str  # FORWARD, BACKWARD, BIDIRECTIONAL, TERMINATE, PSEUDO
    literal: str
    slots: tuple[tuple[frozenset[str], bool], ...]  # (words allowed, optional); ANY_WORD allows any word
    max_scope: int | None = None  # words the modifier reaches (medspaCy's max_scope); None: MAX_SCOPE of its label
    sentence_start: bool = False  # matches only as its sentence's first words ("Should chest pain recur, ...")
    stop_at_punct: bool = False  # its scope ends at a comma, colon, semicolon or bracket ("lung cancer screening")
    needs: frozenset[str] = frozenset()  # matches only in a sentence holding one of these words ("newborn")
    # whether `needs` may also be met anywhere in the text ("Newborn exam:"); False: only in the rule's sentence
    needs_in_text: bool = True
    # A BIDIRECTIONAL rule's reach before its words, to the nearest punctuation ("Influenza swab WAS NEGATIVE FOR
    # influenza A": the test's name and what follows); None: as far as after.
    back_scope: int | None = None
    sentence_end: bool = False  # matches only as its sentence's last words ("Maybe a stress fracture?")
    # its scope is not cut by terminators ("Hypokalemia on admission, repleted; K 4.1 today, RESOLVED.": a closing
    # clause of its own that speaks of the whole sentence, across the semicolons of what was done)
    through_terminators: bool = False
    # matches only where its words close their clause: punctuation or the sentence's end follows ("Murmurs: no."
    # answers the heading; "Thick films: no parasites seen" is "no" read forward)
    before_punct: bool = False
    # its scope is its own first word only ("seizure-free": the seizures are denied, not the epilepsy before them)
    own_first: bool = False


# A slot {"GAP": n} is up to n words of any kind but punctuation ("monitor creatinine post-contrast for"): n
# optional slots that allow any word. A gap never crosses a comma, a colon, a semicolon, a bracket or a stop.
ANY_WORD = frozenset(["\x01any"])
PUNCT = frozenset(",;:()[].!?")


def _slots(rule: dict[str, Any]) -> tuple[tuple[frozenset[str], bool], ...]:
    pattern = rule.get("pattern")
    if not pattern:
        return tuple((frozenset([w]), False) for w, _s, _e in _tokens(rule["literal"]))
    out = []
    for slot in pattern:
        if "GAP" in slot:
            out += [(ANY_WORD, True)] * int(slot["GAP"])
            continue
        lower = slot["LOWER"]
        words = lower["IN"] if isinstance(lower, dict) else [lower]
        # A multi-word alternative ("risk of") in one slot never matches one token in spaCy either; keep its words.
        out.append((frozenset(w.lower() for w in words), slot.get("OP") == "?"))
    return tuple(out)


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The published ConText rules and ours (indexer/data/context_rules.json)."""
    data = json.loads(files("indexer.data").joinpath("context_rules.json").read_text(encoding="utf-8"))
    # Ours replace a published rule of the same literal (a changed category), or add one.
    ours = {r["literal"]: r for r in data["chartvault_rules"]}
    published = [r for r in data["context_rules"] if r["literal"] not in ours]
    out = []
    for rule in [*published, *ours.values()]:
        out.append(Rule(_CATEGORY[rule["category"]], rule["direction"].upper(), rule["literal"], _slots(rule),
                        rule.get("max_scope"), bool(rule.get("sentence_start")), bool(rule.get("stop_at_punct")),
                        frozenset(w.lower() for w in rule.get("needs", ())), back_scope=rule.get("back_scope"),
                        needs_in_text=not rule.get("needs_in_sentence"),
                        sentence_end=bool(rule.get("sentence_end")),
                        through_terminators=bool(rule.get("through_terminators")),
                        before_punct=bool(rule.get("before_punct")), own_first=bool(rule.get("own_first"))))
    return tuple(out)


@lru_cache(maxsize=1)
def _rules_by_first_word() -> dict[str, tuple[Rule, ...]]:
    index: dict[str, list[Rule]] = {}
    for rule in rules():
        firsts: set[str] = set()
        for words, optional in rule.slots:
            if words is ANY_WORD:
                raise ValueError(f"rule {rule.literal!r}: a gap cannot open a rule")
            firsts |= words
            if not optional:
                break
        for w in firsts:
            index.setdefault(w, []).append(rule)
    return {w: tuple(rs) for w, rs in index.items()}


def _match_len(slots: tuple[tuple[frozenset[str], bool], ...], words: list[str], i: int) -> int:
    """Longest number of words from i that the slots match, or -1."""
    if not slots:
        return 0
    allowed, optional = slots[0]
    best = -1
    if i < len(words) and (words[i] in allowed or allowed is ANY_WORD and words[i] not in PUNCT):
        rest = _match_len(slots[1:], words, i + 1)
        if rest >= 0:
            best = 1 + rest
    if optional:
        best = max(best, _match_len(slots[1:], words, i))
    return best


@dataclass(frozen=True)
class Modifier:
    rule: Rule
    first: int  # word indexes in the sentence, end exclusive
    last: int
    scope: tuple[int, int]


def _matches(words: list[str], near: frozenset[str] = frozenset()) -> list[tuple[int, int, Rule]]:
    """Every rule match in the words (first, last exclusive, rule), overlapping ones included; a rule that
    `needs` a word matches where the sentence or `near` (the words of the whole text) holds one."""
    index = _rules_by_first_word()
    found: list[tuple[int, int, Rule]] = []
    # The sentence's first word (after list bullets or numbers and their punctuation).
    opening = next((k for k, w in enumerate(words) if w not in PUNCT and w not in "-*" and not w.isdigit()), 0)
    # Its last words: up to the closing quotes and brackets.
    closing = len(words)
    while closing > 0 and words[closing - 1] in "\"')]":
        closing -= 1
    for i, w in enumerate(words):
        for rule in index.get(w, ()):
            if rule.sentence_start and i != opening:
                continue
            if rule.needs and rule.needs.isdisjoint(words) and not (rule.needs_in_text and near & rule.needs):
                continue
            n = _match_len(rule.slots, words, i)
            if rule.sentence_end and i + n != closing:
                continue
            if rule.before_punct and n > 0 and i + n < len(words) and words[i + n] not in PUNCT:
                continue
            if n > 0:
                found.append((i, i + n, rule))
    return found


@lru_cache(maxsize=64)
def text_words(text: str) -> frozenset[str]:
    """The words of a whole text (a rule's `needs` may be met anywhere in the note: "Newborn exam:")."""
    return frozenset(w for w, _a, _b in _tokens(text))


def _modifiers(words: list[str], found: list[tuple[int, int, Rule]] | None = None) -> list[Modifier]:
    found = _matches(words) if found is None else list(found)
    # Longer matches win over the ones inside them ("no history of" over "history of").
    # Of two as long, one that may only open a sentence is the more specific ("RESOLVED pneumonia"), and one that
    # may only close it ("stress fracture?": the doubt, not a query of what follows).
    found.sort(key=lambda f: (-(f[1] - f[0]), f[0], not f[2].sentence_start, not f[2].sentence_end))
    taken: list[tuple[int, int, Rule]] = []
    for f in found:
        # Terminators of different categories on the same words ("but") all stand.
        # Another person's terminators ("he had") only mark where the patient is the subject again: they take
        # no words from other rules ("he DENIES").
        if all(f[1] <= t[0] or f[0] >= t[1] or _both_terminate(f[2], t[2]) or _yields(f[2]) or _yields(t[2])
               for t in taken):
            taken.append(f)
    taken.sort(key=lambda f: f[0])
    mods = []
    for first, last, rule in taken:
        reach = rule.max_scope or MAX_SCOPE[rule.category]
        if rule.own_first:
            scope = (first, first + 1)
        elif rule.direction in ("TERMINATE", "PSEUDO"):
            scope = (first, first)
        elif rule.direction == "BACKWARD":
            scope = (max(0, first - reach), first)
        elif rule.direction == "BIDIRECTIONAL" and rule.back_scope is not None:
            back = _within_punct(words, first, last, (max(0, first - rule.back_scope), first))
            scope = (back[0], min(len(words), last + reach))
        elif rule.direction == "BIDIRECTIONAL":
            scope = (max(0, first - reach), min(len(words), last + reach))
        else:
            scope = (last, min(len(words), last + reach))
        if rule.stop_at_punct:
            scope = _within_punct(words, first, last, scope)
        mods.append(Modifier(rule, first, last, scope))
    return [_limited(m, mods) for m in mods]


def _within_punct(words: list[str], first: int, last: int, scope: tuple[int, int]) -> tuple[int, int]:
    """The part of a scope that no punctuation separates from its trigger (words[first:last])."""
    lo, hi = scope
    for k in range(last, hi):
        if words[k] in PUNCT:
            hi = k
            break
    for k in range(first - 1, lo - 1, -1):
        if words[k] in PUNCT:
            lo = k + 1
            break
    return lo, max(lo, hi)


def _yields(rule: Rule) -> bool:
    return rule.category == OTHER and rule.direction == "TERMINATE"


def _both_terminate(a: Rule, b: Rule) -> bool:
    return a.direction == b.direction == "TERMINATE" and a.category != b.category


def _limited(mod: Modifier, mods: list[Modifier]) -> Modifier:
    """Cut a scope at a terminator of its category or at another modifier of its category. Two of a category
    that read towards each other agree on the words between them, and neither ends the other: "Breast cancer s/p
    lumpectomy 2015, NED" (the past reads back from NED over s/p), "Grandma (paternal) - osteoporosis" (the
    relative reads on over her side of the family)."""
    lo, hi = mod.scope
    for other in mods:
        if other is mod or other.rule.category != mod.rule.category and other.rule.direction != "TERMINATE":
            continue
        if other.rule.direction == "TERMINATE" and (other.rule.category != mod.rule.category
                                                    or mod.rule.through_terminators):
            continue
        if mod.rule.through_terminators and other.rule.category == mod.rule.category:
            continue  # a closing clause speaks of the whole sentence, over its steps' own ("PSA undetectable since")
        if {mod.rule.direction, other.rule.direction} == {"FORWARD", "BACKWARD"}:
            continue
        if mod.rule.direction in ("FORWARD", "BIDIRECTIONAL") and other.first >= mod.last:
            hi = min(hi, other.first)
        if mod.rule.direction in ("BACKWARD", "BIDIRECTIONAL") and other.last <= mod.first:
            lo = max(lo, other.last)
    return Modifier(mod.rule, mod.first, mod.last, (lo, hi))


# -- sentences -------------------------------------------------------------------------------------

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof st vs etc e.g i.e approx no fig dept jr sr inc pt pts hx dx rx sx tx b.i.d t.i.d q.i.d "
    "p.o q.d p.r.n a.m p.m incl poss prob susp".split()
)
# A full stop before a space, or before a comma that runs on ("Acute appendicitis.,POSTOPERATIVE": text whose
# line breaks became ", "); a blank line; a list item.
_BREAK = re.compile(r"[.!?]+[\"')\]]*(?:(?=\s)|,(?=\S))|\n[ \t]*\n|\n(?=[ \t]*(?:[-*\u2022]|\d{1,2}[.)])\s)")


_LIST_NUMBER = re.compile(r"(?:^|\n)[ \t]*\d{1,2}$")
_LAST_WORD = re.compile(r"([A-Za-z.]+)$")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: a full stop, question or exclamation mark before a space (not after an
    abbreviation or an initial), a blank line, a list item, a heading."""
    cuts = {0, len(text)}
    for m in _BREAK.finditer(text):
        if m.group().startswith("?") and (m.start() == 0 or text[m.start() - 1].isspace()):
            continue  # "Pruritic rash ? scabies": a question mark before a word queries it, it ends no sentence
        if m.group().startswith("."):
            # Only the few characters before the stop (a search anchored at the end of the whole prefix
            # would read the text again for every stop).
            near = text[max(0, m.start() - 40) : m.start()]
            number = _LIST_NUMBER.search(near)
            if number and ("\n" in number.group() or m.start() <= 40):
                continue  # a list number: "1. Asthma"
            before = _LAST_WORD.search(near)
            word = before.group(1).lower() if before else ""
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha() and text[m.start() - 1].isupper()):
                continue
        cuts.add(m.end())
    for head in headings(text):
        cuts.add(head.start)
        cuts.add(head.end)
    ordered = sorted(cuts)
    return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if text[a:b].strip()]


# -- sections --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    name: str
    start: int  # the heading's own characters, colon included
    end: int
    default: Label
    body_end: int  # where the heading's section ends (the next heading or the text's end)
    reach: int | None = None  # where its default stops applying (None: body_end); a denial heading's: its list

    def default_at(self, pos: int) -> Label:
        """The default for a word at `pos` of this heading's section."""
        return self.default if self.reach is None or pos < self.reach else AFFIRMED


# (words of a heading, the default for its lines); first match wins.
SECTION_DEFAULTS: tuple[tuple[str, Label], ...] = (
    # "Denies: fever, chills, cough." -- a heading that is itself a negation denies its list.
    ("denies", NEGATED),
    ("denied", NEGATED),
    # "Absent: ascites, asterixis, jaundice", "Ruled out: PE, MI", "Not present: ..." -- a heading that states an
    # absence denies its list the same way.
    ("absent", NEGATED),
    ("ruled out", NEGATED),
    ("excluded", NEGATED),
    ("not present", NEGATED),
    ("not seen", NEGATED),
    ("not found", NEGATED),
    # A list under "Negative ROS:", "Pertinent negatives:" denies each of its items; "Pertinent positives and
    # negatives:" affirms nothing by default (a positive heading is read first).
    ("positive", AFFIRMED),
    ("positives", AFFIRMED),
    ("negative", NEGATED),
    ("negatives", NEGATED),
    # ICD-10-CM guideline IV.H: a working diagnosis is uncertain; a differential lists what may be.
    ("working diagnosis", POSSIBLE),
    ("working dx", POSSIBLE),
    ("provisional diagnosis", POSSIBLE),
    ("provisional dx", POSSIBLE),
    ("presumptive diagnosis", POSSIBLE),
    ("tentative diagnosis", POSSIBLE),
    ("differential", POSSIBLE),
    ("ddx", POSSIBLE),
    ("family", FAMILY),
    ("fhx", FAMILY),
    # A heading that names a relative ("Mother:", "Pat uncle:", "MGM -" is not one, "MGM:" is) lists their conditions.
    *((kin, FAMILY) for kin in (
        "mother", "father", "mom", "dad", "parents", "brother", "brothers", "sister", "sisters", "sibling",
        "siblings", "son", "daughter", "aunt", "uncle", "cousin", "grandmother", "grandfather", "grandparents",
        "mgm", "mgf", "pgm", "pgf")),
    ("fh", FAMILY),
    ("present illness", AFFIRMED),
    ("hpi", AFFIRMED),
    ("past medical", HISTORICAL),
    ("past surgical", HISTORICAL),
    ("past history", HISTORICAL),
    ("medical history", HISTORICAL),
    ("surgical history", HISTORICAL),
    ("previous history", HISTORICAL),
    ("prior history", HISTORICAL),
    ("psychiatric history", HISTORICAL),
    ("social history", HISTORICAL),
    ("pmh", HISTORICAL),
    ("pmhx", HISTORICAL),
    ("psh", HISTORICAL),
    ("shx", HISTORICAL),
    # An allergy is a standing fact of the patient's past, not a finding of this visit.
    ("allergies", HISTORICAL),
    ("allergy", HISTORICAL),
    # "Resolved problems:", "Resolved:", "Resolved issues:" list what the patient no longer has.
    ("resolved", NEGATED),
    # "Labs pending: QuantiFERON, hepatitis panel, RPR for syphilis", "Ordered: ...": tests awaited look for what
    # may be; "Pt instructions:", "Return precautions:" name what to watch for.
    ("pending", HYPOTHETICAL),
    ("ordered", HYPOTHETICAL),
    # "Bloods sent: HIV, syphilis, hep B/C", "Swabs sent:", "Investigations requested:": tests sent look for what may be
    # (not "Referral sent:", which may name the patient's own condition).
    *((f"{what} {done}", HYPOTHETICAL) for what in ("bloods", "blood tests", "tests", "samples", "swabs", "serology",
                                                     "screen", "investigations", "labs")
      for done in ("sent", "requested", "taken", "drawn")),
    ("instructions", HYPOTHETICAL),
    ("precautions", HYPOTHETICAL),
    # "Pt education:", "Teaching:", "Anticipatory guidance:" tell what may happen; "Prior auth criteria:",
    # "Inclusion criteria:" describe a kind of patient, not this one ("Hospice eligibility:" may list this
    # patient's own conditions, so eligibility alone is no key).
    ("education", HYPOTHETICAL),
    ("teaching", HYPOTHETICAL),
    ("anticipatory guidance", HYPOTHETICAL),
    ("auth criteria", HYPOTHETICAL),
    ("authorization criteria", HYPOTHETICAL),
    ("coverage criteria", HYPOTHETICAL),
    ("inclusion criteria", HYPOTHETICAL),
    ("exclusion criteria", HYPOTHETICAL),
    ("eligibility criteria", HYPOTHETICAL),
    # "Patient leaflet given:", "Safety netting:", "Advice given:" name what to watch for, as instructions do.
    ("leaflet", HYPOTHETICAL),
    ("leaflets", HYPOTHETICAL),
    ("handout", HYPOTHETICAL),
    ("handouts", HYPOTHETICAL),
    ("safety netting", HYPOTHETICAL),
    ("safety net", HYPOTHETICAL),
    ("advice given", HYPOTHETICAL),
    # "Risks and benefits explained:", "Discussed risks of the procedure:": a consent's list of what may happen
    # ("Risk factors:", "Cardiac risks:", "VTE risks:" are the patient's own, so "risks" alone is no key)
    *((key, HYPOTHETICAL) for key in ("risks and benefits", "risks explained", "risks discussed", "risks of",
                                      "discussed risks", "explained risks", "risks include", "risks including")),
    ("complications discussed", HYPOTHETICAL),
    ("complications explained", HYPOTHETICAL),
)

# "Family history:" at a line's start or after a sentence; "PAST MEDICAL HISTORY" alone on a line; "# Allergies".
_COLON_HEAD = re.compile(
    # The stop before a heading is matched, not looked behind for: the same matches, half the time.
    r"(?m)(?:^|[.!?]\s\s?|[.!?],)[ \t]*(#{1,6}[ \t]*)?"
    r"([A-Za-z][A-Za-z/&' ()-]{1,50}?)[ \t]*:(?=\s|,|$)"
)
# Text whose line breaks were flattened keeps its upper-case headings after a run of spaces: "]   PATIENT HISTORY:".
_CAPS_HEAD = re.compile(r"(?<=\S)[ \t]{2,}()([A-Z][A-Z/&' ()-]{2,50}[A-Z)])[ \t]*:(?=\s|,|$)")
_LINE_HEAD = re.compile(r"(?m)^[ \t]*(#{1,6}[ \t]*)?([A-Z][A-Z/&' ()-]{2,50}[A-Z)])[ \t]*:?[ \t]*$")
_MD_HEAD = re.compile(r"(?m)^[ \t]*(#{1,6}[ \t]*)([A-Za-z][A-Za-z/&' ()-]{1,50}?)[ \t]*:?[ \t]*$")


def _section_key(name: str) -> Label | None:
    padded = " " + " ".join(re.findall(r"[a-z]+", name.lower())) + " "
    found = next((label for key, label in SECTION_DEFAULTS if f" {key} " in padded), None)
    if found is None and set(padded.split()) & _kin():
        return FAMILY  # "Grandpop:", "Meemaw:": every relative the family rule knows names a relative's heading
    return found


@lru_cache(maxsize=1)
def _kin() -> frozenset[str]:
    """The relatives of the rule set's "family" rule (one list of kin, not a second one for headings)."""
    rule = next((r for r in rules() if r.literal == "family" and r.category == FAMILY and r.direction == "FORWARD"),
                None)
    if rule is None:
        return frozenset()
    return frozenset(rule.slots[0][0]) - {"family", "families", "fam", "relative", "relatives", "kin"}


def section_default(name: str) -> Label:
    return _section_key(name) or AFFIRMED


def _looks_like_heading(name: str, colon: bool) -> bool:
    words = name.split()
    if not words or len(words) > 6:
        return False
    if colon:
        # "Family history:", "Allergies:", "PMH:" -- not "The patient states:" nor "BP 120/80:".
        return name[0].isupper() and not any(w.lower() in ("is", "was", "are", "were", "states", "said") for w in words)
    return True


@lru_cache(maxsize=64)
def headings(text: str) -> tuple[Heading, ...]:
    """The section headings of a text, each with the default for the lines under it."""
    found: list[tuple[int, int, str]] = []
    for rx, colon in ((_COLON_HEAD, True), (_CAPS_HEAD, False), (_LINE_HEAD, False), (_MD_HEAD, False)):
        for m in rx.finditer(text):
            name = m.group(2).strip()
            if _looks_like_heading(name, colon):
                start = m.start(1) if m.group(1) else m.start(2)
                found.append((start, m.end(), name))
    found.sort()
    merged: list[tuple[int, int, str]] = []
    for h in found:
        if merged and h[0] < merged[-1][1]:
            continue
        merged.append(h)
    out: list[Heading] = []
    for k, (start, end, name) in enumerate(merged):
        body_end = merged[k + 1][0] if k + 1 < len(merged) else len(text)
        end = start + len(text[start:end].rstrip())
        default = section_default(name)
        reach = _list_end(text, end, body_end) if _DENIAL.search(name) or _LIST_ONLY.search(name) else None
        out.append(Heading(name, start, end, default, body_end, reach))
    return tuple(out)


# A heading that is itself a denial ("Denies:", "Absent:", "Ruled out:") denies its list only, not the lines after.
_DENIAL = re.compile(r"\b(?:denie[sd]|absent|ruled out|excluded|not (?:present|seen|found))\b", re.I)
_ITEM = re.compile(r"[ \t]*(?:[-*\u2022]|\d{1,2}[.)])")
# A heading of one list inside a note, no section of it ("Bloods taken: FBC, CRP.", "Advice given: stop smoking.",
# "Leaflet: ..."): its default reaches its list only, as a denial heading's does; the lines after are the note's.
_LIST_ONLY = re.compile(
    r"\b(?:(?:bloods|blood tests|tests|samples|swabs|serology|screen|investigations|labs)\s+"
    r"(?:sent|requested|taken|drawn)|leaflets?|handouts?|safety net(?:ting)?|advice given|risks|"
    r"complications (?:discussed|explained))\b", re.I)


def _list_end(text: str, end: int, body_end: int) -> int:
    """Where a denial heading's list ends: its own line when the list follows on it ("Denies: fever, chills."),
    else the list items on the lines under it. The lines after ("Reports cough and wheezing.") are not denied."""
    nl = text.find("\n", end, body_end)
    line_end = body_end if nl < 0 else nl
    if text[end:line_end].strip():
        return line_end
    pos = line_end
    while pos < body_end:
        nl = text.find("\n", pos + 1, body_end)
        nxt = body_end if nl < 0 else nl
        if not _ITEM.match(text, pos + 1) or not text[pos + 1 : nxt].strip():
            break
        pos = nxt
    return pos


def _heading_over(heads: tuple[Heading, ...], starts: list[int], pos: int) -> Heading | None:
    """`heading_at` over a text's headings (`starts` their starts), by bisection."""
    k = bisect_right(starts, pos) - 1
    if k >= 0 and pos < heads[k].body_end:
        return heads[k]
    return None


def heading_at(text: str, pos: int) -> Heading | None:
    """The heading whose section holds position `pos`, if any."""
    current = None
    for head in headings(text):
        if head.start > pos:
            break
        current = head
    if current is not None and pos < current.body_end:
        return current
    return None


def is_heading(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies inside a heading (a heading is never a finding)."""
    return any(h.start <= start and end <= h.end for h in headings(text))


# -- assertions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Every modifier that reaches a span, and the default of its section."""

    negated: bool = False
    possible: bool = False
    hypothetical: bool = False
    historical: bool = False
    family: bool = False
    heading: bool = False
    section: str = ""
    other: bool = False  # about someone other than the patient who is no blood relative (OTHER)

    @property
    def label(self) -> Label:
        # A denied relative's disease is still denied; a relative's (or anyone else's) is never the patient's.
        if self.negated:
            return NEGATED
        if self.family or self.other:
            return FAMILY
        if self.hypothetical:
            return HYPOTHETICAL
        if self.possible:
            return POSSIBLE
        if self.historical:
            return HISTORICAL
        return AFFIRMED


@lru_cache(maxsize=64)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """`sentences`, cached for a text labelled many times (each hit of a search)."""
    return tuple(sentences(text))


# A long text is cut into sentences only around the span asked about (a search labels a few mentions of
# each of its hits; cutting a whole long report for each costs more than the search).
SENTENCE_WINDOW = 1500


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """(start, end) of the sentence holding text[start:end] (it runs on to `end` if the span crosses a break)."""
    lo = 0 if len(text) <= 2 * SENTENCE_WINDOW else max(0, start - SENTENCE_WINDOW)
    hi = len(text) if lo == 0 and len(text) <= 2 * SENTENCE_WINDOW else min(len(text), end + SENTENCE_WINDOW)
    spans = sentence_spans(text) if (lo, hi) == (0, len(text)) else sentence_spans(text[lo:hi])
    for s, e in spans:
        if s + lo <= start < e + lo:
            return s + lo, max(e + lo, min(end, len(text)))
    return lo, hi


def _sentence_of(text: str, start: int, end: int) -> tuple[int, int]:
    return sentence_around(text, start, end)


def _flags_at(words: list[str], mods: list[Modifier], first: int, last: int) -> dict[str, bool]:
    """The categories of the modifiers whose scope reaches words[first:last]."""
    flags: dict[str, bool] = {label: False for label in (*LABELS, OTHER)}
    for mod in mods:
        lo, hi = mod.scope
        if lo < last and first < hi:
            flags[mod.rule.category] = True
            # "no history of", "no hx of": denied, and about the past (ConText marks both). The past ends where
            # a historical modifier would: "no history of CAD who presents with a one-day history of PAIN".
            if mod.rule.category == NEGATED and {"history", "hx"} & set(words[mod.first : mod.last]):
                stop = min((m.first for m in mods if m.rule.category == HISTORICAL and m.first >= mod.last
                            and m.rule.direction in ("TERMINATE", "PSEUDO")), default=hi)
                if first < stop:
                    flags[HISTORICAL] = True
    return flags


def context_of(text: str, start: int, end: int) -> Context:
    """The modifiers that reach text[start:end] in its sentence, and its section's default."""
    return context_of_spans(text, ((start, end),))


def context_of_spans(text: str, spans: Sequence[tuple[int, int]], problem_line: bool = False) -> Context:
    """What the text says of one concept written in several pieces ("ANEMIA has resolved with IRON": the words a
    code's name matched). Only the pieces' own words are masked; a trigger between them ("resolved") still
    acts. A modifier or a section default that reaches any piece counts; a heading holds the first piece.

    `problem_line`: the caller knows the heading holding the pieces is a condition's name ("Hyperlipidemia: LDL
    162, on atorvastatin"): when it names no section and data follows it on its line, the condition is read with
    its line, as a problem list's item, not as a topic (a heading is otherwise never a finding)."""
    if not spans:
        raise ValueError("no span")
    for start, end in spans:
        if not 0 <= start < end <= len(text):
            raise ValueError(f"span {start}:{end} is not inside a text of {len(text)} characters")
    # A piece inside a heading ("FAMILY HISTORY: diabetes in sister") is read through its section's default. A
    # concept named partly in a heading that is no section's name and partly under it ("ANEMIA: resolved after
    # IRON therapy") is a problem-list line: the heading's pieces are read with the line under them.
    body = sorted(p for p in spans if not is_heading(text, *p))
    line_end = -1
    if not body:
        head = heading_at(text, min(spans)[0])
        line_end = _data_after(text, head) if head is not None and problem_line else -1
        if line_end < 0:
            return Context(heading=True, section=head.name if head else "")
    problem = list(spans) if not body else [p for p in spans if p not in body and _problem_heading(text, p, body)]
    spans = sorted(body + problem)
    head = heading_at(text, (body or spans)[0][0])
    flags: dict[str, bool] = {label: False for label in (*LABELS, OTHER)}
    covered = False
    pending = list(spans)
    while pending:
        s, e = _sentence_of(text, *pending[0])
        if pending[0] in problem:
            s, e = s, line_end if not body else _sentence_of(text, *body[0])[1]
        here = [p for p in pending if p[0] < e] or pending[:1]
        pending = [p for p in pending if p not in here]
        toks = _tokens(text, s, max(e, *(b for _a, b in here)))
        words = [w for w, _a, _b in toks]
        inside = [k for k, (_w, a, b) in enumerate(toks) if any(a < pe and b > ps for ps, pe in here)]
        if not inside:
            continue
        covered = True
        # The concept's own words trigger nothing: "no CHANGE IN VISION" is negated, "HISTORY OF PRESENT
        # ILLNESS" is not historical.
        for k in inside:
            words[k] = "\x00"
        mods = _modifiers(words, _matches(words, text_words(text)))
        for first, last in _runs(inside):
            for label, on in _flags_at(words, mods, first, last).items():
                flags[label] = flags[label] or on
        if _span_historical(text, here[0][0], here[-1][1], text[s : here[0][0]], text[here[-1][1] : e],
                            head is None, flags[NEGATED]):
            flags[HISTORICAL] = True
        habit = _habit_prefix(text[max(s, here[0][0] - 16) : here[0][0]], text[here[0][0] : here[-1][1]])
        if habit is not None:
            flags[habit] = True
    if not covered:
        return Context(section=head.name if head else "")
    result = _result_after(text, spans[-1][1], _sentence_of(text, *spans[-1])[1])
    if result is not None:
        flags[result] = True  # "HIV-1/2 Ag/Ab 4th gen: non-reactive", "Lyme IgM equivocal; Western blot sent"
    if line_end >= 0 and head is not None:
        answer = _answer_after(text, head.end, line_end)
        if answer is not None:
            flags[answer] = True  # "Fever: denies.", "Orthopnea: none": the line's whole answer is a trigger
    if _inside(_unchecked_items(text), spans[0][0]):
        flags[NEGATED] = True  # "PMH: [ ] Diabetes [x] Hypertension", "Epilepsy ☐  MI ☑": a box left empty
    if _other_twin(text, _sentence_of(text, *spans[0])[0], spans[0][0]):
        flags[FAMILY] = True  # "Twin B has NEC; this note is for Twin A": the co-twin's, not the patient's
    if any(_VACCINE.fullmatch(text[a:b]) for a, b in spans):
        flags[HYPOTHETICAL] = True  # "Tdap given": a vaccine, not tetanus, diphtheria and pertussis
    default = head.default_at(spans[0][0]) if head else AFFIRMED
    if default == FAMILY and head is not None and _our_twin(text, head.name):
        default = AFFIRMED  # "Twin A: RDS on CPAP ... This note is about Twin A": the patient's own heading
    if default != AFFIRMED:
        flags[default] = True
    return Context(
        negated=flags[NEGATED],
        possible=flags[POSSIBLE],
        hypothetical=flags[HYPOTHETICAL],
        historical=flags[HISTORICAL],
        family=flags[FAMILY],
        section=head.name if head else "",
        other=flags[OTHER],
    )


# A test's result written after its name, however long the name: "HIV-1/2 Ag/Ab 4th gen: non-reactive", "Lyme IgM
# equivocal; Western blot sent", "HIV-1/2 Ag/Ab screen reactive; confirmatory assay pending". NegEx's result triggers
# read back a few words; a lab line's name (assay, antigen, generation, specimen) is often longer. Only a lab name's
# own words may stand between the concept and the result that ends its clause, so "Chest pain: troponin negative"
# denies no chest pain and "Pneumonia, blood cultures negative" is a pneumonia.
_LAB_WORDS = frozenset(
    "ab abs ag ags antibody antibodies antigen antigens igm igg iga ige screen screening test tests testing titer "
    "titers "
    "titre pcr naat nat rna dna viral load serology serologies rapid eia elisa ria western blot culture cultures cx "
    "assay combo panel qual quant qualitative quantitative level result results swab smear stool urine serum blood "
    "plasma csf type gen generation st nd rd th third fourth fifth probe amplified nucleic acid ql qn total".split())
_RESULT_END = re.compile(
    r"(?i)(?:^|(?<=[\s:=-]))(?:(?P<neg>non-?\s?reactive|negative|neg|not\s+detected|undetect(?:ed|able)|"
    r"none\s+detected|no\s+growth)|(?P<doubt>equivocal|indeterminate|borderline|inconclusive)|"
    r"(?P<screen>reactive|positive|detected))\s*[.!]?\s*$")
_CONFIRMATION_AWAITED = re.compile(r"(?i)\bconfirm\w*\b[^.;]*\b(?:pending|sent|ordered|to follow|awaited)\b")


def _result_after(text: str, end: int, sentence_end: int) -> Label | None:
    """The category a result ending the concept's clause gives it, when only a lab name's words stand between."""
    tail = text[end:sentence_end]
    cut = re.search(r"[;,]", tail)
    clause, rest = (tail[: cut.start()], tail[cut.end() :]) if cut else (tail, "")
    m = _RESULT_END.search(clause)
    if m is None:
        return None
    between = re.findall(r"[a-z]+|\d+", clause[: m.start()].lower())
    if len(between) > 10 or any(w not in _LAB_WORDS and not w.isdigit() for w in between):
        return None
    if m.group("neg"):
        return NEGATED
    if m.group("doubt"):
        return POSSIBLE
    # A positive screen whose confirmation is awaited is not yet the condition.
    return POSSIBLE if _CONFIRMATION_AWAITED.search(rest) else None


def _data_after(text: str, head: Heading) -> int:
    """Where the first sentence after a heading that names no section (`SECTION_DEFAULTS`) ends, when it goes on
    on the heading's own line ("Hypertension: BP 150/95, increase amlodipine"); else -1 (a heading alone on its
    line, or a section's name such as "Allergies:", is a topic, never a finding)."""
    if _section_key(head.name) is not None or not text[head.end : head.end + 1].isspace() and head.end < len(text):
        return -1
    nl = text.find("\n", head.end)
    if not text[head.end : len(text) if nl < 0 else nl].strip():
        return -1
    start = head.end + len(text[head.end :]) - len(text[head.end :].lstrip(" \t"))
    return _sentence_of(text, start, start + 1)[1]


def _answer_after(text: str, start: int, end: int) -> str | None:
    """The category of a trigger that is all the words of text[start:end] ("denies", "none", "negative"): the
    answer to the heading before it, which a forward trigger with nothing after it gives backward."""
    words = [w for w, _a, _b in _tokens(text, start, end) if w not in PUNCT]
    if not words:
        return None
    for first, last, rule in _matches(words):
        if first == 0 and last == len(words) and rule.direction not in ("TERMINATE", "PSEUDO"):
            return rule.category if rule.category in (NEGATED, POSSIBLE, HYPOTHETICAL) else None
    return None


def _problem_heading(text: str, piece: tuple[int, int], body: list[tuple[int, int]]) -> bool:
    """Whether `piece` lies in a heading that names no section (`SECTION_DEFAULTS`) and a `body` piece lies in
    the first sentence under it."""
    head = next((h for h in headings(text) if h.start <= piece[0] and piece[1] <= h.end), None)
    if head is None or _section_key(head.name) is not None:
        return False
    first = _sentence_of(text, min(head.end + 1, len(text) - 1), min(head.end + 2, len(text)))
    return any(head.end <= a and b <= max(first[1], a) and a < first[1] for a, b in body)


# A form's tick boxes: "[ ] Diabetes [x] Hypertension", "Epilepsy ☐  Stroke ☑". A box left empty denies its item.
_BOX = re.compile(
    r"\[[ \t]*(?P<on>[xX*\u2713\u2714])?[ \t]*\]|[\u2610\u25a1]|(?P<ticked>[\u2611\u2612\u2705])")
_LINE_LABEL = re.compile(r"[ \t]*[A-Za-z][A-Za-z /&()-]{0,40}:[ \t]*")


@lru_cache(maxsize=64)
def _unchecked_items(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each item of a line of tick boxes whose box is empty. On a line that ends with a box each box
    comes after its item ("Epilepsy ☐  Stroke ☑"); else before it ("PMH: [ ] Diabetes [x] Hypertension")."""
    if "[" not in text and not any(c in text for c in "\u2610\u25a1\u2611\u2612\u2705"):
        return ()
    out: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        boxes = list(_BOX.finditer(text, start, end))
        if not boxes:
            continue
        label = _LINE_LABEL.match(text, start, end)
        opening = label.end() if label else start
        opening += len(text[opening:end]) - len(text[opening:end].lstrip())
        # A box comes after its item only on a line that ends with one ("Epilepsy \u2610  Stroke \u2611"); a line
        # whose last box has words after it ("- [x] Asthma  [ ] Diabetes", "1. [x] Asthma [ ] COPD") puts each box
        # before its item, whatever opens the line (a bullet, a number, a long label).
        before = bool(text[boxes[-1].end() : end].strip())
        for k, box in enumerate(boxes):
            if box.group("on") or box.group("ticked"):
                continue
            if before:
                item = (box.end(), boxes[k + 1].start() if k + 1 < len(boxes) else end)
            else:
                item = (boxes[k - 1].end() if k else opening, box.start())
            out.append(item)
    return tuple(out)


def _inside(items: tuple[tuple[int, int], ...], pos: int) -> bool:
    return any(a <= pos < b for a, b in items)


# Which twin a note is about, when it says so ("this note is for Twin A", "this baby is twin 2", "our patient is
# twin B"); a condition a sentence gives to the other twin ("Twin B has NEC") is then the co-twin's.
_THIS_TWIN = re.compile(
    r"(?i)\b(?:(?:this|the)\s+(?:baby|infant|neonate|newborn|pt|patient|child|one)\s*[(,-]\s*|"
    r"(?:this|the)\s+(?:note|notes|entry|baby|infant|neonate|newborn|pt|patient|child|one)\s+"
    r"(?:is\s+)?(?:for|about|of|regarding|re|concerns|is)|this\s+is|(?:our|my)\s+(?:patient|pt)\s+is|"
    r"(?:pt|patient)\s+is)\s*(?:the\s+)?twin\s*[#-]?\s*([a-c1-3]|one|two|three)\b")
# "Twin A", "twin #2", "twin B": a capital letter or a number that counts no time ("her twin 2 weeks ago", "the
# twin a week later" name no twin).
_TWIN_NAMED = re.compile(
    r"\b(?i:twin)\s*[#-]?\s*([A-C]|[1-3]|(?i:one|two|three))\b"
    r"(?!\s*(?i:weeks?|wks?|days?|months?|mos?|years?|yrs?|hours?|hrs?|minutes?|mins?|times?)\b)")


@lru_cache(maxsize=64)
def _twins_ours(text: str) -> frozenset[str]:
    """The twin (its letter or number) the note says it is about; empty when it names none (or several)."""
    if "twin" not in text.lower():
        return frozenset()
    ours = frozenset(m.group(1).lower() for m in _THIS_TWIN.finditer(text))
    return ours if len(ours) == 1 else frozenset()


def _our_twin(text: str, name: str) -> bool:
    """Whether a heading ("Twin A") names the twin the note says it is about."""
    named = _TWIN_NAMED.fullmatch(name.strip())
    return named is not None and _twins_ours(text) == {named.group(1).lower()}


def _other_twin(text: str, sentence_start: int, span_start: int) -> bool:
    """Whether the note names its patient as one twin and the span's sentence, before the span, names another."""
    ours = _twins_ours(text)
    if not ours:
        return False
    named = [m.group(1).lower() for m in _TWIN_NAMED.finditer(text, sentence_start, span_start)]
    return bool(named) and named[-1] not in ours


# Vaccines written as the letters of the diseases they prevent: a piece that is one names the vaccine, never the
# disease (an abbreviation table may expand "Tdap" to "tetanus, diphtheria, pertussis").
_VACCINE = re.compile(
    r"(?i)(?:tdap|dtap|dtp|tdvax|mmr|mmrv|mmr-?ii|ipv|opv|hib|dtap-ipv|pcv\d*|ppsv\d*|ppv23|mcv4|menacwy|menb|mpsv4|"
    r"rzv|zvl|bcg|hepa|hepb|hpv\d+|vzv vaccine|rv[15])")


def _runs(indexes: list[int]) -> list[tuple[int, int]]:
    """Sorted word indexes as runs of adjacent ones, (first, last exclusive)."""
    out: list[tuple[int, int]] = []
    for k in indexes:
        if out and out[-1][1] == k:
            out[-1] = (out[-1][0], k + 1)
        else:
            out.append((k, k + 1))
    return out


def word_contexts(text: str, start: int, end: int) -> list[tuple[int, int, Context]]:
    """(start, end, Context) of each word of text[start:end], one rule pass a sentence: what the modifiers
    around it and its section say of each word (a rule's own words are not masked; they name no concept)."""
    out: list[tuple[int, int, Context]] = []
    near = text_words(text)
    heads = headings(text)
    starts = [h.start for h in heads]
    unchecked = _unchecked_items(text)
    twins = bool(_twins_ours(text))
    # The whole text's sentences, cut once and cached: a caller reads every clause of a note in turn.
    for s, e in sentence_spans(text):
        if e <= start or s >= end:
            continue
        toks = _tokens(text, s, e)
        words = [w for w, _a, _b in toks]
        mods = _modifiers(words, _matches(words, near))
        for k, (_w, a, b) in enumerate(toks):
            if b <= start or a >= end:
                continue
            head = _heading_over(heads, starts, a)
            if head is not None and head.start <= a and b <= head.end:
                out.append((a, b, Context(heading=True, section=head.name)))
                continue
            flags = _flags_at(words, mods, k, k + 1)
            if unchecked and _inside(unchecked, a):
                flags[NEGATED] = True
            if twins and _other_twin(text, s, a):
                flags[FAMILY] = True  # as context_of_spans: the other twin's sentence
            if head is not None and head.default_at(a) != AFFIRMED and not (
                    head.default == FAMILY and _our_twin(text, head.name)):
                flags[head.default] = True
            out.append((a, b, Context(flags[NEGATED], flags[POSSIBLE], flags[HYPOTHETICAL], flags[HISTORICAL],
                                      flags[FAMILY], section=head.name if head else "", other=flags[OTHER])))
    return out


# Substance use is a habit the social history tells; denied, ConText's annotators mark it historical.
_HABIT = re.compile(
    r"(?:(?:illicit|recreational|iv|intravenous|street|other) )?"
    r"(?:alcohol|etoh|tobacco|smoking|cigarettes?|drugs?|ivdu|cocaine|heroin|marijuana)"
    r"(?: (?:use|usage|abuse|habit|habits))?"
)

# Conditions a patient lives with. Named alone on a line with no heading above it (a problem list cut from its
# "PAST MEDICAL HISTORY:"), one of them is the patient's history, not this visit's finding.
_CHRONIC = re.compile(
    r"\b(hypertension|htn|diabetes|dm|hyperlipidemia|hypercholesterolemia|dyslipidemia|hypothyroid(?:ism)?|"
    r"hyperthyroid(?:ism)?|coronary artery disease|cad|congestive heart failure|chf|heart failure|"
    r"myocardial infarction|mi|atrial fibrillation|afib|copd|emphysema|asthma|(?:osteo|rheumatoid )?arthritis|"
    r"osteoporosis|gout|depression|anxiety|schizophrenia|bipolar disorder|dementia|alzheimer'?s?(?: disease)?|"
    r"parkinson'?s?(?: disease)?|epilepsy|cataracts?|glaucoma|gerd|reflux|chronic kidney disease|ckd|esrd|"
    r"cirrhosis|hiv|obesity|sleep apnea|osa|bph|herniated dis[ck]s?|degenerative dis[ck] disease)\b",
    re.I,
)


_NOW = frozenset("acute exacerbation decompensated new worsening uncontrolled flare".split())


# A habit's own prefix says whether it is the patient's now: "non-smoker" never was, "ex-smoker" and "quit
# smoking" no longer is (a word of its own, so no ConText trigger: "non-" before a disease is part of its name,
# "non-Hodgkin lymphoma", "non-ST elevation MI").
_HABIT_WORD = re.compile(r"(?i)(?:smok\w*|cigarettes?|tobacco|drink\w*|alcohol|etoh|vap\w*)")
_NEVER_PREFIX = re.compile(r"(?i)\bnon[- ]?$")
# ... but not a quitting to come or wished for: "advised to quit smoking", "unable to quit", "has not quit", "will
# quit" are said of a smoker now
_FORMER_PREFIX = re.compile(
    r"(?i)(?:\bex[- ]?|(?<!\bto\s)(?<!\bnot\s)(?<!n't\s)(?<!\bnever\s)(?<!\bwill\s)(?<!\bcannot\s)"
    r"\b(?:quit|stopped|gave up|quitting|stopping)\s+)$")


# A chronic condition's adjective after "non-" says the patient has it not ("non-diabetic", "non-asthmatic",
# "non-alcoholic fatty liver"); a disease's own name may open with "non-" ("non-Hodgkin", "non-ST elevation"), so
# only these adjectives.
_NON_FORM = re.compile(
    r"(?i)(?:diabetic|asthmatic|hypertensive|an(?:a)?emic|obese|alcoholic|hypothyroid|hyperthyroid|"
    r"epileptic(?!\s+(?:attack|seizure|event|episode)))\b")


def _habit_prefix(before: str, span: str) -> Label | None:
    if _NEVER_PREFIX.search(before) and _NON_FORM.match(span):
        return NEGATED
    if not _HABIT_WORD.match(span):
        return None
    if _NEVER_PREFIX.search(before):
        return NEGATED
    if _FORMER_PREFIX.search(before):
        return HISTORICAL
    return None


def _bare(before: str, after: str) -> bool:
    """Whether the span's words are all the words of its sentence (`before` and `after` the rest of it), closed by
    a full stop ("GOUT."; a phrase typed alone, "gout", is not a list line)."""
    rest = (before + after).rstrip()
    return rest.endswith(".") and not any(c.isalnum() for c in rest)


def _span_historical(
    text: str, start: int, end: int, before: str, after: str, no_heading: bool, negated: bool
) -> bool:
    """What the span's own words say of its time: a denied habit, or a chronic condition alone on a list line."""
    if negated and _HABIT.fullmatch(" ".join(re.findall(r"[a-z]+", text[start:end].lower()))):
        # "denies alcohol or DRUG USE": a habit denied is denied over time (ConText's annotators: historical). A
        # habit told ("smoking a pack a day") is the patient's now.
        return True
    # "GOUT." on a line of its own: a problem-list line cut from its heading
    return no_heading and _bare(before, after) and _chronic(text[start:end])


def _chronic(name: str) -> bool:
    return bool(_CHRONIC.search(name)) and not _NOW & set(re.findall(r"[a-z]+", name.lower()))


def assertion_of(text: str, start: int, end: int) -> str:
    """affirmed, negated, possible, hypothetical, historical or family for the span text[start:end].

    A span inside a heading ("Allergies:", "History of Present Illness:") names a topic the note may or may
    not go on to affirm, so it is `hypothetical`: never a finding.
    """
    ctx = context_of(text, start, end)
    return HYPOTHETICAL if ctx.heading else ctx.label
