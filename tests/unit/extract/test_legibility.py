"""indexer.extract.legibility: "needs transcription" from more than the mean confidence."""

from __future__ import annotations

import pytest

from indexer.extract.legibility import (
    RAPIDOCR_ONNXRUNTIME_THRESHOLDS,
    RAPIDOCR_THRESHOLDS,
    Thresholds,
    assess,
    is_garbage,
    needs_transcription_by_mean,
)
from indexer.extract.types import OcrLine

# The handwritten prescription: read confidently, and wrongly.
PRESCRIPTION = [
    OcrLine("Joln Smitl", 0.95),
    OcrLine("Cimeti2ine 400 mg twice daily", 0.94),
    OcrLine("DATE O9-11-1Z", 0.93),
    OcrLine("Dr. Adams", 0.95),
]
# A printed discharge note read well.
PRINTED = [
    OcrLine("Discharge summary", 0.99),
    OcrLine("Patient admitted with community acquired pneumonia, treated with ceftriaxone.", 0.98),
    OcrLine("Cimetidine 400 mg twice daily. SpO2 94% on room air, BP 150/95, HR 98.", 0.97),
    OcrLine("Follow up on 09-11-2012 with E11.9 review, 10mg daily, 3x weekly.", 0.97),
]


@pytest.mark.parametrize("token", ["Cimeti2ine", "O9-11-1Z", "l2/O3/2019", "hyperten5ion"])
def test_misread_tokens_are_garbage(token: str) -> None:
    assert is_garbage(token)


ORDINARY = ["10mg", "SpO2", "E11.9", "Z79.4", "I25.10", "O09.1", "3x", "09-11-2012", "150/95", "B12", "Covid19", "2nd",
            "Amoxicillin500mg", "RxLisinopril10mg"]  # the last two: rapidocr 3 drops spaces around a dose


@pytest.mark.parametrize("token", ORDINARY)
def test_ordinary_mixed_tokens_are_not(token: str) -> None:
    assert not is_garbage(token)


def test_confidently_misread_prescription_is_queued_where_the_mean_let_it_through() -> None:
    assert not needs_transcription_by_mean(PRESCRIPTION)
    verdict = assess(PRESCRIPTION)
    assert verdict.needs_transcription
    assert set(verdict.garbage) == {"Cimeti2ine", "O9-11-1Z"}
    assert any("misread tokens" in r for r in verdict.reasons)


def test_printed_note_is_not_queued() -> None:
    verdict = assess(PRINTED)
    assert not verdict.needs_transcription, verdict.reasons
    assert verdict.garbage == ()
    assert verdict.unknown_share < 0.1


def test_weak_line_with_unknown_words_is_queued_a_very_weak_line_alone_too() -> None:
    """The figures of rapidocr-onnxruntime's thresholds (the engine these lines were written for)."""
    old = RAPIDOCR_ONNXRUNTIME_THRESHOLDS
    scrawl = [OcrLine("Ptc SOBx3 dayS hxHTN DMZ qrt Plan stat", 0.99), OcrLine("Impressn CAP plx rtn wk", 0.89)]
    assert not needs_transcription_by_mean(scrawl)
    assert assess(scrawl, old).needs_transcription
    weak_but_words = [OcrLine("patient short of breath three days", 0.99), OcrLine("impression pneumonia", 0.89)]
    assert not assess(weak_but_words, old).needs_transcription
    very_weak = [OcrLine("patient short of breath three days", 0.99), OcrLine("impression pneumonia", 0.85)]
    assert assess(very_weak, old).needs_transcription
    foreign_print = [OcrLine("De linzen wassen en in liter kokend water", 0.95), OcrLine("bloem boter", 0.96)]
    assert not assess(foreign_print, old).needs_transcription


@pytest.mark.parametrize("limits", [RAPIDOCR_THRESHOLDS, RAPIDOCR_ONNXRUNTIME_THRESHOLDS], ids=["new", "old"])
def test_each_engine_queues_by_its_own_thresholds(limits: Thresholds) -> None:
    """Around each engine's thresholds: a weak line with unknown words, a weaker line alone, a low mean."""
    words = "patient short of breath three days"
    scrawl = [OcrLine(words, 0.999), OcrLine("Impressn plx rtn wk stat", limits.weak_line_below - 0.005)]
    assert assess(scrawl, limits).needs_transcription
    if limits.weak_line_below > limits.weak_line_alone:  # a weak line of known words is not enough alone
        weak_but_words = [OcrLine(words, 0.999), OcrLine("impression pneumonia", limits.weak_line_below - 0.005)]
        assert not assess(weak_but_words, limits).needs_transcription
    very_weak = [OcrLine(words, 0.999), OcrLine("impression pneumonia", limits.weak_line_alone - 0.005)]
    assert assess(very_weak, limits).reasons == (f"weakest line {limits.weak_line_alone - 0.005:.2f}",)
    low_mean = [OcrLine("ok", limits.mean_below - 0.05)]  # too short to be a weakest line
    assert assess(low_mean, limits).reasons == (f"mean confidence {limits.mean_below - 0.05:.2f}",)
    clean = [OcrLine(words, 0.999), OcrLine("impression pneumonia", 0.999)]
    assert not assess(clean, limits).needs_transcription


def test_no_text_is_queued() -> None:
    assert assess([]).needs_transcription
    assert assess([]).reasons == ("no text was read",)
