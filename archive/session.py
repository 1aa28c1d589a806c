"""A Session is an unlocked vault plus an authenticated user.

Every read and write of patient data goes through a Session: it asks
`policy.decide`, audits denials, and holds the audit log. Create one with
`create_vault` (a new vault; its first user is an admin) or `open_session`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.audit import AuditLog
from archive.errors import AccessDenied, TamperDetected, WrongPassphrase
from archive.policy import Action, decide
from archive.schema import MIGRATIONS
from archive.users import User, get_user, insert_user
from vault.db import migrate, transaction
from vault.errors import NotFound
from vault.vault import UnlockedVault, Vault


@dataclass
class Session:
    unlocked: UnlockedVault
    user: User
    audit_log: AuditLog = field(repr=False)

    @property
    def vault(self) -> Vault:
        return self.unlocked.vault

    @property
    def db(self) -> Any:
        return self.unlocked.db

    @property
    def store(self) -> Any:
        return self.unlocked.store

    def audit(self, action: str, outcome: str = "ok", **fields: Any) -> int:
        return self.audit_log.append(
            action=action, outcome=outcome, user=self.user.name, role=self.user.role, **fields
        )

    def flush_audit(self) -> None:
        """Write the audit head after a transaction that appended entries committed."""
        self.audit_log.write_head()

    def transaction(self) -> _AuditedTransaction:
        """A write transaction whose audit entries are sealed in the head on commit."""
        return _AuditedTransaction(self)

    def require(self, action: Action, *, patient: str | None = None, record: str | None = None) -> None:
        """Raise AccessDenied (and audit the denial) unless policy allows `action`."""
        decision = decide(self.user, action)
        if not decision.allowed:
            self.audit(
                f"denied:{action.value}", outcome="denied", patient=patient, record=record, reason=decision.reason
            )
            raise AccessDenied(decision.reason, _denial_hint(action))

    def require_record(self, action: Action, *, record: str, patient: str | None) -> None:
        """Policy for one record of one patient: role, then per-record grants.

        Every read of patient content (view, export, cite) calls this with the
        record id and the patient's MRN, so break-glass grants and disclosures
        are decided in one place (`policy`). Raises AccessDenied and audits it.
        """
        self.require(action, patient=patient, record=record)

    def refresh_user(self) -> None:
        """Re-read the user (an admin may have disabled them meanwhile)."""
        self.user = get_user(self.db, self.user.name)

    def close(self) -> None:
        self.unlocked.close()


class _AuditedTransaction:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.inner = transaction(session.db)

    def __enter__(self) -> Session:
        self.inner.__enter__()
        return self.session

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        self.inner.__exit__(exc_type, exc, tb)
        if exc_type is None and self.inner.outer:
            self.session.flush_audit()


def _denial_hint(action: Action) -> str:
    if action in (Action.MANAGE_USERS, Action.EXPORT_IDENTITY, Action.VIEW_AUDIT):
        return "Ask an admin."
    if action == Action.ASK_ABOUT_PATIENT:
        return "Ask the patient's registered physician, or search the records directly."
    return "If this is an emergency, open the record with --break-glass REASON; the access is flagged for review."


def _start(unlocked: UnlockedVault, user_name: str) -> Session:
    migrate(unlocked.db, MIGRATIONS)
    audit_log = AuditLog(unlocked.db, unlocked.audit_key, unlocked.vault.root, unlocked.identity)
    try:
        user = get_user(unlocked.db, user_name)
    except NotFound:
        unlocked.close()
        raise TamperDetected(
            f"User '{user_name}' has a keyslot but is not in the user table.",
            "The keys/ folder was changed; an admin should check 'chartvault user list'.",
        ) from None
    return Session(unlocked=unlocked, user=user, audit_log=audit_log)


def vault_exists(root: Path) -> bool:
    """Whether a vault exists at `root` (reads public metadata only)."""
    return Vault.exists_at(Path(root).expanduser())


def create_vault(root: Path, admin: str, passphrase: str, full_name: str = "") -> Session:
    """Create a vault whose first user is the admin `admin`; return their session."""
    vault, identity = Vault.create(root, admin, passphrase)
    unlocked = vault.unlock_with_identity(identity, create_index=True)
    migrate(unlocked.db, MIGRATIONS)
    with transaction(unlocked.db):
        insert_user(unlocked.db, User(name=admin, role="admin", full_name=full_name, created_by=admin))
    session = _start(unlocked, admin)
    session.audit("vault_create")
    return session


def open_session(root: Path, user: str, passphrase: str) -> Session:
    """Unlock the vault at `root` as `user`. Wrong passphrases are audited at next unlock."""
    vault = Vault.open(root)
    try:
        unlocked = vault.unlock(user, passphrase)
    except WrongPassphrase:
        _remember_failed_login(vault, user)
        raise
    session = _start(unlocked, user)
    _import_failed_logins(session)
    if not session.user.active:
        session.audit("login", outcome="denied", reason="user disabled")
        session.close()
        raise AccessDenied(f"User '{user}' is disabled.", "Ask an admin to enable your account.")
    session.audit("login")
    return session


# Failed logins happen without the secret, so they cannot go straight into the
# encrypted audit log. Each is kept as an age file encrypted to the vault's
# public recipient, and moved into the log by the next successful unlock.
FAILED_LOGINS = "failed-logins"


def _remember_failed_login(vault: Vault, user: str) -> None:
    import json
    import secrets

    from archive.audit import now_iso
    from vault.atomic import write_atomic
    from vault.store import encrypt_to_recipient

    folder = vault.root / "pending" / FAILED_LOGINS
    folder.mkdir(parents=True, exist_ok=True)
    event = json.dumps({"user": user, "ts": now_iso()}).encode()
    write_atomic(folder / f"{secrets.token_hex(8)}.age", encrypt_to_recipient(event, vault.recipient))


def _import_failed_logins(session: Session) -> None:
    import json

    from vault.store import decrypt_with_identity

    folder = session.vault.root / "pending" / FAILED_LOGINS
    if not folder.is_dir():
        return
    files = sorted(folder.glob("*.age"))
    if not files:
        return
    events = []
    for path in files:
        try:
            events.append(json.loads(decrypt_with_identity(path.read_bytes(), session.unlocked.identity, path.name)))
        except (TamperDetected, ValueError):
            events.append({"user": None, "ts": None, "unreadable": path.name})
    with session.transaction():
        for event in sorted(events, key=lambda e: str(e.get("ts"))):
            session.audit_log.append(
                action="login_failed",
                outcome="denied",
                user=event.get("user"),
                reason="wrong passphrase",
                details={k: v for k, v in (("at", event.get("ts")), ("unreadable", event.get("unreadable"))) if v},
            )
    for path in files:
        path.unlink(missing_ok=True)
