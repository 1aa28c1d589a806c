"""CLI: ICD-10-CM code search, suggestions, confirm/reject, and the cross-indexes."""

from __future__ import annotations

import click

from archive.cli.base import CliState, cli, emit_json, pass_state
from archive.columns import mrn_cell, mrn_width
from archive.errors import BadInput
from archive.plural import counted


@cli.group()
def code() -> None:
    """ICD-10-CM coding: search codes, suggest codes for a record, confirm or reject them."""


@code.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, help="Most results to show.")
@click.option("--billable", is_flag=True, help="Only billable codes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def code_search(state: CliState, text: tuple[str, ...], limit: int, billable: bool, as_json: bool) -> None:
    """Search codes by code (E11, e119) or words ('type 2 diabetes', 'HTN')."""
    from archive.coding import search_codes

    query = " ".join(text)
    hits = search_codes(state.session(), query, limit=limit, billable_only=billable)
    if as_json:
        emit_json([h.to_json() for h in hits])
        return
    if not hits:
        click.echo(f"No code matches '{query}'. Try fewer or other words, or a code such as E11.")
        return
    if hits[0].match == "near":
        click.echo(f"There is no ICD-10-CM code '{query}'. Nearest codes:")
    for h in hits:
        mark = "" if h.billable else "  (heading, not billable)"
        click.echo(f"{h.code:<9} {h.description}{mark}")


@code.command("show")
@click.argument("code_text", metavar="CODE")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def code_show(state: CliState, code_text: str, as_json: bool) -> None:
    """Show a code with its chapter, block, parents and children."""
    from archive.coding import code_detail

    detail = code_detail(state.session(), code_text)
    if as_json:
        emit_json(detail.to_json())
        return
    info = detail.info
    for depth, a in enumerate(detail.ancestors):
        label = f"Chapter {a.code}" if a.kind == "chapter" else a.code
        click.echo(f"{'  ' * depth}{label}: {a.description}")
    billable = "billable" if info.billable else "not billable (choose a code below it)"
    click.echo(f"{'  ' * len(detail.ancestors)}{info.code}: {info.description}  [{billable}]")
    for term in info.terms:
        click.echo(f"{'  ' * (len(detail.ancestors) + 1)}includes: {term}")
    for c in detail.children[:50]:
        click.echo(f"{'  ' * (len(detail.ancestors) + 1)}{c.code}: {c.description}")
    if len(detail.children) > 50:
        click.echo(f"{'  ' * (len(detail.ancestors) + 1)}... {len(detail.children) - 50} more")


@code.command("suggest")
@click.argument("record_id", required=False)
@click.option("--text", "free_text", help="Code this text instead of a record.")
@click.option("--limit", default=10, show_default=True, help="Most suggestions to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def code_suggest(state: CliState, record_id: str | None, free_text: str | None, limit: int, as_json: bool) -> None:
    """Suggest codes for RECORD_ID's text (or --text), each with the passage that supports it.

    What the text only doubts ("possible pneumonia", "rule out PE") is never a suggestion: it is listed
    apart, marked uncertain, to be coded only under the inpatient rule (ICD-10-CM guidelines II.H), never
    for an outpatient visit (IV.H)."""
    from archive.coding import suggest_for_record, suggest_for_text

    if bool(record_id) == bool(free_text):
        raise BadInput("Give either a RECORD_ID or --text, not both.",
                       "e.g. 'chartvault code suggest r1a2b3c4d5e6' or --text 'type 2 diabetes, HTN'.")
    if limit < 1:
        raise BadInput("--limit must be at least 1.", "For example --limit 10.")
    session = state.session()
    result = suggest_for_record(session, record_id, limit) if record_id else suggest_for_text(session, free_text or "",
                                                                                              limit)
    if as_json:
        emit_json(result.to_json())
        return
    if not result.suggestions:
        click.echo("No diagnosis found to code. Search codes with 'chartvault code search WORDS'.")
    for s in result.suggestions:
        status = result.decided.get(s.code)
        flag = f"  [{status}]" if status else ""
        click.echo(f"{s.code:<9} {s.score:.2f}  {s.description}{flag}")
        click.echo(f"          \u201c{' '.join(s.passage.split())}\u201d")
    if result.uncertain:
        # Never suggestions: what the text only doubts, apart and marked (ICD-10-CM guidelines II.H / IV.H).
        click.echo("")
        click.echo("Uncertain: code only under the inpatient rule (ICD-10-CM guidelines II.H), never for an "
                   "outpatient visit (IV.H):")
        for s in result.uncertain:
            status = result.decided.get(s.code)
            flag = f"  [{status}]" if status else ""
            click.echo(f"? {s.code:<7} {s.score:.2f}  {s.description}  (uncertain){flag}")
            click.echo(f"          \u201c{' '.join(s.passage.split())}\u201d")
    if not result.suggestions and not result.uncertain:
        return
    if record_id:
        click.echo(f"Confirm with: chartvault code confirm {result.record_id} CODE")


@code.command("confirm")
@click.argument("record_id")
@click.argument("code_text", metavar="CODE")
@click.option("--passage", help="The words of the record the code comes from (as 'code suggest' shows them): "
              "the code goes to the encounter and dates of what they name.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def code_confirm(state: CliState, record_id: str, code_text: str, passage: str | None, as_json: bool) -> None:
    """Confirm that CODE applies to RECORD_ID (recorded with your name and the time)."""
    from archive.coding import confirm_code

    decision = confirm_code(state.session(), record_id, code_text, passage=passage)
    if as_json:
        emit_json(decision.to_json())
        return
    click.echo(f"Confirmed {decision.code} ({decision.description}) for {decision.record_id} by {decision.decided_by}"
               + (f", on encounter {decision.encounter_id}." if decision.encounter_id else "."))


@code.command("reject")
@click.argument("record_id")
@click.argument("code_text", metavar="CODE")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def code_reject(state: CliState, record_id: str, code_text: str, as_json: bool) -> None:
    """Reject CODE for RECORD_ID (a suggestion that does not apply; kept in the history)."""
    from archive.coding import reject_code

    decision = reject_code(state.session(), record_id, code_text)
    if as_json:
        emit_json(decision.to_json())
        return
    click.echo(f"Rejected {decision.code} for {decision.record_id} by {decision.decided_by}.")


@code.command("list")
@click.argument("record_id")
@click.option("--history", is_flag=True, help="Every decision, oldest first, not only those in force.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def code_list(state: CliState, record_id: str, history: bool, as_json: bool) -> None:
    """List the codes confirmed or rejected for RECORD_ID, with who decided and when."""
    from archive.coding import record_codes

    decisions = record_codes(state.session(), record_id, include_history=history)
    if as_json:
        emit_json([d.to_json() for d in decisions])
        return
    if not decisions:
        click.echo(f"No codes decided for {record_id} yet. See 'chartvault code suggest {record_id}'.")
    for d in decisions:
        click.echo(f"{d.code:<9} {d.status:<9} {d.decided_by:<12} {d.decided_at}  {d.description}")


@code.command("load")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def code_load(state: CliState, as_json: bool) -> None:
    """Load the ICD-10-CM code set into the index now (otherwise done on first use)."""
    from archive.coding import ensure_code_set

    report = ensure_code_set(state.session())
    if as_json:
        emit_json(report.__dict__)
        return
    what = f"Loaded {report.codes} entries" if report.loaded else f"Already loaded: {report.codes} entries"
    click.echo(f"{what} ({report.billable} billable codes) from {report.release} in {report.seconds:.1f} s.")


@cli.group("index")
def index_group() -> None:
    """Cross-indexes: records and patients by diagnosis code, physician or treatment."""


def _print_index(result, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        emit_json(result.to_json())
        return
    if not result.records and not result.entries and not result.patients:
        click.echo(f"Nothing found {result.kind.replace('-', ' ')} '{result.query}'.")
        if result.note:
            click.echo(f"  ({result.note})")
        return
    n = len(result.entries)
    click.echo(f"{counted(len(result.records), 'record')}, {counted(n, 'chart entry', 'chart entries')}, "
               f"{counted(len(result.patients), 'patient')}: {', '.join(result.patients)}")
    width = mrn_width([r.patient or "(unfiled)" for r in result.records] + [e.patient for e in result.entries])
    for r in result.records:
        codes = ", ".join(r.codes) if r.codes else "-"
        click.echo(f"{r.record_id:<14} {mrn_cell(r.patient or '(unfiled)', width)} {r.date or '':<10} codes: {codes}"
                   f"  {r.why}")
    for e in result.entries:
        code = f" [{e.code}]" if e.code else ""
        click.echo(f"{e.entry_id:<14} {mrn_cell(e.patient, width)} {e.date or '':<10} {e.kind}: {e.text}{code}")


@index_group.command("by-code")
@click.argument("code_text", metavar="CODE")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def index_by_code(state: CliState, code_text: str, as_json: bool) -> None:
    """Records, chart diagnoses and patients with code CODE or under it (E11 finds E11.9, E11.65, ...)."""
    from archive.coding import by_code

    _print_index(by_code(state.session(), code_text), as_json)


@index_group.command("by-physician")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def index_by_physician(state: CliState, name: str, as_json: bool) -> None:
    """Records written by physician NAME (user or part of the name) and of the patients they attend."""
    from archive.coding import by_physician

    _print_index(by_physician(state.session(), name), as_json)


@index_group.command("by-treatment")
@click.argument("text", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def index_by_treatment(state: CliState, text: tuple[str, ...], as_json: bool) -> None:
    """Chart medications/procedures, imported facts and records' text matching a treatment."""
    from archive.coding import by_treatment

    _print_index(by_treatment(state.session(), " ".join(text)), as_json)
