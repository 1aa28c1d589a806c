"""The index's tables, behind one repository per table family: the only SQL in `archive/`.

A `Store` wraps the unlocked vault's SQLCipher database (a `sqlite_utils.Database`).
Domain code reaches tables only through its repositories (`session.store.records`,
`session.store.users`, ...), each a small class in this package that owns the
statements for its tables and returns plain rows or dataclasses. Nothing here
decides who may see what: that is `archive.policy`, asked by the Session before
a repository is called.

The schema lives in `archive.store.schema`; the list of tables that hold patient
content (what a retention purge must clear) is `CONTENT_TABLES` there, beside the
migrations that create them, so a renamed table cannot be skipped silently.
"""

from __future__ import annotations

from functools import cached_property  # noqa: F401 (used by the repositories below)
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


class Store:
    """The repositories over one open index database (one connection, shared transactions)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def in_transaction(self) -> bool:
        return bool(self.db.conn.in_transaction)

    def count(self, counter: str) -> int:
        """One of the status counters (see `archive.store.status.COUNTERS`)."""
        from archive.store.status import count

        return count(self.db, counter)

    # Repositories, one per table family, each a cached property importing its module
    # lazily. Each room adds its own below its marker (keep the markers: they keep
    # parallel work from colliding).

    # ---- access room: users, audit, settings, grants, disclosures

    # ---- charts room: patients, encounters, chart entries, rules

    # ---- records and search room: records, transcriptions, quarantine, full text, vectors

    # ---- coding, statistics, retention room

    # ---- end of repositories
