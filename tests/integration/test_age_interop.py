"""Blobs are standard age files: the real `age` CLI reads ours, and we read its."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("age") is None, reason="the age CLI is not installed (apt-get install age)"
)


def test_age_cli_decrypts_vault_blobs(fresh_vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    session = fresh_vault.session
    original = b"Discharge summary: CANARY-age-interop. " * 1000
    blob = session.blobs.put_bytes(original)
    identity_file = tmp_path / "identity.txt"
    session.unlocked.export_identity(identity_file)
    out = subprocess.run(
        ["age", "-d", "-i", str(identity_file), str(session.blobs.path_of(blob.blob_id))],
        capture_output=True,
        check=True,
    )
    assert out.stdout == original


def test_vault_reads_what_age_cli_encrypted(fresh_vault, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    session = fresh_vault.session
    data = b"scanned referral letter, encrypted by the age CLI"
    src = tmp_path / "plain.txt"
    src.write_bytes(data)
    blob_id = session.blobs.blob_id_of(data)
    target = session.blobs.path_of(blob_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["age", "-r", session.vault.recipient, "-o", str(target), str(src)], check=True)
    assert session.blobs.get_bytes(blob_id) == data
