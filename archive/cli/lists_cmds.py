"""CLI: patient lists (create, add, show, remove, delete); searching within one is `search --list NAME`."""

from __future__ import annotations

from typing import Any

import click

from archive.cli.base import CliState, cli, emit_json, pass_state
from archive.columns import mrn_cell, mrn_width
from archive.errors import BadInput
from archive.plural import counted


@cli.group("list")
def list_group() -> None:
    """Patient lists: patients collected for a study or an audit (from a search, by MRN, or by hand).

    Lists are yours (--share USER lets others read and search them) and live in
    the encrypted index; every change is audited. Search within one with
    'chartvault search QUERY --list NAME'; export one de-identified with
    'chartvault export cases --list NAME'.
    """


@list_group.command("create")
@click.argument("name")
@click.option("--note", default="", help="What the list is for.")
@click.option("--share", "share_with", metavar="USER", multiple=True, help="Let USER read and search it (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@pass_state
def list_create(state: CliState, name: str, note: str, share_with: tuple[str, ...], as_json: bool) -> None:
    """Create an empty patient list NAME."""
    from archive.saved import create_list

    made = create_list(state.session(), name, note=note, share_with=list(share_with))
    if as_json:
        emit_json(made.to_json())
        return
    shared = f", shared with {', '.join(made.shared_with)}" if made.shared_with else ""
    click.echo(f"Created patient list '{made.name}'{shared}.")


@list_group.command("add")
@click.argument("name")
@click.argument("mrns", nargs=-1)
@click.option("--query", metavar="QUERY", help="Add the patients of this search's hits (those you may see).")
@click.option("--mode", type=click.Choice(["fts", "semantic", "hybrid"]), help="With --query: the search mode.")
@click.option("--type", "doc_type", metavar="T", help="With --query: document type or format.")
@click.option("--from", "date_from", metavar="DATE", help="With --query: documents dated on or after DATE.")
@click.option("--to", "date_to", metavar="DATE", help="With --query: documents dated on or before DATE.")
@click.option("--json", "as_json", is_flag=True, help="Print what changed as JSON.")
@pass_state
def list_add(state: CliState, name: str, mrns: tuple[str, ...], query: str | None, mode: str | None,
             doc_type: str | None, date_from: str | None, date_to: str | None, as_json: bool) -> None:
    """Add patients to list NAME: by MRN (chartvault list add study-1 12345 67890), or --query QUERY."""
    from archive.saved import add_from_search, add_patients

    session = state.session()
    if query and mrns:
        raise BadInput("Give MRNs or --query, not both.", "Run 'chartvault list add' once for each.")
    if query:
        change = add_from_search(session, name, query, mode=mode, doc_type=doc_type, date_from=date_from,
                                 date_to=date_to)
    elif mrns:
        change = add_patients(session, name, list(mrns))
    else:
        raise BadInput("Nothing to add.", "Give MRNs, or --query QUERY to add the patients a search finds.")
    _echo_change(change, as_json, "added")


@list_group.command("remove")
@click.argument("name")
@click.argument("mrns", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print what changed as JSON.")
@pass_state
def list_remove(state: CliState, name: str, mrns: tuple[str, ...], as_json: bool) -> None:
    """Take patients (MRNs) off list NAME."""
    from archive.saved import remove_patients

    _echo_change(remove_patients(state.session(), name, list(mrns)), as_json, "removed")


@list_group.command("delete")
@click.argument("name")
@pass_state
def list_delete(state: CliState, name: str) -> None:
    """Delete list NAME (the patients and their records are not touched)."""
    from archive.saved import delete_list

    gone = delete_list(state.session(), name)
    click.echo(f"Deleted patient list '{gone.name}' ({counted(gone.size, 'patient')}).")


@list_group.command("show")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_show(state: CliState, name: str | None, as_json: bool) -> None:
    """Show list NAME's patients (those you may see), or without NAME every list you can read."""
    from archive.saved import patient_lists, show_list

    session = state.session()
    if name is None:
        lists = patient_lists(session)
        if as_json:
            emit_json([p.to_json() for p in lists])
            return
        if not lists:
            click.echo("No patient lists. Create one with 'chartvault list create NAME'.")
            return
        me = session.user.name
        for p in lists:
            who = p.name if p.owner == me else f"{p.owner}/{p.name}"
            click.echo(f"{who}: {counted(p.size, 'patient')}" + (f"  ({p.note})" if p.note else ""))
        return
    view = show_list(session, name)
    if as_json:
        emit_json(view.to_json())
        return
    click.echo(f"Patient list '{view.plist.name}' of {view.plist.owner}: {counted(view.plist.size, 'patient')}"
               + (f"  ({view.plist.note})" if view.plist.note else ""))
    width = mrn_width(m.mrn for m in view.members)
    for m in view.members:
        click.echo(f"  {mrn_cell(m.mrn, width)} {(m.name or '-')[:24]:<24} added {m.added_at[:10]} by {m.added_by}"
                   f" ({m.source})")
    if view.hidden:
        click.echo(f"  {counted(view.hidden, 'patient')} you may not see.")


def _echo_change(change: Any, as_json: bool, verb: str) -> None:
    if as_json:
        emit_json(change.to_json())
        return
    if verb == "added":
        names = f": {', '.join(change.added)}" if change.added else ""
        already = f" ({change.already} already on it)" if change.already else ""
        click.echo(f"Added {counted(len(change.added), 'patient')} to '{change.plist.name}'{names}{already}; "
                   f"it has {counted(change.plist.size, 'patient')}.")
    else:
        click.echo(f"Removed {counted(change.removed, 'patient')} from '{change.plist.name}'; "
                   f"it has {counted(change.plist.size, 'patient')}.")
