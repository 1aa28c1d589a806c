"""pyproject.toml in the form current setuptools reads without a deprecation warning."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_license_is_an_spdx_string_with_a_setuptools_that_reads_it() -> None:
    """The TOML-table form (`license = {text = ...}`) makes `pip install -e .` warn (setuptools >= 77)."""
    data = tomllib.loads(PYPROJECT.read_text())
    license_ = data["project"]["license"]
    assert isinstance(license_, str) and license_ == "LicenseRef-Proprietary"
    assert not any(c.startswith("License ::") for c in data["project"].get("classifiers", []))
    setuptools = next(r for r in data["build-system"]["requires"] if r.startswith("setuptools"))
    minimum = re.fullmatch(r"setuptools>=(\d+).*", setuptools)
    assert minimum is not None and int(minimum.group(1)) >= 77, setuptools
