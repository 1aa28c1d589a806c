"""TUI: the Review tab of the work queues shows what does not add up with both sources; keys in the footer
resolve it (the same archive.review calls as `chartvault queue review`)."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Footer, Static, TabbedContent
from textual.widgets._footer import FooterKey

from tests.functional.conftest import copy_demo, session_on
from tests.hl7_fixture import adt
from tests.tui_helpers import wait_until
from tui.app import make_app

wait_for = partial(wait_until, timeout=60.0)


async def test_review_tab_shows_both_sources_and_keeps_the_other_value(demo_vault: Path,
                                                                       demo_sessions: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    from archive.intake import fork_session, import_paths
    from tui.screens.main import MainScreen
    from tui.screens.queue import QueueScreen

    root = copy_demo(demo_vault, tmp_path / "vault")
    try:
        private = session_on(root, demo_sessions["tess"])
        src = tmp_path / "in"
        src.mkdir()
        (src / "a.hl7").write_bytes(adt("RV-77", "Doe^Jane", "20240630", admitted="20240701", control="A1"))
        (src / "b.hl7").write_bytes(adt("RV-77", "Doe^Jane", "20230504", sender="SENDER_B", control="B1"))
        import_paths(private, [src / "a.hl7"], settle=0)
        [second] = import_paths(private, [src / "b.hl7"], settle=0).outcomes
        app = make_app(root)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: len(app.screen_stack) > 1 and bool(app.screen.children), "first screen")
            app.unlocked(fork_session(private))
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and bool(app.screen.children), "main")
            await pilot.press("f2")
            await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.loads > 0, "queues")
            queue = app.screen
            assert isinstance(queue, QueueScreen)
            footer = queue.query_one(Footer)
            assert not any(k.description == "Accept" for k in footer.query(FooterKey))  # not on the filing tab
            for _ in range(3):
                await pilot.press("ctrl+n")
            tabs = queue.query_one("#queues", TabbedContent)
            await wait_for(pilot, lambda: tabs.active == "tab-review", "the review tab")
            await wait_for(pilot, lambda: {"Accept", "Keep other", "Correct", "Refile", "Reject"} <= {
                k.description for k in footer.query(FooterKey)}, "review keys in the footer")
            table = queue.query_one("#review", DataTable)
            rows = [table.get_row_at(i) for i in range(table.row_count)]
            mine = next(n for n, row in enumerate(rows) if row[1] == second.record_id)
            table.focus()
            table.move_cursor(row=mine)
            detail = queue.query_one("#review-detail", Static)
            await wait_for(pilot, lambda: "a.hl7" in str(detail.render()) and "b.hl7" in str(detail.render()),
                           "both sources cited")
            loads = queue.loads
            await pilot.press("ctrl+d")
            await wait_for(pilot, lambda: queue.loads > loads, "the queue reloaded")
            assert "accepted" in str(queue.query_one("#queue-message", Static).render())
        check = fork_session(private)
        assert check.store.patients.row("RV-77")["dob"] == "2024-06-30"
        check.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)

