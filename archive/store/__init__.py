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

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

    from archive.store.access import AccessRepo
    from archive.store.audit import AuditRepo
    from archive.store.chart_entries import ChartEntriesRepo
    from archive.store.coding import CodingRepo
    from archive.store.encounters import EncountersRepo
    from archive.store.patients import PatientsRepo
    from archive.store.quarantine import QuarantineRepo
    from archive.store.records import RecordsRepo
    from archive.store.reports import ReportsRepo
    from archive.store.retention import RetentionRepo
    from archive.store.review import ReviewRepo
    from archive.store.saved import SavedRepo
    from archive.store.settings import SettingsRepo
    from archive.store.users import UsersRepo
    from vault.vault import UnlockedVault


class Store:
    """The repositories over one open index database (one connection, shared transactions)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def of(cls, unlocked: UnlockedVault) -> Store:
        """The store over an unlocked vault's index (for a connection of its own, e.g. a background thread)."""
        return cls(unlocked.db)

    @property
    def in_transaction(self) -> bool:
        return bool(self.db.conn.in_transaction)

    def count(self, counter: str) -> int:
        """One of the status counters (see `archive.store.status.COUNTERS`)."""
        from archive.store.status import count

        return count(self.db, counter)

    # Repositories, one per table family, each a cached property importing its module
    # lazily (a room that needs a new method adds it in that repository under its marker).

    @cached_property
    def users(self) -> UsersRepo:
        from archive.store.users import UsersRepo

        return UsersRepo(self.db)

    @cached_property
    def audit(self) -> AuditRepo:
        from archive.store.audit import AuditRepo

        return AuditRepo(self.db)

    @cached_property
    def settings(self) -> SettingsRepo:
        from archive.store.settings import SettingsRepo

        return SettingsRepo(self.db)

    @cached_property
    def access(self) -> AccessRepo:
        from archive.store.access import AccessRepo

        return AccessRepo(self.db)

    @cached_property
    def patients(self) -> PatientsRepo:
        from archive.store.patients import PatientsRepo

        return PatientsRepo(self.db)

    @cached_property
    def encounters(self) -> EncountersRepo:
        from archive.store.encounters import EncountersRepo

        return EncountersRepo(self.db)

    @cached_property
    def chart_entries(self) -> ChartEntriesRepo:
        from archive.store.chart_entries import ChartEntriesRepo

        return ChartEntriesRepo(self.db)

    @cached_property
    def records(self) -> RecordsRepo:
        from archive.store.records import RecordsRepo

        return RecordsRepo(self.db)

    @cached_property
    def quarantine(self) -> QuarantineRepo:
        from archive.store.quarantine import QuarantineRepo

        return QuarantineRepo(self.db)

    @cached_property
    def review(self) -> ReviewRepo:
        from archive.store.review import ReviewRepo

        return ReviewRepo(self.db)

    @cached_property
    def coding(self) -> CodingRepo:
        from archive.store.coding import CodingRepo

        return CodingRepo(self.db)

    @cached_property
    def retention(self) -> RetentionRepo:
        from archive.store.retention import RetentionRepo

        return RetentionRepo(self.db)

    @cached_property
    def reports(self) -> ReportsRepo:
        from archive.store.reports import ReportsRepo

        return ReportsRepo(self.db)

    @cached_property
    def saved(self) -> SavedRepo:
        """Saved searches and patient lists."""
        from archive.store.saved import SavedRepo

        return SavedRepo(self.db)
