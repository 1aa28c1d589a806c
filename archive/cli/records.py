"""CLI: import, search, show, file, queue, transcribe, quarantine, watch."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from archive.cli.base import CliState, cli, emit_json, pass_state, progress_bar
from archive.columns import mrn_cell, mrn_width
from archive.errors import BadInput
from archive.plural import counted

# ---------------------------------------------------------------- import


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--move", is_flag=True, help="Delete each source file once it is safely in the vault (inbox semantics).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: counts and one outcome per input.")
@click.option(
    "--no-embed", is_flag=True, help="Skip embedding for semantic search (records wait in the backlog; see reindex)."
)
@pass_state
def import_cmd(state: CliState, paths: tuple[Path, ...], move: bool, as_json: bool, no_embed: bool) -> None:
    """Import files and folders (recursively) into the vault.

    Each file is read, its text extracted, the original and the text
    encrypted, and the record indexed for search. Content already in the vault
    is reported as a duplicate; unreadable input goes to quarantine with a
    reason. By default the sources are left in place; --move deletes each one
    after its encrypted copy is committed and read back. Once committed (and
    full-text searchable), the new records are embedded for semantic search,
    with a second progress bar; --no-embed leaves that to 'reindex'.
    """
    from archive.cli.semantic_cmds import embed_after_import
    from archive.intake import import_paths

    session = state.session()
    progress = progress_bar("Importing", quiet=as_json)
    try:
        report = import_paths(session, list(paths), move=move, progress=progress)
    finally:
        if progress is not None:
            progress.stop()
    new_ids = [o.record_id for o in report.outcomes if o.status == "imported" and o.record_id]
    if as_json:
        embedded = None if no_embed else embed_after_import(state, new_ids, as_json)
        emit_json(report.to_json() | ({"embedding": embedded} if embedded is not None else {}))
        return
    c = report.counts
    click.echo(
        f"{counted(c['inputs'], 'input')}: {c['imported']} imported, {counted(c['duplicates'], 'duplicate')}, "
        f"{c['quarantined']} quarantined" + (f", {c['skipped']} skipped" if c["skipped"] else "")
        + (f", {c['vanished']} vanished before reading" if c["vanished"] else "") + "."
    )
    click.echo(f"Needs filing: {c['needs_filing']}   Needs transcription: {c['needs_transcription']}")
    quarantined = report.quarantined()
    if quarantined:
        click.echo("Quarantined (see 'chartvault quarantine list'):")
        for out in quarantined:
            click.echo(f"  {out.quarantine_id}  {out.input}: {out.reason}")
    skipped = [o for o in report.outcomes if o.status == "skipped"]
    if skipped:
        click.echo("Skipped (left where they are):")
        for out in skipped:
            click.echo(f"  {out.input}: {out.reason}")
    for out in report.outcomes:
        if out.status == "vanished":
            click.echo(f"  vanished: {out.input}: {out.reason}")
    if not no_embed:
        embed_after_import(state, new_ids, as_json)


# ---------------------------------------------------------------- search


def _marks(as_json: bool) -> tuple[str, str]:
    if not as_json and sys.stdout.isatty():
        return "\x1b[1;4m", "\x1b[0m"
    return "**", "**"


@cli.command()
@click.argument("query", required=False)
@click.option("--patient", metavar="MRN", help="Only this patient's records.")
@click.option("--type", "doc_type", metavar="T", help="Document type or format (note, pdf, hl7, fhir, hl7:ORU^R01…).")
@click.option("--author", metavar="A", help="Author name contains A.")
@click.option("--from", "date_from", metavar="DATE", help="Documents dated on or after DATE (YYYY-MM-DD).")
@click.option("--to", "date_to", metavar="DATE", help="Documents dated on or before DATE (YYYY-MM-DD).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="At most N hits.")
@click.option(
    "--mode",
    type=click.Choice(["fts", "semantic", "hybrid"]),
    help="fts: the words as typed (BM25); semantic: by meaning (embedding model); hybrid: both. "
    "Default: hybrid once records are embedded, else fts.",
)
@click.option(
    "--positive",
    is_flag=True,
    help="Only records that affirm the query: at least one mention not negated ('denies chest pain'), "
    "doubted ('rule out PE'), planned for ('return if fever') or a relative's ('mother had diabetes'). "
    "A past mention ('history of MI') counts.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON hits (with QUERY '-': one JSON list per line).")
@click.option("--save", "save_as", metavar="NAME", help="Save this search (query, mode, filters) as NAME, then run it.")
@click.option("--share", "share_with", metavar="USER", multiple=True,
              help="With --save: let USER run it too (repeat for several users).")
@click.option("--saved", "saved", metavar="NAME",
              help="Run the saved search NAME (yours, or OWNER/NAME shared with you); options given here win.")
@click.option("--saved-list", is_flag=True, help="List your saved searches and those shared with you.")
@click.option("--forget", metavar="NAME", help="Delete your saved search NAME.")
@click.option("--list", "within", metavar="LIST", help="Only the records of the patients on patient list LIST.")
@click.option("--by-patient", is_flag=True,
              help="One row per patient: matching records, first and last dates, document types.")
@pass_state
def search(
    state: CliState,
    query: str | None,
    patient: str | None,
    doc_type: str | None,
    author: str | None,
    date_from: str | None,
    date_to: str | None,
    limit: int,
    mode: str | None,
    positive: bool,
    as_json: bool,
    save_as: str | None = None,
    share_with: tuple[str, ...] = (),
    saved: str | None = None,
    saved_list: bool = False,
    forget: str | None = None,
    within: str | None = None,
    by_patient: bool = False,
) -> None:
    """Search the records: full text (BM25), by meaning, or both (hybrid).

    In fts mode words are all required; "a phrase" in quotes; cardi* for a
    prefix; OR for either; -word or NOT word to exclude; parentheses to
    group; title:, filename:, author: to search one field. Semantic and
    hybrid modes take plain words ("elderly patient, fall, hip fracture,
    post-op confusion") and also find notes that say it in other words;
    clinical abbreviations (CHF, s/p, COPD) are understood. QUERY '-' reads
    one query per line from standard input (unlock and model load are paid
    once); with --json each line of output is the JSON hit list of one
    query. JSON hits carry record_id, filename, patient, date, type, score,
    snippet (matched terms between ** **) and weak: in the modes by meaning
    a hit under the relevance floor that does not hold every word of the
    query is marked weak ("(weak)" after its score), listed as one of the
    closest rather than as a match; when no record passes, only the
    closest few are listed, under "No record matches well".

    Saved searches: --save NAME keeps the query, mode and filters (--share
    USER lets others run it); --saved NAME runs one; --saved-list lists them;
    --forget NAME deletes one. --list LIST searches only the patients of a
    patient list (see 'chartvault list'). --by-patient shows who matched:
    one row per patient you may see.

    Each JSON hit also carries assertion: what the record says where it
    mentions the query (affirmed, negated, possible, hypothetical,
    historical, family; null when it does not use the query's words) with
    that mention. --positive keeps the records that affirm it.

    Full text and hybrid mode tolerate OCR errors: when few records hold
    the query's words exactly, words of five letters or more also find
    their near spellings in the index ("cimetidine" finds a scan read as
    "Cimeti2ine"); such hits come after the records holding the words,
    marked "~near spelling" (JSON: fuzzy true). Semantic mode ranks by
    meaning only and says how many records it leaves out that hold a near
    spelling. --from/--to keep a record whose date, or one of whose facts'
    dates (a FHIR bundle's encounters and conditions), is in the range.
    """
    from archive import saved as saved_searches

    session = state.session()
    filters: dict[str, Any] = dict(
        patient=patient, doc_type=doc_type, author=author, date_from=date_from, date_to=date_to
    )
    if saved_list or forget:
        _saved_admin(session, saved_list, forget, as_json)
        return
    if saved:
        found = saved_searches.find_saved(session, saved)
        query = query or found.query
        mode = mode or found.mode
        filters = {k: v if v is not None else found.filters.get(k) for k, v in filters.items()}
    if not query:
        raise BadInput("Give a QUERY, or --saved NAME.", 'For example: chartvault search "chest pain".')
    if save_as:
        kept, replaced = saved_searches.save_search(session, save_as, query, mode=mode, filters=filters,
                                                    share_with=list(share_with))
        shared = f", shared with {', '.join(kept.shared_with)}" if kept.shared_with else ""
        click.echo(f"{'Replaced' if replaced else 'Saved'} search '{kept.name}'{shared}.", err=True)
    if within:
        plist, mrns = saved_searches.list_patients(session, within)
        filters["patients"] = tuple(mrns)
        click.echo(f"Within list '{plist.name}' ({counted(len(mrns), 'patient')} you may see).", err=True)
    if query == "-":
        _search_lines(session, filters, limit, mode, as_json, positive)
        return
    if by_patient:
        _search_by_patient(session, query, mode, filters, as_json)
        return
    result = _run_search(session, query, mode=mode, limit=limit, mark=_marks(as_json), positive=positive,
                         **filters)
    hits = result.hits
    if as_json:
        emit_json([h.to_json() for h in hits])
        return
    if result.note:
        click.echo(result.note, err=True)
    if not hits:
        click.echo("No record affirms it." if positive else "No records match.")
        return
    if result.weak:
        click.echo(f"No record matches well; the closest {'is' if len(hits) == 1 else 'are'} (weak matches):")
    for h in hits:
        click.echo(_hit_line(h))
        click.echo(f"    {h.filename}: {h.snippet}")


def _saved_admin(session: Any, show: bool, forget: str | None, as_json: bool) -> None:
    """`search --saved-list` and `search --forget NAME`."""
    from archive import saved as saved_searches

    if forget:
        gone = saved_searches.delete_saved(session, forget)
        click.echo(f"Deleted saved search '{gone.name}'.")
        if not show:
            return
    kept = saved_searches.saved_searches(session)
    if as_json:
        emit_json([s.to_json() for s in kept])
        return
    if not kept:
        click.echo("No saved searches. Save one with 'chartvault search QUERY --save NAME'.")
        return
    me = session.user.name
    for s in kept:
        name = s.name if s.owner == me else s.ref
        extras = [s.mode or "auto"] + [f"{k.replace('_', '-')} {v}" for k, v in sorted(s.filters.items())]
        shared = f"  shared with {', '.join(s.shared_with)}" if s.shared_with and s.owner == me else ""
        click.echo(f"{name}: {s.query}  ({'; '.join(extras)}){shared}")


def _search_by_patient(session: Any, query: str, mode: str | None, filters: dict[str, Any], as_json: bool) -> None:
    """`search --by-patient`: one row per patient the user may see."""
    from archive.errors import UserError
    from archive.patient_view import search_by_patient
    from archive.search import NotEmbedded

    try:
        view = search_by_patient(session, query, mode=mode, **filters)
    except NotEmbedded as exc:
        raise UserError(exc.message, _not_embedded_hint(exc.backlog)) from None
    if as_json:
        emit_json(view.to_json())
        return
    if not view.rows and not view.unfiled:
        click.echo("No records match.")
        return
    if view.result.weak:
        click.echo("No record matches well; the closest are (weak matches):")
    width = mrn_width(r.patient for r in view.rows)
    click.echo(f"{mrn_cell('patient', width)} {'name':<22} {'records':>7}  {'first':<10}  {'last':<10}  types")
    for r in view.rows:
        click.echo(f"{mrn_cell(r.patient, width)} {(r.name or '-')[:22]:<22} {r.records:>7}  {r.first or '-':<10}  "
                   f"{r.last or '-':<10}  {', '.join(r.types)}{_weak(r.weak)}")
    found = f"{counted(len(view.rows), 'patient')}, {counted(sum(r.records for r in view.rows), 'record')}"
    if view.unfiled:
        found += f"; {counted(view.unfiled, 'record')} not filed to a patient yet"
    click.echo(found + ".")


def _hit_line(h: Any) -> str:
    """A hit's first line: record, date, type, patient, score and its marks (assertion, near spelling, weak)."""
    return (f"{h.record_id}  {h.date or '-':<10}  {h.type or '-'}  {h.patient or '(needs filing)'}  "
            f"score {h.score:.2f}{_weak(h.weak)}{_badge(h.assertion)}{_near(h.fuzzy)}")


def _weak(weak: bool) -> str:
    """The mark after the score of a hit under the relevance floor: listed as one of the closest, not a match."""
    return " (weak)" if weak else ""


def _near(fuzzy: bool) -> str:
    """The marker of a hit found only by a near spelling of a query word (an OCR misreading)."""
    return "  ~near spelling" if fuzzy else ""


def _badge(assertion: str | None) -> str:
    """'  [negated]' after a hit whose mention of the query is not affirmed."""
    return f"  [{assertion}]" if assertion and assertion != "affirmed" else ""


def _run_search(session: Any, query: str, **kwargs: Any) -> Any:
    """archive.search.search, with the CLI's remedy when no record is embedded yet."""
    from archive.errors import UserError
    from archive.search import NotEmbedded
    from archive.search import search as run_search

    try:
        return run_search(session, query, **kwargs)
    except NotEmbedded as exc:
        raise UserError(exc.message, _not_embedded_hint(exc.backlog)) from None


def _not_embedded_hint(backlog: int) -> str:
    """What to do when search by meaning has no vector: embed the backlog, or (none waiting) import records."""
    if not backlog:
        return ("The vault holds no record to embed yet: import some with 'chartvault import PATH' "
                "(it embeds them).")
    return "Run 'chartvault reindex' (it embeds the backlog), or search with --mode fts."


def _search_lines(
    session: Any, filters: dict[str, Any], limit: int, mode: str | None, as_json: bool, positive: bool = False
) -> None:
    """`search -`: one query per input line; a bad query is reported on its line and the rest go on."""
    import json

    from archive.errors import BadInput as _BadInput
    from archive.errors import BadQuery

    failed = 0
    for line in sys.stdin:
        query = line.strip()
        if not query:
            continue
        try:
            result = _run_search(session, query, mode=mode, limit=limit, mark=_marks(as_json), positive=positive,
                                 **filters)
        except (BadQuery, _BadInput) as exc:
            failed += 1
            # Keep one output line per input line: an empty list, and the reason on stderr.
            if as_json:
                click.echo("[]")
            else:
                click.echo(f"# {query}  (error)")
            click.echo(f"Error in query {query!r}: {exc.message}\n  {exc.hint}", err=True)
            continue
        if as_json:
            click.echo(json.dumps([h.to_json() for h in result.hits], ensure_ascii=False, default=str))
            continue
        click.echo(f"# {query}  ({result.mode}, {counted(len(result.hits), 'hit')})")
        for h in result.hits:
            click.echo(_hit_line(h))
        sys.stdout.flush()
    if failed:
        raise SystemExit(2)


# ---------------------------------------------------------------- show


@cli.command()
@click.argument("record_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (metadata, and the extracted text as 'text').")
@click.option("--original", is_flag=True, help="Write the original file, bit-identical, to --out.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="File to write with --original.")
@click.option(
    "--break-glass",
    "break_glass_reason",
    metavar="REASON",
    help="Emergency access to a record you may not open: granted for a limited time, flagged for review.",
)
@pass_state
def show(
    state: CliState, record_id: str, as_json: bool, original: bool, out: Path | None, break_glass_reason: str | None
) -> None:
    """Show a record: its metadata and extracted text (or write its original with --original --out FILE)."""
    from archive.records import export_original, show_record

    if break_glass_reason is not None:
        _break_glass(state, record_id, break_glass_reason)

    if original or out:
        if not (original and out):
            raise BadInput("--original and --out go together.", "For example: --original --out scan.pdf")
        size = export_original(state.session(), record_id, out)
        if as_json:
            emit_json({"record_id": record_id, "out": str(out), "size": size})
        else:
            click.echo(f"Wrote the original ({size} bytes) to {out}.")
        return
    view = show_record(state.session(), record_id)
    if as_json:
        emit_json(view.to_json())
        return
    click.echo(f"Record     {view.record_id}")
    click.echo(f"File       {view.filename} ({view.format}, {view.size} bytes)")
    click.echo(f"Type       {view.type or '-'}")
    click.echo(f"Title      {view.title or '-'}")
    who = f"{view.patient} {view.patient_name or ''}".strip() if view.patient else "(needs filing)"
    click.echo(f"Patient    {who}")
    source = view.metadata.get("date_source") if view.date else None
    dated = f" (from {source})" if source not in (None, "content", "text") else ""  # said when not the text
    click.echo(f"Date       {view.date or '-'}{dated}   Author {view.author or '-'}")
    click.echo(f"Imported   {view.imported_at} by {view.imported_by or '-'}")
    if view.needs_transcription or view.ocr_confidence is not None:
        conf = f"{view.ocr_confidence:.2f}" if view.ocr_confidence is not None else "-"
        click.echo(f"OCR        confidence {conf}" + ("  (needs transcription)" if view.needs_transcription else ""))
    click.echo("")
    click.echo(view.text)
    if view.transcription is not None:
        t = view.transcription
        status = f"verified by {t.verified_by}" if t.verified else "UNVERIFIED"
        click.echo(f"\n--- Transcription by {t.by} ({status}) ---")
        click.echo(t.text or "")


def _break_glass(state: CliState, record_id: str, reason: str) -> None:
    from archive.access import break_glass

    grant = break_glass(state.session(), record_id, None, reason)
    if grant is None:
        click.echo("You may open this record anyway; no break-glass access was needed.", err=True)
    else:
        until = grant.expires_at[11:16]
        click.echo(
            f"BREAK-GLASS: you may open record {record_id} until {until} UTC. "
            f"This access is flagged (audit entry {grant.audit_seq}) for an admin's review.",
            err=True,
        )


# ---------------------------------------------------------------- filing and queues


@cli.command("file")
@click.argument("record_id")
@click.option("--mrn", required=True, help="The patient's medical record number.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def file_cmd(state: CliState, record_id: str, mrn: str, as_json: bool) -> None:
    """File a record to a patient (by MRN); the patient is created if new."""
    from archive.filing import file_record

    result = file_record(state.session(), record_id, mrn)
    if as_json:
        emit_json(result.to_json())
        return
    click.echo(f"Filed {result.record_id} to MRN {result.mrn}.")
    if result.patient_created:
        click.echo(f"New patient {result.mrn} created (no name yet).")
    if result.previous and result.previous != result.mrn:
        click.echo(f"It was filed to MRN {result.previous} before.")


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def queue(ctx: click.Context, as_json: bool) -> None:
    """Work queues: needs_filing (the default), needs_transcription, and review (what does not add up)."""
    if ctx.invoked_subcommand is None:
        _print_queue(ctx.ensure_object(CliState), "needs_filing", as_json)


@queue.command("needs_filing")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def queue_needs_filing(state: CliState, as_json: bool) -> None:
    """Records that no patient could be found for: file them with 'chartvault file RECORD --mrn MRN'."""
    _print_queue(state, "needs_filing", as_json)


@queue.command("needs_transcription")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def queue_needs_transcription(state: CliState, as_json: bool) -> None:
    """Scans whose OCR is unreliable (handwriting?): transcribe them with 'chartvault transcribe'."""
    _print_queue(state, "needs_transcription", as_json)


def _print_queue(state: CliState, name: str, as_json: bool) -> None:
    from archive.records import list_queue

    items = list_queue(state.session(), name)
    if as_json:
        emit_json([i.to_json() for i in items])
        return
    if not items:
        click.echo(f"Nothing in {name.replace('_', ' ')}.")
        return
    for i in items:
        extra = i.transcription if name == "needs_transcription" else i.reason
        click.echo(f"{i.record_id}  {i.filename}  {i.type or '-'}  {i.date or '-'}  {extra}")


@cli.command()
@click.argument("record_id")
@click.option("--text", help="The transcription.")
@click.option("--from-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), help="Read it from a file.")
@click.option("--verify", is_flag=True, help="Verify the latest transcription (must be someone else's).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def transcribe(
    state: CliState, record_id: str, text: str | None, from_file: Path | None, verify: bool, as_json: bool
) -> None:
    """Add a typed transcription of a scan (stored encrypted beside it), or --verify another person's."""
    from archive.records import add_transcription, verify_transcription

    if verify:
        if text or from_file:
            raise BadInput("--verify takes no text.", "Verify, or give a new transcription, not both.")
        result = verify_transcription(state.session(), record_id)
        message = f"Transcription of {record_id} verified."
    else:
        if (text is None) == (from_file is None):
            raise BadInput("Give the transcription with --text or --from-file.", "Or use --verify.")
        body = text if text is not None else from_file.read_text(encoding="utf-8")  # type: ignore[union-attr]
        result = add_transcription(state.session(), record_id, body)
        message = f"Transcription of {record_id} saved (unverified until a second person verifies it)."
    if as_json:
        emit_json({"record_id": record_id, "transcription": result.id, "by": result.by,
                   "verified_by": result.verified_by})
    else:
        click.echo(message)


# ---------------------------------------------------------------- quarantine


@cli.group()
def quarantine() -> None:
    """Inputs that could not be imported, kept encrypted with a reason."""


@quarantine.command("list")
@click.option("--all", "include_released", is_flag=True, help="Include entries already released.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def quarantine_list(state: CliState, include_released: bool, as_json: bool) -> None:
    """List quarantined inputs with their reasons."""
    from archive.records import list_quarantine

    items = list_quarantine(state.session(), include_released=include_released)
    if as_json:
        emit_json([i.to_json() for i in items])
        return
    if not items:
        click.echo("Quarantine is empty.")
        return
    for i in items:
        released = f"  (released to {i.released_to})" if i.released_at else ""
        click.echo(f"{i.id}  {i.at}  {i.original_name!r}: {i.reason}{released}")


@quarantine.command("release")
@click.argument("quarantine_id")
@click.option("--to", "to_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder to write the file to.")
@pass_state
def quarantine_release(state: CliState, quarantine_id: str, to_dir: Path) -> None:
    """Give a quarantined file back (decrypted, under a safe name) and remove it from quarantine."""
    from archive.records import release_quarantine

    dest = release_quarantine(state.session(), quarantine_id, to_dir)
    click.echo(f"Released {quarantine_id} to {dest}.")


# ---------------------------------------------------------------- watch


@cli.command()
@click.option(
    "--inbox", type=click.Path(path_type=Path, file_okay=False), help="Folder to watch (default <vault>/inbox)."
)
@click.option("--quiet-period", default=1.0, show_default=True, type=click.FloatRange(0.05, 600),
              help="Seconds a file must stay unchanged before it is taken.")
@click.option("--unlock", is_flag=True, help="Prompt for the passphrase and index arrivals at once.")
@click.option("--until-idle", is_flag=True, help="Process what is there now, then exit.")
@pass_state
def watch(state: CliState, inbox: Path | None, quiet_period: float, unlock: bool, until_idle: bool) -> None:
    """Watch the inbox and take each file in once it has stopped changing.

    With a passphrase (CHARTVAULT_PASSPHRASE, or --unlock to be asked) each
    arrival is imported and searchable at once. Without one the watcher holds
    only the vault's public key: it encrypts each arrival into pending/ and
    the next unlocked session (any command, or the TUI) indexes it. Either
    way the plaintext is removed only after its encrypted copy is safe.
    """
    unlocked = unlock or os.environ.get("CHARTVAULT_PASSPHRASE") is not None
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    if unlocked:
        from archive.intake import InboxService

        def report(outcomes: list[Any]) -> None:
            for o in outcomes:
                where = f"filed to {o.patient}" if o.filing == "filed" else "needs filing"
                if o.status == "imported":
                    line = f"imported {o.record_id} ({where}{', needs transcription' if o.needs_transcription else ''})"
                elif o.status == "quarantined":
                    line = f"quarantined {o.quarantine_id} ({o.input}): {o.reason}"
                elif o.status == "skipped":
                    line = f"skipped {o.input}: {o.reason}"
                else:
                    line = f"{o.status} {o.record_id or ''}".rstrip()
                click.echo(line)

        service = InboxService(state.session(), inbox=inbox, quiet=quiet_period, own_connection=False,
                               on_outcomes=report, on_error=_report_error)
        assert service.watcher is not None  # made at once without once_per_vault
        watcher = service.watcher
        folder = service.inbox
        mode = "unlocked: arrivals are indexed at once"
    else:
        from archive.intake import watch_locked

        def stashed(results: list[tuple[str, str]]) -> None:
            n = sum(1 for status, _ in results if status == "stashed")
            if n:
                click.echo(f"encrypted {counted(n, 'arrival')} into pending/ (indexed at the next unlock)")

        watcher = watch_locked(state.vault_dir, inbox=inbox, quiet=quiet_period, on_stashed=stashed,
                               on_error=_report_error)
        folder = watcher.folders[0]
        mode = "locked: arrivals are encrypted to the vault's public key"
    click.echo(f"Watching {folder} ({mode}). Ctrl-C stops.", err=True)
    watcher.start()
    try:
        if until_idle:
            while not stop.is_set() and not watcher.idle(0.5):
                pass
        else:
            while not stop.wait(0.5):
                pass
    finally:
        watcher.stop()
    click.echo("Stopped watching.", err=True)


def _report_error(exc: BaseException) -> None:
    from archive.errors import ChartvaultError

    if isinstance(exc, ChartvaultError):
        click.echo(f"Error: {exc.message} {exc.hint}".rstrip(), err=True)
    else:
        click.echo(f"Error while processing the inbox ({type(exc).__name__}); will retry.", err=True)
