"""CLI: similar cases, reindex (semantic backlog and rebuild), and the embedding step of import."""

from __future__ import annotations

from typing import Any

import click

from archive.cli.base import CliState, cli, emit_json, pass_state, progress_bar
from archive.plural import counted


def print_hits(hits: list[Any], empty: str = "No records match.") -> None:
    """Hits as text: one header line and the snippet per record."""
    if not hits:
        click.echo(empty)
        return
    for h in hits:
        click.echo(
            f"{h.record_id}  {h.date or '-':<10}  {h.type or '-'}  {h.patient or '(needs filing)'}  "
            f"score {h.score:.2f}"
        )
        click.echo(f"    {h.filename}")
        if h.snippet:
            click.echo(f"    {h.snippet}")


def embed_after_import(state: CliState, record_ids: list[str], as_json: bool) -> dict[str, Any] | None:
    """The import's second stage: embed what was just committed (own progress bar).

    The records are already full-text searchable; a failure here (no model)
    leaves them in the backlog and says so, without failing the import.
    """
    from archive.embedding import embed_backlog
    from archive.errors import ChartvaultError

    if not record_ids:
        return None
    progress = progress_bar("Embedding", quiet=as_json)
    try:
        report = embed_backlog(state.session(), records=record_ids, progress=progress)
    except ChartvaultError as exc:
        if not as_json:
            click.echo(f"Not embedded for semantic search: {exc.message}", err=True)
            click.echo("  They are full-text searchable; 'chartvault reindex' embeds them later.", err=True)
        return {"records": 0, "chunks": 0, "error": exc.message}
    except KeyboardInterrupt:
        click.echo("Embedding interrupted; the rest waits in the backlog ('chartvault reindex').", err=True)
        return {"records": 0, "chunks": 0, "interrupted": True}
    if not as_json:
        click.echo(
            f"Embedded {counted(report.records, 'record')} for semantic search "
            f"({counted(report.chunks, 'chunk')}, {report.chunks_per_second:.1f} chunks/s)."
        )
    return {"records": report.records, "chunks": report.chunks, "seconds": round(report.seconds, 2)}


@cli.command()
@click.argument("record_id")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 200), help="At most N records.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON hits (record_id, filename, patient, date, type, score, snippet).",
)
@pass_state
def similar(state: CliState, record_id: str, limit: int, as_json: bool) -> None:
    """Records most similar in meaning to RECORD_ID ("similar cases").

    Compares every passage of the record with every passage of the others
    (the embedding model), so it finds cases described in other words. The
    score is the similarity: the mean best-passage cosine (1.0 = the same
    text). Records below the model's relevance floor (0.55 for the default
    model) are not listed, so there may be fewer than --limit, or none.
    """
    from archive.embedding import backlog
    from archive.search import similar_cases

    session = state.session()
    result = similar_cases(session, record_id, limit=limit)
    waiting = backlog(session)  # records in the backlog have no vectors: they were not compared
    if waiting:
        click.echo(f"{counted(waiting, 'record')} {'is' if waiting == 1 else 'are'} not embedded for search by "
                   f"meaning yet and {'was' if waiting == 1 else 'were'} not compared. Run 'chartvault reindex' "
                   "(it embeds the backlog), then ask again.", err=True)
    if as_json:
        emit_json(result.to_json())
        return
    if result.note:
        click.echo(result.note)
        return
    floor = f" (none is at least {result.floor:.2f} similar)" if result.floor is not None else ""
    print_hits(result.hits, empty=f"No close cases{floor}.")


@cli.command()
@click.option(
    "--semantic", is_flag=True, help="Drop every vector and embed all records again (e.g. after changing the model)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: records and chunks embedded, seconds, backlog left.")
@pass_state
def reindex(state: CliState, semantic: bool, as_json: bool) -> None:
    """Embed the records waiting for semantic search; with --semantic, rebuild all vectors. Then give the
    chunks embedded before the second embedder (bge-small) its vectors, and label negation and history in
    records whose labels older rules made (the TUI does both in the background).

    Safe to interrupt (Ctrl-C) at any moment: finished records are kept, and
    running the command again resumes (a rebuild does not start over).
    """
    from archive.embedding import fill_second, relabel, second_status, semantic_status
    from archive.embedding import reindex as do_reindex

    session = state.session()
    interrupted = False
    filled: int | None = None
    relabelled: int | None = None
    try:
        report = do_reindex(session, semantic=semantic, progress=progress_bar("Embedding", quiet=as_json))
        filled = fill_second(session, progress=progress_bar("Second embedder", quiet=as_json))
        relabelled = relabel(session, progress=progress_bar("Labelling negation", quiet=as_json))
    except KeyboardInterrupt:
        interrupted = True
        report = None
    status = semantic_status(session)
    second = second_status(session)
    if as_json:
        emit_json(
            {
                "records": report.records if report else None,
                "chunks": report.chunks if report else None,
                "seconds": round(report.seconds, 2) if report else None,
                "interrupted": interrupted or bool(report and report.interrupted),
                "relabelled": relabelled,
                "second_filled": filled,
                "second_embedder": second.to_json() if second else None,
                **status.to_json(),
            }
        )
    elif report is not None:
        click.echo(
            f"Embedded {counted(report.records, 'record')}, {counted(report.chunks, 'chunk')} "
            f"({report.chunks_per_second:.1f} chunks/s). Backlog: {status.backlog}."
        )
        if filled:
            click.echo(f"Second embedder ({second.model if second else '?'}): {counted(filled, 'chunk')} more.")
        if second is not None:
            click.echo(f"Second embedder: {second.chunks:,} of {counted(second.of, 'chunk')}.")
        if relabelled:
            click.echo(f"Labelled negation and history in {counted(relabelled, 'record')} (maps of older rules).")
    if interrupted:
        click.echo(
            f"Interrupted. {counted(status.embedded, 'record')} embedded, {status.backlog} waiting"
            + (f"; {second.chunks} of {counted(second.of, 'chunk')} with the second embedder's vector"
               if second is not None and second.chunks < second.of else "")
            + "; run 'chartvault reindex' again to resume.",
            err=True,
        )
        raise SystemExit(130)
