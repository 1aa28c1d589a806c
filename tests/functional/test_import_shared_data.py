"""Importing the real sample data: every input accounted for, known phrases found by search.

The full run (all of hl7v2/, fhir-r4/, ocr/ and 500 MTSamples notes written
out as text files, through the real `chartvault` binary) is marked slow: OCR
of the scans takes minutes on two cores. CI runs the quick version: a subset
of HL7 (with byte-order marks), FHIR and MTSamples, in-process.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TECH_PASS, VaultFixture, chartvault_bin, shared_data
from tests.ingest_helpers import mtsamples_notes

BOM = b"\xef\xbb\xbf"


def _copy(files: list[Path], dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(f, dest / f.name)


def _write_notes(dest: Path, notes: list[tuple[str, str]]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name, text in notes:
        (dest / name).write_text(text, encoding="utf-8")


def _phrase_of(text: str, rng: random.Random) -> str:
    """Three consecutive plain words from the middle of a note: a phrase that note surely holds."""
    words = re.findall(r"[A-Za-z]{4,}", text)
    for _ in range(50):
        i = rng.randrange(max(1, len(words) - 3))
        picked = words[i : i + 3]
        if len(picked) == 3 and re.search(r"\b" + r"\W+".join(picked) + r"\b", text):
            return '"' + " ".join(picked) + '"'
    return words[len(words) // 2]


def _check_accounting(counts: dict[str, Any], inputs: int) -> None:
    assert counts["inputs"] == inputs
    assert counts["imported"] + counts["duplicates"] + counts["quarantined"] == inputs, counts
    assert counts["vanished"] == 0 and counts["changing"] == 0


def test_quick_subset_every_input_accounted_and_searchable(shared_vault: VaultFixture, tmp_path: Path) -> None:
    from archive.intake import import_paths
    from archive.search import search_records

    hl7_all = sorted(shared_data("hl7v2").glob("*.hl7"))
    bom = [f for f in hl7_all if f.read_bytes().startswith(BOM)][:5]
    hl7 = bom + [f for f in hl7_all if f not in bom][:20]
    assert len(bom) == 5, "the sample data has HL7 messages with a byte-order mark"
    fhir = sorted(shared_data("fhir-r4").glob("*.json"), key=lambda p: p.stat().st_size)[:3]
    notes = mtsamples_notes(60)
    _copy(hl7, tmp_path / "in" / "hl7v2")
    _copy(fhir, tmp_path / "in" / "fhir-r4")
    _write_notes(tmp_path / "in" / "mtsamples", notes)
    inputs = len(hl7) + len(fhir) + len(notes)
    session = shared_vault.open("tess", TECH_PASS)
    try:
        report = import_paths(session, [tmp_path / "in"])
        _check_accounting(report.counts, inputs)
        assert report.counts["quarantined"] == 0, [o.reason for o in report.quarantined()]
        outcome = {o.input.split("/")[-1]: o for o in report.outcomes}
        assert all(outcome[f.name].format == "hl7v2" for f in bom if outcome[f.name].status == "imported")
        # HL7: the patient in PID is created once and the message is found by name
        everyman = search_records(session, "everyman", doc_type="hl7", limit=100)
        assert everyman and all(h.format == "hl7v2" for h in everyman)
        assert len({h.patient for h in everyman}) <= 2
        # FHIR: the bundle's patient by family name, and a structured fact is kept as data
        fhir_out = outcome[fhir[0].name]
        family = fhir[0].name.split("_")[1]
        hits = search_records(session, family, doc_type="fhir")
        assert fhir_out.record_id in [h.record_id for h in hits]
        facts = json.loads(session.db.execute("SELECT facts FROM records WHERE id = ?",
                                              [fhir_out.record_id]).fetchone()[0])
        assert facts and {"kind", "text", "code"} <= set(facts[0])
        # MTSamples: a phrase from each of ten notes finds that note
        rng = random.Random(5)
        for name, text in rng.sample(notes, 10):
            rid = outcome[name].record_id
            phrase = _phrase_of(text, rng)
            hits = search_records(session, phrase, limit=200)
            assert rid in [h.record_id for h in hits], (name, phrase)
    finally:
        session.close()


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_full_shared_data_import_through_the_cli(shared_vault: VaultFixture, tmp_path: Path) -> None:
    exe = chartvault_bin()
    src = tmp_path / "in"
    _copy(sorted(shared_data("hl7v2").iterdir()), src / "hl7v2")
    _copy(sorted(shared_data("fhir-r4").iterdir()), src / "fhir-r4")
    _copy(sorted(shared_data("ocr").iterdir()), src / "ocr")
    notes = mtsamples_notes(500)
    _write_notes(src / "mtsamples", notes)
    inputs = sum(1 for p in src.rglob("*") if p.is_file())
    env = {**os.environ, "CHARTVAULT_VAULT": str(shared_vault.root), "CHARTVAULT_USER": "tess",
           "CHARTVAULT_PASSPHRASE": TECH_PASS}
    from archive.cli import cli

    no_embed = ["--no-embed"] if any("--no-embed" in p.opts for p in cli.commands["import"].params) else []
    run = subprocess.run([exe, "import", str(src), "--json", *no_embed], env=env, capture_output=True, text=True,
                         timeout=3500)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    _check_accounting(report, inputs)
    outcome = {o["input"].split("/")[-1]: o for o in report["outcomes"]}
    assert outcome["handwriting_style_note.png"]["needs_transcription"] is True

    def search(query: str, *extra: str) -> list[dict[str, Any]]:
        from archive.cli import cli

        fts_mode = ["--mode", "fts"] if any("--mode" in p.opts for p in cli.commands["search"].params) else []
        out = subprocess.run([exe, "search", query, "--json", "--limit", "200", *fts_mode, *extra], env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)  # type: ignore[no-any-return]

    def found(query: str, name: str) -> bool:
        rid = outcome[name]["record_id"]
        return rid in [h["record_id"] for h in search(query)]

    assert found("everyman", "ADT-A01-01.hl7") or outcome["ADT-A01-01.hl7"]["status"] == "duplicate"
    assert found("Koepp", next(n for n in outcome if n.startswith("Abdul_Koepp")))
    assert found("cromulent", "crom.png")
    assert found("Linzensoep", "typewriter.png")
    assert found("LinnSequencer", "linn.png")
    assert found("Watson", "c03-29.pdf") or outcome["c03-29.pdf"]["status"] == "duplicate"
    rng = random.Random(11)
    for name, text in rng.sample(notes, 25):
        phrase = _phrase_of(text, rng)
        assert found(phrase, name), (name, phrase)
