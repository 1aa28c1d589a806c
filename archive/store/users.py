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

    def get(self, name: str) -> dict[str, Any] | None:
        """The user's row, or None."""
        rows = list(self.db.query("SELECT * FROM users WHERE name = ?", [name]))
        return rows[0] if rows else None

    def exists(self, name: str) -> bool:
        return bool(list(self.db.query("SELECT 1 FROM users WHERE name = ?", [name])))

    def all(self) -> list[dict[str, Any]]:
        """Every user's row, by name."""
        return list(self.db.query("SELECT * FROM users ORDER BY name"))

    def insert(self, row: dict[str, Any]) -> None:
        self.db.table("users").insert(row)

    def active_admins(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM users WHERE role='admin' AND active=1").fetchone()[0])

    def disable(self, name: str) -> None:
        self.db.execute("UPDATE users SET active = 0 WHERE name = ?", [name])

    def set_clinical_role(self, name: str, clinical_role: str | None, licence: str | None) -> None:
        self.db.execute(
            "UPDATE users SET clinical_role = ?, licence = ? WHERE name = ?", [clinical_role, licence, name]
        )

    def set_keys(self, name: str, age_pub: str | None, sign_pub: str | None) -> None:
        """The public halves of the user's keyslot (archive.roster binds them to the user)."""
        self.db.execute("UPDATE users SET age_pub = ?, sign_pub = ? WHERE name = ?", [age_pub, sign_pub, name])

    def set_roster_signature(self, name: str, signer: str, sig: str) -> None:
        """The admin's signature over the row (archive.roster.row_message)."""
        self.db.execute("UPDATE users SET roster_signer = ?, roster_sig = ? WHERE name = ?", [signer, sig, name])

    def full_names(self) -> dict[str, str]:
        """{user name: full name} of every user (for the accounting of disclosures)."""
        return {str(r[0]): str(r[1] or "") for r in self.db.execute("SELECT name, full_name FROM users")}

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

    def physicians_matching(self, needle: str) -> list[tuple[str, str]]:
        """(name, full name) of the physicians named `needle` or whose full name contains it."""
        sql = "SELECT name, full_name FROM users WHERE role = 'physician' AND (name = ? OR full_name LIKE ?)"
        return [(str(n), f or "") for n, f in self.db.execute(sql, [needle, f"%{needle}%"]).fetchall()]

    # ---- cli and tui room

    # ---- end
