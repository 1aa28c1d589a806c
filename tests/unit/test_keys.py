import json
import time
from pathlib import Path

import pytest

from vault.errors import BadInput, NotFound, TamperDetected, TooManyAttempts, WeakPassphrase, WrongPassphrase
from vault.keys import Keyslots, backoff_seconds, check_passphrase_strength, check_user_name, generate_identity


@pytest.fixture(scope="module")
def slots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Keyslots, object]:
    ident = generate_identity()
    ks = Keyslots(tmp_path_factory.mktemp("keys"), ident.recipient)
    ks.write("maria", "granite orchid compass", ident)
    return ks, ident


def test_keyslot_is_an_age_scrypt_file_and_unlocks(slots: tuple[Keyslots, object]) -> None:
    ks, ident = slots
    raw = ks.path("maria").read_bytes()
    assert raw.startswith(b"age-encryption.org/v1\n-> scrypt ")
    assert ks.grant_path("maria").read_bytes().startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert ks.pub_path("maria").read_text().startswith("age1")
    assert ks.unlock("maria", "granite orchid compass") == ident
    assert ks.users() == ["maria"]


def test_regrant_gives_a_new_vault_identity_without_the_passphrase(tmp_path: Path) -> None:
    old, new = generate_identity(), generate_identity()
    ks = Keyslots(tmp_path, old.recipient)
    ks.write("tess", "velvet thunder meadow", old)
    ks.regrant("tess", new)
    assert Keyslots(tmp_path, new.recipient).unlock("tess", "velvet thunder meadow") == new
    with pytest.raises(TamperDetected):
        Keyslots(tmp_path, old.recipient).unlock("tess", "velvet thunder meadow")


def test_wrong_passphrase_then_backoff(slots: tuple[Keyslots, object]) -> None:
    ks, _ = slots
    for _ in range(3):
        with pytest.raises(WrongPassphrase, match="Wrong passphrase for user 'maria'"):
            ks.unlock("maria", "not the passphrase")
    assert ks.failed_attempts()["maria"]["failures"] == 3
    with pytest.raises(TooManyAttempts, match="Try again in"):
        ks.unlock("maria", "granite orchid compass")
    # once the wait is over, the right passphrase works and clears the count
    data = json.loads(ks.attempts_file.read_text())
    data["maria"]["last"] = time.time() - 60
    ks.attempts_file.write_text(json.dumps(data))
    ks.unlock("maria", "granite orchid compass")
    assert "maria" not in ks.failed_attempts()


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff_seconds(n) for n in range(6)] == [0, 0, 0, 2, 4, 8]
    assert backoff_seconds(100) == 300


def test_add_and_remove_keyslot(slots: tuple[Keyslots, object]) -> None:
    ks, ident = slots
    ks.write("tess", "velvet thunder meadow", ident)  # type: ignore[arg-type]
    assert "tess" in ks.users()
    ks.remove("tess")
    assert "tess" not in ks.users()
    assert not ks.grant_path("tess").exists() and not ks.pub_path("tess").exists()
    with pytest.raises(NotFound, match="No user 'tess'"):
        ks.unlock("tess", "velvet thunder meadow")


def test_keyslot_from_another_vault_is_detected(slots: tuple[Keyslots, object], tmp_path: Path) -> None:
    ks, _ = slots
    foreign = Keyslots(tmp_path, ks.recipient)
    foreign.write("eve", "granite orchid compass", generate_identity())
    with pytest.raises(TamperDetected, match="does not belong to this vault"):
        foreign.unlock("eve", "granite orchid compass")


@pytest.mark.parametrize("name", ["", "Maria", "../etc", "a b", "x" * 40, "1abc"])
def test_bad_user_names(name: str) -> None:
    with pytest.raises(BadInput):
        check_user_name(name)


@pytest.mark.parametrize("pw", ["short", "aaaaaaaaaaaaaa", "maria-secret-words"])
def test_weak_passphrases(pw: str) -> None:
    with pytest.raises(WeakPassphrase):
        check_passphrase_strength(pw, "maria")


# ---- issue 16: a busy machine is not a wrong passphrase


class _Busy(Exception):
    pass


class _Age:
    """Stands in for pyrage.passphrase: refuses `busy` times with age's 'excessive work' error."""

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.calls = 0

    def decrypt(self, data: bytes, passphrase: str) -> bytes:
        self.calls += 1
        if self.calls <= self.busy:
            raise _Busy("Excessive work parameter for passphrase.\nDecryption would take around 64 seconds.")
        if passphrase != "right":
            raise _Busy("Decryption failed")
        return b"secret"


def test_a_busy_machine_retries_the_passphrase_check(monkeypatch: pytest.MonkeyPatch) -> None:
    import vault.keys

    monkeypatch.setattr(vault.keys.time, "sleep", lambda s: None)
    age = _Age(busy=3)
    assert vault.keys._decrypt_keyslot(age, _Busy, b"x", "right") == b"secret"
    assert age.calls == 4
    with pytest.raises(_Busy, match="Decryption failed"):  # a wrong passphrase is still wrong, at once
        vault.keys._decrypt_keyslot(_Age(busy=0), _Busy, b"x", "wrong")


def test_a_machine_that_stays_busy_says_so_and_is_not_a_wrong_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    import vault.keys
    from vault.errors import MachineBusy, WrongPassphrase

    monkeypatch.setattr(vault.keys.time, "sleep", lambda s: None)
    with pytest.raises(MachineBusy) as caught:
        vault.keys._decrypt_keyslot(_Age(busy=10**6), _Busy, b"x", "right")
    assert not isinstance(caught.value, WrongPassphrase)
    assert "too busy" in caught.value.message
