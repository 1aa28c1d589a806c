"""The user roster: who may unlock the vault, in which roles, active or not.

Owns the SQL for: users. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


class UsersRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    # ---- charts room

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    def physicians_matching(self, needle: str) -> list[tuple[str, str]]:
        """(name, full name) of the physicians named `needle` or whose full name contains it."""
        sql = "SELECT name, full_name FROM users WHERE role = 'physician' AND (name = ? OR full_name LIKE ?)"
        return [(str(n), f or "") for n, f in self.db.execute(sql, [needle, f"%{needle}%"]).fetchall()]

    # ---- cli and tui room

    # ---- end
