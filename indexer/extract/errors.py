"""The one error extraction raises: a file that cannot be turned into text.

The ingest pipeline quarantines an input on `ExtractionError` and stores the
reason beside it, so the message must say in plain words what is wrong with
the file ("PDF is encrypted"), never a traceback.
"""

from __future__ import annotations

from vault.errors import ChartvaultError

_DEFAULT_HINT = (
    "The file was kept in quarantine. Fix or replace it and drop it into the inbox again."
)


class ExtractionError(ChartvaultError):
    """A file's bytes could not be turned into text and metadata."""

    title = "Cannot read file"

    def __init__(self, reason: str, hint: str = _DEFAULT_HINT) -> None:
        super().__init__(reason, hint)
        self.reason = reason
