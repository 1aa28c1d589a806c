"""The error types of chartvault's domain (re-exported from `vault.errors`).

`archive` callers import errors from here; the root lives in `vault/` only
because `vault` may import nothing of ours.
"""

from vault.errors import (
    AccessDenied,
    BadInput,
    BadQuery,
    ChartvaultError,
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
)

__all__ = [
    "AccessDenied",
    "BadInput",
    "BadQuery",
    "ChartvaultError",
    "NotFound",
    "StoreError",
    "TamperDetected",
    "TooManyAttempts",
    "UserError",
    "VaultExists",
    "VaultLocked",
    "VaultNotFound",
    "WeakPassphrase",
    "WrongPassphrase",
]
