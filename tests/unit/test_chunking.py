"""Token-aware chunking: every sentence that fits lies whole in some chunk; windows respect the budget."""

from __future__ import annotations

import random

import pytest

from indexer.chunking import RegexTokenizer, WordPieceTokenizer, chunk_text, sentence_spans


def _sentences(rng: random.Random, n: int) -> list[str]:
    words = "patient fever cough hip fracture fall confusion pain left right chest x-ray normal denies".split()
    out = []
    for _ in range(n):
        k = rng.randint(3, 40)
        out.append(" ".join(rng.choice(words) for _ in range(k)).capitalize() + ".")
    return out


def _covered(chunks, start: int, end: int) -> bool:  # type: ignore[no-untyped-def]
    return any(c.start <= start and end <= c.end for c in chunks)


@pytest.mark.parametrize("seed", range(5))
def test_every_sentence_is_whole_in_some_chunk(seed: int) -> None:
    rng = random.Random(seed)
    text = " ".join(_sentences(rng, 120))
    tok = RegexTokenizer()
    chunks = chunk_text(text, tok, max_tokens=64, overlap=16)
    assert len(chunks) > 5
    for start, end in sentence_spans(text):
        if len(tok.offsets(text[start:end])) <= 62:
            assert _covered(chunks, start, end), text[start:end]
    # Budget: at most max_tokens - 2 tokens per chunk, counted again on the chunk's own text.
    assert all(len(tok.offsets(c.text_of(text))) <= 62 for c in chunks)
    # Consecutive chunks overlap (context carried over) but never fully repeat.
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False))
    assert all(b.start > a.start for a, b in zip(chunks, chunks[1:], strict=False))
    assert [c.seq for c in chunks] == list(range(len(chunks)))


def test_every_token_is_in_a_chunk() -> None:
    rng = random.Random(9)
    text = "\n".join(_sentences(rng, 60))
    tok = RegexTokenizer()
    chunks = chunk_text(text, tok, max_tokens=48, overlap=8)
    for start, _end in tok.offsets(text):
        assert any(c.start <= start < c.end for c in chunks)


def test_run_on_text_is_cut_into_overlapping_windows() -> None:
    text = " ".join(f"w{i}" for i in range(300))  # no sentence boundary at all
    tok = RegexTokenizer()
    chunks = chunk_text(text, tok, max_tokens=66, overlap=16)
    assert all(c.tokens <= 64 for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end  # overlapping, so a phrase at a cut is whole in one of them


def test_short_and_empty_texts() -> None:
    tok = RegexTokenizer()
    assert chunk_text("", tok) == []
    assert chunk_text("   \n ", tok) == []
    (only,) = chunk_text("Chest pain.", tok)
    assert (only.start, only.end) == (0, len("Chest pain."))


def test_max_chunks_caps_huge_texts() -> None:
    text = "Fever. " * 5000
    assert len(chunk_text(text, RegexTokenizer(), max_tokens=16, overlap=0, max_chunks=7)) == 7


def test_real_tokenizer_budget_holds_for_the_model() -> None:
    """With the model's own word pieces, a chunk re-tokenised fits the 256-piece window."""
    from indexer.embedder import model_dir

    tok = WordPieceTokenizer(str(model_dir() / "tokenizer.json"))
    rng = random.Random(3)
    text = " ".join(_sentences(rng, 200)) + " Pt s/p CABG x3, c/o SOB; hx CHF/COPD; Crohn's."
    chunks = chunk_text(text, tok)
    assert len(chunks) >= 3
    assert all(tok.count(c.text_of(text)) <= 254 for c in chunks)
    assert chunks[-1].end == len(text)
