"""indexer.extract.dispatch: content sniffing, the bad-input contract, import and disk hygiene."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest

from indexer.extract.dispatch import SUPPORTED_EXTENSIONS, extract
from indexer.extract.errors import ExtractionError
from indexer.extract.types import Extraction
from vault.errors import ChartvaultError

REPO = Path(__file__).resolve().parents[3]
HL7_MESSAGE = (
    b"MSH|^~\\&|APP|FAC|RAPP|RFAC|20230214103000||ADT^A01|1|P|2.5\r"
    b"PID|1||4471234^^^HOSP^MR||Doe^Jane||19600314|F\r"
)
FHIR_PATIENT = (
    b'{"resourceType": "Patient", "identifier": [{"value": "4471234"}],'
    b' "name": [{"family": "Doe", "given": ["Jane"]}], "birthDate": "1960-03-14"}'
)


def reason(data: bytes, filename: str) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract(data, filename)
    assert isinstance(caught.value, ChartvaultError)
    assert caught.value.hint, "every extraction error says what to do next"
    return caught.value.reason


def test_supported_extensions() -> None:
    assert {".txt", ".md", ".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".docx", ".hl7",
            ".json"} <= SUPPORTED_EXTENSIONS


def test_empty_file() -> None:
    assert reason(b"", "note.txt") == "file is empty"


def test_truncated_pdf(text_pdf: bytes) -> None:
    assert reason(text_pdf[: len(text_pdf) // 2], "report.pdf").startswith("truncated PDF")


def test_encrypted_pdf(text_pdf: bytes, encrypt: Callable[..., bytes]) -> None:
    assert reason(encrypt(text_pdf, "s3cret"), "report.pdf") == "PDF is encrypted"


def test_binary_junk_with_text_extension() -> None:
    junk = random.Random(7).randbytes(64 * 1024)
    assert reason(junk, "note.txt").startswith("binary content with a text extension")


def test_binary_with_nuls_and_ascii_is_refused() -> None:
    blob = b"SQLite format 3\x00" + bytes(range(32)) * 200
    assert reason(blob, "note.txt").startswith("binary content")


def test_whitespace_only_text() -> None:
    assert "no text" in reason(b" \n\t\r\n ", "note.txt")


def test_fifty_megabyte_single_line_is_fast() -> None:
    line = b"patient reports chest pain on exertion " * (50 * 1024 * 1024 // 39)
    started = time.perf_counter()
    result = extract(line, "huge.txt")
    elapsed = time.perf_counter() - started
    assert len(result.text) == len(line)
    assert result.title is not None and len(result.title) <= 200
    assert elapsed < 10, f"50 MB single line took {elapsed:.1f} s"


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"hello, not a pdf", "scan.pdf", "not a PDF"),
        (b"GIF89a not really", "scan.png", "not a valid PNG image"),
        (b"plain words", "letter.docx", "not a Word document"),
        (b"PID|1||123", "msg.hl7", "not an HL7 v2 message"),
        (b"[1, 2, 3]", "bundle.json", "not a FHIR resource"),
        (b'{"resourceType": "Patient", ', "bundle.json", "invalid JSON"),
        (b'{"name": "x"}', "bundle.json", "JSON without a FHIR resourceType"),
    ],
)
def test_wrong_content_for_extension(data: bytes, filename: str, expected: str) -> None:
    assert reason(data, filename).startswith(expected)


def test_zip_that_is_not_a_word_document() -> None:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "not a Word document" in reason(out.getvalue(), "letter.docx")


def test_word_zip_bomb_is_refused() -> None:
    out = BytesIO()
    block = bytes(1024 * 1024)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(257):
                member.write(block)
    assert len(out.getvalue()) < 2 * 1024 * 1024
    assert "zip bomb" in reason(out.getvalue(), "letter.docx")


def test_content_sniffing_beats_the_extension(text_pdf: bytes) -> None:
    assert extract(text_pdf, "misnamed.txt").format == "pdf"
    assert extract(HL7_MESSAGE, "misnamed.txt").format == "hl7v2"
    assert extract(b"\xef\xbb\xbf" + HL7_MESSAGE, "message.dat").format == "hl7v2"
    assert extract(FHIR_PATIENT, "patient.txt").format == "fhir"


def test_unknown_extension_with_clean_text_is_a_note() -> None:
    result = extract(b"Follow-up in two weeks.", "NOTE")
    assert (result.format, result.doc_type) == ("text", "note")
    assert extract(b"MSH was discussed with the family.", "note.txt").format == "text"


def test_every_truncation_of_valid_files_raises_only_extraction_error(text_pdf: bytes) -> None:
    """Cut each format at many points: the result is an Extraction or an ExtractionError."""
    import docx

    document = docx.Document()
    document.add_paragraph("Patient: Jane Doe  MRN: 4471234")
    docx_bytes = BytesIO()
    document.save(docx_bytes)
    from PIL import Image

    png = BytesIO()
    Image.new("L", (40, 40), 255).save(png, "PNG")
    samples = {
        "note.pdf": text_pdf,
        "msg.hl7": HL7_MESSAGE * 3,
        "patient.json": FHIR_PATIENT,
        "letter.docx": docx_bytes.getvalue(),
        "scan.png": png.getvalue(),
    }
    for filename, data in samples.items():
        for cut in sorted({1, 2, 5, 9, 17, len(data) // 3, len(data) // 2, len(data) - 1}):
            try:
                result = extract(data[:cut], filename)
            except ExtractionError:
                continue
            assert isinstance(result, Extraction)


def test_importing_extract_loads_no_heavy_library() -> None:
    code = (
        "import sys, indexer.extract.dispatch, indexer.extract.errors, indexer.extract.types\n"
        "import indexer.extract.ocr_engines, indexer.extract.legibility, indexer.extract.image\n"
        "heavy = ('pypdf', 'PIL', 'rapidocr_onnxruntime', 'rapidocr', 'onnxruntime', 'docx', 'hl7', 'numpy',"
        " 'charset_normalizer', 'omegaconf', 'cv2')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


def test_extraction_writes_nothing_to_disk(tmp_path: Path, text_pdf: bytes) -> None:
    """Every format, OCR included, runs under an audit hook that forbids writes and programs."""
    pdf_path = tmp_path / "note.pdf"
    pdf_path.write_bytes(text_pdf)
    script = textwrap.dedent(
        f"""
        import io, os, sys
        from PIL import Image, ImageDraw, ImageFont
        import docx
        samples = {{"note.pdf": open({str(pdf_path)!r}, "rb").read()}}
        image = Image.new("RGB", (600, 600), "white")  # page-shaped: OCR stays quick
        font = ImageFont.load_default(size=32)
        ImageDraw.Draw(image).text((20, 40), "MRN 4471234 chest pain", font=font, fill="black")
        buffer = io.BytesIO(); image.save(buffer, "PNG"); samples["scan.png"] = buffer.getvalue()
        document = docx.Document(); document.add_paragraph("Patient: Jane Doe")
        buffer = io.BytesIO(); document.save(buffer); samples["letter.docx"] = buffer.getvalue()
        samples["msg.hl7"] = {HL7_MESSAGE!r}
        samples["patient.json"] = {FHIR_PATIENT!r}
        samples["note.txt"] = "Zoë Müller, café".encode("latin-1")
        import indexer.extract.image  # noqa: F401  (the OCR model files are read, not written)

        bad = []
        def hook(event, args):
            if event == "open" and len(args) > 1:
                mode, flags = args[1], args[2] if len(args) > 2 else 0
                if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
                ):
                    bad.append((event, str(args[0])))
            elif event in ("subprocess.Popen", "os.system", "os.posix_spawn", "os.exec",
                           "tempfile.mkstemp", "tempfile.mkdtemp", "os.mkdir", "os.rename"):
                bad.append((event, str(args[:1])))
        sys.addaudithook(hook)
        from indexer.extract.dispatch import extract
        for name, data in samples.items():
            extract(data, name)
        print(bad)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
