"""The vault identity and per-user keyslots.

The vault has one age X25519 identity. Each user holds a keyslot
(`keys/<user>.age`): that identity, age-encrypted with the user's passphrase
(age scrypt, as pyrage does it). Unlocking a keyslot yields the identity; the
identity decrypts `index.key.age`, the random 256-bit key of the index.

Never writes a passphrase or an identity to disk unencrypted (the one
exception is `export_identity`, which an admin asks for explicitly).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vault.atomic import write_atomic
from vault.errors import (
    BadInput,
    MachineBusy,
    NotFound,
    TamperDetected,
    TooManyAttempts,
    WeakPassphrase,
    WrongPassphrase,
)

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

    def __init__(self, folder: Path, recipient: str, accepted: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self.recipient = recipient
        # Recipients a grant may hold besides `recipient` (during a key rotation).
        self.accepted = {recipient, *accepted}
        self.attempts_file = folder / "attempts.json"

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

    def write(self, user: str, passphrase: str, identity: Identity) -> None:
        """Give `user` (new, or changing passphrase) a fresh key wrapped with `passphrase`."""
        from pyrage import passphrase as age_passphrase

        user_key = generate_identity()
        # Grant and public key first: the slot, written last, makes the user exist.
        self._write_grant(user, user_key.recipient, identity)
        write_atomic(self.pub_path(user), (user_key.recipient + "\n").encode(), mode=0o644)
        write_atomic(self.path(user), age_passphrase.encrypt(user_key.secret.encode(), passphrase))

    def regrant(self, user: str, identity: Identity) -> None:
        """Re-issue `user`'s grant for (new) vault `identity`, using their public key only."""
        self._write_grant(user, self.pub_path(user).read_text().strip(), identity)

    def _write_grant(self, user: str, user_recipient: str, identity: Identity) -> None:
        from pyrage import encrypt

        write_atomic(self.grant_path(user), encrypt(identity.secret.encode(), [recipient_from_str(user_recipient)]))

    def remove(self, user: str) -> None:
        path = self.path(user)
        if not path.exists():
            raise NotFound(f"No keyslot for user '{user}'.", "Run 'chartvault user list' to see users.")
        for p in (path, self.grant_path(user), self.pub_path(user)):
            p.unlink(missing_ok=True)

    def unlock(self, user: str, passphrase: str) -> Identity:
        """Open `user`'s keyslot and grant; return the vault identity. Wrong passphrases back off."""
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
        user_key = _identity_from_secret(user_secret)
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
        return identity

    # -- back-off after wrong passphrases (public state: no secret in it) --
    def failed_attempts(self) -> dict[str, dict[str, float]]:
        try:
            data = json.loads(self.attempts_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

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
        data = self.failed_attempts()
        entry = data.get(user, {"failures": 0, "last": 0.0})
        entry = {"failures": int(entry.get("failures", 0)) + 1, "last": time.time()}
        data[user] = entry
        write_atomic(self.attempts_file, json.dumps(data).encode())
        return int(entry["failures"])

    def _clear_failures(self, user: str) -> None:
        data = self.failed_attempts()
        if user in data:
            del data[user]
            write_atomic(self.attempts_file, json.dumps(data).encode())


def backoff_seconds(failures: int) -> int:
    """Seconds to wait after `failures` consecutive wrong passphrases."""
    if failures < FREE_ATTEMPTS:
        return 0
    return int(min(2 ** (failures - FREE_ATTEMPTS + 1), MAX_BACKOFF_SECONDS))


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
