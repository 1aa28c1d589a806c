"""The one error root of chartvault and its narrow subclasses.

Every error a user can cause is a ChartvaultError carrying a one-line message
and a hint that says what to do next. The edges (CLI, TUI) turn them into a
stderr line plus exit code, or a notification; domain code never raises click
or Textual types. This module lives in `vault/` because `vault` imports
nothing of ours and every other layer may import it.
"""

from __future__ import annotations


class ChartvaultError(Exception):
    """Something went wrong that a person can understand and act on."""

    exit_code = 2
    title = "Error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class UserError(ChartvaultError):
    """Bad arguments or bad input: the person can fix it and try again."""

    title = "Cannot do that"


class BadInput(UserError):
    """A value given on the command line or in a form is not acceptable."""


class BadQuery(UserError):
    """A search query could not be parsed."""

    title = "Bad query"


class NotFound(UserError):
    """A vault, user, record or patient that was named does not exist."""

    title = "Not found"


class VaultNotFound(NotFound):
    """No vault exists at the given folder."""


class VaultExists(UserError):
    """A vault already exists where a new one was to be created."""


class WrongPassphrase(UserError):
    """The passphrase does not open the user's keyslot."""

    title = "Wrong passphrase"


class TooManyAttempts(UserError):
    """Unlocking is refused for a while after repeated wrong passphrases."""

    title = "Locked out for now"


class MachineBusy(UserError):
    """The machine is too loaded to finish a passphrase check now (not a wrong passphrase)."""

    title = "Busy"


class WeakPassphrase(UserError):
    """A new passphrase is too easy to guess."""

    title = "Weak passphrase"


class VaultLocked(UserError):
    """An operation needs the vault's secret but the vault is locked."""

    title = "Vault locked"


class AccessDenied(ChartvaultError):
    """Policy refuses this user this action."""

    exit_code = 3
    title = "Access denied"


class TamperDetected(ChartvaultError):
    """Stored data failed an integrity check: tampering or corruption."""

    exit_code = 4
    title = "Integrity failure"


class StoreError(ChartvaultError):
    """The disk refused a write or read (full disk, permissions)."""

    exit_code = 1
    title = "Storage error"


class DiskFull(StoreError):
    """The disk holding the vault has no space left: nothing was lost, free space and run it again."""

    exit_code = 2
    title = "Disk full"

    def __init__(
        self,
        message: str = "The disk holding the vault is full.",
        hint: str = "Free space and run the same command again; nothing was lost.",
    ) -> None:
        super().__init__(message, hint)


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether `exc` (or what caused it) says the disk is full: ENOSPC/EDQUOT, or SQLite's SQLITE_FULL."""
    import errno

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DiskFull):
            return True
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(exc, "sqlite_errorname", None) == "SQLITE_FULL" or "database or disk is full" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def write_error(exc: OSError, what: str = "Could not write to the vault") -> StoreError:
    """The error for a failed write: DiskFull when the disk is full, else a StoreError saying why."""
    if is_disk_full(exc):  # the system's own words too ("No space left on device", "Disk quota exceeded")
        return DiskFull(f"The disk holding the vault is full ({exc.strerror or exc}).")
    return StoreError(f"{what}: {exc.strerror or exc}.", "Check free disk space and permissions.")
