"""CLI: `queue review` lists what does not add up, shows an item with both sources, and resolves it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import invoke, ok_json
from tests.conftest import VaultFixture
from tests.hl7_fixture import adt

pytestmark = pytest.mark.usefixtures("cli_sessions_kept")




def test_review_list_show_resolve(shared_vault: VaultFixture, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.hl7").write_bytes(adt("11102779", "Doe^Jane", "20240630", admitted="20240701", control="A1"))
    (src / "b.hl7").write_bytes(adt("11102779", "Doe^Jane", "20230504", sender="SENDER_B", control="B1"))
    ok_json(invoke(shared_vault.root, "import", str(src / "a.hl7"), "--json", "--no-embed"))
    ok_json(invoke(shared_vault.root, "import", str(src / "b.hl7"), "--json", "--no-embed"))

    [item] = ok_json(invoke(shared_vault.root, "queue", "review", "list", "--json"))
    assert (item["kind"], item["field"], item["value"], item["other_value"]) == (
        "demographics", "dob", "2023-05-04", "2024-06-30")
    listed = invoke(shared_vault.root, "queue", "review", "list")
    assert f"#{item['id']}" in listed.output and "11102779" in listed.output
    # 'queue review' alone lists them too (it printed its usage), as 'queue' alone lists the first queue.
    assert invoke(shared_vault.root, "queue", "review").stdout == listed.stdout

    shown = invoke(shared_vault.root, "queue", "review", "show", str(item["id"]))
    assert shown.exit_code == 0
    assert "b.hl7" in shown.output and "a.hl7" in shown.output  # both sources cited
    assert "Held: the patient's dob is left empty" in shown.output

    bad = invoke(shared_vault.root, "queue", "review", "resolve", str(item["id"]), "correct")
    assert bad.exit_code == 2 and "needs the corrected value" in bad.output
    done = ok_json(invoke(shared_vault.root, "queue", "review", "resolve", str(item["id"]), "accept", "--other",
                          "--reason", "ID seen", "--json"))
    assert done["status"] == "accepted" and done["resolution"]["value"] == "2024-06-30"
    assert "Nothing to review." in invoke(shared_vault.root, "queue", "review", "list").output
    # the other queues keep their old spelling
    assert invoke(shared_vault.root, "queue").exit_code == 0
    assert invoke(shared_vault.root, "queue", "needs_transcription", "--json").exit_code == 0
