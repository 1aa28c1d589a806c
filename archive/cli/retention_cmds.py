"""CLI: retention report, purge, rules and legal holds."""

from __future__ import annotations

import datetime as dt

import click

from archive.cli.base import CliState, cli, emit_json, pass_state, progress_bar
from archive.columns import mrn_cell, mrn_width
from archive.errors import BadInput, UserError
from archive.plural import counted


def _as_of(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--as-of: '{value}' is not a date.", "Use YYYY-MM-DD.") from None


@cli.group()
def retention() -> None:
    """Retention schedules: report and purge records past their retention date; legal holds."""


@retention.command("report")
@click.option("--as-of", "as_of", help="Evaluate as of this date (YYYY-MM-DD; default today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def retention_report_cmd(state: CliState, as_of: str | None, as_json: bool) -> None:
    """List records past their retention date, with the rule that applies (held ones marked)."""
    from archive.retention import retention_report

    due = retention_report(state.session(), _as_of(as_of))
    if as_json:
        emit_json([d.to_json() for d in due])
        return
    if not due:
        click.echo("No record is past its retention date.")
        return
    width = mrn_width(d.patient for d in due)
    for d in due:
        hold = "  [LEGAL HOLD]" if d.held else ""
        click.echo(f"{d.record_id}  {mrn_cell(d.patient, width)} {d.doc_type or '-':<14} until {d.retain_until}{hold}")
        click.echo(f"    {d.rule}; last activity {d.last_activity}")
    held = sum(d.held for d in due)
    click.echo(f"{counted(len(due), 'record')} past retention; {held} on legal hold.")


@retention.command("purge")
@click.option("--confirm", is_flag=True, help="Really destroy the records (without it, nothing is done).")
@click.option("--as-of", "as_of", help="Evaluate as of this date (YYYY-MM-DD; default today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def retention_purge_cmd(state: CliState, confirm: bool, as_of: str | None, as_json: bool) -> None:
    """Destroy records past their retention date (blobs, index, embeddings); legal holds are kept.

    Each destroyed record leaves an audit entry naming it and the rule, never its content.
    """
    from archive.retention import due_records, purge

    session = state.session()
    if not confirm:
        due = [d for d in due_records(session, _as_of(as_of)) if not d.held]
        raise UserError(
            f"{counted(len(due), 'record')} would be destroyed; nothing was done.",
            "Review them with 'chartvault retention report', then add --confirm.",
        )
    report = purge(session, _as_of(as_of), progress=progress_bar("Purging", quiet=as_json))
    if as_json:
        emit_json(
            {
                "purged": [d.to_json() for d in report.purged],
                "held": [d.to_json() for d in report.held],
                "blobs_deleted": report.blobs_deleted,
            }
        )
        return
    click.echo(f"Destroyed {counted(len(report.purged), 'record')} ({counted(report.blobs_deleted, 'blob')}); "
               f"{len(report.held)} kept under legal hold.")


@retention.command("rule")
@click.option("--type", "pattern", help="Document type or pattern, e.g. 'note', 'hl7:*', '*' (the default).")
@click.option("--adult-years", type=int, help="Years kept after the last discharge or record (adults).")
@click.option("--minor-years", type=int, help="Years kept after a minor reaches the age of majority (18).")
@click.option("--note", default="", help="Why (e.g. the state regulation).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def retention_rule_cmd(
    state: CliState, pattern: str | None, adult_years: int | None, minor_years: int | None, note: str, as_json: bool
) -> None:
    """Show the retention rules, or set one (admin) with --type, --adult-years and --minor-years."""
    from archive.retention import list_rules, set_rule

    session = state.session()
    if pattern is not None:
        if adult_years is None or minor_years is None:
            raise BadInput("Setting a rule needs --adult-years and --minor-years.", "For example: "
                           "chartvault retention rule --type 'hl7:*' --adult-years 7 --minor-years 7")
        set_rule(session, pattern, adult_years, minor_years, note)
    rules = list_rules(session)
    if as_json:
        emit_json([r.__dict__ for r in rules])
        return
    for r in rules:
        click.echo(f"{r.pattern:<16} adults {r.adult_years:>3} y   minors {r.minor_years:>3} y past 18   {r.note}")


@retention.command("hold")
@click.argument("mrn")
@click.option("--reason", required=True, help="Why the records must be kept (e.g. a case number).")
@pass_state
def retention_hold_cmd(state: CliState, mrn: str, reason: str) -> None:
    """Place a legal hold on patient MRN: none of their records is purged while it lasts."""
    from archive.retention import place_hold

    place_hold(state.session(), mrn, reason)
    click.echo(f"Legal hold placed on {mrn}.")


@retention.command("release")
@click.argument("mrn")
@pass_state
def retention_release_cmd(state: CliState, mrn: str) -> None:
    """Release the legal hold on patient MRN."""
    from archive.retention import release_hold

    release_hold(state.session(), mrn)
    click.echo(f"Legal hold on {mrn} released.")
