"""CLI: patients (add, update, show, history, list), chart entries (add, correct, retract, history, list,
backfill) and encounters (add, correct). A thin layer over archive.charts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from archive.cli.base import CliState, cli, emit_json, pass_state
from archive.columns import mrn_cell, mrn_width
from archive.errors import ValidationError
from archive.plural import counted

F = TypeVar("F", bound=Callable[..., Any])


def _json_option(what: str) -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON.")


@contextmanager
def _renamed(options: dict[str, str]) -> Iterator[None]:
    """Name a ValidationError after the option this command spells its field with."""
    try:
        yield
    except ValidationError as exc:
        if exc.field not in options:
            raise
        raise exc.as_option(options[exc.field]) from None


def _stay(admitted: str | None, discharged: str | None) -> str:
    if not admitted:
        return "no stay on file"
    return f"admitted {admitted}, " + (f"discharged {discharged}" if discharged else "still in")


def _echo_patient(p: Any) -> None:
    click.echo(f"MRN {p.mrn}  {p.name or '(no name)'}  born {p.dob or '?'}  sex {p.sex or '?'}  status {p.status}")
    click.echo(
        f"  attending {p.attending or '-'}  ·  {_stay(p.admitted, p.discharged)}  ·  version {p.version}"
        + ("  ·  LEGAL HOLD" if p.legal_hold else "")
    )


def _echo_entry(e: Any, indent: str = "  ") -> None:
    flags = []
    if e.version > 1:
        flags.append(f"v{e.version}")
    if e.retracted:
        flags.append("ENTERED IN ERROR")
    if e.source_record:
        flags.append(f"from {e.source_record}" + (" (purged)" if e.source_purged else ""))
    if e.encounter_id:
        flags.append(e.encounter_id)
    tail = f"  ({', '.join(flags)})" if flags else ""
    click.echo(f"{indent}{e.id:<6} {e.date or '????-??-??'}  {e.kind:<12} {e.summary()}  [{e.status}]{tail}")


# ---------------------------------------------------------------- patient


@cli.group()
def patient() -> None:
    """Patients: add, update, show a chart, its history, list."""


@patient.command("add")
@click.option("--mrn", required=True, help="Medical record number (unique).")
@click.option("--name", required=True, help="Full name, e.g. 'Maria Garcia'.")
@click.option("--dob", required=True, metavar="YYYY-MM-DD", help="Date of birth.")
@click.option("--sex", required=True, metavar="F|M|X|U", help="Sex: F, M, X or U (unknown).")
@click.option("--physician", metavar="USER", help="Attending physician (a registered physician's user name).")
@click.option("--admitted", metavar="DATE", help="Admission date (opens an admission encounter).")
@click.option("--discharged", metavar="DATE", help="Discharge date.")
@click.option("--force", is_flag=True,
              help="Add even though a patient with a similar name and the same birth date exists.")
@_json_option("the new patient")
@pass_state
def patient_add(state: CliState, mrn: str, name: str, dob: str, sex: str, physician: str | None,
                admitted: str | None, discharged: str | None, force: bool, as_json: bool) -> None:
    """Add a patient.

    Every field is checked: the birth date is a real date and not in the future,
    the physician is a registered physician, discharge comes after admission.
    A patient with the same (or a near-identical) name and the same birth date
    is refused as a likely duplicate; check it is a different person, then
    repeat with --force. Failures exit 2 and name the option.
    """
    from archive.charts.patients import add_patient

    p = add_patient(state.session(), mrn, name, dob, sex, physician=physician, admitted=admitted,
                    discharged=discharged, force=force)
    if as_json:
        emit_json(p.to_json())
        return
    click.echo(f"Added patient {p.mrn}.")
    _echo_patient(p)


@patient.command("update")
@click.argument("mrn")
@click.option("--name", help="New full name.")
@click.option("--dob", metavar="YYYY-MM-DD", help="New date of birth.")
@click.option("--sex", metavar="F|M|X|U", help="New sex.")
@click.option("--physician", metavar="USER", help="New attending physician.")
@click.option("--admitted", metavar="DATE", help="Admission date.")
@click.option("--discharged", metavar="DATE", help="Discharge date.")
@click.option("--status", metavar="STATUS", help="active, inactive or deceased.")
@click.option("--reason", help="Why (kept in the history).")
@click.option("--expect-version", type=int, metavar="N",
              help="The version you started from; refused if someone saved since.")
@click.option("--force", is_flag=True, help="Save even if the new name/birth date looks like another patient.")
@_json_option("the updated patient")
@pass_state
def patient_update(state: CliState, mrn: str, reason: str | None, expect_version: int | None, force: bool,
                   as_json: bool, **changes: Any) -> None:
    """Change a patient's details; the old values stay in 'patient history'.

    Setting --admitted/--discharged updates (or opens) the admission encounter.
    """
    from archive.charts.patients import update_patient

    changes["attending"] = changes.pop("physician")
    p = update_patient(state.session(), mrn, reason=reason, expect_version=expect_version, force=force, **changes)
    if as_json:
        emit_json(p.to_json())
        return
    click.echo(f"Updated patient {p.mrn} (version {p.version}).")
    _echo_patient(p)


@patient.command("show")
@click.argument("mrn")
@click.option("--all", "include_retracted", is_flag=True, help="Include entries entered in error.")
@_json_option("the chart (patient, encounters, entries, records)")
@pass_state
def patient_show(state: CliState, mrn: str, include_retracted: bool, as_json: bool) -> None:
    """Show a patient's chart: details, encounters, entries and records."""
    from archive.charts.entries import patient_chart

    chart = patient_chart(state.session(), mrn, include_retracted=include_retracted)
    if as_json:
        emit_json(chart.to_json())
        return
    _echo_patient(chart.patient)
    click.echo(f"Encounters ({len(chart.encounters)}):")
    for e in chart.encounters:
        click.echo(f"  {e.id:<6} {e.kind:<9} {e.start} to {e.end or 'now':<10}  {e.attending or '-':<10} {e.text}")
    click.echo(f"Entries ({len(chart.entries)}):")
    for entry in chart.entries:
        _echo_entry(entry)
    click.echo(f"Records ({len(chart.records)}):")
    for r in chart.records:
        click.echo(f"  {r.record_id}  {r.date or '-':<10}  {r.type or '-':<14} {r.title or ''}")


@patient.command("history")
@click.argument("mrn")
@_json_option("the changes")
@pass_state
def patient_history_cmd(state: CliState, mrn: str, as_json: bool) -> None:
    """Every change to a patient's chart, oldest first: who, when, why, before and after."""
    from archive.charts.history import patient_history

    events = patient_history(state.session(), mrn)
    if as_json:
        emit_json([e.to_json() for e in events])
        return
    for e in events:
        why = f"  reason: {e.reason}" if e.reason else ""
        click.echo(f"{e.at}  {e.by:<10} {e.action:<9} {e.entity} {e.entity_id} v{e.version}{why}")
        for name, (before, after) in e.changes.items():
            click.echo(f"    {name}: {before!r} -> {after!r}" if before is not None else f"    {name}: {after!r}")


@patient.command("list")
@_json_option("the patients")
@pass_state
def patient_list(state: CliState, as_json: bool) -> None:
    """List the patients you may see."""
    from archive.charts.patients import list_patients

    patients = list_patients(state.session())
    if as_json:
        emit_json([p.to_json() for p in patients])
        return
    if not patients:
        click.echo("No patients.")
    width = mrn_width((p.mrn for p in patients), least=20)
    for p in patients:
        click.echo(f"{mrn_cell(p.mrn, width)} {p.name or '(no name)':<28} {p.dob or '?':<10} {p.sex or '?'}  "
                   f"{p.attending or '-':<10} {_stay(p.admitted, p.discharged)}")


# ---------------------------------------------------------------- chart


def _entry_options(correcting: bool) -> Callable[[F], F]:
    """The field options of 'chart add' and 'chart correct'."""

    def wrap(fn: F) -> F:
        options = [
            click.option("--kind", metavar="KIND", required=not correcting,
                         help="procedure, medication, complication, referral or diagnosis."),
            click.option("--text", required=not correcting,
                         help="What it was (for a medication, its name and strength)."),
            click.option("--date", metavar="YYYY-MM-DD", required=not correcting, help="When it happened."),
            click.option("--status", metavar="STATUS",
                         help="active, completed, planned, resolved, stopped, cancelled, inactive, unknown, "
                              "entered_in_error."),
            click.option("--encounter", "encounter_id", metavar="ID",
                         help="The encounter (default: the one covering the date)."),
            click.option("--dose", help="Medication dose, e.g. '500 mg'."),
            click.option("--route", help="Medication route, e.g. oral, IV."),
            click.option("--frequency", help="Medication frequency, e.g. 'twice daily'."),
            click.option("--start", metavar="DATE", help="Medication start (default: --date)."),
            click.option("--stop", metavar="DATE", help="Medication stop."),
            click.option("--stop-reason", "stop_reason", metavar="TEXT",
                         help="Medication: why it was stopped (adverse reaction, dose change, course completed); "
                              "needs --stop or --status stopped (with a past --stop and no --status it is saved "
                              "as stopped)."),
            click.option("--to", "referral_to", metavar="WHOM", help="Referral: the doctor or facility."),
            click.option("--to-kind", "referral_to_kind", metavar="doctor|facility",
                         help="Referral: whether --to is a doctor or a facility (default doctor)."),
            click.option("--code", help="Diagnosis/complication: an ICD-10-CM code (E11.9); others: any code."),
            click.option("--source", "source_record", metavar="RECORD_ID", help="The record this comes from."),
            click.option("--force", is_flag=True, help="Save even though it looks like a duplicate entry."),
        ]
        if correcting:
            options.append(click.option("--referral-reason", "referral_reason", help="Referral: why."))
        else:
            options.append(click.option("--reason", "referral_reason", help="Referral: why (required for referrals)."))
        for option in reversed(options):
            fn = option(fn)
        return fn

    return wrap


@cli.group()
def chart() -> None:
    """Chart entries: add, correct, retract, history, list; backfill from imports; rederive facts."""


@chart.command("add")
@click.argument("mrn")
@_entry_options(correcting=False)
@_json_option("the new entry")
@pass_state
def chart_add(state: CliState, mrn: str, kind: str, text: str, date: str, force: bool, as_json: bool,
              **fields: Any) -> None:
    """Add an entry to a patient's chart.

    \b
    Examples:
      chartvault chart add 12345 --kind medication --text "Amoxicillin 500 mg capsule" \\
          --date 2024-03-05 --dose "500 mg" --route oral --frequency "three times daily" --stop 2024-03-12
      chartvault chart add 12345 --kind medication --text "Warfarin 5 mg tablet" --date 2021-06-01 \\
          --status stopped --stop 2021-08-30 --stop-reason "upper GI bleed"
      chartvault chart add 12345 --kind referral --text "Cardiology referral" --date 2024-03-06 \\
          --to "St Mary's Cardiology" --to-kind facility --reason "new murmur"
      chartvault chart add 12345 --kind diagnosis --text "Type 2 diabetes" --date 2024-03-05 --code E11.9

    The date may not be in the future, before birth, or outside the patient's
    stay (unless an encounter covers it); a medication cannot stop before it
    starts; the same kind, text and date twice is refused as a duplicate
    (--force if it really happened twice). Failures exit 2 and name the option.
    """
    from archive.charts.entries import add_entry

    with _renamed({"referral_reason": "--reason"}):
        entry = add_entry(state.session(), mrn, kind, text, date, force=force, **fields)
    if as_json:
        emit_json(entry.to_json())
        return
    click.echo(f"Added {entry.id} to {entry.patient}'s chart.")
    _echo_entry(entry)


@chart.command("correct")
@click.argument("entry_id")
@click.option("--reason", required=True, help="Why the entry was wrong (kept with the new version).")
@click.option("--expect-version", type=int, metavar="N",
              help="The version you started from; refused if someone saved a newer one since.")
@_entry_options(correcting=True)
@_json_option("the corrected entry")
@pass_state
def chart_correct(state: CliState, entry_id: str, reason: str, expect_version: int | None, force: bool,
                  as_json: bool, **changes: Any) -> None:
    """Correct an entry: a new version with your reason; the old one stays in its history.

    Give only the fields that change ('' clears an optional one); a new
    --kind drops the fields only the old kind has (a medication's start, stop,
    stop reason, dose...; the old version keeps them). With
    --expect-version N the correction is refused if the entry is no longer at
    version N (someone else saved in between): nothing is overwritten silently.
    """
    from archive.charts.entries import correct_entry

    entry = correct_entry(state.session(), entry_id, reason, expect_version, force=force, **changes)
    if as_json:
        emit_json(entry.to_json())
        return
    click.echo(f"Saved {entry.id} version {entry.version}.")
    _echo_entry(entry)


@chart.command("retract")
@click.argument("entry_id")
@click.option("--reason", required=True, help="Why the entry was entered in error.")
@click.option("--expect-version", type=int, metavar="N", help="The version you started from.")
@_json_option("the retracted entry")
@pass_state
def chart_retract(state: CliState, entry_id: str, reason: str, expect_version: int | None, as_json: bool) -> None:
    """Mark an entry as entered in error (a new version; nothing is deleted)."""
    from archive.charts.entries import correct_entry

    entry = correct_entry(state.session(), entry_id, reason, expect_version, status="entered_in_error")
    if as_json:
        emit_json(entry.to_json())
        return
    click.echo(f"{entry.id} is marked entered in error (version {entry.version}).")


@chart.command("history")
@click.argument("entry_id")
@_json_option("every version")
@pass_state
def chart_history(state: CliState, entry_id: str, as_json: bool) -> None:
    """Every version of an entry: who saved it, when, why, and what changed."""
    from archive.charts.entries import entry_history

    versions = entry_history(state.session(), entry_id)
    if as_json:
        emit_json([v.to_json() for v in versions])
        return
    previous: dict[str, Any] = {}
    for v in versions:
        why = f"  reason: {v.correction_reason}" if v.correction_reason else ""
        click.echo(f"v{v.version}  {v.saved_at}  {v.saved_by}{why}")
        fields = v.fields()
        for name, value in fields.items():
            if previous and previous.get(name) != value:
                click.echo(f"    {name}: {previous.get(name)!r} -> {value!r}")
        if not previous:
            _echo_entry(v, indent="    ")
        previous = fields


@chart.command("list")
@click.argument("mrn")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", help="Only this kind (repeatable).")
@click.option("--from", "date_from", metavar="DATE", help="Entries dated on or after DATE.")
@click.option("--to", "date_to", metavar="DATE", help="Entries dated on or before DATE.")
@click.option("--all", "include_retracted", is_flag=True, help="Include entries entered in error.")
@_json_option("the entries")
@pass_state
def chart_list(state: CliState, mrn: str, kinds: tuple[str, ...], date_from: str | None, date_to: str | None,
               include_retracted: bool, as_json: bool) -> None:
    """A patient's chart entries (current versions), by date."""
    from archive.charts.entries import list_entries

    entries = list_entries(state.session(), mrn, kinds, date_from, date_to, include_retracted)
    if as_json:
        emit_json([e.to_json() for e in entries])
        return
    if not entries:
        click.echo("No entries.")
    for e in entries:
        _echo_entry(e, indent="")


@chart.command("rederive")
@_json_option("the counts")
@pass_state
def chart_rederive(state: CliState, as_json: bool) -> None:
    """Re-derive the facts of records imported before this version: each confirmed code on the encounter
    and dates its passage names, multi-encounter bundles dated by their last clinical date (in the search
    index too), and the review queue's checks. Prints diagnosis counts per year before and after, and how
    many search index rows it refreshed. Safe to run again."""
    from archive.rederive import rederive_facts

    report = rederive_facts(state.session())
    if as_json:
        emit_json(report.to_json())
        return
    click.echo(f"{counted(report.records_redated, 'record')} re-dated; {report.codes_moved} of "
               f"{counted(report.codes_checked, 'confirmed code')} moved to their own encounter and dates; "
               f"{report.undecided} undecided (asked in the review queue); "
               f"{counted(report.review_items, 'new review item')}; "
               f"{counted(report.search_rows_refreshed, 'search index row')} refreshed (dates, fact years).")
    years = sorted(set(report.events_before) | set(report.events_after))
    if years:
        click.echo("Diagnoses per year (before -> after):")
        for year in years:
            before, after = report.events_before.get(year, 0), report.events_after.get(year, 0)
            mark = "" if before == after else "  *"
            click.echo(f"  {year}  {before:>6} -> {after:<6}{mark}")


@chart.command("backfill")
@_json_option("the counts")
@pass_state
def chart_backfill(state: CliState, as_json: bool) -> None:
    """Put the medications, procedures, conditions and encounters of already imported HL7/FHIR
    records on their patients' charts. Safe to run again: nothing lands twice.

    New imports land on the chart by themselves; this is for records imported
    before charts existed.
    """
    from archive.charts.landing import backfill_charts

    report = backfill_charts(state.session())
    if as_json:
        emit_json(report.to_json())
        return
    click.echo(
        f"{counted(report.records, 'record')} with chart facts: "
        f"{counted(report.entries_added, 'entry', 'entries')} and "
        f"{counted(report.encounters_added, 'encounter')} added, {report.already} already on the chart, "
        f"{report.duplicates} told again by another record."
    )
    if report.waiting_for_filing:
        waiting = report.waiting_for_filing
        click.echo(f"{counted(waiting, 'record')} {'waits' if waiting == 1 else 'wait'} for filing;"
                   f" {'it lands' if waiting == 1 else 'they land'} when filed.")


# ---------------------------------------------------------------- encounter


@cli.group()
def encounter() -> None:
    """Encounters (admissions and visits): add, correct."""


@encounter.command("add")
@click.argument("mrn")
@click.option("--kind", required=True, metavar="admission|visit", help="admission or visit.")
@click.option("--start", required=True, metavar="DATE", help="First day.")
@click.option("--end", metavar="DATE", help="Last day (discharge); leave out while it goes on.")
@click.option("--physician", metavar="USER", help="Attending physician (default: the patient's).")
@click.option("--text", help="Description, e.g. 'Emergency visit'.")
@_json_option("the new encounter")
@pass_state
def encounter_add(state: CliState, mrn: str, kind: str, start: str, end: str | None, physician: str | None,
                  text: str | None, as_json: bool) -> None:
    """Add an admission or a visit. Overlapping admissions and a second
    encounter of the same kind on the same day are refused."""
    from archive.charts.encounters import add_encounter

    e = add_encounter(state.session(), mrn, kind, start, end, physician, text)
    if as_json:
        emit_json(e.to_json())
        return
    click.echo(f"Added {e.id}: {e.kind} {e.start} to {e.end or 'now'} for {e.patient}.")


@encounter.command("correct")
@click.argument("encounter_id")
@click.option("--reason", required=True, help="Why (kept in the history).")
@click.option("--expect-version", type=int, metavar="N", help="The version you started from.")
@click.option("--kind", metavar="admission|visit", help="admission or visit.")
@click.option("--start", metavar="DATE", help="First day.")
@click.option("--end", metavar="DATE", help="Last day.")
@click.option("--physician", metavar="USER", help="Attending physician.")
@click.option("--text", help="Description.")
@click.option("--status", metavar="STATUS", help="active or entered_in_error.")
@_json_option("the corrected encounter")
@pass_state
def encounter_correct(state: CliState, encounter_id: str, reason: str, expect_version: int | None, as_json: bool,
                      physician: str | None, **changes: Any) -> None:
    """Correct an encounter (a new version with your reason; the old values stay in the history)."""
    from archive.charts.encounters import correct_encounter

    e = correct_encounter(state.session(), encounter_id, reason, expect_version, attending=physician, **changes)
    if as_json:
        emit_json(e.to_json())
        return
    click.echo(f"Saved {e.id} version {e.version}: {e.kind} {e.start} to {e.end or 'now'}.")
