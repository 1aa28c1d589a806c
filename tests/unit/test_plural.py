"""archive.plural, and that no user-facing string in archive/ or tui/ falls back to "record(s)"."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from archive.plural import counted, plural

ROOT = Path(__file__).resolve().parents[2]
# "record(s)", "diagnosis(es)", "entr(y/ies)": a noun with its plural ending in parentheses
PARENTHESISED = re.compile(r"[a-z]\((s|es|ies|y/ies)\)")


def test_singular_and_plural() -> None:
    assert counted(1, "record") == "1 record"
    assert counted(0, "record") == "0 records"
    assert counted(6, "entry", "entries") == "6 entries"
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(2, "diagnosis", "diagnoses") == "2 diagnoses"
    assert counted(1200, "record") == "1,200 records"
    assert plural(1, "patient") == "patient" and plural(3, "patient") == "patients"


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
    return out


def test_no_parenthesised_plurals_in_user_facing_text() -> None:
    """Docstrings may say "record(s)"; strings a user reads (CLI and TUI) use archive.plural."""
    found = []
    for package in ("archive", "tui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                          if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                          and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
            for node in ast.walk(tree):
                if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                        and PARENTHESISED.search(node.value.replace("http(s)", ""))):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not found, "use archive.plural.counted:\n" + "\n".join(found)
