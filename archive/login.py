"""Logging in: creating a vault, opening a session, and the bookkeeping of failed logins.

`create_vault` makes a new vault whose first user is an admin; `open_session`
unlocks an existing one as a user (refusing disabled users) and moves the
failed logins recorded since into the audit log. Neither ingests anything:
what a locked watcher left in `pending/` is indexed by the caller after login
(`archive.intake.ingest_pending_on_unlock`, called by the CLI and the TUI).
"""

from __future__ import annotations

from pathlib import Path

from archive.audit import AuditLog
from archive.errors import (
    AccessDenied,
    BadInput,
    ChartvaultError,
    TamperDetected,
    TooManyAttempts,
    WrongPassphrase,
)
from archive.roster import check_login, countersign_enrolments
from archive.session import Session
from archive.store import Store
from archive.store.schema import MIGRATIONS
from archive.users import User, get_user, insert_user
from vault.db import migrate, transaction
from vault.errors import NotFound
from vault.reserve import keep_reserve
from vault.vault import UnlockedVault, Vault


def _start(
    unlocked: UnlockedVault, user_name: str, passphrase: str | None = None, origin: str | None = None
) -> Session:
    migrate(unlocked.db, MIGRATIONS)
    try:
        user = get_user(Store.of(unlocked), user_name)
    except NotFound:
        unlocked.close()
        raise TamperDetected(
            f"User '{user_name}' has a keyslot but is not in the user table.",
            "The keys/ folder was changed; an admin should check 'chartvault user list'.",
        ) from None
    try:
        _check_keys(unlocked, user, passphrase)
    except BaseException:
        unlocked.close()
        raise
    audit_log = AuditLog.of(unlocked)
    audit_log.also = unlocked.also
    audit_log.origin = origin
    slot = unlocked.slot
    if slot is not None and slot.signing is not None:
        audit_log.signer = (user.name, slot.signing)
    session = Session(unlocked=unlocked, user=user, audit_log=audit_log)
    behind = audit_log.behind_client()
    if behind is not None:
        session.warnings.append(f"WARNING: {behind}.")
        session.audit(
            "audit_tamper", outcome="failed", flagged=True, reason=behind,
            details={"detected": "unlock", "first_bad_seq": None, "kind": "rollback"},
        )
    problem = audit_log.check_head()
    if problem is not None:
        # Record it before anything else is appended: a later append would move
        # the head past a truncated tail and hide it.
        session.audit(
            "audit_tamper",
            outcome="failed",
            flagged=True,
            reason=problem.problem,
            details={"detected": "unlock", "first_bad_seq": problem.first_bad_seq},
        )
        audit_log.write_head()
    if slot is not None:
        with session.transaction():
            countersign_enrolments(session)
    audit_log.remember_on_client()
    return session


def _check_keys(unlocked: UnlockedVault, user: User, passphrase: str | None) -> None:
    """Tie the opened keyslot to the signed roster; pin what this computer has now seen proven.

    A keyslot predating signatures gets a signing key here (with the passphrase
    just typed): an older vault's first admin login makes the roster's trust
    root (see archive.roster), another user's login enrols their key.
    """
    from vault import client_state

    vault, slot = unlocked.vault, unlocked.slot
    client_state.pin_recipients(vault.root, [unlocked.identity.recipient])
    if slot is None:  # opened with the vault identity (tests, a forked session): nothing to bind
        return
    store = Store.of(unlocked)
    if vault.signing_root is None:
        _upgrade_to_signatures(unlocked, user, passphrase)
        slot = unlocked.slot
        assert slot is not None
    elif slot.signing is None:
        if passphrase is None:
            return
        slot = unlocked.add_keyslot(user.name, passphrase, keep=slot)
        unlocked.slot = slot
        with transaction(unlocked.db):
            row = store.users.get(user.name) or {}
            enrolled = slot.signing.public if slot.signing else None
            store.users.set_keys(user.name, row.get("age_pub") or slot.age.recipient, enrolled)
    client_state.check_signing_root(vault.root, vault.signing_root)
    check_login(store, vault.signing_root, user.name, slot)


def _upgrade_to_signatures(unlocked: UnlockedVault, user: User, passphrase: str | None) -> None:
    """The first admin login on a vault made before signatures: this admin becomes the roster's trust root.

    Trust on first use: the roster is signed as it stands now.
    """
    from archive.roster import sign_row

    if user.role != "admin" or not user.active or passphrase is None:
        raise AccessDenied(
            "This vault was made by an older chartvault and its user roster is not signed yet.",
            "An admin must log in once to turn on signatures; then log in again.",
        )
    assert unlocked.slot is not None
    slot = unlocked.add_keyslot(user.name, passphrase, keep=unlocked.slot)
    unlocked.slot = slot
    assert slot.signing is not None
    store = Store.of(unlocked)
    vault = unlocked.vault
    last = store.audit.last()
    with transaction(unlocked.db):
        for row in store.users.all():
            name = str(row["name"])
            if name == user.name:
                store.users.set_keys(name, slot.age.recipient, slot.signing.public)
            else:
                pub = vault.keyslots.pub_path(name)
                store.users.set_keys(name, pub.read_text().strip() if pub.exists() else None, None)
            sign_row(store, name, user.name, slot.signing)
    vault.metadata["signing"] = {
        "founder": user.name, "public_key": slot.signing.public, "signed_from": (last[0] if last else 0) + 1,
    }
    vault.save_metadata()


def vault_exists(root: Path) -> bool:
    """Whether a vault exists at `root` (reads public metadata only)."""
    return Vault.exists_at(Path(root).expanduser())


def create_vault(root: Path, admin: str, passphrase: str, full_name: str = "") -> Session:
    """Create a vault whose first user is the admin `admin`; return their session."""
    from archive.roster import sign_row

    vault, identity = Vault.create(root, admin, passphrase)
    slot = vault.created_slot
    assert slot is not None and slot.signing is not None
    unlocked = vault.unlock_with_identity(identity, create_index=True, slot=slot)
    migrate(unlocked.db, MIGRATIONS)
    store = Store.of(unlocked)
    with transaction(unlocked.db):
        insert_user(store, User(name=admin, role="admin", full_name=full_name, created_by=admin))
        store.users.set_keys(admin, slot.age.recipient, slot.signing.public)
        sign_row(store, admin, admin, slot.signing)  # the founder's row, signed by the trust root itself
    session = _start(unlocked, admin)
    session.audit("vault_create")
    return session


def open_session(root: Path, user: str, passphrase: str, origin: str | None = None) -> Session:
    """Unlock the vault at `root` as `user`. Wrong passphrases are audited at next unlock.

    `origin`: where the session comes from when it is not this machine's own
    terminal (a served browser connection's remote address); every audit entry
    the session writes carries it in details["origin"].

    What an unattended (locked) watcher encrypted into pending/ is not indexed here:
    the caller runs `archive.intake.ingest_pending_on_unlock` on the new session.
    """
    vault = Vault.open(root)
    # Read before unlocking: a success clears the counts (see vault/attempts.py).
    counter_erased = vault.keyslots.attempts.erased(user)
    try:
        unlocked = vault.unlock(user, passphrase)
    except WrongPassphrase:
        _remember_failed_login(vault, user, origin=origin)
        raise
    except TooManyAttempts:
        _remember_failed_login(vault, user, "refused during back-off", origin)
        raise
    except NotFound:
        _remember_failed_login(vault, user, "unknown user", origin)
        raise
    except AccessDenied:  # a keyslot without a grant: a disabled user
        _remember_failed_login(vault, user, "no key grant (disabled user)", origin)
        raise
    except BadInput:  # not even a valid user name
        _remember_failed_login(vault, "", "invalid user name", origin)
        raise
    keep_reserve(vault.root)  # on a full disk: room for the login and the audited reads that follow
    session = _start(unlocked, user, passphrase, origin)
    _import_failed_logins(session)
    if not session.user.active:
        session.audit("login", outcome="denied", reason="user disabled")
        session.close()
        raise AccessDenied(f"User '{user}' is disabled.", "Ask an admin to enable your account.")
    if counter_erased:
        session.audit("login_backoff_reset", outcome="failed", flagged=True, reason=BACKOFF_RESET)
    session.audit("login")
    return session


BACKOFF_RESET = (
    "keys/attempts.json held fewer wrong passphrases for this user than this machine counted, with no "
    "login since: someone deleted or rewrote the vault's count to lift the back-off"
)


# Failed logins happen without the secret, so they cannot go straight into the
# encrypted audit log. Each is kept as an age file encrypted to the vault's
# public recipient, and moved into the log by the next successful unlock.
FAILED_LOGINS = "failed-logins"


def unlock_wait_seconds(root: Path, user: str) -> float:
    """Seconds before `user` may try a passphrase again (0 when not backing off)."""
    import time

    from vault.keys import backoff_seconds

    try:
        entry = Vault.open(root).keyslots.failed_attempts().get(user)
    except ChartvaultError:
        return 0.0
    if not entry:
        return 0.0
    wait = backoff_seconds(int(entry.get("failures", 0)))
    return max(0.0, float(entry.get("last", 0)) + wait - time.time())


def _remember_failed_login(
    vault: Vault, user: str, reason: str = "wrong passphrase", origin: str | None = None
) -> None:
    import json
    import secrets

    from archive.audit import now_iso
    from vault.atomic import private_dir, write_atomic
    from vault.client_state import check_recipient
    from vault.store import encrypt_to_recipient

    try:
        check_recipient(vault.root, vault.recipient)
    except TamperDetected:
        return  # never encrypt to a recipient this computer has not seen proven (an edited vault.json)
    folder = vault.root / "pending" / FAILED_LOGINS
    private_dir(folder)
    event = json.dumps({"user": user or None, "ts": now_iso(), "reason": reason, "origin": origin}).encode()
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
            events.append(json.loads(decrypt_with_identity(path.read_bytes(), session.unlocked.identities, path.name)))
        except (TamperDetected, ValueError):
            events.append({"user": None, "ts": None, "unreadable": path.name})
    with session.transaction():
        for event in sorted(events, key=lambda e: str(e.get("ts"))):
            session.audit_log.append(
                action="login_failed",
                outcome="denied",
                user=event.get("user"),
                reason=str(event.get("reason") or "wrong passphrase"),
                # origin: the failed attempt's own connection (a served browser), not the importing session's
                details={
                    k: v
                    for k, v in (("at", event.get("ts")), ("unreadable", event.get("unreadable")),
                                 ("origin", event.get("origin")))
                    if v
                },
            )
    for path in files:
        path.unlink(missing_ok=True)
