"""CLI: text tables keep their columns with a Synthea MRN (a 36-character UUID) beside a short one.

Each table's MRN column was 12 (or 20) characters wide: a UUID pushed the rest of its row out of line with the
others. Now the column is as wide as the widest MRN shown (archive.columns) and the MRN is printed whole.
"""

from __future__ import annotations

import pytest

from tests.cli_helpers import import_notes, invoke, ok
from tests.conftest import VaultFixture

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")

UUID = "0b7e3a52-9c4d-4f1a-8e2b-5d6c7a8b9e0f"
SHORT = "7"
NOTES = {
    "old-a.txt": f"MRN: {UUID}\nDate: 1990-01-05\n\nType 2 diabetes; metformin 500 mg twice daily.\n",
    "old-b.txt": f"MRN: {SHORT}\nDate: 1990-02-01\n\nNew diabetes; metformin started.\n",
}


@pytest.fixture(scope="module")
def records(shared_vault: VaultFixture, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return import_notes(shared_vault.root, tmp_path_factory.mktemp("notes"), NOTES)


def _aligned(rows: list[str], start: int, after: str) -> None:
    """Each row holds a whole MRN at `start` and the next column right after the widest MRN, one space apart."""
    assert len(rows) == 2, rows
    assert {row[start:start + 36].rstrip() for row in rows} == {UUID, SHORT}
    assert {row[start + 36:].startswith(" " + after) for row in rows} == {True}, rows


def test_list_show(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    root = shared_vault.root
    ok(invoke(root, "list", "create", "wide"))
    ok(invoke(root, "list", "add", "wide", UUID, SHORT))
    rows = ok(invoke(root, "list", "show", "wide")).stdout.splitlines()[1:]
    _aligned(rows, 2, "-")


def test_patient_list(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    rows = [r for r in ok(invoke(shared_vault.root, "patient", "list")).stdout.splitlines()
            if r.startswith((UUID, SHORT + " "))]
    _aligned(rows, 0, "(no name)")


def test_cross_index(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    rows = [r for r in ok(invoke(shared_vault.root, "index", "by-treatment", "metformin")).stdout.splitlines()
            if r.startswith("r")]
    _aligned(rows, 15, "1990-0")


def test_retention_report(shared_vault: VaultFixture, records: dict[str, str]) -> None:
    rows = [r for r in ok(invoke(shared_vault.root, "retention", "report", "--as-of", "2027-01-01")
                          ).stdout.splitlines() if r.startswith("r")]
    _aligned(rows, 15, "note")
