"""Many sessions on one vault at once (issue 16): processes searching, viewing, asking, editing charts and
importing together, then zero errors, a clean `verify` and `audit verify`, as many audit entries as the
workers counted, and every imported file exactly once.

Before issue 16 an audit entry appended outside a transaction read the last seq and inserted the next in
two statements: two processes took the same seq (UNIQUE constraint failed, or a forked chain), and under
load a right passphrase was reported wrong (age refused its scrypt work factor on a busy machine).
The quick version runs in CI; the full one (8 processes, 60 s) is `python bench/concurrency.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import concurrency
from tests.functional.conftest import copy_demo


def _check(result: Any) -> None:
    lines = concurrency.report(result, None, "stress")
    assert result.exit_codes and all(code == 0 for code in result.exit_codes), lines
    assert result.errors == [], lines
    failed = [k for k, v in result.checks.items() if k.endswith("_ok") and v is not True]
    assert failed == [], lines
    assert result.checks["audit_entries_added"] == result.checks["audit_entries_counted"] > 0, lines
    for op in ("search", "view", "ask", "chart_edit", "import"):
        assert result.count(op) > 0, (op, lines)


def test_four_processes_for_fifteen_seconds(demo_build: Any, tmp_path: Path) -> None:
    template, _report = demo_build
    vault = copy_demo(template, tmp_path / "vault")
    _check(concurrency.run(vault, processes=4, seconds=15.0))


@pytest.mark.slow
def test_eight_processes_for_a_minute(demo_build: Any, tmp_path: Path) -> None:
    template, _report = demo_build
    vault = copy_demo(template, tmp_path / "vault")
    _check(concurrency.run(vault, processes=8, seconds=60.0))
