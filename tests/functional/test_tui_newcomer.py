"""A newcomer's TUI: first run offers the demo, F1 help, the command palette, the status line, the users
screen, layouts at 80x24, and no patient text once locked. Pilot tests on the demo vault.

Sessions are opened once per user for the module (each costs a passphrase KDF); each app gets a fork of
one (same user, its own connection), since an app closes its session when it exits.
"""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.binding import Binding
from textual.widgets import Button, DataTable, Footer, Input, Static

from archive.demo import DEMO_USERS, DEMO_WARNING
from tests.functional.conftest import copy_demo, session_on
from tests.tui_helpers import keys_handled, signed_in, text, transcription_tab, wait_until
from tui.app import make_app

PASS = {u.name: u.passphrase for u in DEMO_USERS}


wait_for = partial(wait_until, timeout=60.0)  # this module's default wait


async def palette_entries(pilot: Any, query: str = "") -> list[str]:
    from textual.command import CommandList, CommandPalette

    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), "the palette")
    palette = pilot.app.screen
    if query:
        await pilot.press(*query)
    else:
        await pilot.press("down")  # discovery hits show after a key press
    commands = palette.query_one(CommandList)

    def gathered() -> bool:  # listed, and the palette's search worker (one per key press) is done
        searching = any(w.group == CommandPalette._GATHER_COMMANDS_GROUP and not w.is_finished
                        for w in pilot.app.workers)
        return commands.option_count > 0 and not searching

    await wait_for(pilot, gathered, "the palette's entries")
    return [str(commands.get_option_at_index(i).prompt).split("\n")[0] for i in range(commands.option_count)]


# -- static: every key a person can press is described ---------------------------------------


def _screen_classes() -> list[type]:
    from tui.screens import (
        assistant,
        audit,
        chart,
        coding,
        create,
        help,
        main,
        queue,
        record,
        similar,
        stats,
        unlock,
        users,
    )

    modules = [assistant, audit, chart, coding, create, help, main, queue, record, similar, stats, unlock, users]
    from textual.screen import Screen

    return [obj for m in modules for obj in vars(m).values()
            if isinstance(obj, type) and issubclass(obj, Screen) and obj.__module__ == m.__name__]


def test_every_binding_has_a_description() -> None:
    from tui.app import ChartvaultApp

    classes = _screen_classes()
    assert len(classes) >= 14
    for cls in [*classes, ChartvaultApp]:
        for binding in cls.BINDINGS:  # type: ignore[attr-defined]
            assert isinstance(binding, Binding), (cls.__name__, binding)
            assert binding.description, f"{cls.__name__}: key {binding.key} ({binding.action}) has no description"


def test_navigation_table_matches_the_bindings() -> None:
    from tui.app import ChartvaultApp
    from tui.navigation import DESTINATIONS
    from tui.screens.main import MainScreen

    bound = {b.key: b.action for cls in (MainScreen, ChartvaultApp) for b in cls.BINDINGS}  # type: ignore[attr-defined]
    for dest in DESTINATIONS:
        assert hasattr(ChartvaultApp, f"action_{dest.action}"), dest.action
        if dest.key.startswith("F"):
            assert bound.get(dest.key.lower()) == dest.action, f"{dest.key} is not bound to {dest.action}"


# -- first run ---------------------------------------------------------------------------------


async def test_first_run_builds_the_demo_with_progress_then_unlocks(
    demo_build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The create screen's demo path (the build itself is archive.demo's, tested in test_demo.py; here a
    stand-in reports progress and lays the prebuilt demo in place)."""
    import threading

    from textual.widgets import ProgressBar

    import archive.demo
    from tui.screens.create import CreateVaultScreen
    from tui.screens.unlock import UnlockScreen

    template, report = demo_build
    root = tmp_path / "vault"
    release = threading.Event()

    def fake_build(where: Path, progress: Any = None, **kwargs: Any) -> Any:
        progress(0, 10, "Creating the vault and the demo users")
        progress(3, 10, "Importing documents")
        release.wait(30)  # the test looks at the progress bar meanwhile
        copy_demo(template, where)
        progress(10, 10, "Done")
        return report

    monkeypatch.setattr(archive.demo, "build_demo", fake_build)
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CreateVaultScreen) and bool(app.screen.children),
                       "the first-run screen")
        screen = app.screen
        assert screen.query_one("#choose-demo", Button).region.bottom <= 24  # visible at 80x24
        await pilot.press("d")
        await wait_for(pilot, lambda: screen.query_one("#demo-bar", ProgressBar).progress == 3, "progress")
        assert "Importing documents" in text(screen.query_one("#demo-step", Static))
        assert screen.query_one("#demo-progress").display and not screen.query_one("#choice").display
        release.set()
        await wait_for(pilot, lambda: screen.stage == "built", "the demo users")
        listed = text(screen.query_one("#demo-users", Static))
        for user in DEMO_USERS:
            assert user.name in listed and user.passphrase in listed
        assert DEMO_WARNING in text(screen.query_one("#message", Static))
        # focused once laid out (shown); the click needs the button's place on the screen
        go = screen.query_one("#demo-continue", Button)
        await wait_for(pilot, lambda: app.focused is go and go.region.height > 0, "focus on Continue, laid out")
        await pilot.click("#demo-continue")
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen) and bool(app.screen.children),
                       "the unlock screen")
        unlock = app.screen
        # the passphrase box takes the focus (a deferred call after mount), and the form gets its place
        await wait_for(pilot, lambda: app.focused is unlock.query_one("#passphrase", Input), "passphrase focused")
        await wait_for(pilot, lambda: unlock.query_one("#unlock", Button).region.height > 0, "the form laid out")
        assert unlock.query_one("#user", Input).value == "drmaria"
        hint = text(unlock.query_one("#demo-hint", Static))
        assert "demo-only stethoscope" in hint and "Demo vault" in hint
        assert unlock.query_one("#unlock", Button).region.bottom <= 23  # above the footer at 80x24
        assert app.focused is unlock.query_one("#passphrase", Input)  # the real unlock: test_tui_terminal.py


async def test_demo_build_names_its_step_moves_the_bar_and_then_says_the_vault_is_ready(
    demo_build: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While building: the step's name and a bar that moves within the step. Afterwards the welcome screen
    says what is true: the demo vault is ready (not "No vault yet"), its users, and what to do next."""
    import threading

    from textual.widgets import Label, ProgressBar

    import archive.demo
    from tui.screens.create import CreateVaultScreen

    template, report = demo_build
    root = tmp_path / "vault"
    half, release = threading.Event(), threading.Event()
    importing = "Step 3 of 10: Importing documents (text, Markdown, PDF, DOCX, HL7, FHIR, a handwriting-style scan)"

    def fake_build(where: Path, progress: Any = None, **kwargs: Any) -> Any:
        progress(0, 1000, "Step 1 of 10: Creating the vault and the demo users")
        for n in range(1, 7):  # as the real build does: a tick per imported file
            progress(420 + 30 * n, 1000, f"{importing} - {n} of 12 files")
            if n == 3:
                half.wait(30)  # the test looks at the screen in the middle of the step
        release.wait(30)
        copy_demo(template, where)
        progress(1000, 1000, "Done")
        return report

    monkeypatch.setattr(archive.demo, "build_demo", fake_build)
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CreateVaultScreen) and bool(app.screen.children),
                       "the first-run screen")
        screen = app.screen
        where = screen.query_one("#create-where", Label)
        assert "No vault yet at" in text(where)
        bar = screen.query_one("#demo-bar", ProgressBar)
        await pilot.press("d")
        await wait_for(pilot, lambda: bar.progress == 510, "the third file of the import")
        assert "Building the demo vault at" in text(where)
        step = text(screen.query_one("#demo-step", Static))
        assert "Step 3 of 10" in step and "Importing documents" in step and "3 of 12 files" in step
        assert bar.percentage is not None and 0.5 < bar.percentage < 0.52
        half.set()
        await wait_for(pilot, lambda: bar.progress == 600, "the bar moves on within the step")
        assert "Step 3 of 10" in text(screen.query_one("#demo-step", Static))
        release.set()
        await wait_for(pilot, lambda: screen.stage == "built", "the demo users")
        said = text(where)
        assert "No vault yet" not in said and "demo vault is ready at" in said and str(root.name) in said
        listed = text(screen.query_one("#demo-users", Static))
        assert f"{report.counts['records']} records of {report.counts['patients']} patients" in listed
        assert all(u.name in listed and u.passphrase in listed for u in DEMO_USERS)
        assert "Next: Continue to unlock, and sign in as drmaria" in listed


# -- help and the palette --------------------------------------------------------------------------


async def test_help_before_and_after_unlock(demo_vault: Path, sessions: dict[str, Any]) -> None:
    from tui.screens.help import HelpScreen

    app = make_app(demo_vault)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: len(app.screen_stack) > 1 and bool(app.screen.children), "unlock")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        before = app.screen.plain_text()
        assert "After unlocking" in before and "Ctrl+P" in before
        assert "Audit log" not in before and "Harriet" not in before
        await pilot.press("escape")
        main = await signed_in(pilot, sessions["drmaria"])
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        after = app.screen.plain_text()
        assert "On this screen (search)" in after
        for line in ("F6", "Assistant:", "F7", "Statistics:", "F9", "Coding:"):
            assert line in after, line
        others = after.split("For other roles", 1)[1]
        assert "Audit log (admins)" in others and "Users (admins)" in others and "Work queues (technicians)" in others
        # the footer of the help screen says how to close it
        assert app.screen.query_one(Footer) is not None
        await pilot.press("escape")
        assert app.screen is main


async def test_palette_lists_what_each_role_may_open(demo_vault: Path, sessions: dict[str, Any]) -> None:
    from tui.screens.assistant import AssistantScreen
    from tui.screens.users import UsersScreen

    app = make_app(demo_vault)
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_for(pilot, lambda: len(app.screen_stack) > 1 and bool(app.screen.children), "unlock")
        locked = await palette_entries(pilot)
        assert set(locked) == {"Help", "Theme", "Quit"}
        await pilot.press("escape")
        await signed_in(pilot, sessions["drmaria"])
        entries = await palette_entries(pilot)
        assert {"Search", "Patient chart", "Assistant", "Statistics", "Coding", "Lock", "Help"} <= set(entries)
        assert not {"Audit log", "Users", "Work queues", "Screenshot"} & set(entries)
        await pilot.press("escape")
        await palette_entries(pilot, "assistant")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AssistantScreen), "the assistant from the palette")

    app = make_app(demo_vault)
    async with app.run_test(size=(100, 32)) as pilot:
        await signed_in(pilot, sessions["admin"])
        entries = await palette_entries(pilot)
        assert {"Audit log", "Users", "Lock"} <= set(entries)
        assert not {"Assistant", "Coding", "Statistics", "Work queues"} & set(entries)
        await pilot.press("escape")
        await palette_entries(pilot, "users")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, UsersScreen), "users from the palette")


# -- status line, users, layout, lock ---------------------------------------------------------------


async def test_status_line_on_every_screen(demo_vault: Path, sessions: dict[str, Any]) -> None:
    from tui.screens.record import RecordScreen

    app = make_app(demo_vault, idle_timeout=300)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await signed_in(pilot, sessions["tess"])
        await wait_for(pilot, lambda: "inbox watched" in text(main.query_one("#background"))
                       and "Auto-lock in" in text(main.query_one("#autolock")), "background work and countdown")
        assert text(main.query_one("#who")) == "Tess Tech (tess)" and text(main.query_one("#role")) == "technician"
        assert "Auto-lock in 4:5" in text(main.query_one("#autolock"))  # 300 s, counting down
        await pilot.press(*"furosemide")
        await wait_for(pilot, lambda: main.searches > 0 and main.query_one("#results").option_count > 0, "results")
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordScreen), "record")
        record = app.screen
        await wait_for(pilot, lambda: "Auto-lock in" in text(record.query_one("#autolock")), "countdown on record")
        assert text(record.query_one("#who")) == "Tess Tech (tess)"
        assert "inbox watched" in text(record.query_one("#background"))


async def test_users_screen_add_and_disable(demo_vault: Path, sessions: dict[str, Any]) -> None:
    from tui.screens.users import AddUserForm, UsersScreen

    app = make_app(demo_vault)
    async with app.run_test(size=(100, 32)) as pilot:
        await signed_in(pilot, sessions["admin"])
        await pilot.press("f10")
        await wait_for(pilot, lambda: isinstance(app.screen, UsersScreen), "users")
        screen = app.screen
        table = screen.query_one("#users", DataTable)
        await wait_for(pilot, lambda: table.row_count == len(DEMO_USERS), "the user list")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AddUserForm), "the form")
        form = app.screen
        form.query_one("#u-name", Input).value = "nina"
        form.query_one("#u-full-name", Input).value = "Nina Nurse"
        form.query_one("#u-passphrase", Input).value = "violet canyon ribbon"
        form.query_one("#u-confirm", Input).value = "violet canyon ribbon x"
        await pilot.press("ctrl+s")
        assert "differ" in text(form.query_one("#user-form-message"))
        form.query_one("#u-confirm", Input).value = "violet canyon ribbon"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.screen is screen and table.row_count == len(DEMO_USERS) + 1,
                       "the new user listed", timeout=120)
        row = screen.names.index("nina")
        assert table.get_row_at(row)[2] == "technician" and table.get_row_at(row)[4] == "yes"
        table.move_cursor(row=row)
        await pilot.press("d")
        await wait_for(pilot, lambda: "Disabled nina" in text(screen.query_one("#users-message")), "disabled")
        await wait_for(pilot, lambda: table.row_count == len(DEMO_USERS) + 1
                       and table.get_row_at(screen.names.index("nina"))[4] == "no", "the list refreshed")


async def test_physicians_do_not_get_admin_keys(demo_vault: Path, sessions: dict[str, Any]) -> None:
    from tui.screens.main import MainScreen

    app = make_app(demo_vault)
    async with app.run_test(size=(100, 32)) as pilot:
        main = await signed_in(pilot, sessions["drmaria"])
        footer_keys = {b.binding.key for b in main.active_bindings.values() if b.binding.show and b.enabled}
        assert {"f3", "f6", "f7", "f9", "f1"} <= footer_keys
        assert not {"f2", "f8", "f10"} & footer_keys
        assert await keys_handled(pilot, "f10", "f8", "f2") == ["MainScreen"]  # handled, and opened nothing
        assert isinstance(app.screen, MainScreen)


SCREEN_KEYS = [
    pytest.param("tess", (), "MainScreen", id="search"),
    pytest.param("tess", ("f2",), "QueueScreen", id="queues"),
    pytest.param("tess", ("f9",), "CodingScreen", id="coding"),
    pytest.param("tess", ("f7",), "StatsScreen", id="stats"),
    pytest.param("drmaria", ("f6",), "AssistantScreen", id="assistant"),
    pytest.param("drmaria", ("f3",), "OpenChart", id="chart-prompt"),
    pytest.param("admin", ("f8",), "AuditScreen", id="audit"),
    pytest.param("admin", ("f10",), "UsersScreen", id="users"),
    pytest.param("drmaria", ("f1",), "HelpScreen", id="help"),
]


@pytest.mark.parametrize(("user", "keys", "expected"), SCREEN_KEYS)
async def test_layout_fits_80x24(demo_vault: Path, sessions: dict[str, Any], user: str, keys: tuple[str, ...],
                                 expected: str) -> None:
    """At 80x24 each screen shows its status line (under the header) and its footer, inside the terminal."""
    app = make_app(demo_vault)
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in(pilot, sessions[user])
        await pilot.press(*keys)
        await wait_for(pilot, lambda: type(app.screen).__name__ == expected and bool(app.screen.children), expected)
        screen = app.screen
        footer = screen.query_one(Footer)
        await wait_for(pilot, lambda: footer.region.height > 0, "the screen laid out")
        await pilot.pause()  # and its pending refreshes done
        assert footer.region.y == 23 and footer.region.width == 80
        for status in screen.query("#status-line"):
            assert status.region.y == 1 and status.region.right <= 80
            autolock = status.query_one("#autolock")
            assert autolock.region.right <= 80 and autolock.region.width >= len("Auto-lock in 9:59")
        for widget in screen.query("Input, Button, DataTable, OptionList"):
            if widget.display and widget.region.height:
                assert widget.region.right <= 80 and widget.region.y < 23, f"{widget} off screen"


async def test_lock_leaves_no_patient_text_anywhere(demo_vault: Path, sessions: dict[str, Any]) -> None:
    from tui.screens.assistant import AssistantScreen
    from tui.screens.unlock import UnlockScreen

    app = make_app(demo_vault)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await signed_in(pilot, sessions["drmaria"])
        await pilot.press(*"furosemide")
        await wait_for(pilot, lambda: main.searches > 0 and main.query_one("#results").option_count > 0, "results")
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, AssistantScreen), "assistant")
        await pilot.press(*"what medications does DEMO-1001 take?", "enter")
        await wait_for(pilot, lambda: app.screen.answers >= 1, "an answer")
        assert "Harriet" in app.export_screenshot()  # the check below can see patient text
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen) and bool(app.screen.children), "locked")
        await pilot.pause()  # pending refreshes done
        shown = app.export_screenshot()
        for word in ("Harriet", "DEMO-1001", "furosemide", "Furosemide", "Lisinopril"):
            assert word not in shown, f"{word} still on screen after locking"
        assert len(app.screen_stack) == 2  # the default screen and the unlock screen: nothing kept below
        assert app.session is None


async def test_transcription_queue_on_the_demo(demo_vault: Path, sessions: dict[str, Any],
                                               tmp_path: Path) -> None:
    """The handwriting-style scan waits in the transcription queue; a technician types it in."""
    from textual.widgets import TextArea

    from archive.demo_content import HANDWRITTEN_LINES
    from archive.records import list_queue

    root = copy_demo(demo_vault, tmp_path / "vault")  # this test changes the queue; keep the module's copy
    try:
        from archive.intake import fork_session

        private = session_on(root, sessions["tess"])
        app = make_app(root)
        async with app.run_test(size=(120, 36)) as pilot:
            queue = await transcription_tab(pilot, private)
            table = queue.query_one("#transcription", DataTable)
            await wait_for(pilot, lambda: table.row_count == 1, "the scan in the queue")
            assert "progress_note_handwritten.png" in str(table.get_row_at(0)[1])
            queue.query_one("#transcription-text", TextArea).text = "\n".join(HANDWRITTEN_LINES)
            queue.query_one("#save-transcription", Button).press()
            await wait_for(pilot, lambda: "unverified" in str(table.get_row_at(0)[3]) if table.row_count else False,
                           "saved, waiting for a second person")
        check = fork_session(private)
        (item,) = list_queue(check, "needs_transcription")
        assert "unverified" in (item.transcription or "") and "tess" in (item.transcription or "")
        check.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def test_transcription_box_starts_from_the_ocr_text_weak_lines_marked(
    demo_vault: Path, sessions: dict[str, Any], tmp_path: Path
) -> None:
    """The transcription box is prefilled with the scan's OCR text; its low-confidence lines are marked."""
    from textual.widgets import TextArea

    from archive.intake import fork_session
    from archive.records import list_queue, show_record, transcription_draft

    root = copy_demo(demo_vault, tmp_path / "vault")  # opening records is audited: keep the module's copy
    private = session_on(root, sessions["tess"])
    check = fork_session(private)
    (item,) = list_queue(check, "needs_transcription")
    ocr_text = show_record(check, item.record_id).text
    draft = transcription_draft(check, item.record_id)
    check.close()
    assert draft.text == ocr_text and ocr_text.strip()
    assert draft.lines and all(line.confidence is not None for line in draft.lines)
    weak = [line.text for line in draft.lines if line.weak]
    assert weak, draft.lines  # a handwriting-style scan has lines read with low confidence
    try:
        app = make_app(root)
        async with app.run_test(size=(120, 36)) as pilot:
            queue = await transcription_tab(pilot, private)
            await wait_for(pilot, lambda: queue.draft_for == item.record_id, "the OCR lines of the selected scan")
            assert queue.query_one("#transcription-text", TextArea).text == ocr_text
            shown = text(queue.query_one("#ocr-lines", Static))
            assert "? " in shown and weak[0] in shown
    finally:
        shutil.rmtree(root, ignore_errors=True)


def contrast(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio."""
    def luminance(rgb: tuple[int, int, int]) -> float:
        def channel(v: int) -> float:
            c = v / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


async def test_text_keeps_contrast(demo_vault: Path, sessions: dict[str, Any]) -> None:
    """The status line, muted hints, errors and the demo hint: WCAG AA (4.5:1) in the default theme."""
    app = make_app(demo_vault)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(app.screen_stack) > 1 and bool(app.screen.children), "unlock")
        unlock = app.screen
        unlock.query_one("#message", Static).update("Wrong passphrase.")
        unlock.query_one("#message", Static).add_class("error")
        await pilot.pause()  # the new style applied
        ratios = [measure(w) for w in (unlock.query_one("#demo-hint"), unlock.query_one("#message"),
                                       unlock.query_one(".muted"))]
        main = await signed_in(pilot, sessions["tess"])
        await wait_for(pilot, lambda: "Auto-lock" in text(main.query_one("#autolock")), "countdown")
        ratios += [measure(main.query_one(sel)) for sel in ("#who", "#role", "#background", "#autolock",
                                                             "#search-mode", "#results-status")]
    for name, ratio in ratios:
        assert ratio >= 4.5, f"{name}: contrast {ratio:.2f}"


def measure(widget: Any) -> tuple[str, float]:
    style = widget.rich_style
    fg, bg = style.color.get_truecolor(), style.bgcolor.get_truecolor()
    return f"{widget} {tuple(fg)} on {tuple(bg)}", contrast(tuple(fg), tuple(bg))
