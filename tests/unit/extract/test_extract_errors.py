"""indexer.extract.errors: ExtractionError belongs to the one error root."""

from __future__ import annotations

from indexer.extract.errors import ExtractionError
from vault.errors import ChartvaultError


def test_extraction_error_carries_reason_and_hint() -> None:
    error = ExtractionError("PDF is encrypted")
    assert isinstance(error, ChartvaultError)
    assert error.reason == error.message == "PDF is encrypted"
    assert "quarantine" in error.hint
    assert str(error).startswith("PDF is encrypted ")
    assert ExtractionError.title == "Cannot read file"
