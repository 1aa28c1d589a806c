"""Chart entries, break-glass grants and disclosures carry their writer's signature.

Grants and disclosures (the rows `policy.decide_record` reads to let a user
see a record beyond their role) are signed by the user who made them: a grant
by the user it lets in (break-glass is self-service, with a reason), a
disclosure by its discloser. `verify` names a row inserted or changed with SQL.

Each version of a chart entry is signed (Ed25519, the writer's key) together
with its entry's patient, when it is written. `verify` checks every version
against the signed roster: a version edited, inserted or moved to another
patient with SQL no longer matches, and an entry whose current version is gone
is named.

Which version is current is not signed, and a writer can sign again a row she
wrote; so the chained audit log vouches for each version too. The entry of each
save (`chart_add`, `chart_correct`) names the entry and version and, since
session 9, the digest of what was signed (`version_digest`). `verify` names an
entry put back to an older version (its current one is not its newest, or a
version the log records is gone), a version whose content is not the digest its
save recorded (changed and signed again), and a signed correction no audit entry
records (written with SQL). An entry landed from a record (`chart_import`) is
vouched for by its record's entry, not one per entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vault.signing import verify_signature

if TYPE_CHECKING:
    from archive.session import Session
    from archive.store import Store

_UNSIGNED = ("signer", "sig")
# Columns added after versions were first signed: signed only when set, so a version signed before the column
# existed (the column NULL since its migration) still matches what its writer signed.
_SIGNED_WHEN_SET = ("stop_reason",)


def version_message(row: dict[str, Any]) -> bytes:
    """What the writer signs: every column of the version row, plus its entry's patient."""
    fields = {k: v for k, v in row.items() if k not in _UNSIGNED and not (k in _SIGNED_WHEN_SET and v is None)}
    return b"chartvault-chart-version/v1|" + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def version_digest(row: dict[str, Any]) -> str:
    """The SHA-256 of what the writer signs: the audit entry of the save records it (see the module's docstring)."""
    return hashlib.sha256(version_message(row)).hexdigest()


def saved_digest(session: Session, entry_id: str, version: int) -> str:
    """`version_digest` of a version just written (inside the caller's transaction), for its audit entry."""
    return version_digest(session.store.chart_entries.version_for_signing(entry_id, version))


def sign_version(session: Session, entry_id: str, version: int) -> None:
    """Sign the version just written (inside the caller's transaction) as this session's user."""
    key = session.signing_key
    if key is None:
        return
    repo = session.store.chart_entries
    row = repo.version_for_signing(entry_id, version)
    repo.set_version_signature(entry_id, version, session.user.name, key.sign(version_message(row)))


def chart_problems(store: Store, root: dict[str, Any] | None) -> list[str]:
    """A problem line for each chart entry version whose writer's signature does not hold, or that the audit
    log's record of its save contradicts (put back, re-signed, written with SQL)."""
    from archive.roster import roster_check

    if root is None:
        return []
    keys = roster_check(store, root).keys
    born_signed = int(root.get("signed_from") or 1) <= 1  # an upgraded vault has unsigned older versions
    problems = []
    held: dict[tuple[str, int], _Held] = {}  # the signed versions whose signature holds
    for row in store.chart_entries.signed_versions():
        where = f"chart entry {row['entry_id']} version {row['version']} (patient {row['entry_patient']})"
        signer, sig = row.get("signer"), row.get("sig")
        if not sig:
            if born_signed:
                problems.append(f"{where}: not signed (written with SQL)")
            continue
        if signer != row.get("created_by"):
            problems.append(f"{where}: written by {row.get('created_by')} but signed by {signer}")
        elif not verify_signature(keys.get(str(signer)), version_message(row), sig):
            problems.append(f"{where}: changed after {signer} signed it (edited or moved with SQL)")
        else:
            held[(str(row["entry_id"]), int(row["version"]))] = _Held(where, str(signer), version_digest(row),
                                                                      bool(row.get("source_record")))
    problems += [f"chart entry {e}: its current version is missing" for e in
                 store.chart_entries.entries_without_current_version()]
    return problems + _save_problems(store, held)


@dataclass(frozen=True)
class _Held:
    """A signed version whose signature holds: where to name it, its signer, its digest, landed from a record."""

    where: str
    signer: str
    digest: str
    landed: bool


def _saves(store: Store) -> dict[tuple[str, int], tuple[int, str | None]]:
    """(entry, version) -> (audit seq, digest recorded or None) of every chart_add and chart_correct entry."""
    saves: dict[tuple[str, int], tuple[int, str | None]] = {}
    for action in ("chart_add", "chart_correct"):
        for seq, raw in store.audit.details_of(action):
            details = json.loads(raw or "{}")
            if not details.get("entry"):
                continue
            version = int(details.get("version") or 1) if action == "chart_correct" else 1
            saves[(str(details["entry"]), version)] = (seq, details.get("signed"))
    return saves


def _save_problems(store: Store, held: dict[tuple[str, int], _Held]) -> list[str]:
    """What the audit log's record of each save says against the chart tables (see the module's docstring)."""
    numbers = store.chart_entries.version_numbers()
    saves = _saves(store)
    problems = []
    for entry_id, (current, versions) in numbers.items():
        if versions and current != versions[-1]:
            problems.append(f"chart entry {entry_id}: version {current} is current but version {versions[-1]} "
                            "exists (put back to an older version with SQL)")
    for (entry_id, version), (seq, digest) in saves.items():
        have = numbers.get(entry_id)
        if have is None:
            problems.append(f"chart entry {entry_id}: missing (the audit log records its saving, entry {seq}; "
                            "deleted with SQL)")
        elif version not in have[1]:
            problems.append(f"chart entry {entry_id}: version {version} is missing (the audit log records its "
                            f"saving, entry {seq}; deleted or put back with SQL)")
        elif digest and (entry_id, version) in held and held[(entry_id, version)].digest != digest:
            row = held[(entry_id, version)]
            problems.append(f"{row.where}: not what {row.signer} saved (audit entry {seq} records other content; "
                            "changed and signed again with SQL)")
    for key, row in held.items():
        if key not in saves and (key[1] > 1 or not row.landed):
            problems.append(f"{row.where}: no audit entry records saving it (written with SQL)")
    return problems


def _access_message(kind: str, fields: tuple[str, ...], row: dict[str, Any]) -> bytes:
    return f"chartvault-{kind}/v1|".encode() + json.dumps([row.get(f) for f in fields], separators=(",", ":")).encode()


def sign_access_row(session: Session, kind: str, row: dict[str, Any]) -> tuple[str | None, str | None]:
    """(signer, signature) for a grant or disclosure about to be stored, made by this session's user."""
    key = session.signing_key
    if key is None:
        return None, None
    fields = _ACCESS[kind][0]
    return session.user.name, key.sign(_access_message(kind, fields, row))


# kind -> (the signed columns, the column naming who must have signed)
_ACCESS: dict[str, tuple[tuple[str, ...], str]] = {
    "grant": (("user", "record", "patient", "reason", "granted_at", "expires_at", "audit_seq"), "user"),
    "disclosure": (("ts", "record", "patient", "discloser", "recipient", "purpose", "audit_seq"), "discloser"),
}


def access_problems(store: Store, root: dict[str, Any] | None) -> list[str]:
    """A problem line for each break-glass grant or disclosure whose maker's signature does not hold."""
    from archive.roster import roster_check

    if root is None:
        return []
    keys = roster_check(store, root).keys
    signed_from = int(root.get("signed_from") or 1)  # rows of an upgraded vault's older entries are unsigned
    problems = []
    tables = (("grant", "access_grants", store.access.all_grants()),
              ("disclosure", "disclosures", store.access.all_disclosures()))
    for kind, table, rows in tables:
        maker_col = _ACCESS[kind][1]
        for row in rows:
            why = access_row_problem(store, kind, row, keys, signed_from)
            if why:
                where = f"{table} row {row['id']} (record {row['record']}, {maker_col} {row[maker_col]})"
                problems.append(f"{where}: {why}")
    return problems


def access_row_problem(
    store: Store, kind: str, row: dict[str, Any], keys: dict[str, str], signed_from: int
) -> str:
    """Why a grant or disclosure row does not hold ('' when it does): its maker's signature, and its audit entry."""
    fields, maker_col = _ACCESS[kind]
    signer, sig = row.get("signer"), row.get("sig")
    if not sig:
        return "not signed (inserted with SQL)" if int(row.get("audit_seq") or 0) >= signed_from else ""
    if signer != row.get(maker_col):
        return f"made by {row.get(maker_col)} but signed by {signer}"
    if not verify_signature(keys.get(str(signer)), _access_message(kind, fields, row), sig):
        return f"changed after {signer} signed it (edited with SQL)"
    if not _logged(store, kind, row):
        return (
            f"its audit entry {row['audit_seq']} does not record it "
            "(a row signed and inserted with SQL, never logged for review)"
        )
    return ""


def access_rows_holding(store: Store, root: dict[str, Any] | None, kind: str, rows: list[dict[str, Any]]) -> list[
    dict[str, Any]
]:
    """The rows (grants or disclosures) that hold: what the access policy may honour."""
    from archive.roster import roster_check

    if root is None or not rows:
        return rows
    keys = roster_check(store, root).keys
    signed_from = int(root.get("signed_from") or 1)
    return [row for row in rows if not access_row_problem(store, kind, row, keys, signed_from)]


def _logged(store: Store, kind: str, row: dict[str, Any]) -> bool:
    """Whether the (signed, chained) audit entry the row names is the entry that made it."""
    from archive.audit import FIELDS
    from archive.policy import Action

    found = store.audit.select(seq=int(row["audit_seq"]), limit=1)
    if not found:
        return False
    entry = dict(zip(FIELDS, found[0], strict=True))
    action, maker = (Action.BREAK_GLASS.value, "user") if kind == "grant" else (Action.DISCLOSE.value, "discloser")
    same = (entry["action"] == action and entry["outcome"] == "ok" and entry["user"] == row[maker]
            and entry["record"] == row["record"])
    if same and kind == "disclosure":
        same = json.loads(entry["details"] or "{}").get("recipient") == row["recipient"]
    return bool(same)
