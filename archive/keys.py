"""Key operations an admin asks for: exporting the vault identity."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from archive.policy import Action

if TYPE_CHECKING:
    from archive.session import Session


def export_identity(session: Session, path: Path) -> None:
    """Write the vault identity to `path` (0600) so the plain `age` CLI can decrypt blobs."""
    session.require(Action.EXPORT_IDENTITY)
    session.unlocked.export_identity(Path(path))
    session.audit("key_export", flagged=True, details={"file": str(Path(path).resolve())})
