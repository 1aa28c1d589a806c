"""Write docs/CLI.md: every command's `--help`, generated from the click commands themselves.

    .venv/bin/python docs/cli_reference.py          # rewrite docs/CLI.md
    .venv/bin/python docs/cli_reference.py --check  # exit 1 if docs/CLI.md is stale

tests/functional/test_cli_reference.py fails when the committed file differs
from what this prints, so the reference cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "CLI.md"
WIDTH = 100
BEGIN = "<!-- BEGIN GENERATED: docs/cli_reference.py -->"
END = "<!-- END GENERATED -->"


def _walk(cmd: click.Command, ctx: click.Context, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    out = [(path, cmd.get_help(ctx).rstrip())]
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            sub = cmd.commands[name]
            if getattr(sub, "hidden", False):
                continue
            sub_ctx = click.Context(sub, info_name=name, parent=ctx, terminal_width=WIDTH, max_content_width=WIDTH,
                                    **sub.context_settings)
            out.extend(_walk(sub, sub_ctx, (*path, name)))
    return out


def reference() -> str:
    """The Markdown reference: a contents line, then each command's help in a code block."""
    sys.path.insert(0, str(ROOT))
    from tui.__main__ import cli  # archive's commands and the terminal UI: the whole `chartvault`

    # The commands' own context settings (e.g. -h as well as --help), as the real CLI builds its contexts.
    ctx = click.Context(cli, info_name="chartvault", terminal_width=WIDTH, max_content_width=WIDTH,
                        **cli.context_settings)
    entries = _walk(cli, ctx, ())
    lines = [
        "# chartvault command-line reference",
        "",
        BEGIN,
        "",
        "Generated from `chartvault COMMAND --help` by `docs/cli_reference.py`; a test fails when it is stale.",
        "Global options (`--vault`, `--user`) go before the command: `chartvault --vault DIR --user NAME status`.",
        "",
    ]
    for path, _text in entries:
        name = " ".join(("chartvault", *path))
        anchor = "-".join(("chartvault", *path))
        lines.append(f"- [`{name}`](#{anchor})")
    lines.append("")
    for path, text in entries:
        name = " ".join(("chartvault", *path))
        lines += [f"## {name}", "", "```text", text, "```", ""]
    lines += [END, ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = reference()
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is stale: run .venv/bin/python docs/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
