"""Anchors: a signed checkpoint of the audit log (seq, head hash, time) kept off the machine.

The log can be cut at the end, or the whole vault folder put back to an older
copy, by someone who can write files; nothing inside the vault can tell. An
anchor written earlier (`chartvault audit anchor --out FILE`, or its short
code written down) names an entry the log must still contain:
`chartvault audit verify --anchor FILE` exits 4 when it does not (rollback,
truncation, fork). Never holds patient data: seq, hash, time, signer.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.audit import now_iso
from archive.errors import BadInput, TamperDetected
from archive.policy import Action
from vault.signing import verify_signature

if TYPE_CHECKING:
    from archive.session import Session

FORMAT = "chartvault-anchor/1"
CODE = re.compile(r"^(\d+)-([0-9a-f]{16})$")


@dataclass(frozen=True)
class Anchor:
    seq: int
    head: str  # the chain hash (`mac`) of entry `seq`
    ts: str
    signer: str
    sig: str

    @property
    def code(self) -> str:
        """The short form an admin can write down: SEQ-first 16 hex digits of the head hash."""
        return f"{self.seq}-{self.head[:16]}"

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self), "code": self.code}


def _message(seq: int, head: str, ts: str, signer: str) -> bytes:
    return json.dumps([FORMAT, seq, head, ts, signer], separators=(",", ":")).encode()


def make_anchor(session: Session, out: Path | None = None) -> Anchor:
    """Sign the current head of the audit log as this user; write it to `out` (refusing to overwrite)."""
    session.require(Action.VERIFY_VAULT)
    key = session.signing_key
    if key is None:
        raise TamperDetected("This session has no signing key.", "Log in with your passphrase to make an anchor.")
    if out is not None and Path(out).exists():
        raise BadInput(f"{out} already exists.", "Choose a new file name; an anchor is never overwritten.")
    seq, head = session.store.audit.last() or (0, "")
    ts = now_iso()
    anchor = Anchor(seq=seq, head=head, ts=ts, signer=session.user.name,
                    sig=key.sign(_message(seq, head, ts, session.user.name)))
    if out is not None:
        Path(out).write_text(json.dumps(anchor.to_json(), indent=2) + "\n")
    session.audit("audit_anchor", details={"seq": seq, "code": anchor.code})
    return anchor


def check_anchor(session: Session, given: str) -> tuple[int, str] | None:
    """(anchored seq, what is wrong) with the log against anchor `given` (a file, or a short code), or None.

    A file's signature is checked against the signer's key in the signed roster.
    """
    from archive.roster import roster_check

    session.require(Action.VERIFY_VAULT)
    path = Path(given)
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            anchor = Anchor(int(data["seq"]), str(data["head"]), str(data["ts"]), str(data["signer"]),
                            str(data["sig"]))
        except (ValueError, KeyError, TypeError):
            raise BadInput(
                f"{given} is not a chartvault anchor.", "Give the file 'audit anchor --out' wrote."
            ) from None
        keys = roster_check(session.store, session.vault.signing_root).keys
        if not verify_signature(keys.get(anchor.signer), _message(anchor.seq, anchor.head, anchor.ts, anchor.signer),
                                anchor.sig):
            return anchor.seq, f"the anchor {given} is not signed by '{anchor.signer}' as the signed roster knows them"
        seq, prefix = anchor.seq, anchor.head
    else:
        m = CODE.match(given.strip())
        if m is None:
            raise BadInput(f"'{given}' is neither an anchor file nor an anchor code.",
                           "Give the file 'audit anchor --out' wrote, or its code (SEQ-16 hex digits).")
        seq, prefix = int(m.group(1)), m.group(2)
    if seq == 0:
        return None
    found = session.store.audit.mac_at(seq)
    if found is None:
        last = (session.store.audit.last() or (0, ""))[0]
        return seq, f"the log ends at entry {last}, before anchored entry {seq} (rolled back or cut at the end)"
    if not found.startswith(prefix):
        return seq, f"entry {seq} is not the anchored one (the log was cut, rewritten or forked since the anchor)"
    return None
