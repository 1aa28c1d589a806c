"""Whether a mention in a sentence is asserted for the patient: the one place that decides it.

`mention_status(text, start, end)` labels the mention text[start:end]:
"present", "negated" ("denies chest pain"), "possible" ("rule out"),
"family" ("mother had breast cancer") or "hypothetical" ("return if fever").
indexer.assertion.assertion_of decides (issue 22); a small check over the
mention's own clause stays behind it for what its rules call affirmed.
Pure, no I/O.
"""

from __future__ import annotations

import re

PRESENT = "present"
NEGATED = "negated"
POSSIBLE = "possible"
FAMILY = "family"
HYPOTHETICAL = "hypothetical"

_CLAUSE_CUT = re.compile(r"[.;:!?\n•]|,\s+(?:but|however|although|though|except)\b|\b(?:but|however|although)\b", re.I)
_NEG = re.compile(
    r"\b(?:no|not|denies|denied|deny|denying|without|negative for|never|none|absent|free of|ruled out|"
    r"no evidence of|no history of|no signs? of|unremarkable for|nor|forego|foregoing|forgo|forgoing|"
    r"holding off on|hold off on)\b",
    re.I,
)
_NEG_AFTER = re.compile(r"^\W{0,3}(?:\w+\s+){0,3}?(?:was|were|is|are)?\s*(?:ruled out|negative|absent|denied|"
                        r"resolved|omitted|not (?:performed|done|given|obtained|tested)|deferred|declined|refused)\b",
                        re.I)
# "Cortisone injection was discussed as an option if ...": talked of, not done
_HYPO_AFTER = re.compile(r"^\W{0,3}(?:\w+\s+){0,3}?(?:was|were|is|are|will be|would be|could be|may be|can be)\s+"
                         r"(?:discussed|considered|offered|an option|planned|scheduled)\b", re.I)
_POSSIBLE = re.compile(r"\b(?:rule out|r/o|possible|possibly|probable|suspected|suspicious for|concern for|"
                       r"questionable|may have|might have|cannot exclude|differential)\b", re.I)
_FAMILY = re.compile(r"\b(?:family history|mother|father|brother|sister|sibling|aunt|uncle|grandmother|"
                     r"grandfather|son|daughter|parents?|cousin)\b", re.I)
_HYPOTHETICAL = re.compile(r"\b(?:if (?:she|he|they|you|the patient)?|should (?:she|he|they)|return if|"
                           r"call if|in case of|watch for|warning signs|discussed (?:the )?(?:role|option|"
                           r"possibility|risks? and benefits|need) of|(?:we|i) (?:could|would|may|might) (?:\w+ )?"
                           r"(?:schedule|consider|order|do|perform|obtain|proceed with))\b", re.I)


def _clause(text: str, start: int, end: int) -> tuple[str, str]:
    """The text of the mention's clause before it and after it."""
    cuts = [m.end() for m in _CLAUSE_CUT.finditer(text, 0, start)]
    a = cuts[-1] if cuts else 0
    after = _CLAUSE_CUT.search(text, end)
    b = after.start() if after else len(text)
    return text[a:start], text[end:b]


def mention_status(text: str, start: int, end: int) -> str:
    """The assertion of the mention text[start:end] within `text` (see the module doc).

    indexer.assertion decides (ConText rules, sections); a historical mention is still
    the patient's, so it counts as present here. The clause check above stays as the
    fallback for a mention ConText calls affirmed inside an obvious negation.
    """
    from indexer.assertion import assertion_of

    if re.search(r"\bnon-?\s?$", text[max(0, start - 4): start], re.I):  # "a non-smoker"
        return NEGATED
    label = assertion_of(text, start, end)
    if label in ("affirmed", "historical"):
        return _clause_status(text, start, end)
    return {"negated": NEGATED, "possible": POSSIBLE, "family": FAMILY}.get(label, HYPOTHETICAL)


def _clause_status(text: str, start: int, end: int) -> str:
    before, after = _clause(text, start, end)
    if _NEG.search(before) or _NEG_AFTER.search(after):
        return NEGATED
    if _FAMILY.search(before) and not re.search(r"\b(?:she|he|patient)\b", before, re.I):
        return FAMILY
    if _POSSIBLE.search(before):
        return POSSIBLE
    if _HYPOTHETICAL.search(before) or _HYPO_AFTER.search(after):
        return HYPOTHETICAL
    return PRESENT
