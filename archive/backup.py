"""Backup, backup verification and restore, audited and policy-checked.

The copying itself is `vault.backup` (ciphertext only). Verification lays the
backup out in a temporary folder beside it (ciphertext only), unlocks it with
the user's own keyslot from the backup, and checks every blob, the index and
the audit chain: exactly what a restore would depend on.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.audit import AuditLog
from archive.errors import NotFound, TamperDetected
from archive.policy import Action
from archive.status import filing_problems, missing_blobs, roster_problems
from archive.store import Store
from vault import backup as vault_backup
from vault.errors import ChartvaultError

if TYPE_CHECKING:
    from archive.session import Session
    from vault.backup import BackupReport

Progress = Callable[[int, int], None]


def backup_vault(session: Session, dest: Path, progress: Progress | None = None) -> BackupReport:
    """Write an incremental, consistent, encrypted backup of the vault to `dest` (folder or .tar)."""
    session.require(Action.BACKUP)
    # Sealed into the head before the snapshot, so the backup carries its own start entry.
    with session.transaction():
        session.audit("backup_start", details={"dest": str(Path(dest).resolve())})
    session.audit_log.write_head()
    report = vault_backup.backup(session.unlocked, dest, progress)
    with session.transaction():
        session.audit(
            "backup",
            details={
                "dest": str(report.dest),
                "files": report.files_total,
                "copied": report.files_copied,
                "removed": report.files_removed,
                "bytes": report.bytes_copied,
            },
        )
    return report


@dataclass
class BackupCheck:
    source: Path
    created_at: str
    files: int
    blobs_checked: int
    problems: list[str] = field(default_factory=list)
    audit_entries: int = 0
    audit_summary: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": str(self.source),
            "created_at": self.created_at,
            "files": self.files,
            "blobs_checked": self.blobs_checked,
            "problems": self.problems,
            "audit": self.audit_summary,
        }


def _check_laid_out(root: Path, manifest: dict[str, Any], user: str, passphrase: str,
                    progress: Progress | None) -> BackupCheck:
    from vault.vault import Vault

    problems = vault_backup.check_manifest(root, manifest)
    unlocked = Vault.open(root).unlock(user, passphrase)
    try:
        blob_paths = [p for folder in ("objects", "quarantine") for p in sorted((root / folder).glob("??/*.age"))]
        checked = 0
        for n, path in enumerate(blob_paths, start=1):
            store = unlocked.store if path.parents[1].name == "objects" else unlocked.store.at(path.parents[1])
            try:
                store.verify(path.stem)
            except ChartvaultError as exc:
                problems.append(f"{path.relative_to(root)}: {exc.message}")
            checked += 1
            if progress:
                progress(n, len(blob_paths))
        problems += missing_blobs(Store.of(unlocked), unlocked.store)
        problems += roster_problems(Store.of(unlocked), unlocked.vault.signing_root)
        problems += filing_problems(Store.of(unlocked))
        log = AuditLog.of(unlocked)
        chain = log.verify()
        if not chain.ok:
            problems.append(f"audit chain: {chain.problem}")
        summary = f"intact ({chain.entries} entries)" if chain.ok else f"BROKEN: {chain.problem}"
        return BackupCheck(
            source=root,
            created_at=str(manifest.get("created_at", "")),
            files=len(manifest.get("files", {})),
            blobs_checked=checked,
            problems=problems,
            audit_entries=chain.entries,
            audit_summary=summary,
        )
    finally:
        unlocked.close()


def verify_backup(src: Path, user: str, passphrase: str, progress: Progress | None = None) -> BackupCheck:
    """Check a backup without restoring it: every blob decrypts and matches, index and audit chain intact.

    Unlocks with `user`'s keyslot as stored in the backup; needs no live vault.
    """
    src = Path(src).expanduser().resolve()
    if not src.exists():
        raise NotFound(f"No backup at {src}.", "Check the path.")
    with tempfile.TemporaryDirectory(dir=src.parent, prefix=".chartvault-verify-") as tmp:
        root = Path(tmp) / "vault"
        manifest = vault_backup.materialise(src, root)
        check = _check_laid_out(root, manifest, user, passphrase, progress)
    check.source = src
    return check


def restore_backup(src: Path, to: Path, user: str, passphrase: str, progress: Progress | None = None) -> BackupCheck:
    """Rebuild a working vault at `to` from the backup `src`, check it, and audit the restore there."""
    from archive.intake import ingest_pending_on_unlock
    from archive.login import open_session

    src = Path(src).expanduser().resolve()
    to = Path(to).expanduser().resolve()
    manifest = vault_backup.materialise(src, to)
    check = _check_laid_out(to, manifest, user, passphrase, progress)
    check.source = src
    session = open_session(to, user, passphrase)
    ingest_pending_on_unlock(session)  # as after any login: what a locked watcher left in pending/
    try:
        session.require(Action.BACKUP)
        with session.transaction():
            session.audit(
                "restore",
                outcome="ok" if check.ok else "failed",
                details={"source": str(src), "backup_created_at": check.created_at, "problems": len(check.problems)},
            )
    finally:
        session.close()
    if not check.ok:
        raise TamperDetected(
            f"The restored vault at {to} failed its checks: {'; '.join(check.problems[:3])}",
            "Try an older backup; the restored folder is kept for inspection.",
        )
    return check
