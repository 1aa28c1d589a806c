"""Vault status counts and whole-vault verification."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.policy import Action
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

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format_version": self.format_version,
            "user": self.user,
            "role": self.role,
            **self.counts,
        }


def _inbox_pending(session: Session) -> int:
    inbox = session.vault.inbox_dir
    files = [p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(".")] if inbox.exists() else []
    pending = session.vault.pending_dir
    arrivals = list(pending.glob("*.age")) if pending.exists() else []
    return len(files) + len(arrivals)


def vault_status(session: Session) -> StatusReport:
    session.require(Action.VIEW_STATUS)
    from archive.embedding import backlog

    counts = {name: session.store.count(name) for name in STORE_COUNTERS}
    counts["embedding_backlog"] = backlog(session)
    counts["inbox_pending"] = _inbox_pending(session)
    return StatusReport(
        path=session.vault.root,
        format_version=session.vault.format_version,
        user=session.user.name,
        role=session.user.role,
        counts=counts,
    )


@dataclass
class VerifyReport:
    blobs_checked: int
    problems: list[str] = field(default_factory=list)
    schema_version: int = 0
    audit_ok: bool = True
    audit_summary: str = ""
    warnings: list[str] = field(default_factory=list)  # not failures: e.g. files others may read

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
            "warnings": self.warnings,
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


def verify_vault(session: Session, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Decrypt every blob and check its keyed id; check the index and the audit chain."""
    session.require(Action.VERIFY_VAULT)
    checked, found = session.blobs.verify_all(progress)
    held, found_held = session.blobs.at(session.vault.quarantine_dir).verify_all()
    checked += held
    root = session.vault.root
    problems = [f"{p.path.relative_to(root)}: {p.reason}" for p in (*found, *found_held)]
    problems += missing_blobs(session.store, session.blobs)
    from archive.audit_review import audit_integrity

    chain = audit_integrity(session)  # the chain walk, plus tampering an unlock recorded
    summary = f"intact ({chain.entries} entries)" if chain.ok else f"BROKEN: {chain.problem}"
    report = VerifyReport(
        blobs_checked=checked,
        problems=problems,
        schema_version=session.store.settings.schema_version(),
        audit_ok=chain.ok,
        audit_summary=summary,
        warnings=mode_warnings(session),
    )
    session.audit("verify", outcome="ok" if report.ok else "failed", details={"problems": len(problems)})
    return report
