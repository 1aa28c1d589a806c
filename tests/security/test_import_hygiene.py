"""Importing the domain must not load the UI or the embedding stack, nor do I/O."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ["textual", "torch", "sentence_transformers", "transformers", "rapidocr_onnxruntime", "rapidocr",
         "onnxruntime"]


def _loaded_after(stmt: str) -> set[str]:
    code = f"import sys, json; {stmt}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_archive_loads_neither_textual_nor_torch() -> None:
    mods = _loaded_after(
        "import archive, archive.session, archive.login, archive.access, archive.cli, archive.users, archive.status"
    )
    loaded = {m.split(".")[0] for m in mods}
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_vault_and_indexer_import_light() -> None:
    mods = _loaded_after("import vault.vault, vault.store, vault.db, indexer")
    loaded = {m.split(".")[0] for m in mods}
    assert not loaded & set(HEAVY + ["pyrage", "sqlcipher3"]), loaded


def test_tui_app_does_not_load_torch() -> None:
    mods = _loaded_after("import tui.app")
    loaded = {m.split(".")[0] for m in mods}
    assert "textual" in loaded
    assert not loaded & {"torch", "sentence_transformers", "transformers"}
