"""The error types of chartvault's domain (re-exported from `vault.errors`).

`archive` callers import errors from here; the root lives in `vault/` only
because `vault` may import nothing of ours.
"""

from __future__ import annotations

from vault.errors import (
    AccessDenied,
    BadInput,
    BadQuery,
    ChartvaultError,
    DiskFull,
    MachineBusy,
    NotFound,
    StoreError,
    TamperDetected,
    TooManyAttempts,
    UserError,
    VaultExists,
    VaultLocked,
    VaultNotFound,
    WeakPassphrase,
    WrongPassphrase,
    is_disk_full,
)


class ValidationError(BadInput):
    """A value fails a rule: `field` names it, `problem` says why (the message leads with the option)."""

    def __init__(self, field: str, problem: str, hint: str = "", option: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.option = option or "--" + field.replace("_", "-")
        super().__init__(f"{self.option}: {problem}", hint)

    def as_option(self, option: str) -> ValidationError:
        """The same error, named after the option a command spells differently (e.g. '--reason')."""
        clone = type(self).__new__(type(self))  # keeps a subclass and its extra attributes
        clone.__dict__.update(self.__dict__)
        clone.option = option
        clone.message = f"{option}: {self.problem}"
        clone.args = (clone.message,)
        return clone


class ConcurrentEdit(UserError):
    """Someone saved a change after the version this edit started from; nothing was saved."""

    title = "Changed meanwhile"


__all__ = [
    "AccessDenied",
    "BadInput",
    "BadQuery",
    "ChartvaultError",
    "MachineBusy",
    "ConcurrentEdit",
    "DiskFull",
    "NotFound",
    "StoreError",
    "TamperDetected",
    "TooManyAttempts",
    "UserError",
    "ValidationError",
    "VaultExists",
    "VaultLocked",
    "VaultNotFound",
    "WeakPassphrase",
    "WrongPassphrase",
    "is_disk_full",
]
