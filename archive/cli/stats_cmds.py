"""CLI: statistics (frequency, recurrence, readmissions) and de-identified exports (stats, cases).

A thin layer over archive.stats and archive.deid: they check policy, audit and
count; this module only parses options and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from archive.cli.base import CliState, cli, emit_json, pass_state
from archive.plural import counted


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _ci(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"95% CI {_pct(low)}-{_pct(high)}"


@cli.group()
def stats() -> None:
    """Statistics for funding and research: frequency of illnesses, recurrence, readmissions."""


@stats.command("frequency")
@click.option("--by", type=click.Choice(["chapter", "category", "code"]), default="chapter", show_default=True,
              help="Group diagnoses by ICD-10-CM chapter, category (3 characters) or full code.")
@click.option("--period", type=click.Choice(["month", "quarter", "year"]), default="year", show_default=True,
              help="Count per month, quarter or year (of the encounter's start).")
@click.option("--from", "date_from", metavar="DATE", help="First day counted (YYYY-MM-DD, YYYY-MM or YYYY).")
@click.option("--to", "date_to", metavar="DATE", help="Last day counted (YYYY-MM-DD, YYYY-MM or YYYY).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def stats_frequency(state: CliState, by: str, period: str, date_from: str | None, date_to: str | None,
                    as_json: bool) -> None:
    """How often illnesses were treated: distinct patients and encounters per period and code group."""
    from archive.stats import frequency

    result = frequency(state.session(), by=by, period=period, date_from=date_from, date_to=date_to)
    if as_json:
        emit_json(result.to_json())
        return
    if not result.cells:
        click.echo("No dated diagnoses in that range. Diagnoses come from confirmed record codes and coded"
                   " chart diagnoses ('chartvault code confirm', 'chartvault chart add --kind diagnosis --code').")
        return
    width = max(len(c.group) for c in result.cells)
    click.echo(f"{'period':<8} {by:<{width}} {'patients':>8} {'encounters':>10}  description")
    for c in result.cells:
        click.echo(f"{c.period:<8} {c.group:<{width}} {c.patients:>8} {c.encounters:>10}  {c.label[:60]}")
    click.echo("")
    click.echo("All groups (distinct; a patient with several diagnoses counts once):")
    for m in result.periods:
        click.echo(f"{m.key:<8} {'':<{width}} {m.patients:>8} {m.encounters:>10}")
    click.echo(f"{'total':<8} {'':<{width}} {result.total.patients:>8} {result.total.encounters:>10}")
    if result.undated:
        click.echo(f"\n{counted(result.undated, 'diagnosis', 'diagnoses')} without a date or an encounter to date them"
                   f" {'was' if result.undated == 1 else 'were'} left out.")


@stats.command("recurrence")
@click.argument("code", metavar="CODE")
@click.option("--window-days", default=365, show_default=True,
              help="A recurrence is a new episode starting within this many days after the first resolved.")
@click.option("--gap-days", default=30, show_default=True,
              help="A diagnosis this many days or more after the current episode resolved starts a new episode.")
@click.option("--as-of", metavar="DATE", help="Count follow-up up to this day (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def stats_recurrence(state: CliState, code: str, window_days: int, gap_days: int, as_of: str | None,
                     as_json: bool) -> None:
    """Share of patients with CODE (a code or category: W19, S72, N39.0, A04.7) whose condition came back."""
    from archive.stats import recurrence

    r = recurrence(state.session(), code, window_days=window_days, gap_days=gap_days, as_of=as_of)
    if as_json:
        emit_json(r.to_json())
        return
    click.echo(f"Recurrence of {r.code}" + (f" ({r.label})" if r.label else "") + f", as of {r.as_of}")
    click.echo(f"  new episode: a diagnosis {r.gap_days}+ days after the previous episode resolved;"
               f" window {r.window_days} days")
    lines = [
        ("patients with a first episode", r.patients, ""),
        ("first episode still open", r.unresolved, "not at risk yet"),
        ("follow-up not over", r.censored, "window not over, no recurrence yet: left out"),
        ("patients counted", r.eligible, ""),
        ("recurred", r.recurred, ""),
    ]
    for label, value, note in lines:
        click.echo(f"  {label:<31} {value:>6}" + (f"  ({note})" if note else ""))
    click.echo(f"  {'rate':<31} {_pct(r.rate):>6}  {_ci(r.ci_low, r.ci_high)}")
    if r.median_days_to_recurrence is not None:
        click.echo(f"  {'median days to recurrence':<31} {r.median_days_to_recurrence:>6g}")


@stats.command("readmissions")
@click.option("--days", default=30, show_default=True,
              help="An admission starting within this many days of a discharge of the same patient is a readmission.")
@click.option("--as-of", metavar="DATE", help="Count follow-up up to this day (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def stats_readmissions(state: CliState, days: int, as_of: str | None, as_json: bool) -> None:
    """Readmissions within N days of a discharge, by attending physician (of the first stay) and overall."""
    from archive.stats import readmissions

    r = readmissions(state.session(), days=days, as_of=as_of)
    if as_json:
        emit_json(r.to_json())
        return
    click.echo(f"Readmissions within {r.days} days of a discharge, as of {r.as_of}")
    click.echo(f"  {'physician':<28} {'discharges':>10} {'counted':>8} {'readmitted':>10} {'rate':>7}  interval")
    for row in [*r.by_physician, r.overall]:
        name = row.physician or "(no attending on file)"
        if row.full_name:
            name = f"{row.full_name} ({row.physician})"
        if row is r.overall:
            name = "overall"
        click.echo(f"  {name[:28]:<28} {row.discharges:>10} {row.eligible:>8} {row.readmitted:>10}"
                   f" {_pct(row.rate):>7}  {_ci(row.ci_low, row.ci_high)}")
    if r.overall.censored:
        click.echo(f"  {counted(r.overall.censored, 'discharge')} in the last {r.days} days without a readmission yet"
                   f" {'is' if r.overall.censored == 1 else 'are'} not counted.")


@cli.group("export")
def export_group() -> None:
    """De-identified research extracts (HIPAA Safe Harbor, small cells suppressed); audited."""


def _min_cell_option(f: Any) -> Any:
    return click.option("--min-cell", default=11, show_default=True,
                        help="Counts below this are suppressed (with enough others that totals cannot reveal them).")(f)


def _report(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_json())
        return
    click.echo(f"Wrote {counted(result.rows, 'row')} to {result.path} (readable by you only).")
    if result.kind == "stats":
        click.echo(f"  {counted(result.suppressed_cells, 'cell')} suppressed (below {result.min_cell}, or needed to"
                   f" protect one); {counted(result.merged_groups, 'group')} with fewer than {result.min_cell}"
                   " patients combined into OTHER.")
    else:
        click.echo(f"  {counted(result.patients, 'patient')} under one-off pseudonyms;"
                   f" {counted(result.generalized_rows, 'row')} shown"
                   f" at category level and {result.suppressed_rows} left out (fewer than {result.min_cell}"
                   " patients).")


@export_group.command("stats")
@click.option("--by", type=click.Choice(["chapter", "category", "code"]), default="chapter", show_default=True,
              help="Group by ICD-10-CM chapter, category or code.")
@click.option("--period", type=click.Choice(["month", "quarter", "year"]), default="year", show_default=True,
              help="Exports carry years only (Safe Harbor); month and quarter are refused.")
@click.option("--from", "date_from", metavar="DATE", help="First day counted.")
@click.option("--to", "date_to", metavar="DATE", help="Last day counted.")
@_min_cell_option
@click.option("--out", required=True, type=click.Path(path_type=Path), help="CSV file to write (created 0600).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_state
def export_stats_cmd(state: CliState, by: str, period: str, date_from: str | None, date_to: str | None,
                     min_cell: int, out: Path, force: bool, as_json: bool) -> None:
    """Counts of patients and encounters per year and code group, de-identified, to a CSV file."""
    from archive.deid import export_stats

    _report(export_stats(state.session(), out, by=by, period=period, date_from=date_from, date_to=date_to,
                         min_cell=min_cell, force=force), as_json)


@export_group.command("cases")
@click.option("--codes", required=True, metavar="CODE[,CODE...]",
              help="Codes or categories to extract, e.g. S72,W19 or N39.0.")
@click.option("--from", "date_from", metavar="DATE", help="First day counted.")
@click.option("--to", "date_to", metavar="DATE", help="Last day counted.")
@_min_cell_option
@click.option("--out", required=True, type=click.Path(path_type=Path), help="CSV file to write (created 0600).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--list", "patient_list", metavar="LIST", help="Only the patients of patient list LIST.")
@pass_state
def export_cases_cmd(state: CliState, codes: str, date_from: str | None, date_to: str | None, min_cell: int,
                     out: Path, force: bool, as_json: bool, patient_list: str | None = None) -> None:
    """One de-identified row per patient, encounter and code: pseudonym, year, age, sex, setting, stay, code."""
    from archive.deid import export_cases

    _report(export_cases(state.session(), out, codes=[codes], date_from=date_from, date_to=date_to,
                         min_cell=min_cell, force=force, patient_list=patient_list), as_json)
