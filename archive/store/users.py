"""The user roster: who may unlock the vault, in which roles, active or not.

Owns the SQL for: users. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database


class UsersRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    def roster_row(self, name: str) -> dict[str, Any] | None:
        """A user's row (role, clinical role, licence, active...), or None: to check a named physician."""
        rows = list(self.db.query("SELECT * FROM users WHERE name = ?", [name]))
        return rows[0] if rows else None

    def physicians(self) -> list[tuple[str, str | None, str | None, bool]]:
        """(name, full name, licence, active) of the users with a physician role."""
        rows = self.db.execute(
            "SELECT name, full_name, licence, active FROM users"
            " WHERE (role = 'physician' OR clinical_role = 'physician')"
        ).fetchall()
        return [(r[0], r[1], r[2], bool(r[3])) for r in rows]

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
