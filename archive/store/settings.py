"""Vault-wide settings (key/value).

Owns the SQL for: settings. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


class SettingsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    def get(self, key: str) -> str | None:
        """The stored (unparsed) value of `key`, or None when it was never set."""
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def schema_version(self) -> int:
        """The index's schema version (migrations applied)."""
        from vault.db import schema_version

        return schema_version(self.db)

    # ---- charts room

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
