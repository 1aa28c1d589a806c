"""Key rotation: a new vault identity, every encrypted file re-encrypted to it.

Crash-safe and resumable. The state lives in `rotation/`:
    state.json      public: old and new recipients, when it started
    next.age        the new identity, encrypted to the old one
    prev.age        the old identity, encrypted to the new one
    index-key.age   the index's new SQLCipher key (and the kept sub-key root), encrypted to the new identity
so a session unlocked with either identity can read everything while the
rotation is unfinished, and `rotate()` run again picks up where it stopped.

Order: (1) new identity, new index key and state; (2) the grant of every user
the caller keeps re-issued for the new identity (public keys only: no
passphrases needed), every other grant deleted; (3) vault.json names the new
recipient, so new writes use it; (4) the index re-encrypted under its new key
(`PRAGMA rekey`, one transaction) and only then index.key.age replaced: a
crash between the two leaves an index that opens with the key in
rotation/index-key.age, which unlock tries next; (5) every age file
re-encrypted, each replaced only after its new copy is verified; (6) the
state and the old identity are deleted: from then on the old identity, the
old index key, and any copy of a removed or disabled user's keyslot open
nothing in this vault. (Copies taken before, such as old backups, still open
with the old keys: rotation cannot reach them.)

Plaintext never touches disk: blobs are piped from decryption to encryption
in memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import secrets
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vault.atomic import fsync_dir, open_private, temp_path_for, write_atomic
from vault.errors import TamperDetected
from vault.index_key import INDEX_KEY, pack_index_key, unpack_index_key
from vault.keys import Identity, _identity_from_secret, generate_identity, recipient_from_str
from vault.store import BlobStore, decrypt_with_identity, encrypt_to_recipient, valid_blob_id

if TYPE_CHECKING:
    from vault.vault import UnlockedVault, Vault

Progress = Callable[[int, int], None]


@dataclass
class RotationReport:
    old_recipient: str
    new_recipient: str
    files_reencrypted: int
    files_already_done: int
    users_regranted: int
    resumed: bool
    grants_dropped: int = 0
    index_rekeyed: bool = False


def identities_during_rotation(vault: Vault, identity: Identity) -> tuple[Identity, tuple[Identity, ...]]:
    """(identity to write with, other identities to read with) for a session holding `identity`."""
    state = vault.rotation_state()
    if state is None:
        return identity, ()
    folder = vault.rotation_dir
    if identity.recipient == state["new_recipient"]:
        prev = folder / "prev.age"
        if not prev.exists():  # the old identity was already dropped: rotation is all but done
            return identity, ()
        old = _identity_from_secret(decrypt_with_identity(prev.read_bytes(), identity, "rotation/prev.age").decode())
        return identity, (old,)
    if identity.recipient == state["old_recipient"]:
        new = _identity_from_secret(
            decrypt_with_identity((folder / "next.age").read_bytes(), identity, "rotation/next.age").decode()
        )
        return new, (identity,)
    raise TamperDetected("The key rotation state names neither of this key's identities.", "Restore rotation/.")


NEXT_INDEX_KEY = "index-key.age"


def next_index_key(vault: Vault, identities: tuple[Identity, ...]) -> tuple[bytes, bytes] | None:
    """(new SQLCipher key, sub-key root) of an unfinished rotation, if there is one these identities open."""
    path = vault.rotation_dir / NEXT_INDEX_KEY
    if vault.rotation_state() is None or not path.exists():
        return None
    try:
        raw = decrypt_with_identity(path.read_bytes(), identities, f"rotation/{NEXT_INDEX_KEY}")
    except TamperDetected:
        return None
    return unpack_index_key(raw, f"rotation/{NEXT_INDEX_KEY}")


def rotate(
    unlocked: UnlockedVault, progress: Progress | None = None, keep: Collection[str] | None = None
) -> RotationReport:
    """Rotate (or finish rotating) the vault identity and index key of `unlocked`, updating it in place.

    `keep` names the users whose grant is re-issued (None: every keyslot); any other
    user's grant is deleted, so a disabled user's keyslot opens nothing afterwards.
    """
    vault = unlocked.vault
    state = vault.rotation_state()
    resumed = state is not None
    if state is None:
        old = unlocked.identity
        new = generate_identity()
        folder = vault.rotation_dir
        folder.mkdir(mode=0o700, exist_ok=True)
        write_atomic(folder / "next.age", encrypt_to_recipient(new.secret.encode(), old.recipient))
        write_atomic(folder / "prev.age", encrypt_to_recipient(old.secret.encode(), new.recipient))
        state = {
            "old_recipient": old.recipient,
            "new_recipient": new.recipient,
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        write_atomic(folder / "state.json", json.dumps(state, indent=2).encode())
    else:
        primary, also = identities_during_rotation(vault, unlocked.identity)
        new = primary
        olds = [i for i in (*also, unlocked.identity, *unlocked.also) if i.recipient == state["old_recipient"]]
        old = olds[0] if olds else new
    # The session now writes with the new identity and still reads the old.
    unlocked.identity = new
    unlocked.also = (old,) if old.recipient != new.recipient else ()
    unlocked.store = BlobStore(unlocked.store.root, new, unlocked.store._id_key, unlocked.also)

    if not (vault.rotation_dir / NEXT_INDEX_KEY).exists():  # new, or a rotation an older version began
        write_atomic(
            vault.rotation_dir / NEXT_INDEX_KEY,
            encrypt_to_recipient(pack_index_key(secrets.token_bytes(32), unlocked.root_key), new.recipient),
        )
    pending = next_index_key(vault, (new,))
    if pending is None or pending[1] != unlocked.root_key:
        raise TamperDetected(
            f"rotation/{NEXT_INDEX_KEY} does not open with the new identity or belongs to another vault.",
            "Restore the rotation/ folder from a backup, then rerun 'chartvault key rotate'.",
        )

    keyslots = vault.keyslots
    users = [u for u in keyslots.users() if keep is None or u in keep]
    dropped = [u for u in keyslots.users() if u not in users]
    for user in users:
        keyslots.regrant(user, new)
    for user in dropped:
        keyslots.drop_grant(user)
    vault.metadata["recipient"] = new.recipient
    vault.save_metadata()

    rekeyed = _rekey_index(unlocked, pending[0], new)

    # Temp copies a killed rotation left behind (named .<file>.age.<random>.tmp; ciphertext only).
    for stale in vault.root.rglob(".*.age.*.tmp"):
        stale.unlink(missing_ok=True)
    files = list(_encrypted_files(vault))
    done = redone = 0
    for n, path in enumerate(files, start=1):
        if _reencrypt(path, old, new, unlocked.store):
            redone += 1
        else:
            done += 1
        if progress:
            progress(n, len(files))

    # Finished: forget the old identity. prev.age first, so a crash here leaves a state
    # that unlock treats as "nothing old left to read".
    folder = vault.rotation_dir
    for name in ("prev.age", NEXT_INDEX_KEY, "next.age", "state.json"):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()
    fsync_dir(vault.root)
    unlocked.also = ()
    unlocked.store = BlobStore(unlocked.store.root, new, unlocked.store._id_key)
    return RotationReport(
        old_recipient=str(state["old_recipient"]),
        new_recipient=new.recipient,
        files_reencrypted=redone,
        files_already_done=done,
        users_regranted=len(users),
        resumed=resumed,
        grants_dropped=len(dropped),
        index_rekeyed=rekeyed,
    )


def _rekey_index(unlocked: UnlockedVault, db_key: bytes, new: Identity) -> bool:
    """Step (4): the index under its new key, then index.key.age naming it; True if re-keyed now."""
    from vault.db import empty_log, rekey_index

    rekeyed = unlocked.index_key != db_key
    if rekeyed:
        rekey_index(unlocked.db, db_key)
        unlocked.index_key = db_key
    else:  # resumed after the rekey committed: the log must hold no old page either
        empty_log(unlocked.db)
    write_atomic(
        unlocked.vault.root / INDEX_KEY,
        encrypt_to_recipient(pack_index_key(db_key, unlocked.root_key), new.recipient),
    )
    return rekeyed


def _encrypted_files(vault: Vault) -> Iterator[Path]:
    """Every age file encrypted to the vault identity (not keyslots, not rotation state)."""
    skip = {vault.keys_dir, vault.rotation_dir}
    for path in sorted(vault.root.rglob("*.age")):
        if any(parent in skip for parent in path.parents):
            continue
        if path.name.startswith("."):  # a crash's temp file
            continue
        yield path


def _opens_with(path: Path, identity: Identity) -> bool:
    """Whether `path` decrypts with `identity`.

    A file not encrypted to `identity` fails at its header, so the common
    case (not yet rotated) is cheap; only files already done are read whole.
    """
    from pyrage import DecryptError, decrypt_io

    class _Discard(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, data) -> int:  # type: ignore[no-untyped-def,override]
            return len(data)

    try:
        with open(path, "rb") as fh:
            decrypt_io(fh, _Discard(), [identity.age_identity()])
    except (DecryptError, OSError):
        return False
    return True


def _reencrypt(path: Path, old: Identity, new: Identity, store: BlobStore) -> bool:
    """Re-encrypt `path` to `new` unless it already is; True if it was re-encrypted."""
    if _opens_with(path, new):
        return False
    from pyrage import decrypt_io, encrypt_io

    tmp = temp_path_for(path)
    read_end, write_end = os.pipe()
    errors: list[BaseException] = []

    def decrypt_into_pipe() -> None:
        try:
            with open(path, "rb") as src, os.fdopen(write_end, "wb") as pipe_out:
                decrypt_io(src, pipe_out, [old.age_identity()])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    worker = threading.Thread(target=decrypt_into_pipe, name="rotate-decrypt", daemon=True)
    worker.start()
    try:
        with os.fdopen(read_end, "rb") as pipe_in, open_private(tmp) as out:
            encrypt_io(pipe_in, out, [recipient_from_str(new.recipient)])
            out.flush()
            os.fsync(out.fileno())
        worker.join()
        if errors:
            raise TamperDetected(
                f"{path} does not decrypt with the old identity; it was left as it is.",
                "Restore it from a backup, then rerun 'chartvault key rotate'.",
            )
        _verify_new_copy(path, tmp, new, store)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        worker.join(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return True


def _verify_new_copy(original: Path, tmp: Path, new: Identity, store: BlobStore) -> None:
    """The new copy must decrypt with the new identity (and, for blobs, match its keyed id)."""
    blob_id = original.name[: -len(".age")]
    if original.parent.parent == store.root and valid_blob_id(blob_id):
        BlobStore(store.root, new, store._id_key).verify_file(tmp, blob_id)
        return
    decrypt_with_identity(tmp.read_bytes(), new, str(original.name))
