"""The ingest pipeline: read -> extract -> encrypt -> verify -> commit -> remove plaintext.

For each input: read it safely (`indexer.inputs`), skip it if its content is
already a record (idempotent by keyed blob id), extract text and metadata,
decide its patient (`indexer.filing`), encrypt the original and the
extracted text into the blob store and read them back, then commit the index
rows of a batch of inputs in one transaction, and only then remove the
plaintext (with inbox semantics). Anything wrong with an input sends it,
encrypted, to quarantine with a reason; the pipeline itself never fails
because of one bad file.

Crash safety: blobs are content-addressed and written atomically, so a blob
written before a crash is simply found again; rows are committed once (the
records' blob_id is UNIQUE and checked inside the write transaction); the
source file is removed only after the commit. Killed anywhere, a rerun loses
nothing and duplicates nothing.

Knows nothing of users: the caller passes an actor name, the transaction to
use and an `on_commit` hook (the archive uses it to audit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from indexer import fts
from indexer.extract.dispatch import extract
from indexer.extract.errors import ExtractionError
from indexer.extract.types import Extraction, PatientInfo
from indexer.filing import Filing, decide_filing
from indexer.inputs import InputFile, RawInput, collect, read_settled
from indexer.pending import pending_files, read_pending
from vault.atomic import fsync_dir
from vault.db import transaction as db_transaction
from vault.errors import TamperDetected

# A "text" file whose longest line is longer than this is a dump, not a document.
MAX_LINE_CHARS = 1_000_000
# Formats whose embedded dates may be a template's, not the document's: without a date of their own
# (in the text, or when last saved) the record takes the file's time.
DATE_FROM_FILE_TIME = frozenset({"docx"})
# Extracted text beyond this is kept in its blob but not indexed.
MAX_INDEXED_CHARS = 10_000_000
BATCH_SIZE = 32
BATCH_BYTES = 64 * 1024 * 1024


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class Outcome:
    """What happened to one input. Every input gets exactly one."""

    input: str  # the path shown to people
    status: str  # imported | duplicate | quarantined | skipped | vanished | changing
    record_id: str | None = None
    quarantine_id: str | None = None
    reason: str | None = None  # why quarantined / skipped (left where it is) / vanished
    patient: str | None = None
    filing: str | None = None  # filed | needs_filing
    filing_reason: str | None = None
    needs_transcription: bool = False
    format: str | None = None
    doc_type: str | None = None
    warnings: list[str] = field(default_factory=list)
    blob_id: str | None = field(default=None, repr=False)
    path: Path | None = field(default=None, repr=False)  # the input on disk (for a watcher), when known

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("blob_id")
        data.pop("path")
        return data


class Progress(Protocol):
    def __call__(self, done: int, total: int, outcome: Outcome | None) -> None: ...


@dataclass
class _Staged:
    raw: RawInput
    outcome: Outcome
    kind: str  # record | quarantine | known (nothing to commit, only to clean up)
    record: dict[str, Any] | None = None
    fts: dict[str, str] | None = None
    patients: list[tuple[PatientInfo, str]] = field(default_factory=list)
    quarantine: dict[str, Any] | None = None
    size: int = 0
    blobs: list[bytes] = field(default_factory=list)  # to encrypt into the store before the commit


class Ingestor:
    """Runs the pipeline over paths or pending arrivals against one index and blob store."""

    def __init__(
        self,
        db: Any,
        store: Any,
        quarantine_store: Any,
        *,
        actor: str | None = None,
        transaction: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
        on_commit: Callable[[list[Outcome]], None] | None = None,
        batch_size: int = BATCH_SIZE,
        settle: float = 1.0,
        retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.store = store
        self.qstore = quarantine_store
        self.actor = actor
        self.transaction = transaction or (lambda: db_transaction(db))
        self.on_commit = on_commit
        self.batch_size = max(1, batch_size)
        self.settle = settle
        self.retries = retries
        self.sleep = sleep
        self._batch_blobs: dict[str, _Staged] = {}

    # ------------------------------------------------------------ entry points
    def ingest_paths(
        self,
        paths: list[Path],
        *,
        remove_source: bool = False,
        base: Path | None = None,
        via: str = "import",
        changing: str = "wait",
        orphan_sidecar_grace: float = 0.0,
        settle: float | None = None,
        progress: Progress | None = None,
    ) -> list[Outcome]:
        """Ingest files and folders. `remove_source`: inbox semantics (delete after commit).

        `changing` says what to do with a file still being written: "wait"
        (retry after the settle period, then quarantine a snapshot),
        "report" (return a `changing` outcome; the watcher tries later) or
        "quarantine" (quarantine a snapshot now).
        """
        # Inbox semantics: nothing may stay, so hidden folders are walked too; a copy-import reports them.
        items = collect(paths, orphan_sidecar_grace=orphan_sidecar_grace, base=base, hidden_folders=remove_source)
        # Files deleted after import must have settled first; copies need only a consistent read.
        if settle is None:
            settle = self.settle if remove_source else 0.0

        def reads() -> Iterator[RawInput]:
            for item in items:
                yield self._read(item, settle, via, changing)

        return self.ingest_raw(reads(), total=len(items), remove_source=remove_source, progress=progress)

    def drain_pending(self, pending_dir: Path, identity: Any, progress: Progress | None = None) -> list[Outcome]:
        """Ingest the arrivals a locked watcher encrypted into `pending_dir`."""
        files = pending_files(pending_dir)

        def reads() -> Iterator[RawInput]:
            for path in files:
                raw = _raw_from_pending(path, identity)
                if raw is not None:
                    yield raw

        return self.ingest_raw(reads(), total=len(files), remove_source=True, progress=progress)

    def ingest_raw(
        self,
        raws: Iterable[RawInput],
        *,
        total: int = 0,
        remove_source: bool = False,
        progress: Progress | None = None,
    ) -> list[Outcome]:
        outcomes: list[Outcome] = []
        batch: list[_Staged] = []
        batch_bytes = 0
        done = 0
        self._batch_blobs = {}
        try:
            for raw in raws:
                staged = self._stage(raw)
                done += 1
                if isinstance(staged, Outcome):
                    outcomes.append(staged)
                else:
                    batch.append(staged)
                    batch_bytes += staged.size
                    if len(batch) >= self.batch_size or batch_bytes >= BATCH_BYTES:
                        outcomes.extend(self._commit(batch, remove_source))
                        batch, batch_bytes = [], 0
                        self._batch_blobs = {}
                if progress:
                    progress(done, max(total, done), staged if isinstance(staged, Outcome) else staged.outcome)
            if batch:
                outcomes.extend(self._commit(batch, remove_source))
        finally:
            self._batch_blobs = {}
        return outcomes

    # ------------------------------------------------------------ reading
    def _read(self, item: InputFile, settle: float, via: str, changing: str) -> RawInput:
        return read_settled(
            item, settle=settle, via=via, changing=changing, retries=self.retries, sleep=self.sleep
        )

    # ------------------------------------------------------------ staging
    def _stage(self, raw: RawInput) -> _Staged | Outcome:
        if raw.vanished:
            return Outcome(input=raw.rel, status="vanished", reason=raw.problem)
        if raw.skipped is not None:
            return Outcome(input=raw.rel, status="skipped", reason=raw.skipped, path=raw.path)
        if raw.changing:
            return Outcome(input=raw.rel, status="changing", reason="still being written", path=raw.path)
        if raw.data is None:  # too large to hold in memory: quarantined by streaming it
            return self._quarantine(raw, None, None, raw.problem or "the file cannot be read")
        data = raw.data
        blob_id = self.store.blob_id_of(data)
        known = self._known(raw, blob_id)
        if known is not None:
            return known
        problem = raw.problem or raw.sidecar_problem
        if problem:
            return self._quarantine(raw, data, blob_id, problem)
        try:
            extraction = extract(data, raw.name)
        except ExtractionError as exc:
            return self._quarantine(raw, data, blob_id, exc.reason)
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the pipeline
            return self._quarantine(raw, data, blob_id, f"could not be read (unexpected {type(exc).__name__})")
        problem = content_problem(extraction, len(data))
        if problem:
            return self._quarantine(raw, data, blob_id, problem)
        return self._stage_record(raw, data, blob_id, extraction)

    def _known(self, raw: RawInput, blob_id: str) -> _Staged | None:
        """A duplicate of a record (or of an active quarantine entry) already committed or staged."""
        row = self.db.execute("SELECT id, patient_mrn FROM records WHERE blob_id = ?", [blob_id]).fetchone()
        staged = self._batch_blobs.get(blob_id)
        if row is None and staged is not None and staged.kind == "record":
            row = (staged.outcome.record_id, staged.outcome.patient)
        if row is not None:
            out = Outcome(input=raw.rel, status="duplicate", record_id=row[0], patient=row[1], blob_id=blob_id)
            return _Staged(raw=raw, outcome=out, kind="known")
        q = self.db.execute(
            "SELECT id, reason FROM quarantine WHERE blob_id = ? AND released_at IS NULL", [blob_id]
        ).fetchone()
        if q is None and staged is not None and staged.kind == "quarantine":
            q = (staged.outcome.quarantine_id, staged.outcome.reason)
        if q is not None:
            out = Outcome(input=raw.rel, status="quarantined", quarantine_id=q[0], reason=q[1], blob_id=blob_id)
            out.warnings.append("the same content was already in quarantine")
            return _Staged(raw=raw, outcome=out, kind="known")
        return None

    def _quarantine(self, raw: RawInput, data: bytes | None, blob_id: str | None, reason: str) -> _Staged:
        if data is None:
            assert raw.path is not None
            put = self.qstore.put_file(raw.path, verify=True)
        else:
            put = self.qstore.put_bytes(data, verify=True)
        if blob_id is not None and put.blob_id != blob_id:
            raise TamperDetected("A blob's keyed id changed between hashing and storing.", "Check the disk and memory.")
        blob_id = put.blob_id
        source = _source(raw)
        if raw.sidecar is not None:
            source["sidecar"] = raw.sidecar
        if raw.sidecar_raw is not None:
            source["sidecar_text"] = raw.sidecar_raw
        qid = "q" + os.urandom(5).hex()
        out = Outcome(input=raw.rel, status="quarantined", quarantine_id=qid, reason=reason, blob_id=blob_id)
        row = {
            "id": qid,
            "blob_id": blob_id,
            "original_name": raw.name,
            "reason": reason,
            "at": now_iso(),
            "size": put.size,
            "source": json.dumps(source, ensure_ascii=False, sort_keys=True),
        }
        staged = _Staged(raw=raw, outcome=out, kind="quarantine", quarantine=row, size=put.size)
        self._batch_blobs[blob_id] = staged
        return staged

    def _stage_record(self, raw: RawInput, data: bytes, blob_id: str, ext: Extraction) -> _Staged:
        filing = decide_filing(ext, raw.sidecar, raw.name)
        text = ext.text
        warnings = list(ext.warnings) + filing.warnings
        text_bytes = text.encode("utf-8", "surrogatepass")
        # The blobs are written for the whole batch at once, just before its commit (see _put_blobs).
        blobs = [data] if text_bytes == data else [data, text_bytes]
        text_blob_id = blob_id if text_bytes == data else self.store.blob_id_of(text_bytes)
        if len(text) > MAX_INDEXED_CHARS:
            warnings.append(f"only the first {MAX_INDEXED_CHARS:,} characters are searchable")
            text = text[:MAX_INDEXED_CHARS]
        record = _record_row(raw, blob_id, text_blob_id, ext, filing, len(data), warnings, self.actor)
        meta = meta_text(record["doc_type"], ext.format, record["author"], filing.mrn, filing.patient, record["date"])
        out = Outcome(
            input=raw.rel,
            status="imported",
            record_id=record["id"],
            patient=filing.mrn,
            filing=filing.status,
            filing_reason=filing.reason,
            needs_transcription=bool(ext.needs_transcription),
            format=ext.format,
            doc_type=record["doc_type"],
            warnings=warnings,
            blob_id=blob_id,
        )
        patients: list[tuple[PatientInfo, str]] = []
        if filing.mrn:
            info = filing.patient or PatientInfo(mrn=filing.mrn)
            patients.append((PatientInfo(filing.mrn, info.name, info.dob, info.sex), _patient_source(ext, filing)))
        staged = _Staged(
            raw=raw,
            outcome=out,
            kind="record",
            record=record,
            fts={"title": record["title"] or "", "filename": raw.name, "text": text, "meta": meta},
            patients=patients,
            size=len(data) + len(text_bytes),
            blobs=blobs,
        )
        self._batch_blobs[blob_id] = staged
        return staged

    # ------------------------------------------------------------ committing
    def _put_blobs(self, batch: list[_Staged]) -> None:
        """Encrypt and read back every blob the batch's records need (two file-system syncs in all)."""
        wanted = [(staged, data) for staged in batch if staged.kind == "record" for data in staged.blobs]
        results = self.store.put_batch([data for _, data in wanted], verify=True)
        for (staged, _), put in zip(wanted, results, strict=True):
            assert staged.record is not None
            if put.blob_id not in (staged.record["blob_id"], staged.record["text_blob_id"]):
                raise TamperDetected(
                    "A blob's keyed id changed between hashing and storing.", "Check the disk and memory."
                )
            staged.blobs = []  # written: free the memory

    def _commit(self, batch: list[_Staged], remove_source: bool) -> list[Outcome]:
        self._put_blobs(batch)
        with self.transaction():
            for staged in batch:
                if staged.kind == "record":
                    self._commit_record(staged)
                elif staged.kind == "quarantine":
                    self._commit_quarantine(staged)
            if self.on_commit:
                self.on_commit([s.outcome for s in batch])
        self._read_back(batch)
        folders: set[Path] = set()
        for staged in batch:
            _remove_sources(staged, remove_source, folders)
        for folder in folders:
            with contextlib.suppress(OSError):
                fsync_dir(folder)
        return [s.outcome for s in batch]

    def _commit_record(self, staged: _Staged) -> None:
        assert staged.record is not None and staged.fts is not None
        record = staged.record
        # Inside the write transaction this check cannot race another importer.
        row = self.db.execute(
            "SELECT id, patient_mrn FROM records WHERE blob_id = ?", [record["blob_id"]]
        ).fetchone()
        if row is not None:
            staged.kind = "known"
            staged.outcome = Outcome(
                input=staged.outcome.input, status="duplicate", record_id=row[0], patient=row[1],
                blob_id=record["blob_id"],
            )
            return
        for info, source in staged.patients:
            upsert_patient(self.db, info, source)
        record["id"] = _free_record_id(self.db, record["blob_id"])
        staged.outcome.record_id = record["id"]
        cols = ", ".join(record)
        marks = ", ".join("?" for _ in record)
        cur = self.db.execute(f"INSERT INTO records ({cols}) VALUES ({marks})", list(record.values()))
        fts.index_row(self.db, int(cur.lastrowid), **staged.fts)

    def _commit_quarantine(self, staged: _Staged) -> None:
        assert staged.quarantine is not None
        row = staged.quarantine
        rec = self.db.execute("SELECT id FROM records WHERE blob_id = ?", [row["blob_id"]]).fetchone()
        if rec is not None:  # another importer committed this content as a record meanwhile
            staged.kind = "known"
            staged.outcome = Outcome(input=staged.outcome.input, status="duplicate", record_id=rec[0])
            return
        q = self.db.execute(
            "SELECT id, reason FROM quarantine WHERE blob_id = ? AND released_at IS NULL", [row["blob_id"]]
        ).fetchone()
        if q is not None:
            staged.kind = "known"
            staged.outcome.quarantine_id, staged.outcome.reason = q[0], q[1]
            return
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.db.execute(f"INSERT INTO quarantine ({cols}) VALUES ({marks})", list(row.values()))

    def _read_back(self, batch: list[_Staged]) -> None:
        """Before any plaintext is removed: the committed rows are there and their blobs exist."""
        for staged in batch:
            out = staged.outcome
            if out.status in ("imported", "duplicate") and out.record_id:
                row = self.db.execute("SELECT blob_id FROM records WHERE id = ?", [out.record_id]).fetchone()
                if row is None or not self.store.exists(row[0]):
                    raise TamperDetected(
                        f"Record {out.record_id} did not read back after commit.", "Run 'chartvault verify'."
                    )
            elif out.status == "quarantined" and out.quarantine_id:
                row = self.db.execute("SELECT blob_id FROM quarantine WHERE id = ?", [out.quarantine_id]).fetchone()
                if row is None or not self.qstore.exists(row[0]):
                    raise TamperDetected(
                        f"Quarantine entry {out.quarantine_id} did not read back after commit.",
                        "Run 'chartvault verify'.",
                    )


# ---------------------------------------------------------------- helpers


def content_problem(ext: Extraction, size: int) -> str | None:
    """A reason to refuse an input the extractor accepted (e.g. a 50 MB single line)."""
    if ext.format in ("text", "markdown"):
        longest = max((len(line) for line in ext.text.split("\n")), default=0)
        if longest > MAX_LINE_CHARS:
            return (
                f"a single line of {longest / 1e6:.1f} million characters ({size / 1e6:.1f} MB): "
                "not a readable document"
            )
    if not ext.text.strip() and not ext.needs_transcription and ext.format not in ("image", "pdf"):
        return "no text could be found in the file"
    return None


def meta_text(
    doc_type: str | None,
    fmt: str | None,
    author: str | None,
    mrn: str | None,
    patient: PatientInfo | None,
    date: str | None,
) -> str:
    """The `meta` column of the FTS row: what people search for besides the text."""
    parts = [doc_type, fmt, author, f"MRN {mrn}" if mrn else None, patient.name if patient else None, date]
    return " | ".join(p for p in parts if p)


def upsert_patient(db: Any, info: PatientInfo, source: str) -> None:
    """Create the patient, or fill in what the existing row lacks; never a second row per MRN."""
    db.execute(
        """INSERT INTO patients (mrn, name, dob, sex, created_at, source) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(mrn) DO UPDATE SET
             name = coalesce(patients.name, excluded.name),
             dob = coalesce(patients.dob, excluded.dob),
             sex = coalesce(patients.sex, excluded.sex)""",
        [info.mrn, info.name, info.dob, info.sex, now_iso(), source],
    )


def _free_record_id(db: Any, blob_id: str) -> str:
    """'r' + 12 hex of the blob id; longer only in the (2^-48) case that another blob holds it."""
    for length in (12, 16, 20, 32, 64):
        rid = "r" + blob_id[:length]
        row = db.execute("SELECT blob_id FROM records WHERE id = ?", [rid]).fetchone()
        if row is None or row[0] == blob_id:
            return rid
    raise AssertionError("unreachable: the full blob id is unique")


def _patient_source(ext: Extraction, filing: Filing) -> str:
    if "content" in filing.sources:
        return f"content:{ext.format}"
    return "+".join(sorted(filing.sources)) or "unknown"


def _source(raw: RawInput) -> dict[str, Any]:
    out: dict[str, Any] = {"name": raw.name, "path": raw.rel, "via": raw.via}
    if raw.name_bytes is not None:  # not valid UTF-8: `name` is escaped, these are the exact bytes
        out["name_bytes_hex"] = raw.name_bytes
    if raw.mtime is not None:
        out["mtime"] = dt.datetime.fromtimestamp(raw.mtime, dt.UTC).isoformat(timespec="seconds")
    out.update(raw.extra)
    return out


def _record_row(
    raw: RawInput,
    blob_id: str,
    text_blob_id: str,
    ext: Extraction,
    filing: Filing,
    size: int,
    warnings: list[str],
    actor: str | None,
) -> dict[str, Any]:
    date, date_source = filing.date, ext.date_source or ("content" if ext.date else None)
    if raw.sidecar is not None and raw.sidecar.get("date") and filing.date == raw.sidecar.get("date"):
        date_source = "sidecar"
    elif date is None and ext.format in DATE_FROM_FILE_TIME and raw.mtime is not None:
        date = dt.datetime.fromtimestamp(raw.mtime, dt.UTC).date().isoformat()
        date_source = "file time"
    metadata: dict[str, Any] = {
        "date_source": date_source if date else None,
        "filing_reason": filing.reason,
        "mrn_sources": filing.sources,
        "encoding": ext.encoding,
        "pages": ext.pages,
        "ocr_lines": len(ext.ocr_lines),
        "warnings": warnings,
        "extracted": {"doc_type": ext.doc_type, "date": ext.date, "author": ext.author, "title": ext.title},
    }
    if ext.format == "image" and ext.ocr_lines:  # the lines of an image's text, in order (the transcription box)
        metadata["ocr_line_confidence"] = [round(line.confidence, 3) for line in ext.ocr_lines]
    if ext.transcription_reasons:
        metadata["transcription_reasons"] = ext.transcription_reasons
    if ext.ocr_engine:
        metadata["ocr_engine"] = ext.ocr_engine
    if ext.patient is not None:
        metadata["patient_in_content"] = asdict(ext.patient)
    source = _source(raw)
    if raw.sidecar is not None:
        source["sidecar"] = raw.sidecar
    return {
        "id": "r" + blob_id[:12],
        "blob_id": blob_id,
        "text_blob_id": text_blob_id,
        "filename": raw.name,
        "format": ext.format,
        "doc_type": filing.doc_type,
        "title": filing.title or raw.name,
        "patient_mrn": filing.mrn,
        "date": date,
        "author": filing.author,
        "size": size,
        "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True),
        "ocr_confidence": ext.ocr_confidence,
        "needs_transcription": 1 if ext.needs_transcription else 0,
        "status": filing.status,
        "imported_at": now_iso(),
        "imported_by": actor,
        "source": json.dumps(source, ensure_ascii=False, sort_keys=True),
        "facts": json.dumps([asdict(f) for f in ext.facts], ensure_ascii=False),
    }


def _remove_sources(staged: _Staged, remove_source: bool, folders: set[Path]) -> None:
    raw = staged.raw
    targets: list[Path] = []
    if raw.pending_path is not None:
        targets.append(raw.pending_path)
    elif remove_source:
        targets += [p for p in (raw.path, raw.sidecar_path) if p is not None]
    for path in targets:
        try:
            os.unlink(path)
            folders.add(path.parent)
        except FileNotFoundError:
            continue
        except OSError as exc:
            staged.outcome.warnings.append(f"could not remove {path.name} after import ({exc.strerror})")


def _raw_from_pending(path: Path, identity: Any) -> RawInput | None:
    """A pending arrival as a RawInput; an undecryptable one is quarantined as ciphertext."""
    try:
        header, body = read_pending(path, identity)
    except FileNotFoundError:
        return None  # another session took it
    except TamperDetected as exc:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return RawInput(
            name=path.name, rel=f"pending/{path.name}", data=data, problem=f"damaged arrival: {exc.message}",
            pending_path=path, via="pending",
        )
    name = str(header.get("name") or path.name)
    raw = RawInput(
        name=name,
        rel=str(header.get("rel") or name),
        data=body if body is not None else b"",
        problem=header.get("problem"),
        sidecar=header.get("sidecar") if isinstance(header.get("sidecar"), dict) else None,
        sidecar_problem=header.get("sidecar_problem"),
        sidecar_raw=header.get("sidecar_raw"),
        mtime=header.get("mtime"),
        pending_path=path,
        via="watch",
    )
    raw.name_bytes = header.get("name_bytes")
    raw.extra = {"arrived": header.get("arrived"), "encrypted_by": "watcher (locked)"}
    if header.get("vanished"):
        raw.problem = raw.problem or "the file vanished while it was being read"
    return raw


def summarise(outcomes: list[Outcome]) -> dict[str, int]:
    """Counts for a summary line; `inputs` equals the sum of the outcome counts."""
    counts = {
        "inputs": len(outcomes),
        "imported": 0,
        "duplicates": 0,
        "quarantined": 0,
        "skipped": 0,
        "vanished": 0,
        "changing": 0,
        "needs_filing": 0,
        "needs_transcription": 0,
    }
    for out in outcomes:
        key = {"duplicate": "duplicates"}.get(out.status, out.status)
        counts[key] = counts.get(key, 0) + 1
        if out.status == "imported":
            counts["needs_filing"] += out.filing == "needs_filing"
            counts["needs_transcription"] += out.needs_transcription
    return counts
