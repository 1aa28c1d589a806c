"""Citations and the check every answer passes before anyone sees it.

A citation is (record id, date, the exact quoted passage). `check_citations`
decrypts each cited record's text through the session's store and keeps a
citation only when its passage occurs in that text verbatim (only runs of
whitespace are normalised) and its date is the record's date or appears in
the passage. Record texts are held in memory for one question only; nothing
is written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.session import Session


@dataclass(frozen=True)
class Citation:
    record_id: str
    date: str | None
    passage: str
    patient: str | None = None  # the record's patient (for policy and audit; not shown in JSON)

    def to_json(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "date": self.date, "passage": self.passage}


def normalise(text: str) -> str:
    """Whitespace runs to one space, trimmed: the only normalisation the check allows."""
    return " ".join(text.split())


@dataclass
class RecordInfo:
    record_id: str
    n: int
    patient: str | None
    date: str | None
    title: str | None
    doc_type: str | None
    format: str | None
    has_facts: bool


class RecordTexts:
    """Record rows and decrypted texts for one question (a small in-memory cache)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._info: dict[str, RecordInfo | None] = {}
        self._text: dict[str, str] = {}
        self._blob: dict[str, str | None] = {}

    def info(self, record_id: str) -> RecordInfo | None:
        if record_id not in self._info:
            row = self.session.store.records.info(record_id)
            if row is None:
                self._info[record_id] = None
            else:
                self._info[record_id] = RecordInfo(
                    row["record_id"], row["n"], row["patient"], row["date"], row["title"], row["doc_type"],
                    row["format"], bool(row["has_facts"]),
                )
                self._blob[record_id] = row["text_blob_id"]
        return self._info[record_id]

    def text(self, record_id: str) -> str:
        """The record's extracted text, plus its latest transcription when it has one."""
        if record_id in self._text:
            return self._text[record_id]
        if self.info(record_id) is None:
            return ""
        blob = self._blob.get(record_id)
        text = self.session.blobs.get_bytes(blob).decode("utf-8", "replace") if blob else ""
        transcription = self.session.store.records.latest_transcription_blob(record_id)
        if transcription is not None:
            text += "\n\n" + self.session.blobs.get_bytes(transcription).decode("utf-8", "replace")
        self._text[record_id] = text
        return text

    def forget(self) -> None:
        self._text.clear()


def citation_holds(citation: Citation, texts: RecordTexts) -> bool:
    """The check: the passage is in the record's text verbatim, and the date is the record's or quoted."""
    passage = normalise(citation.passage)
    info = texts.info(citation.record_id)
    if not passage or info is None:
        return False
    if passage not in normalise(texts.text(citation.record_id)):
        return False
    if citation.date:
        day = citation.date[:10]
        if not ((info.date or "")[:10] == day or day in passage):
            return False
    return True


def check_citations(citations: list[Citation], texts: RecordTexts) -> tuple[list[Citation], list[Citation]]:
    """(those that hold, those dropped)."""
    kept: list[Citation] = []
    dropped: list[Citation] = []
    for c in citations:
        (kept if citation_holds(c, texts) else dropped).append(c)
    return kept, dropped
