"""bench/retrieval.py end to end: the quick run (CI-sized) and the full one (slow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_data

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _run(*args: str, timeout: int) -> str:
    shared_data("mtsamples")
    pytest.importorskip("sentence_transformers")
    out = subprocess.run(
        [sys.executable, str(REPO / "bench" / "retrieval.py"), *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout, check=True,
    )
    return out.stdout


def _recall(stdout: str, kind: str, mode: str) -> float:
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0] == kind and cells[2] == mode:
            return float(cells[3])
    raise AssertionError(f"no {kind}/{mode} row in:\n{stdout}")


def test_quick_benchmark_runs_and_hybrid_leads() -> None:
    stdout = _run("--quick", timeout=3600)
    assert "speedup_vs_fp32:" in stdout
    assert "sharing a content word with their note: 0" in stdout
    hybrid = _recall(stdout, "description", "hybrid")
    assert hybrid >= _recall(stdout, "description", "semantic")
    assert hybrid >= _recall(stdout, "description", "fts")
    assert "p95" in stdout


def test_full_benchmark() -> None:
    stdout = _run("--record", timeout=6 * 3600)
    for kind in ("description", "paraphrase-test", "paraphrase-blind-b"):
        h = _recall(stdout, kind, "hybrid")
        assert h > _recall(stdout, kind, "fts") and h > _recall(stdout, kind, "semantic"), kind
    speedup = float(stdout.split("speedup_vs_fp32: ")[1].split()[0])
    assert speedup >= 2.0
    delta = float(stdout.split("recall_delta_vs_fp32: ")[1].split(";")[0])
    assert delta >= -0.01
