"""indexer.pipeline: idempotent ingest, filing, quarantine of bad input, pending arrivals."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer import fts
from indexer.pending import pending_files, read_pending, write_pending
from indexer.pipeline import MAX_LINE_CHARS, summarise
from tests.ingest_helpers import SHARED_DATA, IndexEnv, make_index_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[IndexEnv]:
    e = make_index_env(tmp_path / "vault")
    yield e
    e.close()


def write(folder: Path, name: str, data: bytes | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_text_note_becomes_searchable_record(env: IndexEnv, tmp_path: Path) -> None:
    src = write(tmp_path / "in", "note.txt", "MRN: 4711\nPatient: Jane Doe\n\nPersistent cough, suspected pertussis.\n")
    (out,) = env.ingestor().ingest_paths([src])
    assert out.status == "imported" and out.filing == "filed" and out.patient == "4711"
    assert out.record_id and out.record_id.startswith("r") and len(out.record_id) == 13
    row = env.db.execute("SELECT blob_id, text_blob_id, filename, status FROM records").fetchone()
    assert row[0] == row[1]  # UTF-8 text: the extracted text is the original, stored once
    assert env.store.get_bytes(row[0]) == src.read_bytes()
    assert [h.record_id for h in fts.search(env.db, "pertussis")] == [out.record_id]
    assert env.db.execute("SELECT name FROM patients WHERE mrn = '4711'").fetchone()[0] == "Jane Doe"
    assert src.exists()  # copy semantics by default


def test_same_content_twice_is_one_record(env: IndexEnv, tmp_path: Path) -> None:
    a = write(tmp_path / "in", "a.txt", "same words here")
    b = write(tmp_path / "in", "b.txt", "same words here")
    outs = env.ingestor().ingest_paths([a, b])
    assert [o.status for o in outs] == ["imported", "duplicate"]
    assert outs[1].record_id == outs[0].record_id
    again = env.ingestor().ingest_paths([a])
    assert again[0].status == "duplicate"
    assert env.count("records") == 1


def test_move_removes_sources_only_after_commit(env: IndexEnv, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    doc = write(inbox, "scan.txt", "referral letter for knee pain")
    write(inbox, "scan.txt.meta.json", json.dumps({"mrn": "K-1", "document_type": "referral", "author": "Dr Oz"}))
    old = 1_000_000_000
    for p in inbox.iterdir():
        os.utime(p, (old, old))
    commits: list[int] = []

    def on_commit(outcomes: list) -> None:  # type: ignore[type-arg]
        # inside the transaction: nothing has been removed yet
        commits.append(len(outcomes))
        assert doc.exists()

    (out,) = env.ingestor(on_commit=on_commit).ingest_paths([inbox], remove_source=True)
    assert commits == [1]
    assert out.status == "imported" and out.patient == "K-1"
    assert list(inbox.iterdir()) == []
    row = env.db.execute("SELECT doc_type, author, source FROM records").fetchone()
    assert row[0] == "referral" and row[1] == "Dr Oz"
    assert json.loads(row[2])["sidecar"]["mrn"] == "K-1"


def test_filename_mrn_and_needs_filing(env: IndexEnv, tmp_path: Path) -> None:
    a = write(tmp_path / "in", "P-9__letter.txt", "letter about anaemia")
    b = write(tmp_path / "in", "letter2.txt", "another letter, no patient named")
    outs = env.ingestor().ingest_paths([a, b])
    assert [(o.patient, o.filing) for o in outs] == [("P-9", "filed"), (None, "needs_filing")]
    assert env.count("records", "status = 'needs_filing'") == 1
    assert env.count("patients") == 1


BAD_INPUTS: list[tuple[str, bytes, str]] = [
    ("empty.txt", b"", "empty"),
    ("junk.txt", os.urandom(4096), "binary"),
    ("truncated.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n", "PDF"),
    ("fake.png", b"not an image at all", "PNG"),
    ("a..b.txt", b"fine content", "'..'"),
    ("ctl\x01name.txt", b"fine content 2", "control characters"),
]


def test_bad_input_is_quarantined_with_a_reason_never_dropped(env: IndexEnv, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for name, data, _ in BAD_INPUTS:
        write(inbox, name, data)
    (inbox / "link.txt").symlink_to("/etc/hostname")
    write(inbox, "gone.pdf.meta.json", json.dumps({"mrn": "1"}))
    long_line = write(inbox, "oneline.txt", b"a" * (MAX_LINE_CHARS + 10))
    old = 1_000_000_000
    for p in inbox.iterdir():
        os.utime(p, (old, old), follow_symlinks=False)
    outs = env.ingestor().ingest_paths([inbox], remove_source=True)
    by_name = {o.input.split("/")[-1]: o for o in outs}
    assert len(outs) == len(BAD_INPUTS) + 3
    for name, data, why in BAD_INPUTS:
        out = by_name[name]
        assert out.status == "quarantined", (name, out)
        assert why.lower() in (out.reason or "").lower(), (name, out.reason)
        row = env.db.execute("SELECT blob_id FROM quarantine WHERE id = ?", [out.quarantine_id]).fetchone()
        assert env.qstore.get_bytes(row[0]) == data  # kept, encrypted, exactly
    assert "symbolic link" in (by_name["link.txt"].reason or "")
    assert "single line" in (by_name["oneline.txt"].reason or "")
    assert "sidecar whose document (gone.pdf)" in (by_name["gone.pdf.meta.json"].reason or "")
    assert not long_line.exists()
    assert list(inbox.iterdir()) == []  # everything moved (encrypted) into quarantine
    assert env.count("records") == 0
    assert env.count("quarantine") == len(outs)
    counts = summarise(outs)
    assert counts["quarantined"] == counts["inputs"] == len(outs)


def test_same_bad_content_is_one_quarantine_entry(env: IndexEnv, tmp_path: Path) -> None:
    a = write(tmp_path / "in", "x.pdf", b"%PDF-1.7 broken")
    b = write(tmp_path / "in", "y.pdf", b"%PDF-1.7 broken")
    outs = env.ingestor().ingest_paths([a, b])
    assert [o.status for o in outs] == ["quarantined", "quarantined"]
    assert outs[0].quarantine_id == outs[1].quarantine_id
    assert env.count("quarantine") == 1


def test_hl7_patients_created_once_and_matched(env: IndexEnv, tmp_path: Path) -> None:
    folder = SHARED_DATA / "hl7v2"
    if not folder.exists():
        pytest.skip("shared HL7 data absent")
    files = sorted(folder.glob("ADT-A0*.hl7"))[:6]
    outs = env.ingestor().ingest_paths(files)
    mrns = [o.patient for o in outs if o.patient]
    assert mrns, "HL7 ADT messages carry a PID"
    assert env.count("patients") == len(set(mrns))
    assert env.count("records") == sum(o.status == "imported" for o in outs)


def test_pending_arrival_round_trip(env: IndexEnv, tmp_path: Path) -> None:
    pending = tmp_path / "pending"
    header = {"name": "late.txt", "rel": "late.txt", "problem": None, "sidecar": {"mrn": "Z1"}, "has_data": True}
    path = write_pending(pending, env.identity.recipient, header, b"arrived while locked: gout flare")
    assert b"gout" not in path.read_bytes()
    assert read_pending(path, env.identity)[1] == b"arrived while locked: gout flare"
    (bad := pending / "junk.age").write_bytes(b"not age at all")
    outs = env.ingestor().drain_pending(pending, env.identity)
    by_status = sorted(o.status for o in outs)
    assert by_status == ["imported", "quarantined"]
    imported = next(o for o in outs if o.status == "imported")
    assert imported.patient == "Z1"
    assert pending_files(pending) == [] and not bad.exists()
    assert [h.record_id for h in fts.search(env.db, "gout")] == [imported.record_id]


def test_crash_between_blob_and_commit_is_harmless(env: IndexEnv, tmp_path: Path) -> None:
    """Blobs written by a run that died before commit are found again, not duplicated."""
    src = write(tmp_path / "in", "n.txt", "hypertension follow-up")

    class Boom(Exception):
        pass

    def explode(outcomes: list) -> None:  # type: ignore[type-arg]
        raise Boom

    with pytest.raises(Boom):
        env.ingestor(on_commit=explode).ingest_paths([src], remove_source=False)
    assert env.count("records") == 0
    blobs_before = sorted(p.name for p in env.store.root.glob("??/*.age"))
    (out,) = env.ingestor().ingest_paths([src])
    assert out.status == "imported"
    assert sorted(p.name for p in env.store.root.glob("??/*.age")) == blobs_before
    assert env.count("records") == 1


def test_batches_commit_together(env: IndexEnv, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for i in range(10):
        write(folder, f"n{i:02d}.txt", f"note number {i} about asthma")
    sizes: list[int] = []
    outs = env.ingestor(batch_size=4, on_commit=lambda o: sizes.append(len(o))).ingest_paths([folder])
    assert sizes == [4, 4, 2]
    assert [o.status for o in outs] == ["imported"] * 10
    assert len(fts.search(env.db, "asthma", limit=50)) == 10


def test_a_scan_keeps_the_name_of_the_engine_that_read_it(env: IndexEnv, tmp_path: Path) -> None:
    from io import BytesIO

    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("RGB", (700, 700), "white")
    ImageDraw.Draw(page).text((30, 300), "MRN 4711 Cimetidine 400 mg", font=ImageFont.load_default(size=36),
                              fill="black")
    out = BytesIO()
    page.save(out, "PNG")
    (result,) = env.ingestor().ingest_paths([write(tmp_path / "in", "scan.png", out.getvalue())])
    assert result.status == "imported"
    metadata = json.loads(env.db.execute("SELECT metadata FROM records").fetchone()[0])
    assert metadata["ocr_engine"] == "rapidocr"
    assert len(metadata["ocr_line_confidence"]) == metadata["ocr_lines"] >= 1
