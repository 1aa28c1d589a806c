"""Intake: import files, ingest what a locked watcher encrypted, and watch the inbox.

`import_paths` runs the pipeline (`indexer.pipeline`) as the session's user,
with policy checked first and every imported or quarantined file audited in
the same transaction as its index rows. `ingest_pending` turns the arrivals
an unattended (locked) watcher left in `pending/` into records; every
unlocked session calls it. `InboxService` watches the inbox for an unlocked
session (the CLI's `watch`, the TUI) in a background thread with its own
index connection; `watch_locked` watches with only the vault's public key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.charts.landing import land_outcomes
from archive.errors import ChartvaultError, DiskFull
from archive.policy import Action, decide
from archive.review import check_outcomes
from indexer.pipeline import Outcome, Progress, summarise

if TYPE_CHECKING:
    from archive.session import Session
    from indexer.pipeline import Ingestor
    from indexer.watch import FolderWatcher

DEFAULT_QUIET = 1.0
# Once per vault (InboxService(once_per_vault=True), `chartvault serve`): lock files in the vault folder.
INBOX_LOCK = "inbox"  # <vault>/.inbox.lock: whoever watches the inbox folder
PENDING_LOCK = "pending"  # <vault>/.pending.lock: the one unlocked session draining pending/ with the key


@dataclass
class ImportReport:
    outcomes: list[Outcome]
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = summarise(self.outcomes)

    def quarantined(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "quarantined"]

    def to_json(self) -> dict[str, Any]:
        return {**self.counts, "outcomes": [o.to_json() for o in self.outcomes]}


def _ingestor(session: Session, via: str, settle: float = DEFAULT_QUIET) -> Ingestor:
    def on_commit(outcomes: list[Outcome]) -> None:
        for out in outcomes:
            if out.status == "imported":
                session.audit(
                    "import",
                    record=out.record_id,
                    patient=out.patient,
                    details={"via": via, "filing": out.filing, "format": out.format},
                )
            elif out.status == "quarantined":
                session.audit(
                    "quarantine", reason=out.reason, details={"via": via, "quarantine_id": out.quarantine_id}
                )
        # What does not add up waits for review; the rest of the HL7/FHIR facts of the new records land on
        # their patients' charts in the same commit.
        check_outcomes(session, outcomes)
        land_outcomes(session, outcomes)

    return session.store.records.ingestor(
        store=session.blobs,
        quarantine_store=session.blobs.at(session.vault.quarantine_dir),
        actor=session.user.name,
        transaction=session.transaction,
        on_commit=on_commit,
        settle=settle,
    )


def import_paths(
    session: Session,
    paths: list[Path],
    *,
    move: bool = False,
    progress: Progress | None = None,
    settle: float = DEFAULT_QUIET,
) -> ImportReport:
    """Import files and folders (recursively). With `move`, each source is deleted once committed."""
    session.require(Action.IMPORT)
    _refuse_vault_paths(session, [Path(p) for p in paths])
    refuse_when_disk_full(session.vault.root)
    ingestor = _ingestor(session, "import", settle)
    outcomes = ingestor.ingest_paths([Path(p) for p in paths], remove_source=move, progress=progress)
    report = ImportReport(outcomes)
    with session.transaction():
        session.audit("import_run", details={k: v for k, v in report.counts.items() if v} | {"move": move})
    return report


def refuse_when_disk_full(vault_root: Path) -> None:
    """Importing on a (nearly) full disk fails at once, before any file is touched: nothing is lost."""
    from vault.reserve import low_on_space

    if low_on_space(vault_root):
        raise DiskFull(
            "The disk holding the vault is full: there is no room to import.",
            "Free space and run the same command again; nothing was lost (the files are where they were).",
        )


def _refuse_vault_paths(session: Session, paths: list[Path]) -> None:
    refuse_vault_paths(session.vault.root, paths)


def refuse_vault_paths(vault_root: Path, paths: list[Path]) -> None:
    """The vault's own files are never inputs (they would be deleted after import); its inbox is."""
    from archive.errors import BadInput

    root = Path(vault_root).resolve()
    inbox = (root / "inbox").resolve()
    for path in paths:
        where = path.resolve()
        inside = where == root or root in where.parents
        in_inbox = where == inbox or inbox in where.parents
        if inside and not in_inbox:
            raise BadInput(
                f"{path} is part of the vault itself, not something to import.",
                "Import files from elsewhere, or drop them into the vault's inbox/.",
            )
        if where in root.parents:
            raise BadInput(
                f"{path} contains the vault.", "Import the folder that holds the new files, not one above the vault."
            )


def may_import(session: Session) -> bool:
    return decide(session.user, Action.IMPORT).allowed


def ingest_pending(session: Session, progress: Progress | None = None) -> ImportReport:
    """Ingest the arrivals that a locked watcher encrypted into `pending/`."""
    session.require(Action.IMPORT)
    outcomes = _ingestor(session, "watch").drain_pending(
        session.vault.pending_dir, session.unlocked.identity, progress=progress
    )
    return ImportReport(outcomes)


def ingest_pending_on_unlock(session: Session) -> ImportReport | None:
    """Called by every unlocked session: index what the locked watcher left, if this user may import.

    Never stands in the way of logging in: a failure leaves the arrivals for the next session.
    """
    from indexer.pending import pending_files

    if not pending_files(session.vault.pending_dir) or not may_import(session):
        return None
    try:
        return ingest_pending(session)
    except ChartvaultError:
        return None


def fork_session(session: Session) -> Session:
    """The same user over a second index connection, for a background thread.

    SQLite transactions belong to a connection; a watcher thread that shared
    the UI's connection could commit or roll back the UI's work.
    """
    from archive.audit import AuditLog
    from archive.session import Session as _Session

    unlocked = session.vault.unlock_with_identity(session.unlocked.identity, slot=session.unlocked.slot)
    audit_log = AuditLog.of(unlocked)
    audit_log.signer = session.audit_log.signer
    audit_log.origin = session.audit_log.origin  # a served connection's forks say where they come from too
    return _Session(unlocked=unlocked, user=session.user, audit_log=audit_log)


class InboxService:
    """Watches the inbox (and pending/) for an unlocked session and ingests what arrives.

    `on_outcomes(outcomes)` is called after each batch (from the watcher thread).
    With `own_connection` (the TUI) it works on a second index connection.

    With `once_per_vault` (the TUI, so every browser connection of `chartvault
    serve` and every SSH session) it runs only while it holds the vault's intake
    lock (`<vault>/.pending.lock`: draining pending/ with the key) and watches the
    inbox folder only if it also gets `<vault>/.inbox.lock`, which `chartvault
    serve` holds for its own locked watcher. A service that finds the lock held
    looks again every `retry_seconds` and takes over once the holder's process
    ends (`elsewhere` is True meanwhile).
    """

    def __init__(
        self,
        session: Session,
        *,
        inbox: Path | None = None,
        quiet: float = DEFAULT_QUIET,
        own_connection: bool = True,
        observer_factory: Callable[[], Any] | None = None,
        on_outcomes: Callable[[list[Outcome]], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        rescan_interval: float = 30.0,
        max_wait: float = 600.0,
        once_per_vault: bool = False,
        retry_seconds: float = 5.0,
    ) -> None:
        session.require(Action.IMPORT)
        if inbox is not None:
            refuse_vault_paths(session.vault.root, [Path(inbox)])
        self.parent = session
        self.session = fork_session(session) if own_connection else session
        self.own_connection = own_connection
        self.inbox = Path(inbox) if inbox else session.vault.inbox_dir
        self.pending = session.vault.pending_dir
        self.quiet = quiet
        self.on_outcomes = on_outcomes
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._watch_args: dict[str, Any] = {
            "quiet": quiet, "rescan_interval": rescan_interval, "max_wait": max_wait,
            "observer_factory": observer_factory, "on_error": on_error,
        }
        self.once_per_vault = once_per_vault
        self.retry_seconds = retry_seconds
        self.elsewhere = False  # once_per_vault: another process drains pending/ now
        self.watches_inbox = False  # the inbox folder itself is watched by this service
        self._held: list[Any] = []  # vault.locks.HeldLock while running once per vault
        self._retry_stop = threading.Event()
        self._retry: threading.Thread | None = None
        self.watcher: FolderWatcher | None = None if once_per_vault else self._make_watcher(inbox=True)
        self._ingestor = _ingestor(self.session, "watch", settle=0.0)

    def _make_watcher(self, inbox: bool) -> FolderWatcher:
        from indexer.watch import FolderWatcher

        self.watches_inbox = inbox
        return FolderWatcher(
            [self.inbox, self.pending] if inbox else [self.pending],
            self._handle_counted,
            **self._watch_args,
            # in pending/ only the arrivals themselves, not e.g. pending/failed-logins/
            accept=lambda p: (p.parent == self.pending and not p.name.startswith("."))
            or not _inside(p, self.pending),
        )

    def _handle_counted(self, paths: list[Path], overdue: set[Path]) -> dict[Path, float | None]:
        """A batch as one of the session's operations: closing the session waits for it, never cuts it."""
        with self.session.operation():
            return self._handle(paths, overdue)

    def _handle(self, paths: list[Path], overdue: set[Path]) -> dict[Path, float | None]:
        refuse_when_disk_full(self.session.vault.root)  # retried later (with a growing delay) and reported
        pending = [p for p in paths if p.parent == self.pending]
        inbox = [p for p in paths if p.parent != self.pending and not _inside(p, self.pending)]
        outcomes: list[Outcome] = []
        if pending:
            outcomes += self._ingestor.drain_pending(self.pending, self.session.unlocked.identity)
        now = [p for p in inbox if p not in overdue]
        late = [p for p in inbox if p in overdue]
        for group, changing in ((now, "report"), (late, "quarantine")):
            present = [p for p in group if p.exists() or p.is_symlink()]
            if present:
                outcomes += self._ingestor.ingest_paths(
                    present,
                    remove_source=True,
                    base=self.inbox,
                    via="watch",
                    changing=changing,
                    orphan_sidecar_grace=60.0,
                    settle=0.0,
                )
        final = [o for o in outcomes if o.status != "changing"]
        if final:
            with self._lock:
                self.outcomes.extend(final)
            if self.on_outcomes:
                self.on_outcomes(final)
        return left_in_place(outcomes)

    def start(self) -> InboxService:
        if not self.once_per_vault:
            assert self.watcher is not None
            self.watcher.start()
        elif not self._take_over():
            self.elsewhere = True
            self._retry = threading.Thread(target=self._wait_to_take_over, name="inbox-takeover", daemon=True)
            self._retry.start()
        return self

    def _take_over(self) -> bool:
        """Hold the vault's intake lock (and the inbox's, if free) and start watching; False if held elsewhere."""
        from vault.locks import try_hold

        root = self.session.vault.root
        intake = try_hold(root, PENDING_LOCK)
        if intake is None:
            return False
        inbox = try_hold(root, INBOX_LOCK) if self.inbox == self.session.vault.inbox_dir else None
        self._held = [lock for lock in (intake, inbox) if lock is not None]
        watcher = self._make_watcher(inbox=inbox is not None or self.inbox != self.session.vault.inbox_dir)
        watcher.start()
        self.watcher = watcher
        self.elsewhere = False
        return True

    def _wait_to_take_over(self) -> None:
        while not self._retry_stop.wait(self.retry_seconds):
            if self._take_over():
                return

    def stop(self) -> None:
        self._retry_stop.set()
        if self._retry is not None:
            self._retry.join(10.0)
        if self.watcher is not None:
            self.watcher.stop()
        for lock in self._held:
            lock.release()
        self._held = []
        if self.own_connection:
            self.session.close()

    def run_forever(self) -> None:
        try:
            assert self.watcher is not None
            self.watcher.run_forever()
        finally:
            if self.own_connection:
                self.session.close()

    def idle(self, timeout: float) -> bool:
        return self.watcher.idle(timeout) if self.watcher is not None else True


def left_in_place(outcomes: list[Outcome]) -> dict[Path, float | None]:
    """The skipped inputs, for the watcher to set aside: a temporary file is looked at again once it may
    have gone stale; anything else (too large, a hidden folder) only when it changes."""
    from indexer.inputs import TEMP_FILE_GRACE, is_temporary

    return {
        o.path: (TEMP_FILE_GRACE if is_temporary(o.path.name) else None)
        for o in outcomes
        if o.status == "skipped" and o.path is not None
    }


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def watch_locked(
    vault_root: Path,
    *,
    inbox: Path | None = None,
    quiet: float = DEFAULT_QUIET,
    observer_factory: Callable[[], Any] | None = None,
    on_stashed: Callable[[list[tuple[str, str]]], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    rescan_interval: float = 30.0,
    max_wait: float = 600.0,
) -> FolderWatcher:
    """A watcher holding only the vault's public recipient: arrivals are encrypted into `pending/`.

    No passphrase, no index, no audit: the next unlocked session ingests and
    audits the arrivals. Call `.start()` / `.run_forever()` on the result.
    """
    from indexer.pending import stash_paths
    from indexer.watch import FolderWatcher
    from vault.client_state import check_recipient
    from vault.vault import Vault

    vault = Vault.open(Path(vault_root))
    folder = Path(inbox) if inbox else vault.inbox_dir
    refuse_vault_paths(vault.root, [folder])
    # No passphrase proves vault.json's recipient here: encrypt only to one this computer saw proven.
    check_recipient(vault.root, vault.recipient)

    def handle(paths: list[Path], overdue: set[Path]) -> dict[Path, float | None]:
        from indexer.inputs import TEMP_FILE_GRACE, is_temporary

        results = stash_paths(
            paths, inbox=folder, pending_dir=vault.pending_dir, recipient=vault.recipient, overdue=overdue
        )
        done = [(status, rel) for status, rel, _ in results if status != "changing"]
        if done and on_stashed:
            on_stashed(done)
        return {
            path: (TEMP_FILE_GRACE if is_temporary(path.name) else None)
            for status, _, path in results
            if status == "skipped"
        }

    return FolderWatcher(
        [folder],
        handle,
        quiet=quiet,
        rescan_interval=rescan_interval,
        max_wait=max_wait,
        observer_factory=observer_factory,
        on_error=on_error,
    )


class ServerWatcher:
    """`chartvault serve`'s own inbox watcher: once per vault, with only the public key, while the server runs.

    Holds `<vault>/.inbox.lock` (so no browser connection or SSH session watches
    the inbox folder too) and encrypts each arrival into pending/ at once, logged
    in or not; the one unlocked session holding `.pending.lock` indexes it. When
    another process already watches the inbox it looks again every
    `retry_seconds`. `on_stashed(n)` gets counts only: the server's log never
    holds a file name (names can be patient content).
    """

    def __init__(
        self,
        vault_root: Path,
        *,
        quiet: float = DEFAULT_QUIET,
        retry_seconds: float = 5.0,
        observer_factory: Callable[[], Any] | None = None,
        on_stashed: Callable[[int], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.root = Path(vault_root)
        self.quiet = quiet
        self.retry_seconds = retry_seconds
        self.observer_factory = observer_factory
        self.on_stashed = on_stashed
        self.on_error = on_error
        self.watcher: FolderWatcher | None = None
        self.elsewhere = False  # another process watches the inbox now
        self.started = threading.Event()  # set once this process watches the inbox
        self._held: Any = None
        self._stop = threading.Event()
        self._retry: threading.Thread | None = None

    def start(self) -> ServerWatcher:
        if not self._take_over():
            self.elsewhere = True
            self._retry = threading.Thread(target=self._wait_to_take_over, name="server-inbox", daemon=True)
            self._retry.start()
        return self

    def _take_over(self) -> bool:
        from vault.locks import try_hold

        held = try_hold(self.root, INBOX_LOCK)
        if held is None:
            return False

        def stashed(results: list[tuple[str, str]]) -> None:
            n = sum(1 for status, _ in results if status == "stashed")
            if n and self.on_stashed:
                self.on_stashed(n)

        try:
            watcher = watch_locked(self.root, quiet=self.quiet, observer_factory=self.observer_factory,
                                   on_stashed=stashed, on_error=self.on_error)
            watcher.start()
        except BaseException:
            held.release()  # the connections' sessions watch the inbox instead
            raise
        self._held, self.watcher, self.elsewhere = held, watcher, False
        self.started.set()
        return True

    def _wait_to_take_over(self) -> None:
        while not self._stop.wait(self.retry_seconds):
            try:
                if self._take_over():
                    return
            except Exception as exc:  # noqa: BLE001 - reported; the server keeps serving
                if self.on_error:
                    self.on_error(exc)
                return

    def idle(self, timeout: float) -> bool:
        return self.watcher.idle(timeout) if self.watcher is not None else True

    def stop(self) -> None:
        self._stop.set()
        if self._retry is not None:
            self._retry.join(10.0)
        if self.watcher is not None:
            self.watcher.stop()
        if self._held is not None:
            self._held.release()
            self._held = None
