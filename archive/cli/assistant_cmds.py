"""CLI: `chartvault ask QUESTION` (one turn) and `chartvault chat` (a conversation on stdin/stdout)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from archive.cli.base import EXIT_DENIED, CliState, cli, emit_json, pass_state, print_error
from archive.errors import ChartvaultError


def _llm_options(fn: Any) -> Any:
    fn = click.option("--allow-remote", is_flag=True,
                      help="Allow a model endpoint that is not on this machine (patient passages are sent to it).")(fn)
    fn = click.option("--llm-model", metavar="NAME", help="Model name for that endpoint (default: the setting).")(fn)
    fn = click.option(
        "--llm-url", metavar="URL",
        help="Optional local model: an OpenAI-compatible chat endpoint, e.g. http://127.0.0.1:8080/v1 "
        "(default: the assistant.llm_url setting; off when empty).",
    )(fn)
    return fn


def _print_answer(answer: Any) -> None:
    if answer.refused:
        click.echo(f"Refused: {answer.reason}", err=True)
        return
    click.echo(answer.answer)
    if answer.citations:
        click.echo("\nSources:")
        for i, c in enumerate(answer.citations, 1):
            passage = " ".join(c.passage.split())
            click.echo(f"  [{i}] {c.record_id}  {c.date or 'undated'}  \"{passage}\"")


def _conversation(state: CliState, llm_url: str | None, llm_model: str | None, allow_remote: bool) -> Any:
    from archive.assistant import Conversation
    from archive.assistant.generative import config_from

    session = state.session()
    return Conversation(session, llm=config_from(session, llm_url, llm_model, allow_remote))


@cli.command("ask")
@click.argument("question", nargs=-1, required=True)
@click.option("--patient", metavar="MRN", help="The patient the question is about (else named in the question).")
@click.option("--json", "as_json", is_flag=True,
              help='Print JSON: {"answer", "citations": [{"record_id", "date", "passage"}], "refused", "reason"}.')
@_llm_options
@pass_state
@click.pass_context
def ask_cmd(ctx: click.Context, state: CliState, question: tuple[str, ...], patient: str | None, as_json: bool,
            llm_url: str | None, llm_model: str | None, allow_remote: bool) -> None:
    """Ask the assistant one question about the records.

    It finds records about a subject, summarises a patient's timeline, lists
    a patient's medications, procedures, complications, referrals or
    diagnoses in a period ("what antibiotics did MRN 123 get in March
    2020?"), answers the asked fact ("when was her last encounter?", "has
    he had an appendectomy?", "what was his platelet count?"), answers
    about a past case described in words and names the case it took
    ("for the man with thrombocytosis on Hydrea, what was his platelet
    count?"), counts patients or encounters with a condition, finds similar
    past cases and suggests ICD-10-CM codes. Every statement quotes its
    record (id, date, passage), checked against the record's text; with
    nothing to quote it says "I found nothing in the records about that".
    Patient files are discussed only with registered, active physicians
    (others: exit 3). No model or network is needed; --llm-url adds an
    optional local model that rephrases the verified passages.
    """
    conversation = _conversation(state, llm_url, llm_model, allow_remote)
    answer = conversation.ask(" ".join(question), patient=patient)
    if as_json:
        emit_json(answer.to_json())
    else:
        _print_answer(answer)
    if answer.refused:
        ctx.exit(EXIT_DENIED)


@cli.command("chat")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one answer object per question.")
@_llm_options
@pass_state
def chat_cmd(state: CliState, as_json: bool, llm_url: str | None, llm_model: str | None, allow_remote: bool) -> None:
    """A conversation with the assistant: one question per line on stdin.

    Follow-ups refer to earlier turns ("what about her medications?", "and in
    March?"). An empty line is skipped; 'quit', 'exit' or end of input ends
    the conversation. A prompt is shown only when stdin is a terminal.
    """
    conversation = _conversation(state, llm_url, llm_model, allow_remote)
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            click.echo("> ", nl=False, err=True)
        line = sys.stdin.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        if question.lower() in ("quit", "exit", "bye"):
            break
        try:
            answer = conversation.ask(question)
        except ChartvaultError as exc:  # one bad question does not end the conversation
            if as_json:
                click.echo(json.dumps({"answer": "", "citations": [], "refused": False, "reason": None,
                                       "error": exc.message}, ensure_ascii=False))
            else:
                print_error(exc)
            continue
        if as_json:
            click.echo(json.dumps(answer.to_json(), ensure_ascii=False))
        else:
            _print_answer(answer)
            click.echo("")
        sys.stdout.flush()
