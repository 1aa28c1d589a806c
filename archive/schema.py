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


def access_grants_and_disclosures(db: Any) -> None:
    """Issue 5: clinical role for admins, break-glass grants, disclosures, audit lookups by record."""
    # An admin sees no patient content unless also given a clinical role.
    db.execute(
        "ALTER TABLE users ADD COLUMN clinical_role TEXT CHECK (clinical_role IN ('technician', 'physician'))"
    )
    db.execute(
        """CREATE TABLE access_grants (
            id INTEGER PRIMARY KEY,
            user TEXT NOT NULL,
            record TEXT NOT NULL,
            patient TEXT,
            reason TEXT NOT NULL,
            granted_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            audit_seq INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX access_grants_user_record ON access_grants(user, record, expires_at)")
    db.execute(
        """CREATE TABLE disclosures (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            record TEXT NOT NULL,
            patient TEXT,
            discloser TEXT NOT NULL,
            recipient TEXT NOT NULL,
            purpose TEXT NOT NULL,
            audit_seq INTEGER NOT NULL
        )"""
    )
    db.execute("CREATE INDEX disclosures_recipient_record ON disclosures(recipient, record)")
    db.execute("CREATE INDEX disclosures_patient ON disclosures(patient, ts)")
    db.execute("CREATE INDEX audit_record ON audit(record, ts)")
    db.execute("CREATE INDEX audit_action ON audit(action, ts)")


MIGRATIONS = [
    v1_users_and_audit,
    access_grants_and_disclosures,
]
