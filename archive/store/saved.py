"""Saved searches and patient lists: what a reviewer keeps between sessions.

Owns the SQL for: saved_searches, patient_lists, patient_list_members. Writes to
these tables happen here and nowhere else. Rows belong to their `owner` and may be
shared with named users (`shared_with`, a JSON list of user names); who may use
which row is decided in archive.saved, never here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass(frozen=True)
class SavedSearchRow:
    id: int
    owner: str
    name: str
    query: str
    mode: str | None
    filters: dict[str, str] = field(default_factory=dict)
    shared_with: list[str] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class PatientListRow:
    id: int
    owner: str
    name: str
    note: str
    shared_with: list[str]
    created_at: str
    members: int = 0


@dataclass(frozen=True)
class MemberRow:
    mrn: str
    added_at: str
    added_by: str
    source: str


_SEARCH_COLS = "id, owner, name, query, mode, filters, shared_with, created_at, updated_at"
_LIST_COLS = (
    "l.id, l.owner, l.name, l.note, l.shared_with, l.created_at,"
    " (SELECT count(*) FROM patient_list_members m WHERE m.list_id = l.id)"
)


def _search(row: Any) -> SavedSearchRow:
    return SavedSearchRow(
        id=int(row[0]), owner=row[1], name=row[2], query=row[3], mode=row[4], filters=json.loads(row[5] or "{}"),
        shared_with=json.loads(row[6] or "[]"), created_at=row[7], updated_at=row[8],
    )


def _list(row: Any) -> PatientListRow:
    return PatientListRow(
        id=int(row[0]), owner=row[1], name=row[2], note=row[3], shared_with=json.loads(row[4] or "[]"),
        created_at=row[5], members=int(row[6]),
    )


class SavedRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- saved searches

    def save_search(
        self, owner: str, name: str, query: str, mode: str | None, filters: dict[str, str], shared_with: list[str],
        at: str,
    ) -> tuple[SavedSearchRow, bool]:
        """Insert or replace `owner`'s search `name`; True when it replaced one."""
        existed = self.search_of(owner, name) is not None
        self.db.execute(
            "INSERT INTO saved_searches (owner, name, query, mode, filters, shared_with, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(owner, name) DO UPDATE SET query = excluded.query,"
            " mode = excluded.mode, filters = excluded.filters, shared_with = excluded.shared_with,"
            " updated_at = excluded.updated_at",
            [owner, name, query, mode, json.dumps(filters, sort_keys=True), json.dumps(sorted(shared_with)), at, at],
        )
        row = self.search_of(owner, name)
        assert row is not None
        return row, existed

    def search_of(self, owner: str, name: str) -> SavedSearchRow | None:
        row = self.db.execute(
            f"SELECT {_SEARCH_COLS} FROM saved_searches WHERE owner = ? AND name = ?", [owner, name]
        ).fetchone()
        return None if row is None else _search(row)

    def searches_for(self, user: str) -> list[SavedSearchRow]:
        """`user`'s own saved searches and those shared with them, by owner (own first) and name."""
        rows = self.db.execute(
            f"SELECT {_SEARCH_COLS} FROM saved_searches WHERE owner = ? OR EXISTS"
            " (SELECT 1 FROM json_each(saved_searches.shared_with) WHERE value = ?)"
            " ORDER BY owner != ?, owner, name",
            [user, user, user],
        ).fetchall()
        return [_search(r) for r in rows]

    def delete_search(self, search_id: int) -> None:
        self.db.execute("DELETE FROM saved_searches WHERE id = ?", [search_id])

    # ---- patient lists

    def create_list(self, owner: str, name: str, note: str, shared_with: list[str], at: str) -> PatientListRow:
        self.db.execute(
            "INSERT INTO patient_lists (owner, name, note, shared_with, created_at) VALUES (?, ?, ?, ?, ?)",
            [owner, name, note, json.dumps(sorted(shared_with)), at],
        )
        row = self.list_of(owner, name)
        assert row is not None
        return row

    def list_of(self, owner: str, name: str) -> PatientListRow | None:
        row = self.db.execute(
            f"SELECT {_LIST_COLS} FROM patient_lists l WHERE l.owner = ? AND l.name = ?", [owner, name]
        ).fetchone()
        return None if row is None else _list(row)

    def lists_for(self, user: str) -> list[PatientListRow]:
        """`user`'s own lists and those shared with them, own first."""
        rows = self.db.execute(
            f"SELECT {_LIST_COLS} FROM patient_lists l WHERE l.owner = ? OR EXISTS"
            " (SELECT 1 FROM json_each(l.shared_with) WHERE value = ?) ORDER BY l.owner != ?, l.owner, l.name",
            [user, user, user],
        ).fetchall()
        return [_list(r) for r in rows]

    def add_members(self, list_id: int, mrns: list[str], by: str, source: str, at: str) -> int:
        """Add MRNs not yet on the list; how many were new."""
        before = self.member_count(list_id)
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO patient_list_members (list_id, mrn, added_at, added_by, source)"
            " VALUES (?, ?, ?, ?, ?)",
            [(list_id, m, at, by, source) for m in mrns],
        )
        return self.member_count(list_id) - before

    def remove_members(self, list_id: int, mrns: list[str]) -> int:
        before = self.member_count(list_id)
        self.db.conn.executemany(
            "DELETE FROM patient_list_members WHERE list_id = ? AND mrn = ?", [(list_id, m) for m in mrns]
        )
        return before - self.member_count(list_id)

    def member_count(self, list_id: int) -> int:
        row = self.db.execute("SELECT count(*) FROM patient_list_members WHERE list_id = ?", [list_id]).fetchone()
        return int(row[0])

    def members(self, list_id: int) -> list[MemberRow]:
        rows = self.db.execute(
            "SELECT mrn, added_at, added_by, source FROM patient_list_members WHERE list_id = ? ORDER BY mrn",
            [list_id],
        ).fetchall()
        return [MemberRow(*r) for r in rows]

    def delete_list(self, list_id: int) -> None:
        self.db.execute("DELETE FROM patient_list_members WHERE list_id = ?", [list_id])
        self.db.execute("DELETE FROM patient_lists WHERE id = ?", [list_id])
