"""The architecture as a test: layers, no import circles, SQL only in the store.

Every module of vault/, indexer/, archive/ and tui/ is parsed with `ast`
(imports at module level and inside functions; `if TYPE_CHECKING:` blocks are
left out, they never run). The test fails on:

- an upward import (vault < indexer < archive < tui);
- an import circle between modules;
- SQL in archive/ outside archive/store/ (SQL keywords in a string, or a call
  of execute/executemany/executescript/query);
- the raw database (`.db`) used in archive/ or tui/ outside archive/store/,
  archive/session.py and archive/login.py;
- `getattr(session, ...)`: a policy check must never be optional.

There is no allow-list: every violation fails the test (issue 14 removed the
last of them). docs/ARCHITECTURE.md describes the layers.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("vault", "indexer", "archive", "tui")

SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TABLE|INDEX|UNIQUE\s+INDEX|VIRTUAL\s+TABLE|TRIGGER|VIEW)|ALTER\s+TABLE|DROP\s+(TABLE|INDEX)|PRAGMA\s+\w+)",
    re.S,
)
SQL_CALLS = {"execute", "executemany", "executescript", "query"}
DB_ALLOWED = ("archive/store/", "archive/session.py", "archive/login.py")


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    rel: str  # path relative to the checkout, with forward slashes
    tree: ast.Module

    @property
    def layer(self) -> str:
        return self.name.split(".")[0]


def modules(root: Path) -> dict[str, Module]:
    found = {}
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(parts)
            rel = path.relative_to(root).as_posix()
            found[name] = Module(name, path, rel, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the nodes inside `if TYPE_CHECKING:` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _resolve(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.name.split(".")
    is_package = module.path.name == "__init__.py"
    base = base if is_package else base[:-1]
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: Module, known: dict[str, Module]) -> Iterator[tuple[str, int]]:
    """(imported module of ours, line) for every import that can run."""
    skipped = _type_checking_blocks(module.tree)
    for node in ast.walk(module.tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LAYERS:
                    yield _longest_known(alias.name, known), node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if target.split(".")[0] not in LAYERS:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in known else _longest_known(target, known)), node.lineno


def _longest_known(name: str, known: dict[str, Module]) -> str:
    parts = name.split(".")
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts) or name


def upward_imports(mods: dict[str, Module]) -> list[str]:
    found = []
    for mod in mods.values():
        rank = LAYERS.index(mod.layer)
        for target, line in imports_of(mod, mods):
            if LAYERS.index(target.split(".")[0]) > rank:
                found.append(f"upward {mod.rel} -> {target}  (line {line})")
    return found


def import_graph(mods: dict[str, Module]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for mod in mods.values():
        for target, _line in imports_of(mod, mods):
            if target in mods and target != mod.name:
                graph[mod.name].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return found


def circle_violations(mods: dict[str, Module]) -> list[str]:
    return [f"circle {name}" for component in circles(import_graph(mods)) for name in component]


def _docstring_ids(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def sql_outside_store(mods: dict[str, Module]) -> list[str]:
    found = set()
    for mod in mods.values():
        if mod.layer != "archive" or mod.rel.startswith("archive/store/"):
            continue
        docstrings = _docstring_ids(mod.tree)
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if SQL.search(node.value):
                    found.add(f"sql {mod.rel}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
                found.add(f"sql {mod.rel}")
    return sorted(found)


def raw_db_use(mods: dict[str, Module]) -> list[str]:
    found = set()
    for mod in mods.values():
        if mod.layer not in ("archive", "tui") or mod.rel.startswith(DB_ALLOWED):
            continue
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Attribute) and node.attr == "db":
                found.add(f"db {mod.rel}")
    return sorted(found)


def optional_policy(mods: dict[str, Module]) -> list[str]:
    found = set()
    for mod in mods.values():
        for node in ast.walk(mod.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and node.args
                and isinstance(node.args[0], ast.Name | ast.Attribute)
                and (node.args[0].id if isinstance(node.args[0], ast.Name) else node.args[0].attr).endswith("session")
            ):
                found.add(f"getattr {mod.rel}")
    return sorted(found)


def violations(root: Path = ROOT) -> set[str]:
    mods = modules(root)
    found = [
        *upward_imports(mods),
        *circle_violations(mods),
        *sql_outside_store(mods),
        *raw_db_use(mods),
        *optional_policy(mods),
    ]
    # An upward import is listed by module and target, without its line number.
    return {re.sub(r"\s+\(line \d+\)$", "", v) for v in found}


def test_layers_circles_sql_and_policy() -> None:
    found = sorted(violations())
    assert not found, "architecture violations (see docs/ARCHITECTURE.md):\n" + "\n".join(found)


# ---------------------------------------------------------------- the checker itself


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for layer in LAYERS:
        (tmp_path / layer).mkdir(exist_ok=True)
        (tmp_path / layer / "__init__.py").touch()
    return tmp_path


def _violations_in(tmp_path: Path, files: dict[str, str]) -> set[str]:
    return violations(_tree(tmp_path, files))


def test_checker_finds_an_upward_import_inside_a_function(tmp_path: Path) -> None:
    found = _violations_in(tmp_path, {"vault/a.py": "def f():\n    from archive import b\n", "archive/b.py": ""})
    assert "upward vault/a.py -> archive.b" in found


def test_checker_finds_a_circle_but_not_through_type_checking(tmp_path: Path) -> None:
    found = _violations_in(
        tmp_path,
        {
            "archive/a.py": "from archive import b\n",
            "archive/b.py": "def f():\n    import archive.a\n",
            "archive/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from archive import a\n",
            "archive/d.py": "from archive import c\n",
        },
    )
    assert {"circle archive.a", "circle archive.b"} <= found
    assert "circle archive.c" not in found and "circle archive.d" not in found


def test_checker_finds_sql_and_raw_db_outside_the_store(tmp_path: Path) -> None:
    found = _violations_in(
        tmp_path,
        {
            "archive/a.py": 'def f(s):\n    return s.db.execute("SELECT name FROM users")\n',
            "archive/store/__init__.py": "",
            "archive/store/users.py": 'def f(db):\n    return db.execute("SELECT name FROM users")\n',
            "archive/b.py": '"""Select the rows from the chart."""\nX = "no sql here"\n',
            "tui/c.py": "def f(session):\n    return getattr(session, 'may_see_record', None)\n",
        },
    )
    assert {"sql archive/a.py", "db archive/a.py", "getattr tui/c.py"} <= found
    assert not {v for v in found if "store" in v or "archive/b.py" in v}
