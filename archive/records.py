"""Records: search, view, export the original, file to a patient, queues, transcriptions, quarantine.

Every function takes a Session and asks policy first (`session.require`, or
`session.require_record` for anything that shows a record's content); views,
exports, searches, filings and releases are audit entries. Search query text
is kept only in the audit log inside the encrypted index, never in a file.
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
from indexer import fts
from indexer.extract.types import PatientInfo
from indexer.filing import normalise_mrn
from indexer.pipeline import meta_text, now_iso, upsert_patient
from vault.atomic import atomic_writer

if TYPE_CHECKING:
    from archive.session import Session

TRANSCRIPTION_HEADING = "\n\n--- Transcription ---\n"


# ---------------------------------------------------------------- types

@dataclass(frozen=True)
class SearchHit:
    record_id: str
    filename: str
    patient: str | None
    date: str | None
    type: str | None
    score: float
    snippet: str  # matched terms wrapped in ** **
    title: str | None = None
    format: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "filename": self.filename,
            "patient": self.patient,
            "date": self.date,
            "type": self.type,
            "score": self.score,
            "snippet": self.snippet,
            "title": self.title,
            "format": self.format,
        }


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


# ---------------------------------------------------------------- search

@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int  # records matching (at least this many when `more`)
    more: bool = False
    pool: int | None = None  # broad query: ranked among this many most recently imported matches

    def note(self) -> str:
        """One line for people about how many matched and how they were ranked."""
        total = f"more than {self.total:,}" if self.more else f"{self.total:,}"
        text = f"{total} record(s) match"
        if self.pool:
            text += f"; the {self.pool:,} most recently imported were ranked (add words or filters to narrow)"
        return text + "."


def search_records(
    session: Session,
    query: str,
    *,
    patient: str | None = None,
    doc_type: str | None = None,
    author: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    limit: int = 20,
    mark: tuple[str, str] = ("**", "**"),
    as_you_type: bool = False,
) -> list[SearchHit]:
    """Full-text search (BM25, snippets). BadQuery with a suggestion when the query is malformed.

    `as_you_type`: the query is still being typed (the TUI): its last word is a prefix.
    """
    return search_records_page(
        session, query, patient=patient, doc_type=doc_type, author=author, date_from=date_from,
        date_to=date_to, limit=limit, mark=mark, as_you_type=as_you_type,
    ).hits


def search_records_page(
    session: Session,
    query: str,
    *,
    patient: str | None = None,
    doc_type: str | None = None,
    author: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    limit: int = 20,
    mark: tuple[str, str] = ("**", "**"),
    as_you_type: bool = False,
) -> SearchPage:
    """`search_records`, with how many records matched and how the hits were ranked."""
    session.require(Action.SEARCH, patient=patient)
    if limit < 1:
        raise BadInput("--limit must be at least 1.", "For example --limit 20.")
    filters = fts.Filters(patient=patient, doc_type=doc_type, author=author, date_from=date_from, date_to=date_to)
    page = fts.search_page(session.db, fts.live_query(query) if as_you_type else query, filters, limit=limit)
    may_see = getattr(session, "may_see_record", None)
    hits = [
        SearchHit(
            record_id=h.record_id,
            filename=h.filename,
            patient=h.patient,
            date=h.date,
            type=h.doc_type,
            score=h.score,
            snippet=fts.mark(h.snippet, *mark),
            title=h.title,
            format=h.format,
        )
        for h in page.hits
        if may_see is None or may_see(h.record_id, h.patient, Action.SEARCH)
    ]
    details = {
        "query": query,
        "filters": {k: v for k, v in asdict(filters).items() if v},
        "hits": len(hits),
        "matches": page.total,
        "records": [h.record_id for h in hits],
        "patients": sorted({h.patient for h in hits if h.patient}),
    }
    with session.transaction():
        session.audit("search", patient=patient, details=details)
    return SearchPage(hits=hits, total=page.total, more=page.more, pool=page.pool)


# ---------------------------------------------------------------- one record

def _record_row(session: Session, record_id: str) -> dict[str, Any]:
    record_id = record_id.strip()
    rows = list(session.db.query("SELECT * FROM records WHERE id = ?", [record_id]))
    if not rows:
        raise NotFound(f"No record '{record_id}'.", "Find record ids with 'chartvault search QUERY'.")
    return rows[0]


def _latest_transcription(session: Session, record_id: str, with_text: bool) -> Transcription | None:
    row = session.db.execute(
        "SELECT id, by, at, verified_by, verified_at, text_blob_id FROM transcriptions "
        "WHERE record_id = ? ORDER BY id DESC LIMIT 1",
        [record_id],
    ).fetchone()
    if row is None:
        return None
    text = session.blobs.get_bytes(row[5]).decode("utf-8") if with_text else None
    return Transcription(id=row[0], by=row[1], at=row[2], verified_by=row[3], verified_at=row[4], text=text)


def _allow_record(session: Session, action: Action, row: dict[str, Any], details: dict[str, Any]) -> None:
    """Per-record policy; the allowed access is audited (by require_record, or here)."""
    decision = session.require_record(action, record=row["id"], patient=row["patient_mrn"])
    if decision is None:  # an older Session that does not audit allowed accesses itself
        session.audit(action.value, record=row["id"], patient=row["patient_mrn"], details=details)


def show_record(session: Session, record_id: str) -> RecordView:
    """A record's metadata and extracted text (and its latest transcription)."""
    row = _record_row(session, record_id)
    with session.transaction():
        _allow_record(session, Action.VIEW_RECORD, row, {})
    text = session.blobs.get_bytes(row["text_blob_id"]).decode("utf-8", "replace") if row["text_blob_id"] else ""
    name = None
    if row["patient_mrn"]:
        found = session.db.execute("SELECT name FROM patients WHERE mrn = ?", [row["patient_mrn"]]).fetchone()
        name = found[0] if found else None
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
        _allow_record(session, Action.EXPORT, row, {"what": "original"})
    with atomic_writer(out, mode=0o600) as fh:
        size = session.blobs.get_to(row["blob_id"], fh)
    return size


# ---------------------------------------------------------------- filing

def check_mrn(mrn: str) -> str:
    clean = normalise_mrn(mrn)
    if clean is None:
        raise BadInput(
            f"'{mrn}' is not a valid MRN.",
            "An MRN is 1-40 letters, digits, '-', '_', '/' or '.', starting with a letter or digit.",
        )
    return clean


def file_record(session: Session, record_id: str, mrn: str) -> FilingResult:
    """Tie a record to the patient `mrn` (created if new); it leaves the needs-filing queue."""
    mrn = check_mrn(mrn)
    row = _record_row(session, record_id)
    session.require(Action.FILE_RECORD, record=row["id"], patient=mrn)
    with session.transaction():
        created = session.db.execute("SELECT 1 FROM patients WHERE mrn = ?", [mrn]).fetchone() is None
        upsert_patient(session.db, PatientInfo(mrn=mrn), f"filed by {session.user.name}")
        session.db.execute(
            "UPDATE records SET patient_mrn = ?, status = 'filed' WHERE id = ?", [mrn, row["id"]]
        )
        name = session.db.execute("SELECT name FROM patients WHERE mrn = ?", [mrn]).fetchone()[0]
        fts.update_columns(
            session.db,
            row["n"],
            meta=meta_text(row["doc_type"], row["format"], row["author"], mrn, PatientInfo(mrn, name), row["date"]),
        )
        session.audit(
            "file_record",
            record=row["id"],
            patient=mrn,
            details={"previous": row["patient_mrn"], "patient_created": created},
        )
        if row["patient_mrn"] is None:  # first filing: its HL7/FHIR facts join the chart
            from archive.chart_import import land_record

            land_record(session, row["id"])
    return FilingResult(record_id=row["id"], mrn=mrn, previous=row["patient_mrn"], patient_created=created)


# ---------------------------------------------------------------- queues

QUEUES = ("needs_filing", "needs_transcription")


def list_queue(session: Session, queue: str, limit: int = 500) -> list[QueueItem]:
    """Records waiting for a person: `needs_filing` or `needs_transcription`."""
    if queue not in QUEUES:
        raise BadInput(f"No queue '{queue}'.", "Queues: needs_filing, needs_transcription, and 'quarantine list'.")
    session.require(Action.FILE_RECORD if queue == "needs_filing" else Action.TRANSCRIBE)
    where = "status = 'needs_filing'" if queue == "needs_filing" else "needs_transcription = 1"
    rows = list(
        session.db.query(
            f"SELECT id, filename, format, doc_type, date, imported_at, metadata, patient_mrn, ocr_confidence "
            f"FROM records WHERE {where} ORDER BY imported_at, n LIMIT ?",
            [int(limit)],
        )
    )
    items = []
    for row in rows:
        meta = json.loads(row["metadata"] or "{}")
        item = QueueItem(
            record_id=row["id"],
            filename=row["filename"],
            format=row["format"],
            type=row["doc_type"],
            date=row["date"],
            imported_at=row["imported_at"],
            reason=meta.get("filing_reason", "") if queue == "needs_filing" else "low OCR confidence (handwriting?)",
            patient=row["patient_mrn"],
            ocr_confidence=row["ocr_confidence"],
        )
        if queue == "needs_transcription":
            latest = _latest_transcription(session, row["id"], with_text=False)
            item.transcription = "none" if latest is None else f"unverified (by {latest.by})"
        items.append(item)
    return items


# ---------------------------------------------------------------- transcriptions

def add_transcription(session: Session, record_id: str, text: str) -> Transcription:
    """Store a typed transcription of a scan beside it (encrypted); unverified until a second person checks it."""
    text = text.strip()
    if not text:
        raise BadInput("The transcription is empty.", "Type what the scan says.")
    row = _record_row(session, record_id)
    session.require(Action.TRANSCRIBE, record=row["id"], patient=row["patient_mrn"])
    blob = session.blobs.put_bytes(text.encode("utf-8"), verify=True)
    with session.transaction():
        _allow_record(session, Action.TRANSCRIBE, row, {})
        cur = session.db.execute(
            "INSERT INTO transcriptions (record_id, text_blob_id, by, at) VALUES (?, ?, ?, ?)",
            [row["id"], blob.blob_id, session.user.name, now_iso()],
        )
        _reindex_text(session, row, text)
        session.audit("transcribe", record=row["id"], patient=row["patient_mrn"], details={"chars": len(text)})
    found = _latest_transcription(session, row["id"], with_text=False)
    assert found is not None and found.id == cur.lastrowid
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
        _allow_record(session, Action.TRANSCRIBE, row, {"verify": latest.id})
        at = now_iso()
        session.db.execute(
            "UPDATE transcriptions SET verified_by = ?, verified_at = ? WHERE id = ?",
            [session.user.name, at, latest.id],
        )
        session.db.execute("UPDATE records SET needs_transcription = 0 WHERE id = ?", [row["id"]])
        session.audit(
            "verify_transcription", record=row["id"], patient=row["patient_mrn"], details={"transcription": latest.id}
        )
    latest.verified_by, latest.verified_at = session.user.name, at
    return latest


def _reindex_text(session: Session, row: dict[str, Any], transcription: str) -> None:
    base = session.blobs.get_bytes(row["text_blob_id"]).decode("utf-8", "replace") if row["text_blob_id"] else ""
    fts.update_columns(session.db, row["n"], text=base + TRANSCRIPTION_HEADING + transcription)


# ---------------------------------------------------------------- quarantine

def _quarantine_store(session: Session) -> Any:
    return session.blobs.at(session.vault.quarantine_dir)


def list_quarantine(session: Session, include_released: bool = False) -> list[QuarantineItem]:
    session.require(Action.MANAGE_QUARANTINE)
    sql = "SELECT * FROM quarantine"
    if not include_released:
        sql += " WHERE released_at IS NULL"
    sql += " ORDER BY at, id"
    return [
        QuarantineItem(
            id=r["id"], original_name=r["original_name"], reason=r["reason"], at=r["at"], size=r["size"],
            released_at=r["released_at"], released_by=r["released_by"], released_to=r["released_to"],
            source=json.loads(r["source"] or "{}"),
        )
        for r in session.db.query(sql)
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
    rows = list(session.db.query("SELECT * FROM quarantine WHERE id = ?", [quarantine_id.strip()]))
    if not rows:
        raise NotFound(f"No quarantine entry '{quarantine_id}'.", "List them with 'chartvault quarantine list'.")
    row = rows[0]
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
        session.db.execute(
            "UPDATE quarantine SET released_at = ?, released_by = ?, released_to = ? WHERE id = ?",
            [now_iso(), session.user.name, str(dest), row["id"]],
        )
        session.audit("quarantine_release", details={"quarantine_id": row["id"], "to": str(dest)})
    # The released copy is out; the encrypted one goes, unless another active entry shares it.
    other = session.db.execute(
        "SELECT 1 FROM quarantine WHERE blob_id = ? AND released_at IS NULL", [row["blob_id"]]
    ).fetchone()
    if other is None:
        qstore.delete(row["blob_id"])
    return dest


def patient_exists(session: Session, mrn: str) -> bool:
    return session.db.execute("SELECT 1 FROM patients WHERE mrn = ?", [mrn]).fetchone() is not None


__all__ = [
    "FilingResult",
    "QueueItem",
    "QuarantineItem",
    "RecordView",
    "SearchHit",
    "SearchPage",
    "Transcription",
    "add_transcription",
    "export_original",
    "file_record",
    "list_queue",
    "list_quarantine",
    "release_quarantine",
    "search_records",
    "search_records_page",
    "show_record",
    "verify_transcription",
]
