"""What the assistant returns: statements with citations, drafts, and the final Answer.

A handler produces a Draft: statements (each carrying the citations that
support it) and a lead line computed from the statements that survive the
citation check, so a dropped citation also removes its statement and is not
counted. An Answer is what the CLI, the TUI and the JSON show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archive.assistant.citations import Citation

NOTHING_FOUND = "I found nothing in the records about that"


@dataclass
class Statement:
    text: str
    citations: list[Citation] = field(default_factory=list)
    key: str = ""  # what the statement counts as (a patient, an encounter), for leads that count
    from_record: bool = True  # False: reference data (the code set) or guidance, needing no citation


@dataclass
class Draft:
    kind: str
    statements: list[Statement] = field(default_factory=list)
    lead: Callable[[list[Statement]], str] | None = None
    notes: list[str] = field(default_factory=list)  # not from a record (e.g. "narrow the period to see more")
    patients: set[str] = field(default_factory=set)
    plain: str | None = None  # a whole answer that quotes no record (a clarifying question, a code lookup)
    topic: str = ""


@dataclass
class Answer:
    answer: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    reason: str | None = None
    kind: str = ""
    patient: str | None = None
    dropped: int = 0  # citations that failed the check (and their statements)
    mode: str = "extractive"
    candidates: list[dict[str, Any]] = field(default_factory=list)  # patients to choose from, when asked

    @property
    def found(self) -> bool:
        return self.answer != NOTHING_FOUND

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "refused": self.refused,
            "reason": self.reason,
        }


def render(draft: Draft, statements: list[Statement]) -> tuple[str, list[Citation]]:
    """The answer text (statements numbered by their citations) and the citation list."""
    numbered: list[Citation] = []
    index: dict[tuple[str, str], int] = {}
    lines: list[str] = []
    if draft.lead is not None:
        lines.append(draft.lead(statements))
    for st in statements:
        marks = ""
        for c in st.citations:
            key = (c.record_id, c.passage)
            if key not in index:
                numbered.append(c)
                index[key] = len(numbered)
            mark = f"[{index[key]}]"
            marks += mark if mark not in marks else ""
        lines.append(f"- {st.text} {marks}".rstrip())
    lines.extend(draft.notes)
    return "\n".join(lines), numbered
