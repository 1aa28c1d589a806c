"""Interop: with the exported identity, the plain `age -d` decrypts every blob an import wrote.

No lock-in: originals, extracted texts and quarantined inputs are standard age
files, and the original comes back bit-identical.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from archive.intake import import_paths
from archive.keys import export_identity
from tests.conftest import VaultFixture, shared_data


@pytest.fixture
def age_cli() -> str:
    exe = shutil.which("age")
    if exe is None:
        pytest.skip("the age CLI is not installed (Debian package 'age'); CI installs it")
    return exe


def test_age_decrypts_every_imported_blob(fresh_vault: VaultFixture, tmp_path: Path, age_cli: str) -> None:
    session = fresh_vault.session
    src = tmp_path / "src"
    src.mkdir()
    hl7 = sorted(shared_data("hl7v2").glob("MDM-*.hl7"))[0]
    (src / hl7.name).write_bytes(hl7.read_bytes())
    (src / "note.txt").write_bytes("Résumé: café au lait spots — neurofibromatosis?\n".encode("latin-1", "replace"))
    (src / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    report = import_paths(session, [src])  # type: ignore[arg-type]
    assert report.counts["imported"] == 2 and report.counts["quarantined"] == 1
    identity = tmp_path / "identity.txt"
    export_identity(session, identity)  # type: ignore[arg-type]
    blobs = sorted(fresh_vault.root.glob("objects/??/*.age")) + sorted(fresh_vault.root.glob("quarantine/??/*.age"))
    assert len(blobs) >= 4  # two originals, the latin-1 note's UTF-8 text, the quarantined PDF
    plaintexts = []
    for blob in blobs:
        out = subprocess.run([age_cli, "-d", "-i", str(identity), str(blob)], capture_output=True, timeout=60)
        assert out.returncode == 0, (blob, out.stderr)
        plaintexts.append(out.stdout)
    originals = [p.read_bytes() for p in src.iterdir()]
    for original in originals:
        assert original in plaintexts, "an original did not come back bit-identical"
