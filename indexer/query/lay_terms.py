"""Everyday and British wording ("gullet", "fits", "anaemia") and the clinical forms a chart uses.

Read from indexer/data/lay_terms.tsv: one lay phrase, a tab, its clinical forms separated by ";".
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from indexer.query.tokens import WORD


@cache
def lay_table() -> dict[str, tuple[str, ...]]:
    """Everyday or British wording -> the clinical forms a chart uses."""
    table: dict[str, tuple[str, ...]] = {}
    text = files("indexer.data").joinpath("lay_terms.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lay, _, forms = line.partition("\t")
        clinical = tuple(f.strip().lower() for f in forms.split(";") if f.strip() and f.strip() != lay.strip())
        if lay.strip() and clinical:
            table[" ".join(WORD.findall(lay.lower()))] = clinical
    return table


@cache
def _lay_lengths() -> tuple[int, ...]:
    return tuple(sorted({len(lay.split()) for lay in lay_table()}, reverse=True))


def lay_phrases_in(words: list[str]) -> dict[int, tuple[str, int, tuple[str, ...]]]:
    """Lay phrases in lower-case `words`, longest first and not overlapping: start -> (phrase, words, forms).

    A final plural "s" is optional ("kidney stone" finds "kidney stones" too).
    """
    table = lay_table()
    found: dict[int, tuple[str, int, tuple[str, ...]]] = {}
    taken: set[int] = set()
    for n in _lay_lengths():
        for i in range(len(words) - n + 1):
            if taken & set(range(i, i + n)):
                continue
            gram = " ".join(words[i : i + n])
            key = gram if gram in table else gram[:-1] if gram.endswith("s") and gram[:-1] in table else None
            if key is None:
                continue
            found[i] = (gram, n, tuple(f for f in table[key] if f != gram))
            taken.update(range(i, i + n))
    return found
