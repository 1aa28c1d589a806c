"""Token-aware chunking of a record's text for the embedding model.

The model reads at most `max_tokens` word pieces (256 for all-MiniLM-L6-v2,
two of them the [CLS]/[SEP] markers). Chunks are packed from whole sentences,
so any sentence that fits in a window lies wholly inside at least one chunk;
consecutive chunks share up to `overlap` tokens of trailing sentences for
context. A sentence longer than a window is cut into overlapping windows.

Chunks are spans (character offsets) of the text: nothing is written anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
OVERLAP_TOKENS = 48
MAX_CHUNKS = 512  # per record: ~125k word pieces; full-text search still covers the rest


class TokenOffsets(Protocol):
    """Splits text into tokens, reporting each token's character span."""

    def offsets(self, text: str) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class Chunk:
    seq: int
    start: int  # character offsets into the record's text
    end: int
    tokens: int

    def text_of(self, text: str) -> str:
        return text[self.start : self.end]


# A sentence ends at . ! ? ; followed by space, or at a line break. Clinical
# notes also use "HEADING:," and bullet lines; line breaks cover those.
_BOUNDARY = re.compile(r"(?<=[.!?;])\s+|\s*\n\s*")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (and lines) of `text`, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def chunk_text(
    text: str,
    tokenizer: TokenOffsets,
    max_tokens: int = MAX_TOKENS,
    overlap: int = OVERLAP_TOKENS,
    max_chunks: int = MAX_CHUNKS,
) -> list[Chunk]:
    """Split `text` into chunks of at most `max_tokens - 2` tokens each (see module doc)."""
    budget = max_tokens - SPECIAL_TOKENS
    if budget < 8:
        raise ValueError("max_tokens is too small to chunk with")
    overlap = max(0, min(overlap, budget // 2))
    toks = tokenizer.offsets(text)
    if not toks:
        return []
    groups = _sentence_token_ranges(text, toks)
    # Token index windows [a, b), built from sentence groups.
    windows: list[tuple[int, int]] = []
    current: list[tuple[int, int]] = []  # sentence token ranges in the current window

    def size(ranges: Sequence[tuple[int, int]]) -> int:
        return ranges[-1][1] - ranges[0][0] if ranges else 0

    def emit() -> None:
        if current:
            windows.append((current[0][0], current[-1][1]))

    for a, b in groups:
        if b - a > budget:
            # A run-on sentence (or a text with no punctuation): overlapping token windows.
            emit()
            current = []
            step = budget - overlap
            start = a
            while True:
                windows.append((start, min(start + budget, b)))
                if start + budget >= b:
                    break
                start += step
            continue
        if current and b - current[0][0] > budget:
            emit()
            # Carry trailing sentences that fit in the overlap into the next window.
            carried: list[tuple[int, int]] = []
            for rng in reversed(current):
                if size([rng, *carried]) > overlap or b - rng[0] > budget:
                    break
                carried.insert(0, rng)
            current = carried
        current.append((a, b))
        if len(windows) >= max_chunks:
            break
    emit()
    chunks = []
    for seq, (a, b) in enumerate(windows[:max_chunks]):
        chunks.append(Chunk(seq=seq, start=toks[a][0], end=toks[b - 1][1], tokens=b - a))
    return chunks


def _sentence_token_ranges(text: str, toks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Group token indexes by the sentence their first character falls in."""
    spans = sentence_spans(text)
    ranges: list[tuple[int, int]] = []
    i = 0
    n = len(toks)
    for _, end in spans:
        j = i
        while j < n and toks[j][0] < end:
            j += 1
        if j > i:
            ranges.append((i, j))
        i = j
    if i < n:
        ranges.append((i, n))
    return ranges


_WORD = re.compile(r"\w+|[^\w\s]")


class RegexTokenizer:
    """Words and punctuation marks as tokens: the fake embedder's tokenizer."""

    def offsets(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _WORD.finditer(text)]


class WordPieceTokenizer:
    """The model's own tokenizer (the `tokenizers` library; no torch needed)."""

    def __init__(self, tokenizer_json: str) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(tokenizer_json)
        self._tok.no_truncation()
        self._tok.no_padding()

    def offsets(self, text: str) -> list[tuple[int, int]]:
        enc = self._tok.encode(text, add_special_tokens=False)
        return [(int(s), int(e)) for s, e in enc.offsets]

    def count(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False).ids)
