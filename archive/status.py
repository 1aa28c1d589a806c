"""Vault status counts and whole-vault verification."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.policy import Action
from archive.signed_rows import access_problems, chart_problems
from archive.store.status import COUNTERS as STORE_COUNTERS
from vault.store import valid_blob_id

if TYPE_CHECKING:
    from archive.session import Session
    from archive.store import Store
    from vault.store import BlobStore

# What `chartvault status` counts, in order: the index's own counters (archive.store.status),
# the embedding backlog and the files still waiting in the inbox.
COUNT_NAMES = (*STORE_COUNTERS, "embedding_backlog", "inbox_pending")


@dataclass
class StatusReport:
    path: Path
    format_version: int
    user: str
    role: str
    counts: dict[str, int]
    # the second embedder's coverage (archive.embedding.second_status); None when there is none
    second: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format_version": self.format_version,
            "user": self.user,
            "role": self.role,
            **self.counts,
            "second_embedder": self.second.to_json() if self.second is not None else None,
        }


def _inbox_pending(session: Session) -> int:
    inbox = session.vault.inbox_dir
    # every file counts, hidden ones too: each is imported, quarantined or reported as skipped
    files = [p for p in inbox.rglob("*") if p.is_file() or p.is_symlink()] if inbox.exists() else []
    pending = session.vault.pending_dir
    arrivals = list(pending.glob("*.age")) if pending.exists() else []
    return len(files) + len(arrivals)


def vault_status(session: Session) -> StatusReport:
    session.require(Action.VIEW_STATUS)
    from archive.embedding import backlog, second_status

    counts = {name: session.store.count(name) for name in STORE_COUNTERS}
    counts["embedding_backlog"] = backlog(session)
    counts["inbox_pending"] = _inbox_pending(session)
    return StatusReport(
        path=session.vault.root,
        format_version=session.vault.format_version,
        user=session.user.name,
        role=session.user.role,
        counts=counts,
        second=second_status(session),
    )


@dataclass
class VerifyReport:
    blobs_checked: int
    problems: list[str] = field(default_factory=list)
    schema_version: int = 0
    audit_ok: bool = True
    audit_summary: str = ""
    # keyslot files of no user (an interrupted `user add`): reported, not an integrity failure
    orphans: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # not failures: e.g. files others may read
    # a large archive's approximate vector index: recall@100 against exact search, per model
    vector_recall: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and self.audit_ok

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "blobs_checked": self.blobs_checked,
            "problems": self.problems,
            "schema_version": self.schema_version,
            "audit_ok": self.audit_ok,
            "audit": self.audit_summary,
            "orphan_keyslots": self.orphans,
            "warnings": self.warnings,
            **({"vector_index_recall": self.vector_recall} if self.vector_recall else {}),
        }


def mode_warnings(session: Session) -> list[str]:
    """A line for each vault file or folder that group or others may read (the fix is in the line)."""
    root = session.vault.root
    loose = session.vault.loose_modes()
    lines = [
        f"{path.relative_to(root).as_posix() or '.'}: mode {mode:04o}, others may read it "
        f"(should be {'0700' if path.is_dir() else '0600'})"
        for path, mode in loose[:20]
    ]
    if len(loose) > 20:
        lines.append(f"... and {len(loose) - 20} more")
    if loose:
        lines.append(f"fix: chmod -R go-rwx '{root}'")
    return lines


def missing_blobs(store: Store, blobs: BlobStore) -> list[str]:
    """A problem line for each blob the index references that is not on disk.

    Decrypting what is on disk cannot find a file that was deleted: this walks the
    index instead, so a removed original, text or quarantined file names its entry.
    `blobs` is the objects/ store; quarantine/ is its sibling.
    """
    problems = []
    for record_id, what, blob_id in store.records.referenced_blobs():
        if not valid_blob_id(blob_id):
            problems.append(f"record {record_id}: its {what} has an invalid blob id {blob_id!r}")
        elif not blobs.exists(blob_id):
            rel = f"objects/{blob_id[:2]}/{blob_id}.age"
            problems.append(f"record {record_id}: its {what} {rel} is missing")
    quarantine = blobs.at(blobs.root.parent / "quarantine")
    for entry_id, blob_id in store.quarantine.held_blobs():
        if not valid_blob_id(blob_id):
            problems.append(f"quarantine entry {entry_id}: invalid blob id {blob_id!r}")
        elif not quarantine.exists(blob_id):
            problems.append(f"quarantine entry {entry_id}: quarantine/{blob_id[:2]}/{blob_id}.age is missing")
    return problems


# The audit entries that file a record to a patient (or leave it unfiled): each is signed by its writer.
FILING_ACTIONS = ("import", "file_record")


def filing_problems(store: Store) -> list[str]:
    """A problem line for each record whose patient is not the one its latest signed filing entry names.

    `update records set patient_mrn=...` with the index key refiles a record
    without an entry; the writer's signature on the entry is what an insider cannot make.
    """
    said = store.audit.filing_statements(FILING_ACTIONS)
    problems = []
    for record_id, mrn in store.records.filings():
        if record_id not in said:
            problems.append(f"record {record_id}: no signed audit entry files it (its row was inserted with SQL)")
        elif said[record_id] != mrn:
            problems.append(
                f"record {record_id}: filed to {mrn or 'no patient'}, but its signed audit entry files it to "
                f"{said[record_id] or 'no patient'} (patient_mrn changed with SQL)"
            )
    return problems


def roster_problems(store: Store, root: dict[str, Any] | None) -> list[str]:
    """The user rows whose admin signature does not hold (archive.roster); `root` is vault.json's signing root."""
    from archive.roster import roster_check

    check = roster_check(store, root)
    return [f"users: {problem}" for problem in check.problems.values()]


RECALL_FLOOR = 0.95  # the approximate vector index's recall@100 on stored chunks (bench/ann.py: ~0.99 and more)


def verify_vault(session: Session, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Decrypt every blob and check its keyed id; check the index and the audit chain."""
    session.require(Action.VERIFY_VAULT)
    checked, found = session.blobs.verify_all(progress)
    held, found_held = session.blobs.at(session.vault.quarantine_dir).verify_all()
    checked += held
    root = session.vault.root
    problems = [f"{p.path.relative_to(root)}: {p.reason}" for p in (*found, *found_held)]
    problems += missing_blobs(session.store, session.blobs)
    problems += roster_problems(session.store, session.vault.signing_root)
    problems += filing_problems(session.store)
    problems += chart_problems(session.store, session.vault.signing_root)
    problems += access_problems(session.store, session.vault.signing_root)
    from archive.audit_review import audit_integrity
    from archive.users import orphan_keyslots

    chain = audit_integrity(session)  # the chain walk, plus tampering an unlock recorded
    summary = f"intact ({chain.entries} entries)" if chain.ok else f"BROKEN: {chain.problem}"
    report = VerifyReport(
        blobs_checked=checked,
        problems=problems,
        schema_version=session.store.settings.schema_version(),
        audit_ok=chain.ok,
        audit_summary=summary,
        orphans=orphan_keyslots(session),
        warnings=mode_warnings(session),
        vector_recall=session.store.records.approximate_recall(),
    )
    for model, recall in report.vector_recall.items():
        if recall < RECALL_FLOOR:
            report.warnings.append(
                f"The approximate vector index of {model} finds {recall:.0%} of the exact top 100 (expected at least "
                f"{RECALL_FLOOR:.0%}); search by meaning may miss records. Run 'chartvault reindex --semantic' to "
                "rebuild the vectors."
            )
    session.audit("verify", outcome="ok" if report.ok else "failed", details={"problems": len(problems)})
    return report
