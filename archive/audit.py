"""The hash-chained, signed access log.

Each entry is signed by the user who wrote it (Ed25519, the key in their
keyslot): `sig = Sign(prev_mac || entry)`, and chained:
`mac = SHA-256(prev_mac || entry || signer || sig)`. The index key cannot make
a signature, so a user who can log in (and so holds the index key) can rewrite
only their own entries at the end of the log: editing, deleting, inserting or
reordering anything followed by another user's entry breaks that user's
signature, and `verify` names the entry. The public keys come from the signed
roster (archive.roster). Entries written before a vault was upgraded to
signatures (seq < signing root's `signed_from`) keep their old
`HMAC(audit key, prev_mac || entry)`.
The latest (seq, mac) is also kept outside the database in `audit.head.age`
(age-encrypted to the vault), so truncating the tail is detected too.

Cost: an entry is one INSERT (its own commit, or part of the caller's
transaction). Rewriting the head file costs two fsyncs (~10 ms here), so it is
written at most every `head_interval` seconds while entries stream in, and
always on `flush()` (session close, lock, after a write transaction). The head
this process last committed is also kept in memory, so `verify()` in the same
process sees a truncation even before the file catches up. The head only ever
lags the table (it is written after the commit), so a crash never makes an
intact log look tampered with.

Query text and patient details live only inside the encrypted index.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault.atomic import write_atomic
from vault.errors import TamperDetected
from vault.keys import Identity
from vault.locks import VaultLock
from vault.signing import SigningKey, verify_signature
from vault.store import decrypt_with_identity, encrypt_to_recipient

if TYPE_CHECKING:
    from collections.abc import Callable

    from archive.store.audit import AuditRepo
    from vault.vault import UnlockedVault

# Entries one user writes about another: failed logins are recorded without a
# passphrase and moved into the log (signed) by the next user who unlocks.
ON_BEHALF = frozenset({"login_failed"})

GENESIS = "0" * 64
HEAD_FILE = "audit.head.age"
LOCK_NAME = "audit"  # <vault>/.audit.lock: one writer of the chain and its head at a time, across processes
FIELDS = ("seq", "ts", "user", "role", "action", "patient", "record", "reason", "outcome", "flagged", "details")


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    user: str | None
    role: str | None
    action: str
    patient: str | None
    record: str | None
    reason: str | None
    outcome: str
    flagged: bool
    details: dict[str, Any]


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _canonical(row: dict[str, Any]) -> bytes:
    return json.dumps([row.get(f) for f in FIELDS], separators=(",", ":"), ensure_ascii=False).encode()


class AuditLog:
    """Append to and verify the chain stored in the `audit` table (through its repository)."""

    head_interval = 1.0  # seconds between head-file rewrites while entries stream in

    def __init__(
        self,
        rows: AuditRepo,
        key: bytes,
        vault_root: Path,
        identity: Identity,
        signer: tuple[str, SigningKey] | None = None,
        signed_from: int | None = None,
        roster_keys: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.rows = rows
        self._key = key
        # (user name, their signing key): every entry this log appends is signed with it.
        self.signer = signer
        # First seq that must be signed (None: a vault from before signatures, not yet upgraded).
        self.signed_from = signed_from
        # {user: public signing key} of the valid roster rows (archive.roster), read when verifying.
        self.roster_keys = roster_keys
        self.head_path = vault_root / HEAD_FILE
        self.identity = identity
        self.also: tuple[Identity, ...] = ()  # the old identity while a key rotation is unfinished
        # Where this process's session comes from, if not the machine's own terminal (a served browser
        # connection's remote address): written into the details of every entry it appends (signed with them).
        self.origin: str | None = None
        self.appended = 0  # entries appended by this process (lets a transaction see if it wrote only entries)
        self.wal_unsynced = False  # audit-only commits not yet fsynced (group commit, see Session.transaction)
        self._committed: tuple[int, str] | None = None  # latest head this process committed
        self._head_dirty = False
        self._head_written = 0.0  # monotonic time of the last head-file write

    @classmethod
    def of(cls, unlocked: UnlockedVault) -> AuditLog:
        """The log of an unlocked vault (its own index connection, key, head file and identity)."""
        from archive.roster import valid_keys
        from archive.store import Store

        store = Store.of(unlocked)
        root = unlocked.vault.signing_root
        return cls(
            store.audit,
            unlocked.audit_key,
            unlocked.vault.root,
            unlocked.identity,
            signer=None,  # set by archive.login once the user's keys are checked against the roster
            signed_from=int(root["signed_from"]) if root else None,
            roster_keys=lambda: valid_keys(store, root),
        )

    def writer(self) -> VaultLock:
        """The vault's audit lock (a file lock): held around an append outside a transaction and a head write."""
        return VaultLock(self.head_path.parent, LOCK_NAME)

    def _mac(self, prev_mac: str, row: dict[str, Any]) -> str:
        return hmac.new(self._key, prev_mac.encode() + b"|" + _canonical(row), hashlib.sha256).hexdigest()

    @staticmethod
    def _signed_message(prev_mac: str, row: dict[str, Any]) -> bytes:
        return b"chartvault-audit/v2|" + prev_mac.encode() + b"|" + _canonical(row)

    @staticmethod
    def _chain_hash(prev_mac: str, row: dict[str, Any], signer: str, sig: str) -> str:
        data = prev_mac.encode() + b"|" + _canonical(row) + b"|" + signer.encode() + b"|" + sig.encode()
        return hashlib.sha256(data).hexdigest()

    def _last(self) -> tuple[int, str]:
        return self.rows.last() or (0, GENESIS)

    def append(
        self,
        *,
        action: str,
        outcome: str,
        user: str | None = None,
        role: str | None = None,
        patient: str | None = None,
        record: str | None = None,
        reason: str | None = None,
        flagged: bool = False,
        details: dict[str, Any] | None = None,
    ) -> int:
        """Append one entry (inside the caller's transaction, if any); return its seq.

        Outside a transaction the head file is written at once; inside one the
        caller must call `write_head()` after committing.

        Many processes append to one chain. Inside the caller's transaction
        (BEGIN IMMEDIATE) the database's write lock already makes reading the
        last entry and inserting the next one atomic. Outside one, the entry is
        appended in its own write transaction under the vault's audit lock, so
        two processes never take the same seq (a fork) or lose an entry.
        """
        if not self.rows.in_transaction:
            with self.writer():
                with self.rows.writing():
                    seq = self.append(
                        action=action, outcome=outcome, user=user, role=role, patient=patient, record=record,
                        reason=reason, flagged=flagged, details=details,
                    )
                self.committed()
            return seq
        seq, prev = self._last()
        row: dict[str, Any] = {
            "seq": seq + 1,
            "ts": now_iso(),
            "user": user,
            "role": role,
            "action": action,
            "patient": patient,
            "record": record,
            "reason": reason,
            "outcome": outcome,
            "flagged": 1 if flagged else 0,
            "details": json.dumps(self._with_origin(details), sort_keys=True, ensure_ascii=False),
        }
        row["prev_mac"] = prev
        if self.signer is not None:
            name, key = self.signer
            sig = key.sign(self._signed_message(prev, row))
            row["mac"] = self._chain_hash(prev, row, name, sig)
            row["signer"], row["sig"] = name, sig
        elif self.signed_from is not None and seq + 1 >= self.signed_from:
            raise TamperDetected(
                "This session has no signing key, so it cannot write to the signed audit log.",
                "Log in again; if this persists, the keys/ folder was changed.",
            )
        else:
            row["mac"] = self._mac(prev, row)
        self.rows.insert(row)
        self.appended += 1
        if not self.rows.in_transaction:
            self._note_committed(int(row["seq"]), str(row["mac"]))
        return int(row["seq"])

    def _with_origin(self, details: dict[str, Any] | None) -> dict[str, Any]:
        if self.origin is None:
            return details or {}
        return {"origin": self.origin, **(details or {})}  # an entry about another connection keeps its own

    def _note_committed(self, seq: int, mac: str) -> None:
        if self._committed is None or seq >= self._committed[0]:
            self._committed = (seq, mac)
        self._head_dirty = True
        if time.monotonic() - self._head_written >= self.head_interval:
            self.flush()

    def committed(self) -> None:
        """Tell the log that the caller's transaction (with appended entries) committed."""
        if self.rows.in_transaction:
            return
        self._note_committed(*self._last())

    def flush(self) -> None:
        """Write the head file now if entries were committed since it was last written."""
        if (self._head_dirty or self.wal_unsynced) and not self.rows.in_transaction:
            self.write_head()

    def sync_wal(self) -> None:
        """fsync the index's write-ahead log: every commit so far becomes durable."""
        import os

        wal = self.rows.wal_path()
        if wal is not None and wal.exists():
            fd = os.open(wal, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self.wal_unsynced = False

    def write_head(self) -> None:
        """Write the latest committed (seq, mac) to the head file (outside a transaction).

        The log is made durable first, so the head never names an entry that a
        power failure could still take away.
        """
        with self.writer():  # every process reads the latest committed entry under the lock: the head never goes back
            seq, mac = self._last()
            # Durable first (whichever process committed the entries: they share the one WAL file).
            self.sync_wal()
            if self._committed is None or seq >= self._committed[0]:
                self._committed = (seq, mac)
            payload = json.dumps({"seq": seq, "mac": mac}).encode()
            write_atomic(self.head_path, encrypt_to_recipient(payload, self.identity.recipient))
        self._head_dirty = False
        self._head_written = time.monotonic()

    def read_head(self) -> tuple[int, str] | None:
        if not self.head_path.exists():
            return None
        raw = decrypt_with_identity(self.head_path.read_bytes(), (self.identity, *self.also), HEAD_FILE)
        data = json.loads(raw)
        return int(data["seq"]), str(data["mac"])

    # Signed entries are checked in chunks by worker processes once the log is this long (one Ed25519
    # verification per entry is most of the walk's cost; 2 cores halve it). Shorter logs: in this process.
    parallel_from = 8000
    chunk_size = 2500

    def verify(self) -> ChainReport:
        """Walk the chain from the start; report the first entry that does not fit.

        This process streams the rows and checks their order and links (seq,
        prev_mac) and the old MAC entries; the signed entries go, in chunks, to
        `_check_signed_rows` (in worker processes for a long log), which checks
        every entry's signer, signature and chain hash. The first problem in
        chain order is reported, as a walk that stopped there would report it.
        """
        prev = GENESIS
        expected_seq = 1
        count = 0
        keys = self.roster_keys() if self.roster_keys is not None and self.signed_from is not None else {}
        n = len(FIELDS)
        structural: ChainReport | None = None
        checker = _SignatureChecker(
            keys, self.chunk_size,
            parallel=self.signed_from is not None and self.rows.count_from(self.signed_from) >= self.parallel_from,
        )
        try:
            for values in self.rows.chain():
                seq = values[0]
                if seq != expected_seq:
                    structural = ChainReport(
                        False, count, seq,
                        f"entry {seq} is out of place: expected entry {expected_seq} (entries deleted or reordered)",
                    )
                    break
                if values[n] != prev:
                    structural = ChainReport(False, count, seq, f"entry {seq} does not follow entry {seq - 1}")
                    break
                if self.signed_from is not None and seq >= self.signed_from:
                    checker.add(values)
                else:
                    row = dict(zip(FIELDS, values[:n], strict=True))
                    if values[n + 2] is not None or not hmac.compare_digest(self._mac(prev, row), values[n + 1]):
                        structural = ChainReport(False, count, seq, f"entry {seq} was altered")
                        break
                prev = values[n + 1]
                expected_seq += 1
                count += 1
            bad = checker.first_problem()
        finally:
            checker.close()
        if bad is not None:  # every entry before a structural problem is in the checker: this one comes first
            seq, why = bad
            return ChainReport(False, seq - 1, seq, f"entry {seq} {why}")
        if structural is not None:
            return structural
        try:
            head = self.read_head()
        except (TamperDetected, ValueError, KeyError):
            return ChainReport(False, count, None, "the saved head (audit.head.age) is unreadable")
        if head is None and count:
            return ChainReport(False, count, None, "the saved head (audit.head.age) is missing")
        # The file may lag this process's own appends; check both.
        for saved in (head, self._committed):
            problem = self._check_head(saved, count)
            if problem is not None:
                return problem
        return ChainReport(True, count)

    def _check_head(self, head: tuple[int, str] | None, count: int) -> ChainReport | None:
        if head is None:
            return None
        head_seq, head_mac = head
        if head_seq > count:
            return ChainReport(False, count, count + 1, f"entries {count + 1}..{head_seq} were removed from the end")
        if head_seq >= 1:
            mac = self.rows.mac_at(head_seq)
            if mac is None or mac != head_mac:
                return ChainReport(False, count, head_seq, f"entry {head_seq} does not match the saved head")
        return None

    def behind_client(self) -> str | None:
        """Whether the vault is behind (or forked from) the highest head this computer saw (vault.client_state)."""
        from vault.client_state import remembered_head

        seen = remembered_head(self.head_path.parent)
        if seen is None:
            return None
        seq, chain_hash = seen
        if self.rows.mac_at(seq) != chain_hash:
            last = self._last()[0]
            why = f"it ends at entry {last}" if last < seq else f"its entry {seq} differs"
            return (
                f"the vault is behind what this computer saw: entry {seq} was seen here, {why} "
                "(the vault folder or its log was put back to an older copy, cut, or forked)"
            )
        return None

    def remember_on_client(self) -> None:
        """Remember the committed head on this computer, if the log still contains what was remembered."""
        from vault.client_state import remember_head

        if self.rows.in_transaction or self.behind_client() is not None:
            return
        seq, chain_hash = self._last()
        if seq:
            remember_head(self.head_path.parent, seq, chain_hash)

    def check_head(self) -> ChainReport | None:
        """Cheap check at unlock: does the table still reach the saved head? Returns the problem, if any.

        Run before the session appends anything: a later append would move the
        head past a truncated tail and hide it, so the caller records the
        problem in the log first (a flagged `audit_tamper` entry).
        """
        try:
            head = self.read_head()
        except (TamperDetected, ValueError, KeyError):
            return ChainReport(False, 0, None, "the saved head (audit.head.age) is unreadable")
        last_seq, _ = self._last()
        if head is None:
            missing = "the saved head (audit.head.age) is missing"
            return ChainReport(False, last_seq, None, missing) if last_seq else None
        return self._check_head(head, last_seq)

    def entries(
        self,
        *,
        user: str | None = None,
        patient: str | None = None,
        record: str | None = None,
        since: str | None = None,
        action: str | None = None,
        flagged: bool | None = None,
        limit: int | None = None,
        seq: int | None = None,
    ) -> list[AuditEntry]:
        rows = self.rows.select(
            seq=seq, user=user, patient=patient, record=record, action=action, since=since, flagged=flagged,
            limit=limit,
        )
        out = []
        for values in rows:
            row = dict(zip(FIELDS, values, strict=True))
            out.append(
                AuditEntry(
                    seq=row["seq"], ts=row["ts"], user=row["user"], role=row["role"], action=row["action"],
                    patient=row["patient"], record=row["record"], reason=row["reason"], outcome=row["outcome"],
                    flagged=bool(row["flagged"]), details=json.loads(row["details"] or "{}"),
                )
            )
        return out


def _check_signed_rows(keys: dict[str, str], rows: list[tuple[Any, ...]]) -> tuple[int, str] | None:
    """(seq, why) of the first signed entry in `rows` that does not hold, or None; rows as `AuditRepo.chain` yields.

    Each row is checked against its own stored prev_mac (the caller checks that
    it links to the entry before). Runs in worker processes, so it takes and
    returns plain values.
    """
    n = len(FIELDS)
    sign_prefix = b"chartvault-audit/v2|"
    sha256 = hashlib.sha256
    dumps = json.dumps
    for values in rows:
        prev, mac, signer, sig = values[n], values[n + 1], values[n + 2], values[n + 3]
        seq, user, action = values[0], values[2], values[4]
        if not signer or not sig:
            return seq, "is not signed (entries were inserted or rewritten with the index key)"
        if signer not in keys:
            return seq, f"is signed by '{signer}', who has no valid key in the signed roster"
        if user != signer and action not in ON_BEHALF:
            return seq, f"claims user '{user}' but was signed by '{signer}'"
        body = prev.encode() + b"|" + dumps(list(values[:n]), separators=(",", ":"), ensure_ascii=False).encode()
        if not verify_signature(keys[signer], sign_prefix + body, sig):
            return seq, (
                f"was altered or re-chained (the signature of '{signer}' does not match: "
                "entries were edited, removed, inserted or reordered)"
            )
        if sha256(body + b"|" + signer.encode() + b"|" + sig.encode()).hexdigest() != mac:
            return seq, "was altered (its chain hash does not match)"
    return None


class _SignatureChecker:
    """Checks chunks of signed entries as the walk streams them: in worker processes, or here for a short log.

    Workers are forked when this process runs no other thread (cheap, nothing
    to import) and spawned otherwise (the TUI's threads must not be forked
    mid-lock). Every chunk is checked; the first problem in chain order wins.
    """

    def __init__(self, keys: dict[str, str], chunk_size: int, *, parallel: bool) -> None:
        import os

        self.keys = keys
        self.chunk_size = chunk_size
        self.chunk: list[tuple[Any, ...]] = []
        self.results: list[Any] = []  # per chunk: a Future, or the result computed here
        self.pool: Any = None
        workers = min(os.cpu_count() or 1, 4)
        if parallel and workers > 1:
            import multiprocessing
            import threading
            from concurrent.futures import ProcessPoolExecutor

            method = "fork" if threading.active_count() == 1 else "spawn"
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))

    def add(self, values: tuple[Any, ...]) -> None:
        self.chunk.append(values)
        if len(self.chunk) >= self.chunk_size:
            self._submit()

    def _submit(self) -> None:
        if not self.chunk:
            return
        if self.pool is not None:
            self.results.append(self.pool.submit(_check_signed_rows, self.keys, self.chunk))
        elif not any(self.results):  # here, a chunk after a bad one need not be checked
            self.results.append(_check_signed_rows(self.keys, self.chunk))
        self.chunk = []

    def first_problem(self) -> tuple[int, str] | None:
        self._submit()
        for result in self.results:
            bad = result.result() if self.pool is not None else result
            if bad is not None:
                return bad  # type: ignore[no-any-return]
        return None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
