"""Everyday names of diagnoses and their ICD-10-CM codes ("heart attack" -> I21.9).

Read from indexer/data/icd10_index_terms.tsv: hand-written, in the spirit of the
ICD-10-CM Alphabetic Index.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def index_terms() -> tuple[tuple[str, str], ...]:
    """(term, code) pairs of the hand-written mini index."""
    out = []
    text = files("indexer.data").joinpath("icd10_index_terms.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, code = line.split("\t")
        out.append((term.strip(), code.strip()))
    return tuple(out)
