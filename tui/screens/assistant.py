"""The assistant's chat pane: questions, answers with numbered citations, refusals shown plainly.

Each question runs `Conversation.ask` (one archive call) in a thread worker.
The citations of the latest answer are listed below the conversation;
selecting one opens its record (the record view audits the access). The
conversation lives only as long as this screen (locking the app drops it).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from archive.plural import counted
from tui.messages import OpenRecord
from tui.widgets.footer import KeyFooter
from tui.widgets.header import AppHeader
from tui.widgets.status import StatusLine
from tui.workers import session_work


class AssistantScreen(Screen[None]):
    """Ask about the records in plain words; every statement cites its record."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+o", "focus_citations", "Citations"),  # F7 is Statistics (tui/navigation.py)
    ]
    DEFAULT_CSS = """
    AssistantScreen #chat-log {
        height: 1fr;
        padding: 0 1;
    }
    AssistantScreen .question {
        color: $accent;
        text-style: bold;
        margin-top: 1;
    }
    AssistantScreen .answer {
        padding-left: 2;
    }
    AssistantScreen .refused {
        color: $error;
        text-style: bold;
        padding-left: 2;
    }
    AssistantScreen #citations {
        height: 8;
        border: round $panel-lighten-2;
    }
    AssistantScreen #assistant-status {
        height: 1;
        padding: 0 1;
    }
    """

    def __init__(self, session: Any) -> None:
        super().__init__(name="assistant")
        from archive.assistant import Conversation

        self.session = session
        self.conversation = Conversation(session)
        self.answers = 0  # answered questions (tests wait on it)
        self.last: Any = None  # the latest Answer

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield StatusLine(self.session)
        with VerticalScroll(id="chat-log"):
            yield Static(
                "Ask about the records: \"what antibiotics did MRN 123 get in March?\", \"how many patients had "
                "hypertension in 2020?\", \"find records about chest pain\", \"ICD-10 code for gout\". "
                "Follow-ups refer to earlier questions. Every statement cites its record.",
                classes="muted",
            )
        yield Static("", id="assistant-status", classes="muted")
        yield OptionList(id="citations")
        yield Input(placeholder="Ask a question…  (Enter sends; Ctrl+O citations; Esc back)", id="question")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#question", Input).focus()

    def on_screen_resume(self) -> None:
        """Back from an opened citation (Esc): typing goes to the question again, not to the citation list
        (where Enter would reopen a citation and letters would trigger shortcuts)."""
        self.query_one("#question", Input).focus()

    @on(Input.Submitted, "#question")
    def _submitted(self, event: Input.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        event.input.value = ""
        self.query_one("#chat-log", VerticalScroll).mount(Static(Text(f"> {question}"), classes="question"))
        self.query_one("#assistant-status", Static).update("Looking in the records…")
        self.ask(question)

    @session_work("assistant")
    def ask(self, question: str) -> None:
        from archive.errors import ChartvaultError

        try:
            answer = self.conversation.ask(question)
        except ChartvaultError as exc:
            self.app.call_from_thread(self._failed, exc.message, exc.hint)
            return
        # call_from_thread awaits a coroutine callback (the answer is on screen when it returns); mypy cannot
        # infer its type variable from a coroutine function, hence the one ignore.
        self.app.call_from_thread(self._show, answer)  # type: ignore[arg-type]

    async def _show(self, answer: Any) -> None:
        """The answer, then its citations and the status line: the status never shows before the
        answer it describes (a reader, or a test, who sees the status finds the answer on screen)."""
        log = self.query_one("#chat-log", VerticalScroll)
        status = self.query_one("#assistant-status", Static)
        citations = self.query_one("#citations", OptionList)
        citations.clear_options()
        self.last = answer
        if answer.refused:  # said once, in the conversation (no status line, no toast repeating it)
            await log.mount(Static(Text(f"Refused: {answer.reason} (The attempt is recorded in the audit log.)"),
                                   classes="refused"))
            status.update("")
        else:
            await log.mount(Static(Text(answer.answer), classes="answer"))
            for i, c in enumerate(answer.citations, 1):
                passage = " ".join(c.passage.split())
                if len(passage) > 110:
                    passage = passage[:107] + "…"
                citations.add_option(Option(Text(f"[{i}] {c.record_id}  {c.date or 'undated'}  \"{passage}\""),
                                            id=f"{i}:{c.record_id}"))
            n = len(answer.citations)
            status.update(f"{counted(n, 'citation')}, each checked against its record. Ctrl+O then Enter opens"
                          " one." if n else "")
        log.scroll_end(animate=False)
        self.answers += 1

    def _failed(self, message: str, hint: str) -> None:
        self.query_one("#chat-log", VerticalScroll).mount(Static(Text(f"{message} {hint}".strip()),
                                                                 classes="refused"))
        self.query_one("#assistant-status", Static).update("")
        self.answers += 1

    @on(OptionList.OptionSelected, "#citations")
    def _open(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            from archive.hits import passage_terms

            number, record_id = event.option.id.split(":", 1)
            cited = self.last.citations[int(number) - 1] if self.last is not None else None
            terms = passage_terms(cited.passage) if cited is not None and cited.record_id == record_id else None
            self.post_message(OpenRecord(record_id, terms))  # the app opens it, at the cited passage

    def action_focus_citations(self) -> None:
        citations = self.query_one("#citations", OptionList)
        if citations.option_count:
            citations.focus()
            citations.highlighted = 0

    def action_back(self) -> None:
        self.app.pop_screen()
