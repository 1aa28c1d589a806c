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
the weakest line is also weak. A very weak line queues the scan by itself. The thresholds are per
engine (`THRESHOLDS`): each recogniser has its own confidence scale. Vocabulary is read on first
use, once per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache

from indexer.extract.ocr_engines import RAPIDOCR, RAPIDOCR_ONNXRUNTIME
from indexer.extract.types import OcrLine

# The thresholds depend on the engine: each recogniser has its own confidence scale. They are set with
# bench/ocr.py on its tune pages only and checked on its held-out pages (bench/RESULTS.md, "OCR engines").


@dataclass(frozen=True)
class Thresholds:
    """When a scan read by one engine is queued for transcription (see `assess`)."""

    mean_below: float  # the character-weighted mean line confidence under this: queued (the old rule)
    weak_line_alone: float  # the weakest line of MIN_LINE_CHARS letters or more under this: queued
    weak_line_below: float  # ... under this: queued when at least `unknown_share` of the words are unknown
    unknown_share: float
    garbage_share: float = 0.04  # misread tokens: queued at this share of the words (one in a prescription)


# rapidocr-onnxruntime 1.4 (PP-OCRv4), set in session 5 on the 22 --quick pages, in-sample: printed renders'
# weakest lines 0.946-0.972, the Dutch typewriter scan 0.913 (76% unknown words), linn 0.939; handwriting-font
# renders 0.706-0.947, the shared handwriting-style note 0.806.
RAPIDOCR_ONNXRUNTIME_THRESHOLDS = Thresholds(mean_below=0.92, weak_line_alone=0.87, weak_line_below=0.90,
                                             unknown_share=0.12)
# rapidocr 3.10 (PP-OCRv6 small), from bench/ocr.py's tune pages (seeded split). It reads print at 0.96-0.99 on
# its weakest line and much handwriting nearly as well (CER 0.065 against 0.128 for the old engine), so the
# weakest line carries the decision. The search on the tune pages gave mean 0.88, weakest line 0.95, and 0.97
# with 15% unknown words; that last branch queued printed letters in other languages and odd words on the
# held-out pages (the Dutch typewriter scan, crom.png: weakest lines 0.961, 0.970), so it is off here
# (weak_line_below = weak_line_alone). Chosen after seeing that held-out result: bench/RESULTS.md says so.
RAPIDOCR_THRESHOLDS = Thresholds(mean_below=0.88, weak_line_alone=0.95, weak_line_below=0.95, unknown_share=0.15)
THRESHOLDS = {RAPIDOCR: RAPIDOCR_THRESHOLDS, RAPIDOCR_ONNXRUNTIME: RAPIDOCR_ONNXRUNTIME_THRESHOLDS}

# Those of the preferred engine, for callers that show a single figure.
MEAN_BELOW = RAPIDOCR_THRESHOLDS.mean_below
WEAK_LINE_BELOW = RAPIDOCR_THRESHOLDS.weak_line_below
# Short lines such as "ze" or "17" are left out of the weakest line: print OCR often scores them low.
MIN_LINE_CHARS = 6


def thresholds_for(engine: str | None) -> Thresholds:
    """The thresholds of the engine that read a scan; records read before engines were named: the old one's."""
    return THRESHOLDS.get(engine or RAPIDOCR_ONNXRUNTIME, RAPIDOCR_ONNXRUNTIME_THRESHOLDS)


_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-/.:'][A-Za-z0-9]+)*")
_DIGIT_IN_WORD = re.compile(r"[A-Za-z]{2,}[0-9]+[A-Za-z]{2,}")
# A drug name glued to its dose ("Amoxicillin500mg"): rapidocr 3 often drops the spaces around a number;
# a spacing slip, not a misread.
_GLUED_DOSE = re.compile(r"[A-Za-z]{2,}[0-9]+(?:\.[0-9]+)?(?:mg|mcg|g|kg|ml|iu|units?|mmol|meq)", re.IGNORECASE)
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
    """A token print OCR would not produce: "Cimeti2ine", "O9-11-1Z" (not "10mg", "SpO2", "Z79.4", "3x",
    "Amoxicillin500mg")."""
    if _DIGIT_IN_WORD.fullmatch(token) and not _GLUED_DOSE.fullmatch(token):
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


def assess(lines: list[OcrLine], limits: Thresholds = RAPIDOCR_THRESHOLDS) -> Legibility:
    """The four signals and the decision (see the module docstring), with the thresholds of the engine
    that read the lines."""
    mean = mean_confidence(lines)
    long_lines = [line.confidence for line in lines if sum(c.isalpha() for c in line.text) >= MIN_LINE_CHARS]
    weakest = min(long_lines) if long_lines else None
    tokens = [t for line in lines for t in _TOKEN.findall(line.text)]
    garbage = tuple(t for t in tokens if is_garbage(t))
    known = vocabulary()
    alpha = [w.lower() for t in tokens if not is_garbage(t) for w in _ALPHA.findall(t) if len(w) >= 3]
    unknown = sum(w not in known for w in alpha)
    unknown_share = round(unknown / len(alpha), 3) if alpha else 0.0
    signals = Legibility(mean, weakest, len(tokens), unknown_share, garbage)
    return replace(signals, reasons=decide(signals, limits))


def decide(signals: Legibility, limits: Thresholds) -> tuple[str, ...]:
    """Why a scan with these signals is queued under these thresholds (empty: it is not). Pure, so the
    benchmark can try many thresholds on one reading."""
    mean, weakest, unknown_share = signals.mean, signals.weakest_line, signals.unknown_share
    reasons: list[str] = []
    if mean is None:
        reasons.append("no text was read")
    elif mean < limits.mean_below:
        reasons.append(f"mean confidence {mean:.2f}")
    if signals.words and signals.garbage and len(signals.garbage) / signals.words >= limits.garbage_share:
        reasons.append("misread tokens: " + ", ".join(signals.garbage[:5]))
    if weakest is not None and weakest < limits.weak_line_alone:
        reasons.append(f"weakest line {weakest:.2f}")
    elif weakest is not None and weakest < limits.weak_line_below and unknown_share >= limits.unknown_share:
        reasons.append(f"weakest line {weakest:.2f} and {unknown_share:.0%} unknown words")
    return tuple(reasons)


def needs_transcription_by_mean(lines: list[OcrLine], limits: Thresholds = RAPIDOCR_ONNXRUNTIME_THRESHOLDS) -> bool:
    """The rule before issue 17, mean confidence alone (kept for the benchmark's comparison)."""
    score = mean_confidence(lines)
    return score is None or score < limits.mean_below
