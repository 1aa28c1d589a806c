"""CLI: `queue review`: list what does not add up, show an item with both sources, resolve it."""

from __future__ import annotations

import click

from archive.cli.base import CliState, emit_json, pass_state
from archive.cli.records import queue
from archive.review import ACTIONS, STATUSES


@queue.group("review", invoke_without_command=True)
@click.pass_context
def review_group(ctx: click.Context) -> None:
    """Facts that do not add up (conflicting demographics, placeholders, impossible dates, codes outside
    ICD-10-CM, a name that does not match the chart), held out of charts and statistics until decided.
    With no command, lists the open items (as 'queue review list')."""
    if ctx.invoked_subcommand is None:  # as 'queue' alone lists its first queue
        ctx.invoke(review_list, status="open", as_json=False)


@review_group.command("list")
@click.option("--status", type=click.Choice([*STATUSES, "all"]), default="open", show_default=True,
              help="Which items: open ones, one kind of decision, or all.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def review_list(state: CliState, status: str, as_json: bool) -> None:
    """List review items: number, record, patient, what conflicts with what."""
    from archive.review import list_review

    items = list_review(state.session(), status)
    if as_json:
        emit_json([i.to_json() for i in items])
        return
    if not items:
        click.echo("Nothing to review." if status == "open" else f"No {status} review items.")
        return
    for i in items:
        done = "" if i.status == "open" else f"  [{i.status} by {i.resolved_by}]"
        click.echo(f"#{i.id}  {i.record_id}  {i.patient or '(not filed)'}  {i.kind}/{i.field}: {i.message}{done}")


@review_group.command("show")
@click.argument("item")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def review_show(state: CliState, item: str, as_json: bool) -> None:
    """Show one review item with both sources cited and what you can do about it."""
    from archive.review import show_review

    detail = show_review(state.session(), item)
    if as_json:
        emit_json(detail.to_json())
        return
    i = detail.item
    click.echo(f"Review item #{i.id} ({i.kind}, {i.field}): {i.status}")
    click.echo(f"  {i.message}")
    click.echo(f"  value here: {i.value if i.value is not None else '-'}")
    if i.other_value is not None:
        click.echo(f"  conflicts with: {i.other_value}")
    click.echo(f"  {detail.this.describe()}")
    if detail.other is not None:
        click.echo(f"  {detail.other.describe()}")
    held = {"fact": "this fact is kept off the chart", "record": "this record's facts are kept off the chart "
            "and out of statistics", "patient": f"the patient's {i.field} is left empty"}[i.holds]
    if i.status == "open":
        click.echo(f"  Held: {held} until you decide.")
        click.echo(f"  Decide: chartvault queue review resolve {i.id} accept|correct --value V|refile --value MRN"
                   + ("|reject" if i.holds == "fact" else ""))
    else:
        click.echo(f"  Decided by {i.resolved_by} at {i.resolved_at}: {i.resolution}")


@review_group.command("resolve")
@click.argument("item")
@click.argument("action", type=click.Choice(ACTIONS))
@click.option("--value", help="correct: the right value; refile: the MRN of the patient the record belongs to.")
@click.option("--other", "use_other", is_flag=True, help="accept: keep the value it conflicts with instead.")
@click.option("--reason", help="Why (kept in the audit log).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def review_resolve(state: CliState, item: str, action: str, value: str | None, use_other: bool,
                   reason: str | None, as_json: bool) -> None:
    """Decide a review item: accept a value, correct it, refile the record, or reject a held fact."""
    from archive.review import resolve_review

    result = resolve_review(state.session(), item, action, value=value, reason=reason, use_other=use_other)
    if as_json:
        emit_json(result.to_json())
        return
    click.echo(f"Review item #{result.id} {result.status}: {result.resolution}.")
