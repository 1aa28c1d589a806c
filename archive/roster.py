"""The signed user roster: the rows that decide access, each signed by an admin.

A row's name, role, clinical role, active flag, licence and the public halves
of the user's keys (age and signing) are signed with an admin's Ed25519 key.
The trust root is the founding admin's public key in vault.json (`signing`),
which every client pins (vault.client_state). A row signed by another admin
is valid when that admin's own row is valid and says admin. So a user holding
the index key can change a row with SQL, but cannot sign it: login refuses
the row (or a keyslot whose keys are not the row's), and `verify` names it.

A user whose keyslot predates signatures gets a signing key at their first
login (`enrol`): the row then carries a key the admin did not sign yet (valid
as "pending", the admin's signature covers the rest of the row) until the next
admin login countersigns it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archive.errors import TamperDetected
from vault.signing import verify_signature

if TYPE_CHECKING:
    from archive.session import Session
    from archive.store import Store
    from vault.keys import UserSlot
    from vault.signing import SigningKey

FIELDS = ("name", "role", "clinical_role", "active", "licence", "age_pub", "sign_pub")


def row_message(row: dict[str, Any], *, sign_pub: Any = ...) -> bytes:
    """The bytes an admin signs for a roster row (sign_pub=None: the row as signed before its user enrolled)."""
    values = {f: row.get(f) for f in FIELDS}
    values["active"] = 1 if values["active"] else 0
    if sign_pub is not ...:
        values["sign_pub"] = sign_pub
    return json.dumps(["chartvault-roster/v1", *[values[f] for f in FIELDS]], separators=(",", ":")).encode()


@dataclass
class RosterCheck:
    """Which rows hold (and their signing keys) and why the others do not."""

    keys: dict[str, str] = field(default_factory=dict)  # user -> public signing key, for valid rows with a key
    problems: dict[str, str] = field(default_factory=dict)  # user -> what is wrong with their row
    pending: list[str] = field(default_factory=list)  # enrolled keys no admin has countersigned yet

    @property
    def ok(self) -> bool:
        return not self.problems


def check_roster(rows: list[dict[str, Any]], root: dict[str, Any] | None) -> RosterCheck:
    """Check every row's signature back to the founding admin's key (`root`)."""
    check = RosterCheck()
    if root is None:
        return check  # a vault from before signatures: nothing is signed yet
    by_name = {str(r["name"]): r for r in rows}
    verdict: dict[str, bool] = {}

    def signer_key(signer: str, seen: frozenset[str]) -> str | None:
        if signer == root.get("founder"):
            return str(root.get("public_key") or "") or None
        row = by_name.get(signer)
        if row is None or row.get("role") != "admin" or signer in seen or not valid(signer, seen):
            return None
        return row.get("sign_pub")

    def valid(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name in verdict:
            return verdict[name]
        row = by_name[name]
        signer = row.get("roster_signer")
        key = signer_key(str(signer), seen | {name}) if signer else None
        if key is None:
            ok = False
            check.problems[name] = (
                f"roster row '{name}' is not signed by a valid admin"
                + (f" (signer '{signer}')" if signer else "")
            )
        elif verify_signature(key, row_message(row), row.get("roster_sig")):
            ok = True
        elif row.get("sign_pub") and verify_signature(key, row_message(row, sign_pub=None), row.get("roster_sig")):
            ok = True
            check.pending.append(name)
        else:
            ok = False
            check.problems[name] = (
                f"roster row '{name}' was changed after '{signer}' signed it "
                "(role, clinical role, active, licence or keys)"
            )
        if name == root.get("founder") and ok and row.get("sign_pub") != root.get("public_key"):
            ok = False
            check.problems[name] = f"roster row '{name}' does not hold the founding admin's key from vault.json"
        verdict[name] = ok
        return ok

    for name in by_name:
        if valid(name) and by_name[name].get("sign_pub"):
            check.keys[name] = str(by_name[name]["sign_pub"])
    return check


_CHECKED: dict[str, RosterCheck] = {}  # the same rows and root give the same answer: verify signatures once


def roster_check(store: Store, root: dict[str, Any] | None) -> RosterCheck:
    """`check_roster` of the store's rows, remembered for rows already checked in this process."""
    rows = store.users.all()
    key = json.dumps([root, [[r.get(f) for f in (*FIELDS, "roster_signer", "roster_sig")] for r in rows]])
    found = _CHECKED.get(key)
    if found is None:
        if len(_CHECKED) > 64:
            _CHECKED.clear()
        found = _CHECKED[key] = check_roster(rows, root)
    return found


def valid_keys(store: Store, root: dict[str, Any] | None) -> dict[str, str]:
    """{user: public signing key} of the valid rows: the keys audit entries are checked against."""
    return roster_check(store, root).keys


def check_login(store: Store, root: dict[str, Any] | None, name: str, slot: UserSlot) -> None:
    """Refuse a login whose roster row fails its signature, or whose keyslot is not the row's."""
    if root is None:
        return
    check = roster_check(store, root)
    if name in check.problems:
        raise TamperDetected(
            f"Login refused: {check.problems[name]}.",
            "Someone edited the user table with the index key. Keep this vault as evidence and ask an admin "
            "to restore index.db from a backup ('chartvault verify' lists every changed row).",
        )
    row = store.users.get(name) or {}
    if row.get("age_pub") != slot.age.recipient or (
        slot.signing is not None and row.get("sign_pub") not in (None, slot.signing.public)
    ):
        raise TamperDetected(
            f"Login refused: the keyslot keys/{name}.age does not hold {name}'s keys from the signed roster.",
            f"keys/{name}.* were replaced (e.g. copied from another user's). Restore keys/ from a backup.",
        )


def sign_row(store: Store, name: str, admin: str, key: SigningKey) -> None:
    """Sign `name`'s current row as admin `admin` (the caller has checked who may)."""
    row = store.users.get(name)
    if row is None:
        return
    store.users.set_roster_signature(name, admin, key.sign(row_message(row)))


@contextmanager
def signed_edit(session: Session, name: str) -> Iterator[None]:
    """Change `name`'s row (inside the caller's transaction) and sign the result as the acting admin.

    Refuses to sign a row that was tampered with before: a signature would launder the change.
    """
    root = session.vault.signing_root
    check = roster_check(session.store, root)
    if name in check.problems:
        raise TamperDetected(
            f"Refused: {check.problems[name]}.",
            "Restore index.db from a backup before changing this user; 'chartvault verify' lists every changed row.",
        )
    yield
    key = session.signing_key
    if root is not None and key is not None:
        sign_row(session.store, name, session.user.name, key)


def countersign_enrolments(session: Session) -> list[str]:
    """An admin's login signs the keys users enrolled themselves (see the module docstring)."""
    root = session.vault.signing_root
    key = session.signing_key
    if root is None or key is None or session.user.role != "admin" or not session.user.active:
        return []
    check = roster_check(session.store, root)
    if session.user.name in check.problems:
        return []
    for name in check.pending:
        sign_row(session.store, name, session.user.name, key)
    return list(check.pending)
