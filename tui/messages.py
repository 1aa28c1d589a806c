"""Typed messages the TUI's screens and workers post.

A worker thread posts one when its archive call is done (`post_message` is
thread-safe); the screen or the app handles it on the UI thread. Tests wait
for these (tests/tui_helpers.py), not for a fixed pause. Messages that open a
screen go to the app, so screens need not import each other.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message

from archive.errors import ChartvaultError


class Unlocked(Message):
    """A session was opened (by the unlock or the create screen); the app shows the main screen."""

    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session


class DemoProgress(Message):
    """The demo build is `done` of `total` of the way (`what`: "Step n of N: the step - what it does now")."""

    def __init__(self, done: int, total: int, what: str) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.what = what


class DemoBuilt(Message):
    """The demo build finished: its report, or the `error` that stopped it."""

    def __init__(self, report: Any, error: ChartvaultError | None = None) -> None:
        super().__init__()
        self.report = report
        self.error = error


class OpenRecord(Message):
    """Open one record's screen (the app pushes it; any list of records may ask); with `terms`
    (archive.hits.HitTerms: a search's words, or a cited passage) it opens at the first hit."""

    def __init__(self, record_id: str, terms: Any = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.terms = terms


class SearchDone(Message):
    """A search of the main screen finished: its hits, or the `error` that stopped it; `result` is the
    archive.search.SearchResult (the mode that produced the hits, and why full text stood in if it did)."""

    def __init__(self, query: str, hits: list[Any], error: ChartvaultError | None = None, result: Any = None) -> None:
        super().__init__()
        self.query = query
        self.hits = hits
        self.error = error
        self.result = result


class BacklogCounted(Message):
    """The app recounted the records waiting to be embedded (None: it could not count)."""

    def __init__(self, backlog: int | None) -> None:
        super().__init__()
        self.backlog = backlog


class RecordLoaded(Message):
    """The record screen's view and access history arrived, or the `error` that refused it."""

    def __init__(self, record_id: str, view: Any, history: list[Any], error: ChartvaultError | None = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.view = view
        self.history = history
        self.error = error


class StatsLoaded(Message):
    """One statistics tab's result arrived (`kind`: frequency, recurrence, readmissions), or its `error`."""

    def __init__(self, kind: str, result: Any, error: ChartvaultError | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.result = result
        self.error = error


class QueuesLoaded(Message):
    """The work queues arrived: rows per queue ("filing", "transcription", "quarantine"), or why not."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__()
        self.result = result


class ReviewShown(Message):
    """One review item's detail (both sources cited) as text, or the `error` that stopped it."""

    def __init__(self, item_id: int, text: str, error: ChartvaultError | None = None) -> None:
        super().__init__()
        self.item_id = item_id
        self.text = text
        self.error = error


class UsersLoaded(Message):
    """The users list arrived, or the `error` that refused it."""

    def __init__(self, users: list[Any], error: ChartvaultError | None = None) -> None:
        super().__init__()
        self.users = users
        self.error = error


class AuditLoaded(Message):
    """The audit screen's worker finished: `kind` (log, review, verify, ack, alerts) and its `result`, or the
    exception it met (any exception: shown, not raised, so a worker never kills the app)."""

    def __init__(self, kind: str, result: Any, error: Exception | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.result = result
        self.error = error


class CodingLoaded(Message):
    """The coding screen's worker finished: `kind` (search, suggestions, decide) and its `result`, or its
    `error`; `query` is the code search's text."""

    def __init__(self, kind: str, result: Any, error: ChartvaultError | None = None, query: str = "") -> None:
        super().__init__()
        self.kind = kind
        self.result = result
        self.error = error
        self.query = query


class Done(Message):
    """A screen's change (file, transcribe, disable a user, ...) finished: what to say, or its `error`."""

    def __init__(self, text: str, error: ChartvaultError | None = None) -> None:
        super().__init__()
        self.text = text
        self.error = error


class SimilarLoaded(Message):
    """The similar-cases screen's result arrived, or the `error` that stopped it."""

    def __init__(self, record_id: str, result: Any, error: ChartvaultError | None = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.result = result
        self.error = error


class DraftShown(Message):
    """The transcription box's starting text and the OCR lines (archive.records.TranscriptionDraft), or the
    `error` that stopped loading them."""

    def __init__(self, record_id: str, draft: Any, error: ChartvaultError | None = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.draft = draft
        self.error = error


class ScanShown(Message):
    """A scan's page to draw beside the transcription box (indexer.scan_pages.ScanPage, held in memory), or
    the `error` that stopped it."""

    def __init__(self, record_id: str, page: Any, error: ChartvaultError | None = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.page = page
        self.error = error
