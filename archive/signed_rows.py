"""Chart entries carry their writer's signature.

Each version of a chart entry is signed (Ed25519, the writer's key) together
with its entry's patient, when it is written. `verify` checks every version
against the signed roster: a version edited, inserted or moved to another
patient with SQL no longer matches, and an entry whose current version is gone
is named. (Which version is current is not signed: putting an entry back to an
older, validly signed version is not detected.)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from vault.signing import verify_signature

if TYPE_CHECKING:
    from archive.session import Session
    from archive.store import Store

_UNSIGNED = ("signer", "sig")


def version_message(row: dict[str, Any]) -> bytes:
    """What the writer signs: every column of the version row, plus its entry's patient."""
    fields = {k: v for k, v in row.items() if k not in _UNSIGNED}
    return b"chartvault-chart-version/v1|" + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def sign_version(session: Session, entry_id: str, version: int) -> None:
    """Sign the version just written (inside the caller's transaction) as this session's user."""
    key = session.signing_key
    if key is None:
        return
    repo = session.store.chart_entries
    row = repo.version_for_signing(entry_id, version)
    repo.set_version_signature(entry_id, version, session.user.name, key.sign(version_message(row)))


def chart_problems(store: Store, root: dict[str, Any] | None) -> list[str]:
    """A problem line for each chart entry version whose writer's signature does not hold."""
    from archive.roster import roster_check

    if root is None:
        return []
    keys = roster_check(store, root).keys
    born_signed = int(root.get("signed_from") or 1) <= 1  # an upgraded vault has unsigned older versions
    problems = []
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
    problems += [f"chart entry {e}: its current version is missing" for e in
                 store.chart_entries.entries_without_current_version()]
    return problems
