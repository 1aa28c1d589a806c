"""Was a scan really read? The "needs transcription" decision from more than the engine's mean confidence.

The recogniser is often confident about handwriting it misreads ("Joln Smitl", "Cimeti2ine",
"DATE O9-11-1Z" at a mean confidence of 0.94), so the mean alone lets such scans through.
Four signals, each cheap:

- the character-weighted mean line confidence (the old rule, kept);
- the weakest line: handwriting has at least one badly read line where print stays even;
- garbage tokens: a digit inside a word ("Cimeti2ine") or letters standing in for the digits of
  a number or date ("O9-11-1Z"), which print OCR almost never produces;
- the share of words that are no known word: English (pyspellchecker's word list, shipped in its
  wheel, read offline), the ICD-10-CM code set's descriptions, the lay vocabulary, the clinical
  abbreviations and the index terms.

Unknown words alone do not queue a scan (a printed letter in Dutch is full of them); they do when
the weakest line is also weak. A very weak line queues the scan by itself. Vocabulary is read on
first use, once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from indexer.extract.types import OcrLine

# Old rule: below this character-weighted mean line confidence a scan is queued.
MEAN_BELOW = 0.92
# The weakest line of at least MIN_LINE_CHARS letters (short lines such as "ze" or "17" are left out:
# print OCR often scores them low): below WEAK_LINE_ALONE queued; below WEAK_LINE_BELOW queued when
# at least UNKNOWN_SHARE of the words are unknown. Calibrated with bench/ocr.py (--quick pages): printed
# renders' weakest lines 0.946-0.972, the Dutch typewriter scan 0.913 (76% unknown words), linn 0.939;
# handwriting-font renders 0.706-0.947, the shared handwriting-style note 0.806.
WEAK_LINE_ALONE = 0.87
WEAK_LINE_BELOW = 0.90
MIN_LINE_CHARS = 6
UNKNOWN_SHARE = 0.12
# Garbage: queued when at least this share of the words is garbage (one in a short prescription).
GARBAGE_SHARE = 0.04

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-/.:'][A-Za-z0-9]+)*")
_DIGIT_IN_WORD = re.compile(r"[A-Za-z]{2,}[0-9]+[A-Za-z]{2,}")
_LOOKALIKE = frozenset("OoIlZSB")  # letters OCR reads in place of 0 1 2 5 8
_NUMBERISH = re.compile(r"[0-9OoIlZSB]+(?:[-/.:][0-9OoIlZSB]+)+|[0-9OoIlZSB]{3,}")
_ALPHA = re.compile(r"[A-Za-z]+")
_ICD_CODE = re.compile(r"[A-TV-Z][0-9]{2}(?:\.[0-9A-Z]{1,4})?")


@dataclass(frozen=True)
class Legibility:
    """What the OCR output looks like, and whether a person should transcribe it (`reasons` not empty)."""

    mean: float | None
    weakest_line: float | None
    words: int
    unknown_share: float
    garbage: tuple[str, ...]
    reasons: tuple[str, ...] = field(default=())

    @property
    def needs_transcription(self) -> bool:
        return bool(self.reasons)


def mean_confidence(lines: list[OcrLine]) -> float | None:
    """Mean line confidence weighted by line length, so a stray "17" counts little."""
    total = sum(len(line.text) for line in lines)
    if not total:
        return None
    return round(sum(line.confidence * len(line.text) for line in lines) / total, 4)


def is_garbage(token: str) -> bool:
    """A token print OCR would not produce: "Cimeti2ine", "O9-11-1Z" (not "10mg", "SpO2", "Z79.4", "3x")."""
    if _DIGIT_IN_WORD.fullmatch(token):
        return True
    if _ICD_CODE.fullmatch(token):
        return False  # "Z79.4", "I25.10", "O09.1": a code, not a misread date
    if _NUMBERISH.fullmatch(token) and sum(c.isdigit() for c in token) >= 2:
        if any(c in _LOOKALIKE for c in token[1:]):
            return True  # a letter among the digits: "1O0", "09-11-1Z"
        return token[0] in _LOOKALIKE and any(c in "-/.:" for c in token)  # "O9-11-12"; "B12" is a name
    return False


@cache
def vocabulary() -> frozenset[str]:
    """Lower-case words the archive knows: English, ICD-10-CM descriptions, lay terms, abbreviations."""
    from spellchecker import SpellChecker

    from indexer.icd10 import iter_code_set
    from indexer.query.abbreviations import entries
    from indexer.query.index_terms import index_terms
    from indexer.query.lay_terms import lay_table

    words: set[str] = set(SpellChecker().word_frequency.dictionary)
    texts: list[str] = []
    for row in iter_code_set():
        texts.append(row.description)
        texts.append(row.terms)
    for lay, forms in lay_table().items():
        texts.append(lay)
        texts.extend(forms)
    for entry in entries():
        words.add(entry.abbr)
        texts.append(entry.sense)
    texts.extend(term for term, _code in index_terms())
    for text in texts:
        words.update(w.lower() for w in _ALPHA.findall(text))
    return frozenset(words)


def assess(lines: list[OcrLine]) -> Legibility:
    """The four signals and the decision (see the module docstring)."""
    mean = mean_confidence(lines)
    long_lines = [line.confidence for line in lines if sum(c.isalpha() for c in line.text) >= MIN_LINE_CHARS]
    weakest = min(long_lines) if long_lines else None
    tokens = [t for line in lines for t in _TOKEN.findall(line.text)]
    garbage = tuple(t for t in tokens if is_garbage(t))
    known = vocabulary()
    alpha = [w.lower() for t in tokens if not is_garbage(t) for w in _ALPHA.findall(t) if len(w) >= 3]
    unknown = sum(w not in known for w in alpha)
    unknown_share = round(unknown / len(alpha), 3) if alpha else 0.0
    reasons: list[str] = []
    if mean is None:
        reasons.append("no text was read")
    elif mean < MEAN_BELOW:
        reasons.append(f"mean confidence {mean:.2f}")
    if tokens and garbage and len(garbage) / len(tokens) >= GARBAGE_SHARE:
        reasons.append("misread tokens: " + ", ".join(garbage[:5]))
    if weakest is not None and weakest < WEAK_LINE_ALONE:
        reasons.append(f"weakest line {weakest:.2f}")
    elif weakest is not None and weakest < WEAK_LINE_BELOW and unknown_share >= UNKNOWN_SHARE:
        reasons.append(f"weakest line {weakest:.2f} and {unknown_share:.0%} unknown words")
    return Legibility(mean, weakest, len(tokens), unknown_share, garbage, tuple(reasons))


def needs_transcription_by_mean(lines: list[OcrLine]) -> bool:
    """The old rule, mean confidence alone (kept for the benchmark's comparison)."""
    score = mean_confidence(lines)
    return score is None or score < MEAN_BELOW
