"""Per-record access: break-glass grants and disclosures to physicians.

Owns the SQL for: access_grants, disclosures. Writes to these tables happen here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass(frozen=True)
class Grant:
    """An active break-glass grant: `user` may view `record` until `expires_at`."""

    id: int
    user: str
    record: str
    patient: str | None
    reason: str
    granted_at: str
    expires_at: str
    audit_seq: int

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


class AccessRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- access room

    def active_grant(self, user: str, record: str, now: dt.datetime) -> Grant | None:
        """The latest break-glass grant of `record` to `user` that has not expired at `now`."""
        stamp = now.isoformat(timespec="microseconds")
        row = self.db.execute(
            "SELECT id, user, record, patient, reason, granted_at, expires_at, audit_seq FROM access_grants "
            "WHERE user = ? AND record = ? AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
            [user, record, stamp],
        ).fetchone()
        return Grant(*row) if row else None

    def add_grant(
        self, user: str, record: str, patient: str | None, reason: str, granted_at: str, expires_at: str,
        audit_seq: int, signer: str | None = None, sig: str | None = None,
    ) -> int:
        """Store a break-glass grant (with its maker's signature, archive.signed_rows); returns its id."""
        cur = self.db.execute(
            "INSERT INTO access_grants (user, record, patient, reason, granted_at, expires_at, audit_seq, signer, sig)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [user, record, patient, reason, granted_at, expires_at, audit_seq, signer, sig],
        )
        return int(cur.lastrowid or 0)

    # The signed columns of each table, in the order archive.signed_rows signs them.
    GRANT_FIELDS = ("user", "record", "patient", "reason", "granted_at", "expires_at", "audit_seq")
    DISCLOSURE_FIELDS = ("ts", "record", "patient", "discloser", "recipient", "purpose", "audit_seq")

    def all_grants(self) -> list[dict[str, Any]]:
        """Every grant row, expired or not: id, the signed columns, signer, sig (for `verify`)."""
        cols = ", ".join(("id", *self.GRANT_FIELDS, "signer", "sig"))
        cur = self.db.execute(f"SELECT {cols} FROM access_grants ORDER BY id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def all_disclosures(self) -> list[dict[str, Any]]:
        """Every disclosure row: id, the signed columns, signer, sig (for `verify`)."""
        cols = ", ".join(("id", *self.DISCLOSURE_FIELDS, "signer", "sig"))
        cur = self.db.execute(f"SELECT {cols} FROM disclosures ORDER BY id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def granted_records(self, user: str, now: dt.datetime) -> list[str]:
        """Ids of the records with a grant to `user` open at `now` (signatures not checked: the policy checks
        each record it is asked about)."""
        return [str(r[0]) for r in self.db.execute(
            "SELECT DISTINCT record FROM access_grants WHERE user = ? AND expires_at > ?",
            [user, now.isoformat(timespec="microseconds")])]

    def disclosed_records(self, user: str) -> list[str]:
        """Ids of the records disclosed to `user` (signatures not checked, as `granted_records`)."""
        return [str(r[0]) for r in self.db.execute("SELECT DISTINCT record FROM disclosures WHERE recipient = ?",
                                                   [user])]

    def open_grants(self, user: str, record: str, now: dt.datetime) -> list[dict[str, Any]]:
        """The grants of `record` to `user` open at `now`, latest expiry first: id, signed columns, signer, sig."""
        cols = ", ".join(("id", *self.GRANT_FIELDS, "signer", "sig"))
        cur = self.db.execute(
            f"SELECT {cols} FROM access_grants WHERE user = ? AND record = ? AND expires_at > ? "
            "ORDER BY expires_at DESC",
            [user, record, now.isoformat(timespec="microseconds")],
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def disclosures_of(self, user: str, record: str) -> list[dict[str, Any]]:
        """Every disclosure of `record` to `user`: id, signed columns, signer, sig."""
        cols = ", ".join(("id", *self.DISCLOSURE_FIELDS, "signer", "sig"))
        cur = self.db.execute(f"SELECT {cols} FROM disclosures WHERE recipient = ? AND record = ?", [user, record])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def disclosed_to(self, user: str, record: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM disclosures WHERE recipient = ? AND record = ? LIMIT 1", [user, record]
        ).fetchone()
        return row is not None

    def add_disclosure(
        self, ts: str, record: str, patient: str | None, discloser: str, recipient: str, purpose: str,
        audit_seq: int, signer: str | None = None, sig: str | None = None,
    ) -> int:
        """Store a disclosure (with its maker's signature, archive.signed_rows); returns its id."""
        cur = self.db.execute(
            "INSERT INTO disclosures (ts, record, patient, discloser, recipient, purpose, audit_seq, signer, sig) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ts, record, patient, discloser, recipient, purpose, audit_seq, signer, sig],
        )
        return int(cur.lastrowid or 0)

    # ---- charts room

    # ---- records room

    # ---- search and assistant room

    # ---- coding, statistics, retention room

    # ---- cli and tui room

    # ---- end
