"""CLI: user add, list, disable."""

from __future__ import annotations

import click

from archive.cli.base import CliState, cli, emit_json, new_passphrase, pass_state, progress_bar
from archive.plural import counted


@cli.group()
def user() -> None:
    """Manage users (admin only)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["technician", "physician", "admin"]), required=True, help="The user's role.")
@click.option("--full-name", default="", help="Full name, shown in the audit log and the TUI.")
@click.option("--licence", default=None, help="Licence number (required for physicians).")
@pass_state
def user_add(state: CliState, name: str, role: str, full_name: str, licence: str | None) -> None:
    """Add user NAME; their passphrase is prompted or read from CHARTVAULT_NEW_PASSPHRASE."""
    from archive.users import add_user, validate_new_user

    session = state.session()
    validate_new_user(name, role, licence)  # fail before asking for a passphrase
    added = add_user(session, name, role, new_passphrase(name), full_name=full_name, licence=licence)
    registered = " (registered physician)" if added.registered else ""
    click.echo(f"Added {added.role} '{added.name}'{registered}.")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def user_list(state: CliState, as_json: bool) -> None:
    """List users with role, licence and status."""
    from archive.users import list_users

    users = list_users(state.session())
    if as_json:
        emit_json([u.to_json() for u in users])
        return
    for u in users:
        flags = "active" if u.active else "disabled"
        if u.registered:
            flags += ", registered"
        licence = f" licence {u.licence}" if u.licence else ""
        click.echo(f"{u.name:<16} {u.role:<11} {flags}{licence}  {u.full_name}")


@user.command("disable")
@click.argument("name")
@pass_state
def user_disable(state: CliState, name: str) -> None:
    """Disable user NAME: no more logins; a physician stops being registered.

    Their key grant is deleted. Only 'chartvault key rotate' also revokes a copy of
    their keyslot taken earlier.
    """
    from archive.users import REVOCATION_NOTE, disable_user

    disable_user(state.session(), name)
    click.echo(f"Disabled '{name}': their logins are now refused.")
    click.echo(REVOCATION_NOTE)


@user.command("set-clinical-role")
@click.argument("name")
@click.argument("clinical_role", type=click.Choice(["technician", "physician", "none"]))
@click.option("--licence", default=None, help="Licence number (needed for a clinical physician role).")
@pass_state
def user_set_clinical_role(state: CliState, name: str, clinical_role: str, licence: str | None) -> None:
    """Give admin NAME a clinical role (technician|physician), or take it away (none).

    An admin sees no patient content unless given one; the change is audited.
    """
    from archive.users import set_clinical_role

    updated = set_clinical_role(
        state.session(), name, None if clinical_role == "none" else clinical_role, licence=licence
    )
    roles = " + ".join(updated.roles)
    click.echo(f"'{updated.name}' now holds: {roles}" + (" (registered physician)" if updated.registered else "") + ".")


@user.command("remove")
@click.argument("name")
@click.option("--rotate", is_flag=True, help="Also rotate the vault key: the real revocation.")
@pass_state
def user_remove(state: CliState, name: str, rotate: bool) -> None:
    """Remove user NAME's keyslot (their audit history stays).

    Without --rotate, a copy of their old keyslot would still open the vault;
    with --rotate every file is re-encrypted to a new identity, and the index to a
    new key, that they never had.
    """
    from archive.keys import remove_user

    report = remove_user(state.session(), name, rotate=rotate, progress=progress_bar("Re-encrypting"))
    click.echo(f"Removed '{name}'.")
    if report is not None:
        click.echo(f"Rotated the vault key: {counted(report.files_reencrypted, 'file')} re-encrypted.")
    else:
        click.echo("Tip: 'chartvault key rotate' makes the removal a full revocation.")
