"""CLI: backup [verify], restore."""

from __future__ import annotations

from pathlib import Path

import click
from click_default_group import DefaultGroup

from archive.cli.base import CliState, cli, emit_json, pass_state, progress_bar
from archive.plural import counted


@cli.group(cls=DefaultGroup, default="create", default_if_no_args=False)
def backup() -> None:
    """Back up the vault: `chartvault backup DEST`, `chartvault backup verify DEST`.

    DEST is a folder, or a file ending in .tar. Backups are incremental: blobs
    already in DEST are not copied again. Everything written is ciphertext.
    """


@backup.command("create")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def backup_create(state: CliState, dest: Path, as_json: bool) -> None:
    """Write a consistent, encrypted, incremental backup to DEST (the default subcommand)."""
    from archive.backup import backup_vault

    report = backup_vault(state.session(), dest, progress=progress_bar("Backing up", quiet=as_json))
    if as_json:
        emit_json(
            {
                "dest": str(report.dest),
                "files": report.files_total,
                "copied": report.files_copied,
                "removed": report.files_removed,
                "bytes_copied": report.bytes_copied,
            }
        )
        return
    click.echo(
        f"Backed up to {report.dest}: {report.files_total} files, {report.files_copied} copied "
        f"({report.bytes_copied / 1e6:.1f} MB incl. the index), {report.files_removed} removed."
    )


@backup.command("verify")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def backup_verify(state: CliState, dest: Path, as_json: bool) -> None:
    """Check that every blob in the backup DEST decrypts and matches its manifest, without restoring.

    Unlocks with your keyslot as stored in the backup. Exits 4 on any problem.
    """
    from archive.backup import verify_backup
    from archive.errors import TamperDetected

    user = state.user_name_for(dest)
    check = verify_backup(dest, user, state.passphrase(user), progress=progress_bar("Verifying", quiet=as_json))
    if as_json:
        emit_json(check.to_json())
    else:
        click.echo(f"Backup {check.source} from {check.created_at}: {check.files} files, "
                   f"{check.blobs_checked} blobs checked.")
        click.echo(f"Audit chain: {check.audit_summary}")
        for problem in check.problems:
            click.echo(f"  BAD {problem}", err=True)
    if not check.ok:
        raise TamperDetected(f"The backup has {counted(len(check.problems), 'problem')}.", "Use another backup.")


@cli.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--to", "to", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="New (or empty) folder for the restored vault.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def restore(state: CliState, src: Path, to: Path, as_json: bool) -> None:
    """Rebuild a working vault at --to from the backup SRC, and check it (blobs, index, audit chain)."""
    from archive.backup import restore_backup

    user = state.user_name_for(src)
    check = restore_backup(src, to, user, state.passphrase(user), progress=progress_bar("Checking", quiet=as_json))
    if as_json:
        emit_json(check.to_json() | {"restored_to": str(to)})
        return
    click.echo(f"Restored {check.files} files to {to}; {check.blobs_checked} blobs checked; "
               f"audit chain {check.audit_summary}.")
    click.echo(f"Open it with: chartvault --vault {to}")
