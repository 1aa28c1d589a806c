"""The vault identity and per-user keyslots.

The vault has one age X25519 identity. Each user holds a keyslot
(`keys/<user>.age`): that identity, age-encrypted with the user's passphrase
(age scrypt, as pyrage does it). Unlocking a keyslot yields the identity; the
identity decrypts `index.key.age`, the random 256-bit key of the index.

Never writes a passphrase or an identity to disk unencrypted (the one
exception is `export_identity`, which an admin asks for explicitly).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vault.atomic import write_atomic
from vault.attempts import FailedAttempts
from vault.errors import (
    AccessDenied,
    BadInput,
    MachineBusy,
    NotFound,
    TamperDetected,
    TooManyAttempts,
    WeakPassphrase,
    WrongPassphrase,
)
from vault.signing import SLOT_PREFIX, SigningKey

USER_NAME = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")
MIN_PASSPHRASE_LENGTH = 10
FREE_ATTEMPTS = 3  # wrong passphrases before back-off starts
MAX_BACKOFF_SECONDS = 300


def check_user_name(name: str) -> str:
    """Return `name` if it is a valid user name, else raise BadInput."""
    if not USER_NAME.match(name or ""):
        raise BadInput(
            f"'{name}' is not a valid user name.",
            "Use 1-32 lowercase letters, digits, '.', '_' or '-', starting with a letter.",
        )
    return name


def check_passphrase_strength(passphrase: str, user: str = "") -> None:
    """Refuse passphrases that are short, repetitive or contain the user name."""
    hint = (
        f"Use at least {MIN_PASSPHRASE_LENGTH} characters; a few unrelated words "
        "(e.g. 'copper lantern harbour') are strong and easy to remember."
    )
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise WeakPassphrase(f"Passphrase is too short ({len(passphrase)} characters).", hint)
    if len(set(passphrase)) < 5:
        raise WeakPassphrase("Passphrase repeats too few different characters.", hint)
    if user and user.lower() in passphrase.lower():
        raise WeakPassphrase("Passphrase contains the user name.", hint)
    if passphrase.lower() in {"password123", "passphrase", "1234567890", "qwertyuiop"}:
        raise WeakPassphrase("Passphrase is a well-known one.", hint)


@dataclass(frozen=True)
class Identity:
    """The unlocked vault identity (secret) and its public recipient."""

    secret: str  # AGE-SECRET-KEY-1...
    recipient: str  # age1...

    def age_identity(self):  # type: ignore[no-untyped-def]
        from pyrage import x25519

        return x25519.Identity.from_str(self.secret)

    def __repr__(self) -> str:  # never print the secret by accident
        return f"Identity(recipient={self.recipient!r})"


@dataclass(frozen=True)
class UserSlot:
    """What a user's passphrase opens: their own age key and their signing key.

    `signing` is None only for a keyslot written before signatures (a vault
    upgraded from an older chartvault); login then adds one (a migration).
    """

    age: Identity
    signing: SigningKey | None = None

    def __repr__(self) -> str:
        return f"UserSlot(age={self.age.recipient!r}, signing={self.signing!r})"


def recipient_from_str(recipient: str):  # type: ignore[no-untyped-def]
    from pyrage import x25519

    return x25519.Recipient.from_str(recipient)


def generate_identity() -> Identity:
    from pyrage import x25519

    ident = x25519.Identity.generate()
    return Identity(secret=str(ident), recipient=str(ident.to_public()))


class Keyslots:
    """The `keys/` folder: per-user keys that lead to the vault identity.

    For each user:
      keys/<user>.age        the user's own age identity, encrypted with their passphrase (age scrypt)
      keys/<user>.grant.age  the vault identity, age-encrypted to the user's public key
      keys/<user>.pub        the user's public key (age1...), not secret
    Unlocking costs one scrypt. The two levels let `key rotate` give every
    remaining user the new vault identity without knowing their passphrases,
    while a removed user's key opens nothing new.
    """

    def __init__(
        self, folder: Path, recipient: str, accepted: tuple[str, ...] = (), client_attempts: Path | None = None
    ) -> None:
        self.folder = folder
        self.recipient = recipient
        # Recipients a grant may hold besides `recipient` (during a key rotation).
        self.accepted = {recipient, *accepted}
        self.attempts_file = folder / "attempts.json"
        # Counted in the vault and on this machine (vault/attempts.py): deleting one copy resets nothing.
        self.attempts = FailedAttempts(self.attempts_file, client_attempts)

    def path(self, user: str) -> Path:
        return self.folder / f"{check_user_name(user)}.age"

    def grant_path(self, user: str) -> Path:
        return self.folder / f"{check_user_name(user)}.grant.age"

    def pub_path(self, user: str) -> Path:
        return self.folder / f"{check_user_name(user)}.pub"

    def users(self) -> list[str]:
        return sorted(p.name[: -len(".age")] for p in self.folder.glob("*.age") if "." not in p.name[: -len(".age")])

    def exists(self, user: str) -> bool:
        return self.path(user).exists()

    def files_by_user(self) -> dict[str, list[Path]]:
        """Every keyslot file on disk (slot, grant, public key), by the user name it is for."""
        found: dict[str, list[Path]] = {}
        for path in sorted(self.folder.iterdir()) if self.folder.is_dir() else []:
            for suffix in (".grant.age", ".age", ".pub"):
                if path.name.endswith(suffix) and not path.name.startswith("."):
                    found.setdefault(path.name[: -len(suffix)], []).append(path)
                    break
        return found

    def remove_files(self, user: str) -> None:
        """Remove whatever keyslot files `user` has (an interrupted `user add` may have left some)."""
        for p in (self.path(user), self.grant_path(user), self.pub_path(user)):
            p.unlink(missing_ok=True)

    def write(self, user: str, passphrase: str, identity: Identity, keep: UserSlot | None = None) -> UserSlot:
        """Wrap `user`'s keys with `passphrase`: fresh ones for a new user, `keep` on a passphrase change.

        The slot holds the user's age key and their Ed25519 signing key; the
        roster binds both public halves to the user, so a changed passphrase keeps them.
        """
        from pyrage import passphrase as age_passphrase

        user_key = keep.age if keep is not None else generate_identity()
        signing = keep.signing if keep is not None and keep.signing is not None else SigningKey.generate()
        # Grant and public key first: the slot, written last, makes the user exist.
        self._write_grant(user, user_key.recipient, identity)
        write_atomic(self.pub_path(user), (user_key.recipient + "\n").encode())
        plain = f"{user_key.secret}\n{SLOT_PREFIX}{signing.seed_hex()}\n"
        write_atomic(self.path(user), age_passphrase.encrypt(plain.encode(), passphrase))
        return UserSlot(age=user_key, signing=signing)

    def regrant(self, user: str, identity: Identity) -> None:
        """Re-issue `user`'s grant for (new) vault `identity`, using their public key only."""
        self._write_grant(user, self.pub_path(user).read_text().strip(), identity)

    def _write_grant(self, user: str, user_recipient: str, identity: Identity) -> None:
        from pyrage import encrypt

        write_atomic(self.grant_path(user), encrypt(identity.secret.encode(), [recipient_from_str(user_recipient)]))

    def drop_grant(self, user: str) -> None:
        """Delete `user`'s grant: their keyslot then leads to no vault key (the next rotation keeps it so)."""
        self.grant_path(user).unlink(missing_ok=True)

    def remove(self, user: str) -> None:
        path = self.path(user)
        if not path.exists():
            raise NotFound(f"No keyslot for user '{user}'.", "Run 'chartvault user list' to see users.")
        for p in (path, self.grant_path(user), self.pub_path(user)):
            p.unlink(missing_ok=True)

    def unlock(self, user: str, passphrase: str) -> Identity:
        """Open `user`'s keyslot and grant; return the vault identity. Wrong passphrases back off."""
        return self.open(user, passphrase)[0]

    def open(self, user: str, passphrase: str) -> tuple[Identity, UserSlot]:
        """Open `user`'s keyslot and grant: the vault identity, and the user's own keys."""
        from pyrage import DecryptError, decrypt
        from pyrage import passphrase as age_passphrase

        path = self.path(user)
        if not path.exists():
            raise NotFound(
                f"No user '{user}' in this vault.",
                "Check the name with --user or CHARTVAULT_USER, or ask an admin to add you.",
            )
        self._check_backoff(user)
        try:
            user_secret = _decrypt_keyslot(age_passphrase, DecryptError, path.read_bytes(), passphrase).decode()
        except DecryptError:
            failures = self._record_failure(user)
            wait = backoff_seconds(failures)
            later = f" Further attempts are delayed ({wait} s now)." if wait else ""
            raise WrongPassphrase(
                f"Wrong passphrase for user '{user}'.",
                f"Try again, or ask an admin to reset your keyslot.{later}",
            ) from None
        slot = _slot_from_plaintext(user_secret)
        user_key = slot.age
        if not self.grant_path(user).exists():
            raise AccessDenied(
                f"User '{user}' holds no key grant: the account was disabled or removed.",
                "Ask an admin; a disabled account cannot log in.",
            )
        try:
            secret = decrypt(self.grant_path(user).read_bytes(), [user_key.age_identity()]).decode()
        except (DecryptError, FileNotFoundError):
            raise TamperDetected(
                f"The key grant of '{user}' is missing or does not open with their key.",
                "An admin can re-add the user; or restore keys/ from a backup.",
            ) from None
        identity = _identity_from_secret(secret)
        if identity.recipient not in self.accepted:
            raise TamperDetected(
                f"The keyslot of '{user}' holds a key that does not belong to this vault.",
                "The keys/ folder was changed or mixed with another vault's; restore it from a backup.",
            )
        self._clear_failures(user)
        return identity, slot

    # -- back-off after wrong passphrases (public state: no secret in it; see vault/attempts.py) --
    def failed_attempts(self) -> dict[str, dict[str, float]]:
        return self.attempts.read()

    def _check_backoff(self, user: str) -> None:
        entry = self.failed_attempts().get(user)
        if not entry:
            return
        wait = backoff_seconds(int(entry.get("failures", 0)))
        remaining = float(entry.get("last", 0)) + wait - time.time()
        if remaining > 0:
            raise TooManyAttempts(
                f"Too many wrong passphrases for '{user}'; unlocking is paused.",
                f"Try again in {int(remaining) + 1} s.",
            )

    def _record_failure(self, user: str) -> int:
        return self.attempts.record(user)

    def _clear_failures(self, user: str) -> None:
        self.attempts.clear(user)


def backoff_seconds(failures: int) -> int:
    """Seconds to wait after `failures` consecutive wrong passphrases."""
    if failures < FREE_ATTEMPTS:
        return 0
    return int(min(2 ** (failures - FREE_ATTEMPTS + 1), MAX_BACKOFF_SECONDS))


def _slot_from_plaintext(text: str) -> UserSlot:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    age = _identity_from_secret(lines[0] if lines else "")
    signing = None
    for line in lines[1:]:
        if line.startswith(SLOT_PREFIX):
            try:
                signing = SigningKey.from_seed_hex(line[len(SLOT_PREFIX):].strip())
            except ValueError:
                raise TamperDetected(
                    "A keyslot holds a signing key that is not one.",
                    "The keys/ folder was changed; restore it from a backup.",
                ) from None
    return UserSlot(age=age, signing=signing)


def _identity_from_secret(secret: str) -> Identity:
    from pyrage import IdentityError, x25519

    try:
        ident = x25519.Identity.from_str(secret.strip())
    except (IdentityError, ValueError):
        raise TamperDetected(
            "A keyslot decrypted to something that is not an age identity.",
            "The keys/ folder was changed; restore it from a backup.",
        ) from None
    return Identity(secret=str(ident), recipient=str(ident.to_public()))


BUSY_KDF_TRIES = 12  # a loaded machine: age's time estimate refuses the keyslot's work factor; try again


def _decrypt_keyslot(age_passphrase: Any, error: type[Exception], data: bytes, passphrase: str) -> bytes:
    """age passphrase decryption that a busy machine does not turn into "wrong passphrase".

    age estimates how long the keyslot's scrypt would take on this machine and
    refuses ("Excessive work parameter") when the estimate is too long: with
    several sessions unlocking at once on two cores, a right passphrase was
    reported wrong and counted as a failed login. That refusal is retried with a
    growing pause (the estimate is a few ms); if the machine stays that busy the
    user is told so, and nothing is counted against them.
    """
    import random

    for attempt in range(BUSY_KDF_TRIES):
        try:
            return bytes(age_passphrase.decrypt(data, passphrase))
        except error as exc:
            if "excessive work" not in str(exc).lower():
                raise
            time.sleep(min(3.0, 0.1 * 2**attempt) * (0.5 + random.random()))
    raise MachineBusy(
        "This computer is too busy to check the passphrase now.",
        "Nothing was counted against you; try again in a moment.",
    )
