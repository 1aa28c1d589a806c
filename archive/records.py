"""Records: view, export the original, file to a patient, queues, transcriptions, quarantine.

Every function takes a Session and asks policy first (`session.require`, or
`session.require_record` for anything that shows a record's content); views,
exports, filings and releases are audit entries. Searching is `archive.search`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.errors import BadInput, NotFound, UserError
from archive.policy import Action
from indexer.extract.types import PatientInfo
from indexer.pipeline import meta_text, now_iso
from vault.atomic import atomic_writer

if TYPE_CHECKING:
    from archive.session import Session
    from indexer.scan_pages import ScanPage

TRANSCRIPTION_HEADING = "\n\n--- Transcription ---\n"


# ---------------------------------------------------------------- types

@dataclass
class Transcription:
    id: int
    by: str
    at: str
    verified_by: str | None
    verified_at: str | None
    text: str | None = None

    @property
    def verified(self) -> bool:
        return self.verified_by is not None


@dataclass
class RecordView:
    record_id: str
    filename: str
    title: str | None
    format: str | None
    type: str | None
    patient: str | None
    patient_name: str | None
    date: str | None
    author: str | None
    size: int
    status: str
    needs_transcription: bool
    ocr_confidence: float | None
    imported_at: str
    imported_by: str | None
    metadata: dict[str, Any]
    source: dict[str, Any]
    facts: list[dict[str, Any]]
    text: str
    transcription: Transcription | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.transcription is not None:
            data["transcription"]["verified"] = self.transcription.verified
        return data


@dataclass
class QueueItem:
    record_id: str
    filename: str
    format: str | None
    type: str | None
    date: str | None
    imported_at: str
    reason: str
    patient: str | None = None
    ocr_confidence: float | None = None
    transcription: str | None = None  # none | unverified (by X) | verified

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class QuarantineItem:
    id: str
    original_name: str
    reason: str
    at: str
    size: int | None
    released_at: str | None = None
    released_by: str | None = None
    released_to: str | None = None
    source: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FilingResult:
    record_id: str
    mrn: str
    previous: str | None
    patient_created: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- one record

def _record_row(session: Session, record_id: str) -> dict[str, Any]:
    record_id = record_id.strip()
    row = session.store.records.get(record_id)
    if row is None:
        raise NotFound(f"No record '{record_id}'.", "Find record ids with 'chartvault search QUERY'.")
    return row


def _latest_transcription(session: Session, record_id: str, with_text: bool) -> Transcription | None:
    row = session.store.records.latest_transcription(record_id)
    if row is None:
        return None
    text = session.blobs.get_bytes(row["text_blob_id"]).decode("utf-8") if with_text else None
    return Transcription(
        id=row["id"], by=row["by"], at=row["at"], verified_by=row["verified_by"], verified_at=row["verified_at"],
        text=text,
    )


def _allow_record(session: Session, action: Action, row: dict[str, Any]) -> None:
    """Per-record policy (`require_record` audits the allowed access itself)."""
    session.require_record(action, record=row["id"], patient=row["patient_mrn"])


def show_record(session: Session, record_id: str) -> RecordView:
    """A record's metadata and extracted text (and its latest transcription)."""
    row = _record_row(session, record_id)
    with session.transaction():
        _allow_record(session, Action.VIEW_RECORD, row)
    text = session.blobs.get_bytes(row["text_blob_id"]).decode("utf-8", "replace") if row["text_blob_id"] else ""
    name = session.store.patients.name_of(row["patient_mrn"]) if row["patient_mrn"] else None
    return RecordView(
        record_id=row["id"],
        filename=row["filename"],
        title=row["title"],
        format=row["format"],
        type=row["doc_type"],
        patient=row["patient_mrn"],
        patient_name=name,
        date=row["date"],
        author=row["author"],
        size=row["size"],
        status=row["status"],
        needs_transcription=bool(row["needs_transcription"]),
        ocr_confidence=row["ocr_confidence"],
        imported_at=row["imported_at"],
        imported_by=row["imported_by"],
        metadata=json.loads(row["metadata"] or "{}"),
        source=json.loads(row["source"] or "{}"),
        facts=json.loads(row["facts"] or "[]"),
        text=text,
        transcription=_latest_transcription(session, row["id"], with_text=True),
    )


def export_original(session: Session, record_id: str, out: Path) -> int:
    """Write the original file's bytes, exactly as imported, to `out` (created 0600); return its size."""
    row = _record_row(session, record_id)
    out = Path(out)
    if out.exists() or out.is_symlink():
        raise BadInput(f"{out} already exists.", "Choose a new file name; chartvault never overwrites a file.")
    if not out.parent.is_dir():
        raise BadInput(f"The folder {out.parent} does not exist.", "Create it first, or choose another --out.")
    with session.transaction():
        _allow_record(session, Action.EXPORT, row)
    with atomic_writer(out, mode=0o600) as fh:
        size = session.blobs.get_to(row["blob_id"], fh)
    return size


# ---------------------------------------------------------------- filing

def assign_patient(session: Session, record_id: str, mrn: str) -> FilingResult:
    """Tie a record to the patient `mrn` (created if new); it leaves the needs-filing queue.

    The record alone: `archive.filing.file_record` is what people call, it also
    lands the record's chart facts in the same transaction.
    """
    from archive.charts.rules import check_mrn

    mrn = check_mrn(mrn)
    row = _record_row(session, record_id)
    session.require(Action.FILE_RECORD, record=row["id"], patient=mrn)
    with session.transaction():
        created = not session.store.patients.exists(mrn)
        session.store.patients.upsert(PatientInfo(mrn=mrn), f"filed by {session.user.name}")
        session.store.records.file_to(row["id"], mrn)
        name = session.store.patients.name_of(mrn)
        session.store.records.update_search_row(
            row["n"],
            meta=meta_text(row["doc_type"], row["format"], row["author"], mrn, PatientInfo(mrn, name), row["date"]),
        )
        session.audit(
            "file_record",
            record=row["id"],
            patient=mrn,
            details={"previous": row["patient_mrn"], "patient_created": created},
        )
    return FilingResult(record_id=row["id"], mrn=mrn, previous=row["patient_mrn"], patient_created=created)


# ---------------------------------------------------------------- queues

QUEUES = ("needs_filing", "needs_transcription")


def list_queue(session: Session, queue: str, limit: int = 500) -> list[QueueItem]:
    """Records waiting for a person: `needs_filing` or `needs_transcription`."""
    if queue not in QUEUES:
        raise BadInput(f"No queue '{queue}'.", "Queues: needs_filing, needs_transcription, and 'quarantine list'.")
    session.require(Action.FILE_RECORD if queue == "needs_filing" else Action.TRANSCRIBE)
    items = []
    for row in session.store.records.queue(queue, limit):
        meta = json.loads(row["metadata"] or "{}")
        item = QueueItem(
            record_id=row["id"],
            filename=row["filename"],
            format=row["format"],
            type=row["doc_type"],
            date=row["date"],
            imported_at=row["imported_at"],
            reason=meta.get("filing_reason", "") if queue == "needs_filing" else (
                "; ".join(meta.get("transcription_reasons") or []) or "low OCR confidence (handwriting?)"),
            patient=row["patient_mrn"],
            ocr_confidence=row["ocr_confidence"],
        )
        if queue == "needs_transcription":
            latest = _latest_transcription(session, row["id"], with_text=False)
            item.transcription = "none" if latest is None else f"unverified (by {latest.by})"
        items.append(item)
    return items


# ---------------------------------------------------------------- transcriptions

@dataclass(frozen=True)
class DraftLine:
    text: str
    confidence: float | None  # the recogniser's, None when not known (older imports, PDFs)
    weak: bool  # read with low confidence: check it against the scan


@dataclass(frozen=True)
class TranscriptionDraft:
    """What the transcription box starts from: the latest transcription, else the OCR text; and the OCR
    lines with their confidence, weak ones marked (under the `weak_line_below` of the engine that read it)."""

    record_id: str
    text: str
    from_transcription: bool
    lines: list[DraftLine]
    reasons: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def transcription_draft(session: Session, record_id: str) -> TranscriptionDraft:
    """The text to prefill a transcription with, and the OCR lines read with low confidence."""
    from indexer.extract.legibility import thresholds_for

    session.require(Action.TRANSCRIBE)
    row = _record_row(session, record_id)
    with session.transaction():
        _allow_record(session, Action.VIEW_RECORD, row)
    ocr_text = session.blobs.get_bytes(row["text_blob_id"]).decode("utf-8", "replace") if row["text_blob_id"] else ""
    meta = json.loads(row["metadata"] or "{}")
    texts = [line for line in ocr_text.splitlines() if line.strip()]
    scores = meta.get("ocr_line_confidence") or []
    if len(scores) != len(texts):  # not an image read line by line (or the text was changed): no marks
        scores = [None] * len(texts)
    weak_below = thresholds_for(meta.get("ocr_engine")).weak_line_below
    lines = [DraftLine(t, c, c is not None and c < weak_below) for t, c in zip(texts, scores, strict=True)]
    latest = _latest_transcription(session, row["id"], with_text=True)
    return TranscriptionDraft(
        record_id=row["id"],
        text=latest.text if latest is not None and latest.text else ocr_text,
        from_transcription=latest is not None,
        lines=lines,
        reasons=list(meta.get("transcription_reasons") or []),
    )


def scan_picture(session: Session, record_id: str, page: int = 1) -> ScanPage:
    """Page `page` of a record's scan as a picture, for the transcription screen (indexer.scan_pages.ScanPage:
    its `why_not` says why there is none). The original is decrypted into memory only, never to disk; the
    view is audited as a `view_record` entry naming the page."""
    from indexer.scan_pages import scan_page

    session.require(Action.TRANSCRIBE)
    row = _record_row(session, record_id)
    with session.transaction():
        session.require_record(Action.VIEW_RECORD, record=row["id"], patient=row["patient_mrn"],
                               details={"scan_page": int(page)})
    return scan_page(session.blobs.get_bytes(row["blob_id"]), row["format"], page)


def add_transcription(session: Session, record_id: str, text: str) -> Transcription:
    """Store a typed transcription of a scan beside it (encrypted); unverified until a second person checks it."""
    text = text.strip()
    if not text:
        raise BadInput("The transcription is empty.", "Type what the scan says.")
    row = _record_row(session, record_id)
    session.require(Action.TRANSCRIBE, record=row["id"], patient=row["patient_mrn"])
    blob = session.blobs.put_bytes(text.encode("utf-8"), verify=True)
    with session.transaction():
        _allow_record(session, Action.TRANSCRIBE, row)
        transcription_id = session.store.records.add_transcription(
            row["id"], blob.blob_id, session.user.name, now_iso()
        )
        _reindex_text(session, row, text)
        session.audit("transcribe", record=row["id"], patient=row["patient_mrn"], details={"chars": len(text)})
    found = _latest_transcription(session, row["id"], with_text=False)
    assert found is not None and found.id == transcription_id
    return found


def verify_transcription(session: Session, record_id: str) -> Transcription:
    """A second person confirms the latest transcription; the record leaves the transcription queue."""
    row = _record_row(session, record_id)
    session.require(Action.TRANSCRIBE, record=row["id"], patient=row["patient_mrn"])
    latest = _latest_transcription(session, row["id"], with_text=False)
    if latest is None:
        raise UserError(f"Record {row['id']} has no transcription to verify.", "Add one first with 'transcribe'.")
    if latest.verified:
        raise UserError(f"The transcription of {row['id']} is already verified by {latest.verified_by}.", "")
    if latest.by == session.user.name:
        raise UserError(
            "You wrote this transcription; a second person must verify it.",
            "Ask another technician to check it against the scan.",
        )
    with session.transaction():
        _allow_record(session, Action.TRANSCRIBE, row)
        at = now_iso()
        session.store.records.verify_transcription(latest.id, session.user.name, at)
        session.store.records.transcribed(row["id"])
        session.audit(
            "verify_transcription", record=row["id"], patient=row["patient_mrn"], details={"transcription": latest.id}
        )
    latest.verified_by, latest.verified_at = session.user.name, at
    return latest


def _reindex_text(session: Session, row: dict[str, Any], transcription: str) -> None:
    base = session.blobs.get_bytes(row["text_blob_id"]).decode("utf-8", "replace") if row["text_blob_id"] else ""
    session.store.records.update_search_row(row["n"], text=base + TRANSCRIPTION_HEADING + transcription)


# ---------------------------------------------------------------- quarantine

def _quarantine_store(session: Session) -> Any:
    return session.blobs.at(session.vault.quarantine_dir)


def list_quarantine(session: Session, include_released: bool = False) -> list[QuarantineItem]:
    session.require(Action.MANAGE_QUARANTINE)
    return [
        QuarantineItem(
            id=r["id"], original_name=r["original_name"], reason=r["reason"], at=r["at"], size=r["size"],
            released_at=r["released_at"], released_by=r["released_by"], released_to=r["released_to"],
            source=json.loads(r["source"] or "{}"),
        )
        for r in session.store.quarantine.entries(include_released)
    ]


def safe_file_name(name: str) -> str:
    """A name that is safe to create in a folder: no path parts, '..', or control characters."""
    name = name.replace("/", "_").replace("\\", "_")
    name = "".join("_" if unicodedata.category(ch) in ("Cc", "Cf") or 0xDC80 <= ord(ch) <= 0xDCFF else ch
                   for ch in name)
    name = re.sub(r"\.{2,}", ".", name).strip(" .")
    return name[:200] or "quarantined-file"


def release_quarantine(session: Session, quarantine_id: str, to_dir: Path) -> Path:
    """Write a quarantined file back out to `to_dir` (under a safe name) and remove it from quarantine."""
    session.require(Action.MANAGE_QUARANTINE)
    row = session.store.quarantine.get(quarantine_id.strip())
    if row is None:
        raise NotFound(f"No quarantine entry '{quarantine_id}'.", "List them with 'chartvault quarantine list'.")
    if row["released_at"]:
        raise UserError(
            f"Quarantine entry {row['id']} was already released to {row['released_to']} on {row['released_at']}.", ""
        )
    to_dir = Path(to_dir)
    if not to_dir.is_dir():
        raise BadInput(f"The folder {to_dir} does not exist.", "Create it first, or choose another --to.")
    base = safe_file_name(row["original_name"])
    dest = to_dir / base
    n = 1
    while dest.exists() or dest.is_symlink():
        stem, dot, ext = base.partition(".")
        dest = to_dir / f"{stem}-{n}{dot}{ext}"
        n += 1
    qstore = _quarantine_store(session)
    with atomic_writer(dest, mode=0o600) as fh:
        qstore.get_to(row["blob_id"], fh)
    with session.transaction():
        session.store.quarantine.released(row["id"], now_iso(), session.user.name, str(dest))
        session.audit("quarantine_release", details={"quarantine_id": row["id"], "to": str(dest)})
    # The released copy is out; the encrypted one goes, unless another active entry shares it.
    if not session.store.quarantine.blob_still_held(row["blob_id"]):
        qstore.delete(row["blob_id"])
    return dest


__all__ = [
    "FilingResult",
    "QueueItem",
    "QuarantineItem",
    "RecordView",
    "Transcription",
    "add_transcription",
    "assign_patient",
    "export_original",
    "scan_picture",
    "list_queue",
    "list_quarantine",
    "release_quarantine",
    "show_record",
    "verify_transcription",
]
