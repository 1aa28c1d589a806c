"""A Session is an unlocked vault plus an authenticated user.

Every read and write of patient data goes through a Session: it asks
`policy.decide`, audits denials, and holds the audit log. Sessions are made by
`archive.login` (`create_vault`, a new vault whose first user is an admin, or
`open_session`). The raw database (`Session.db`) is for `archive.store`,
this module and `archive.login` only; everything else uses `Session.store`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from archive.access import IndexFacts
from archive.audit import AuditLog
from archive.errors import AccessDenied, ChartvaultError, VaultLocked
from archive.policy import (
    ALLOWED,
    BREAK_GLASS_OPENS,
    Action,
    Decision,
    decide,
    decide_patient,
    decide_record,
    patient_scoped,
)
from archive.settings import get_setting
from archive.store import Store
from archive.users import User, get_user
from vault.db import transaction
from vault.errors import NotFound
from vault.vault import UnlockedVault, Vault

if TYPE_CHECKING:
    from sqlite_utils import Database

    from vault.signing import SigningKey
    from vault.store import BlobStore

LOGOUT_WAIT = 2.0  # seconds `logout`/`close` wait for operations in flight before leaving the close to the last one
INTERRUPT_AFTER = 5.0  # then running SQL is interrupted (rolled back whole), so a lock never waits for long


@dataclass
class Session:
    unlocked: UnlockedVault
    user: User
    audit_log: AuditLog = field(repr=False)
    # record id -> audit seq of the break-glass grant that opened it in this session
    _break_glass: dict[str, int] = field(default_factory=dict, repr=False)
    # denials raised inside a transaction: written once it ends, so a rollback cannot erase them
    _pending_denials: list[dict[str, Any]] = field(default_factory=list, repr=False)
    # Warnings for the person at the keyboard from unlocking (e.g. the vault is behind what this computer saw).
    warnings: list[str] = field(default_factory=list, repr=False)
    # One archive call at a time on this session's connection: the TUI's thread workers share one Session,
    # and two calls at once could take the same audit seq (a `with session.lock:` around each call).
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    # Operations in flight (`operation()`), so that closing never pulls the connection from under a thread
    # running SQL on it (a native crash in _sqlite3): logout waits for them, or the last one closes.
    _state: threading.Condition = field(default_factory=threading.Condition, repr=False, compare=False)
    _inflight: int = field(default=0, repr=False, compare=False)
    _closing: bool = field(default=False, repr=False, compare=False)
    _closed: bool = field(default=False, repr=False, compare=False)
    _close_by_last: bool = field(default=False, repr=False, compare=False)
    _logout_reason: str | None = field(default=None, repr=False, compare=False)

    @property
    def vault(self) -> Vault:
        return self.unlocked.vault

    @property
    def signing_key(self) -> SigningKey | None:
        """This user's Ed25519 key (from their keyslot): signs their audit entries and, for admins, roster rows."""
        return self.unlocked.slot.signing if self.unlocked.slot is not None else None

    @property
    def db(self) -> Database:
        """The raw index database: for archive.store, this module and archive.login only (the layering test checks)."""
        return self.unlocked.db

    @cached_property
    def store(self) -> Store:
        """The index's tables, one repository per table family (the only SQL in archive/)."""
        return Store.of(self.unlocked)

    @cached_property
    def _facts(self) -> IndexFacts:
        """What the per-record rules read (attending physician, disclosures, break-glass grants)."""
        return IndexFacts(self.store, self.vault.signing_root)

    def _scope(self) -> str:
        return str(get_setting(self.store, "policy.physician_scope"))

    @property
    def blobs(self) -> BlobStore:
        """The encrypted blob store (originals, extracted text, transcriptions)."""
        return self.unlocked.store

    def audit(self, action: str, outcome: str = "ok", **fields: Any) -> int:
        """Append an audit entry as this user. Entries about a record this session
        opened by break-glass say so (details via/grant), whoever writes them."""
        record = fields.get("record")
        if record is not None and record in self._break_glass and outcome == "ok":
            details = dict(fields.get("details") or {})
            details.setdefault("via", "break_glass")
            details.setdefault("grant", self._break_glass[record])
            fields["details"] = details
        if self._pending_denials and not self.store.in_transaction:
            self.flush_denials()
        return self.audit_log.append(
            action=action, outcome=outcome, user=self.user.name, role=self._role_label(), **fields
        )

    def flush_denials(self) -> None:
        """Write denials that were raised inside a (possibly rolled back) transaction."""
        if self.store.in_transaction:
            return
        pending, self._pending_denials = self._pending_denials, []
        for entry in pending:
            self.audit_log.append(**entry)

    def _role_label(self) -> str:
        return "+".join(self.user.roles)

    def flush_audit(self) -> None:
        """Seal the audit head after a transaction that appended entries committed."""
        self.audit_log.committed()

    def sync_audit(self) -> None:
        """Make committed entries durable and seal the head now, if anything is pending.

        For idle moments (the TUI calls it when no worker is running): the
        group commit of read entries then never waits for the next action.
        """
        if not self.store.in_transaction:
            self.audit_log.flush()

    def transaction(self) -> _AuditedTransaction:
        """A write transaction whose audit entries are sealed in the head on commit."""
        return _AuditedTransaction(self)

    def require(self, action: Action, *, patient: str | None = None, record: str | None = None) -> None:
        """Raise AccessDenied (and audit the denial) unless policy allows `action`.

        The user's row is re-read first, so disabling a user (or a physician
        losing registration) takes effect at once, even in an open session.
        """
        self.refresh_user()
        decision = decide(self.user, action)
        if not decision.allowed:
            self._deny(action, decision, patient=patient, record=record)

    def require_record(
        self,
        action: Action,
        *,
        record: str,
        patient: str | None,
        audit: bool = True,
        details: dict[str, Any] | None = None,
    ) -> Decision:
        """Policy for one record of one patient: role, then per-record grants.

        Every read of patient content (view, export, cite) calls this with the
        record id and the patient's MRN, so break-glass grants and disclosures
        are decided in one place (`policy.decide_record`). A denial is audited
        and raises AccessDenied. An allowed access is audited here too (action
        = `action.value`, e.g. "view_record"), so callers need not write a second
        entry; pass `audit=False` only when the caller writes its own, richer
        entry for the same access (in the same transaction).
        """
        self.refresh_user()
        decision = decide_record(
            self._facts, self.user, action, record=record, patient=patient, physician_scope=self._scope()
        )
        if not decision.allowed:
            self._deny(action, decision, patient=patient, record=record)
        if decision.via == "break_glass" and decision.grant is not None:
            self._break_glass[record] = decision.grant
        else:
            self._break_glass.pop(record, None)
        if audit:
            extra = dict(details or {})
            if decision.via != "role":
                extra.setdefault("via", decision.via)
            self.audit(
                action.value,
                patient=patient,
                record=record,
                reason=decision.reason or None,
                details=extra or None,
            )
        return decision

    def require_patient(
        self, action: Action, *, patient: str, audit: str | None = None, details: dict[str, Any] | None = None
    ) -> Decision:
        """Policy for a patient's chart as a whole (`policy.decide_patient`); a denial is audited and raised.

        With `audit` (an action name, e.g. "chart_view"), the allowed access is audited too.
        """
        self.refresh_user()
        decision = decide_patient(self._facts, self.user, action, patient=patient, physician_scope=self._scope())
        if not decision.allowed:
            self._deny(action, decision, patient=patient, record=None)
        if audit:
            extra = dict(details or {})
            if decision.via != "role":
                extra.setdefault("via", decision.via)
            self.audit(audit, patient=patient, details=extra or None)
        return decision

    def may_see_patient(self, patient: str, action: Action = Action.VIEW_RECORD) -> bool:
        """Whether `require_patient` would allow this (no audit): for filtering patient lists."""
        return decide_patient(self._facts, self.user, action, patient=patient, physician_scope=self._scope()).allowed

    def may_see_record(self, record: str, patient: str | None, action: Action = Action.VIEW_RECORD) -> bool:
        """Whether `require_record` would allow this (no audit): for filtering search hits."""
        return decide_record(
            self._facts, self.user, action, record=record, patient=patient, physician_scope=self._scope()
        ).allowed

    def visible_records(self, action: Action = Action.SEARCH) -> tuple[int, ...] | None:
        """records.n of the records `may_see_record` can allow for `action`, when that is not every record (None:
        the role decides for every record alike): under the "assigned" physician scope, the physician's patients'
        records and those disclosed to them (and, where break-glass opens the action, granted). A search ranks
        among these only; it still asks `may_see_record` of each hit (a disclosure or grant listed here is
        honoured only if its signature holds)."""
        if not self.user.active:
            return ()
        allowed = decide(self.user, action).allowed
        if allowed and not patient_scoped(self.user, action, self._scope()):
            return None
        name = self.user.name
        numbers: list[int] = []
        ids: list[str] = []
        if allowed:
            numbers += self.store.records.numbers_of_patients(sorted(self.store.patients.attended_by([name])))
            ids += self.store.access.disclosed_records(name)
        if action in BREAK_GLASS_OPENS:
            ids += self.store.access.granted_records(name, dt.datetime.now(dt.UTC))
        numbers += self.store.records.numbers(sorted(set(ids)))
        return tuple(sorted(set(numbers)))

    def _deny(self, action: Action, decision: Decision, *, patient: str | None, record: str | None) -> None:
        entry: dict[str, Any] = {
            "action": action.value, "outcome": "denied", "user": self.user.name, "role": self._role_label(),
            "patient": patient, "record": record, "reason": decision.reason,
        }
        if self.store.in_transaction:
            self._pending_denials.append(entry)
        else:
            self.audit_log.append(**entry)
        raise AccessDenied(decision.reason, _denial_hint(action, self.user))

    def refresh_user(self) -> None:
        """Re-read the user (an admin may have disabled them meanwhile)."""
        try:
            self.user = get_user(self.store, self.user.name)
        except NotFound:
            # Removed from the user table: nothing is allowed any more.
            self.user = replace(self.user, active=False)
            return
        from archive.roster import roster_check

        if self.user.name in roster_check(self.store, self.vault.signing_root).problems:
            # The row was changed with SQL, not signed by an admin: it grants nothing.
            self.user = replace(self.user, active=False)

    # -- in-flight operations and closing --------------------------------------

    @property
    def closed(self) -> bool:
        """Logged out or closed (possibly still finishing an operation that was in flight)."""
        return self._closing

    @property
    def released(self) -> bool:
        """Closed for good: the last operation finished and the connection is closed."""
        return self._closed

    @property
    def in_flight(self) -> int:
        """Operations running (or waiting for the session's lock) now."""
        return self._inflight

    @contextmanager
    def operation(self) -> Iterator[Session]:
        """One archive call on this session from any thread: counted, and run under `lock`.

        Started after `logout`/`close`, it raises VaultLocked. Anything that fails
        because the session was closed under it (its SQL interrupted) also
        surfaces as VaultLocked, never as a database error or a native crash.
        """
        with self._state:
            if self._closing:
                raise _locked()
            self._inflight += 1
        try:
            with self.lock:
                if self._closing:
                    raise _locked()
                try:
                    yield self
                except ChartvaultError:
                    raise
                except Exception as exc:
                    if self._closing:
                        raise _locked() from exc
                    raise
        finally:
            with self._state:
                self._inflight -= 1
                self._state.notify_all()
                last = self._close_by_last and self._inflight == 0
                if last:
                    self._close_by_last = False
            if last:
                self._finish_close()

    def logout(self, reason: str = "logout", wait: float = LOGOUT_WAIT, background: bool = False) -> None:
        """Audit the end of this session (lock, automatic logoff, quit), then close it.

        Operations in flight are waited for up to `wait` seconds; if some still
        run, the last of them writes the entry and closes (their SQL is interrupted
        after INTERRUPT_AFTER seconds). New operations get VaultLocked at once.
        The TUI passes `wait=0`: its workers may be waiting for the UI thread;
        and `background=True`: the entry waits for the index's write lock, which
        another connection (the inbox watcher committing a long note) may hold
        for seconds, so it is written by a thread of its own.
        """
        self._shut(reason, wait, background)

    def close(self, wait: float = LOGOUT_WAIT, background: bool = False) -> None:
        """Close without a logout entry (a CLI command, a background connection); as `logout` otherwise."""
        self._shut(None, wait, background)

    def _shut(self, reason: str | None, wait: float, background: bool = False) -> None:
        with self._state:
            if self._closing:
                return
            self._closing = True
            self._logout_reason = reason
            if wait > 0:
                self._state.wait_for(lambda: self._inflight == 0, timeout=wait)
            if self._inflight:
                self._close_by_last = True
                timer = threading.Timer(INTERRUPT_AFTER, self._interrupt)
                timer.daemon = True
                timer.start()
                return
        if background:  # not a daemon: the process waits for the entry before it exits
            threading.Thread(target=self._finish_close, name="session-close").start()
            return
        self._finish_close()

    def _interrupt(self) -> None:
        with self._state:
            if self._closed or not self._close_by_last:
                return
            with suppress(Exception):
                self.db.conn.interrupt()  # the running statement fails; its transaction rolls back whole

    def _finish_close(self) -> None:
        with self._state:
            if self._closed:
                return
            self._closed = True
        with self.lock:
            if self._logout_reason is not None:
                with suppress(Exception):  # closing must not fail because the log could not be written
                    self.audit("logout", reason=self._logout_reason)
            with suppress(Exception):  # the head only lags; never block closing
                self.flush_denials()
                self.audit_log.flush()
                self.audit_log.remember_on_client()
            self.unlocked.close()


def _locked() -> VaultLocked:
    return VaultLocked("The session was locked or closed.", "Unlock the vault again to continue.")


class _AuditedTransaction:
    """A write transaction with group commit for audit-only transactions.

    It commits with `synchronous=NORMAL` (the WAL is written, not yet fsynced)
    and then decides: a transaction that wrote anything besides audit entries
    fsyncs the WAL before returning, exactly as durable as `synchronous=FULL`;
    one that only appended audit entries (the audit of a read) leaves the fsync
    to the next head write, at most `AuditLog.head_interval` later. Such an
    entry survives a crash of chartvault at once and a power failure within
    about a second; the head never runs ahead of the fsynced log, so a power
    failure cannot make an intact log look tampered with. Setting
    `audit.read_commit = full` fsyncs every transaction.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.inner = transaction(session.db)
        self.outer = False
        self.changes = 0
        self.appends = 0

    def __enter__(self) -> Session:
        rows = self.session.store.audit
        self.outer = not rows.in_transaction
        if self.outer:
            rows.set_synchronous("NORMAL")  # may not change inside a transaction
            self.changes = rows.total_changes
            self.appends = self.session.audit_log.appended
        try:
            self.inner.__enter__()
        except BaseException:
            if self.outer:
                rows.set_synchronous("FULL")
            raise
        return self.session

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        session = self.session
        rows = session.store.audit
        try:
            self.inner.__exit__(exc_type, exc, tb)
        finally:
            if self.outer:
                rows.set_synchronous("FULL")
        if not self.outer:
            return
        if exc_type is None:
            wrote = rows.total_changes - self.changes
            audit_only = wrote == session.audit_log.appended - self.appends
            if wrote and (not audit_only or _read_commit(session) == "full"):
                session.audit_log.sync_wal()
            elif wrote:
                session.audit_log.wal_unsynced = True
        session.flush_denials()
        session.flush_audit()


def _read_commit(session: Session) -> str:
    return str(get_setting(session.store, "audit.read_commit"))


def _denial_hint(action: Action, user: User | None = None) -> str:
    if user is not None and not user.active:
        return "Ask an admin to enable your account."
    if action in (Action.MANAGE_USERS, Action.EXPORT_IDENTITY, Action.VIEW_AUDIT, Action.MANAGE_SETTINGS):
        return "Ask an admin."
    if action == Action.ASK_ABOUT_PATIENT:
        return "Ask the patient's registered physician, or search the records directly."
    if action == Action.VIEW_RECORD:
        return (
            "If this is an emergency, open it with 'chartvault show RECORD_ID --break-glass REASON'; "
            "the access is flagged for an admin's review."
        )

    names = {"technician": "a technician", "physician": "a registered physician", "admin": "an admin"}
    who = " or ".join(names[role] for role in names if action in ALLOWED.get(role, set()))
    if not who:
        return "This is outside your role; ask an admin if you need it."
    if user is not None and user.roles == ("admin",):
        # Admins keep the vault and read no patient content; asking an admin (themselves) would not help.
        return f"Admins manage users and the vault; {who} does this."
    return f"This is outside your role: {who} does this. Ask one, or ask an admin to change your role."
