"""The index schema, as an ordered list of migrations.

Migration k brings the schema to version k; never edit a released migration,
append a new one. Each runs in its own transaction (see `vault.db.migrate`).
"""

from __future__ import annotations

from typing import Any


def v1_users_and_audit(db: Any) -> None:
    db.execute(
        """CREATE TABLE users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'physician')),
            full_name TEXT NOT NULL DEFAULT '',
            licence TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            created_by TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            user TEXT,
            role TEXT,
            action TEXT NOT NULL,
            patient TEXT,
            record TEXT,
            reason TEXT,
            outcome TEXT NOT NULL,
            flagged INTEGER NOT NULL DEFAULT 0,
            details TEXT,
            prev_mac TEXT NOT NULL,
            mac TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX audit_user ON audit(user, ts)")
    db.execute("CREATE INDEX audit_patient ON audit(patient, ts)")
    db.execute(
        """CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )"""
    )


MIGRATIONS = [
    v1_users_and_audit,
]
