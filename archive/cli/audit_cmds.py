"""CLI: audit verify|log|review|alerts|disclosures, disclose, settings list|set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from archive.cli.base import CliState, cli, emit_json, pass_state
from archive.errors import TamperDetected
from archive.plural import counted


@cli.group()
def audit() -> None:
    """The tamper-evident access log: verify it, read it (admins), review flagged entries."""


@audit.command("verify")
@click.option("--anchor", metavar="FILE|CODE",
              help="Also check the log still holds this anchor ('audit anchor' wrote it): exit 4 after a rollback.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def audit_verify(state: CliState, anchor: str | None, as_json: bool) -> None:
    """Check each entry's signature, the hash chain and the saved head; exit 4 naming the first bad entry.

    Also exits 4 when the vault is behind the newest entry this computer has seen.
    """
    from archive.audit_review import verify_audit

    report = verify_audit(state.session(), anchor=anchor)
    if as_json:
        emit_json(report.to_json())
    elif report.ok:
        click.echo(f"Audit chain intact: {report.entries} entries.")
    if not report.ok:
        where = f"entry {report.first_bad_seq}" if report.first_bad_seq else "the saved head"
        raise TamperDetected(
            f"Audit chain broken at {where}: {report.problem}.",
            "Entries were edited, removed, inserted or reordered. Keep this vault as evidence, restore index.db "
            "from a backup, and have an admin acknowledge it ('chartvault audit review').",
        )


@audit.command("anchor")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the signed anchor to this new file (keep it off this machine).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def audit_anchor(state: CliState, out: Path | None, as_json: bool) -> None:
    """Sign a checkpoint of the log (entry number, head hash, time) and print its short code.

    Keep the file (or the code, written down) away from this machine: 'audit verify --anchor' then
    exits 4 if the log is ever rolled back, cut at the end or forked behind it.
    """
    from archive.anchors import make_anchor

    made = make_anchor(state.session(), out)
    if as_json:
        emit_json(made.to_json())
        return
    if out is not None:
        click.echo(f"Wrote the anchor to {out}.")
    click.echo(f"Anchor code: {made.code} (entry {made.seq}, signed by {made.signer}, {made.ts[:19]}Z)")


def _entry_line(e: Any) -> str:
    flag = " [FLAGGED]" if e.flagged else ""
    bits = [f"{e.seq:>6}", e.ts[:19].replace("T", " "), f"{e.user or '-'}({e.role or '-'})", e.action, e.outcome]
    if e.patient:
        bits.append(f"patient={e.patient}")
    if e.record:
        bits.append(f"record={e.record}")
    if e.reason:
        bits.append(f"reason={e.reason!r}")
    return "  ".join(bits) + flag


@audit.command("log")
@click.option("--patient", metavar="MRN", help="Only entries about this patient.")
@click.option("--user", "user_name", metavar="NAME", help="Only entries by this user.")
@click.option("--since", metavar="DATE", help="From this date (YYYY-MM-DD, ISO time, or 30m / 12h / 7d ago).")
@click.option("--action", metavar="ACTION", help="Only this action (e.g. view_record, search, login_failed).")
@click.option("--flagged", is_flag=True, help="Only flagged entries.")
@click.option("--limit", type=click.IntRange(1), help="Only the last N matching entries.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def audit_log(
    state: CliState, patient: str | None, user_name: str | None, since: str | None, action: str | None,
    flagged: bool, limit: int | None, as_json: bool,
) -> None:
    """List audit entries (admin only): time, user, role, action, outcome, patient, record, reason."""
    from archive.audit_review import entry_json, read_audit_log

    entries = read_audit_log(
        state.session(), patient=patient, user=user_name, since=since, action=action,
        flagged=True if flagged else None, limit=limit,
    )
    if as_json:
        emit_json([entry_json(e) for e in entries])
        return
    if not entries:
        click.echo("No matching audit entries.")
    for e in entries:
        click.echo(_entry_line(e))


@audit.command("review")
@click.option("--ack", "ack", type=int, metavar="SEQ", help="Acknowledge flagged entry SEQ (written as a new entry).")
@click.option("--note", default="", help="A note to keep with --ack.")
@click.option("--all", "show_all", is_flag=True, help="Also list entries already acknowledged.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def audit_review(state: CliState, ack: int | None, note: str, show_all: bool, as_json: bool) -> None:
    """List flagged entries (break-glass, key exports, integrity failures) for review; --ack SEQ (admin only)."""
    from archive.audit_review import acknowledge, flagged_entries

    session = state.session()
    if ack is not None:
        seq = acknowledge(session, ack, note)
        if as_json:
            emit_json({"acknowledged": ack, "entry": seq})
        else:
            click.echo(f"Acknowledged entry {ack} (recorded as entry {seq}).")
        return
    items = flagged_entries(session, include_acknowledged=show_all)
    if as_json:
        emit_json([i.to_json() for i in items])
        return
    if not items:
        click.echo("No flagged entries waiting for review." if not show_all else "No flagged entries.")
    for item in items:
        extra = []
        if item.uses:
            extra.append(f"{counted(item.uses, 'access', 'accesses')} under it")
        if item.acknowledged_by:
            extra.append(f"acknowledged in entry {item.acknowledged_by}")
        click.echo(_entry_line(item.entry) + (f"  ({'; '.join(extra)})" if extra else ""))


@audit.command("alerts")
@click.option("--since", metavar="DATE", help="Only entries from this date (YYYY-MM-DD, ISO time, or 7d ago).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def audit_alerts_cmd(state: CliState, since: str | None, as_json: bool) -> None:
    """Unusual access: many patients in a short time, failed logins, denials, break-glass, key exports, tampering."""
    from archive.alerts import audit_alerts

    alerts = audit_alerts(state.session(), since=since)
    if as_json:
        emit_json([a.to_json() for a in alerts])
        return
    if not alerts:
        click.echo("No alerts.")
    for a in alerts:
        ack = " (acknowledged)" if a.acknowledged else ""
        click.echo(f"[{a.severity.upper()}] {a.kind}: {a.summary}{ack}")
        seqs = ", ".join(str(s) for s in a.seqs[:20]) + (" …" if len(a.seqs) > 20 else "")
        click.echo(f"    {a.first_ts[:19].replace('T', ' ')}  entries: {seqs}")


@audit.command("disclosures")
@click.argument("mrn")
@click.option("--since", metavar="DATE", help="Only from this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def audit_disclosures(state: CliState, mrn: str, since: str | None, as_json: bool) -> None:
    """Accounting of disclosures for patient MRN: who saw or received which record, when, why.

    Admins and technicians may prepare it (e.g. for a patient's request).
    """
    from archive.access import accounting_of_disclosures

    acc = accounting_of_disclosures(state.session(), mrn, since=since)
    if as_json:
        emit_json(acc.to_json())
        return
    click.echo(f"Accounting of disclosures for patient {acc.patient}: {len(acc.lines)} entries.")
    if not acc.chain_ok:
        click.echo(f"WARNING: the audit chain does not verify ({acc.chain_problem}).", err=True)
    for line in acc.lines:
        who = f"{line.user or '-'}" + (f" ({line.full_name})" if line.full_name else "") + f", {line.role or '-'}"
        what = f"{line.action} record {line.record}" if line.record else line.action
        if line.recipient:
            what += f" to {line.recipient}"
        why = f"  why: {line.why}" if line.why else ""
        click.echo(f"  {line.ts[:19].replace('T', ' ')}  {who}: {what}{why}")


@cli.command()
@click.argument("record_id")
@click.option("--to", "to", required=True, metavar="USER", help="The registered physician who receives the record.")
@click.option("--purpose", required=True, help="Why the record is released (kept in the accounting).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def disclose(state: CliState, record_id: str, to: str, purpose: str, as_json: bool) -> None:
    """Release RECORD_ID to a registered physician (technicians); recorded as a disclosure."""
    from archive.access import disclose as do_disclose

    d = do_disclose(state.session(), record_id, to, purpose)
    if as_json:
        emit_json(d.to_json())
        return
    click.echo(f"Disclosed record {d.record} to {d.recipient} (audit entry {d.audit_seq}); they may now open it.")


@cli.group()
def settings() -> None:
    """Facility settings: auto-lock timeout, break-glass duration, alert thresholds."""


@settings.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def settings_list(state: CliState, as_json: bool) -> None:
    """Show every setting with its current value and what it does."""
    from archive.settings import SETTINGS, list_settings

    values = list_settings(state.session())
    if as_json:
        emit_json(values)
        return
    for key, value in values.items():
        click.echo(f"{key:<32} {value!s:<8} {SETTINGS[key].help}")


@settings.command("set")
@click.argument("key")
@click.argument("value")
@pass_state
def settings_set(state: CliState, key: str, value: str) -> None:
    """Change setting KEY to VALUE (admin only, audited)."""
    from archive.settings import set_setting

    new = set_setting(state.session(), key, value)
    click.echo(f"{key} = {new}")
