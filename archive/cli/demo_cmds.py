"""CLI: demo (build a demo vault to try chartvault on)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from archive.cli.base import CliState, cli, emit_json, pass_state
from archive.plural import counted


@cli.command()
@click.option(
    "--vault",
    "vault_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for the demo vault (default: the global --vault, i.e. the default vault folder).",
)
@click.option(
    "--source",
    type=click.Choice(["auto", "shared", "synthetic"]),
    default="auto",
    show_default=True,
    help="Documents: the public test data in ../shared/data (or CHARTVAULT_DEMO_DATA), or the built-in "
    "synthetic set; auto uses the public data when present.",
)
@click.option("--embed/--no-embed", default=None,
              help="Embed the records for semantic search now (default: leave it to the app's background work).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def demo(state: CliState, vault_dir: Path | None, source: str, embed: bool | None, as_json: bool) -> None:
    """Build a demo vault: users of every role (demo passphrases printed), patients with charts, records
    in every format, a scan waiting for transcription, coded encounters and some audit history.

    DEMO ONLY: the passphrases are public. Never put real records in a demo vault.
    """
    from archive.demo import DEMO_WARNING, build_demo

    root = (vault_dir or state.vault_dir).expanduser()

    live = not as_json and sys.stderr.isatty()
    shown: list[str] = []  # the step on the current line

    def progress(done: int, total: int, what: str) -> None:
        # One line per step, rewritten in place as the step moves ("[ 47%] Step 3 of 10: ... - 12 of 37 files").
        if not live:
            return
        step = what.split(" - ")[0]
        if shown and shown[-1] != step:
            click.echo("", err=True)
        shown.append(step)
        # A wrapped line could not be rewritten in place: shorten the step's name, keep what moves.
        head, _, detail = what.partition(" - ")
        prefix, tail = f"[{100 * done // max(total, 1):3d}%] ", f" - {detail}" if detail else ""
        room = shutil.get_terminal_size().columns - 1 - len(prefix) - len(tail)
        if len(head) > room:
            head = head[:max(room - 1, 10)] + "…"
        click.echo(f"\r\x1b[K{prefix}{head}{tail}", nl=False, err=True)

    report = build_demo(root, source=source, embed=embed, progress=progress)
    if shown:
        click.echo("", err=True)
    if as_json:
        emit_json(report.to_json())
        return
    counts = report.counts
    click.echo(f"Built a demo vault at {report.root} from the {report.source} data in {report.seconds:.0f} s.")
    click.echo(
        f"  {counts.get('records', 0)} records, {counts.get('patients', 0)} patients, "
        f"{counts.get('needs_filing', 0)} waiting for filing, {counts.get('needs_transcription', 0)} waiting for "
        f"transcription, {counts.get('quarantined', 0)} quarantined."
    )
    click.echo(f"  Semantic search: {counted(report.embedded, 'record')} embedded; {report.embedding_note}.")
    click.echo("")
    click.echo("Demo users:")
    for user in report.users:
        click.echo(f"  {user.name:<8} {user.role:<11} passphrase: {user.passphrase}")
    click.echo("")
    click.echo(DEMO_WARNING)
    vault_opt = "" if vault_dir is None and root == state.vault_dir else f" --vault {root}"
    click.echo(f"Open it with: chartvault{vault_opt} --user drmaria   (or any user above)")
