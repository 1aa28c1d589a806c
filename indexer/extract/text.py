"""Plain text and Markdown notes: decoding and the header lines of a note.

Decoding tries byte-order marks, then strict UTF-8, then charset-normalizer on
a sample; content that still looks like binary is refused. Header lines such
as "MRN: 12345", "Patient: Doe, Jane", "DOB:" and "Date:" fill in the patient
and the document date; they are looked for in the first 64 KB only, so a
50 MB file on one line costs no more than decoding it. Never writes to disk.
"""

from __future__ import annotations

import codecs
import re

from indexer.extract.dates import text_date
from indexer.extract.errors import ExtractionError
from indexer.extract.types import Extraction, PatientInfo

HEADER_SCAN_CHARS = 64 * 1024
HEADER_SCAN_LINES = 300
SNIFF_BYTES = 256 * 1024
# Share of control characters above which decoded "text" is taken for binary.
MAX_CONTROL_SHARE = 0.01
MAX_REPLACEMENT_SHARE = 0.05

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")

_KEY = re.compile(
    r"(?<![\w])(?P<key>MRN|Medical\s+Record\s+(?:Number|No\.?|#)|Patient\s+Name|Patient|Name|"
    r"DOB|D\.O\.B\.?|Date\s+of\s+Birth|Birth\s*Date|"
    r"Date\s+of\s+(?:Service|Visit|Exam|Report)|(?:Visit|Service|Report)\s+Date|Date|"
    r"Sex|Gender|Author|Physician|Provider|Dictated\s+by|Signed\s+by|Attending)"
    r"\s*\**\s*[:#]",
    re.IGNORECASE,
)
_MRN_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]{0,39}")
_SEX = {"f": "F", "female": "F", "m": "M", "male": "M", "x": "X", "other": "X", "u": "U"}
_SEX.update({"unknown": "U", "w": "F"})
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def decode_text(data: bytes) -> tuple[str, str, list[str]]:
    """Decode bytes of unknown encoding -> (text, encoding, warnings).

    Raises ExtractionError when the bytes are binary rather than text.
    """
    warnings: list[str] = []
    text, encoding = _decode(data, warnings)
    _refuse_binary(text)
    return text, encoding, warnings


def _decode(data: bytes, warnings: list[str]) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(encoding, errors="replace")
            _warn_replacements(text, warnings)
            return text, encoding
    utf16 = _bomless_utf16(data[:SNIFF_BYTES])
    if utf16:
        text = data.decode(utf16, errors="replace")
        _warn_replacements(text, warnings)
        return text, utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:SNIFF_BYTES]).best()
    if best is None:
        raise ExtractionError("binary content with a text extension: no text encoding fits")
    encoding = codecs.lookup(best.encoding).name
    text = data.decode(encoding, errors="replace")
    warnings.append(f"not valid UTF-8; decoded as {encoding}")
    _warn_replacements(text, warnings)
    return text, encoding


def _bomless_utf16(sample: bytes) -> str | None:
    """UTF-16 without a byte-order mark shows as a NUL in every other byte."""
    half = len(sample) // 2
    if half < 2:
        return None
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


def _warn_replacements(text: str, warnings: list[str]) -> None:
    count = text.count("\ufffd")
    if count:
        warnings.append(f"{count} undecodable byte sequence(s) replaced")


def _refuse_binary(text: str) -> None:
    """Judge on up to three 256 KB windows so that huge files stay cheap."""
    window = 256 * 1024
    if len(text) <= 3 * window:
        sample = text
    else:
        middle = len(text) // 2
        sample = text[:window] + text[middle : middle + window] + text[-window:]
    if not sample:
        return
    controls = len(_CONTROL.findall(sample))
    replacements = sample.count("\ufffd")
    if controls > MAX_CONTROL_SHARE * len(sample) or replacements > MAX_REPLACEMENT_SHARE * len(
        sample
    ):
        raise ExtractionError("binary content with a text extension")


def parse_header_fields(text: str) -> tuple[PatientInfo | None, str | None, str | None]:
    """Read "MRN:", "Patient:", "DOB:", "Sex:", "Date:" and author lines near the top.

    Returns (patient or None, document date, author). Several fields may
    share a line ("Patient: Jane Doe  MRN: 123  DOB: 01/02/1960").
    """
    found: dict[str, str] = {}
    for line in text[:HEADER_SCAN_CHARS].splitlines()[:HEADER_SCAN_LINES]:
        # A bare "Name:" counts only at the start of a line: "Physician Name:"
        # names the physician, not the patient.
        keys = [
            match
            for match in _KEY.finditer(line)
            if match.group("key").lower() != "name" or not line[: match.start()].strip(" *-#>|")
        ]
        for index, match in enumerate(keys):
            end = keys[index + 1].start() if index + 1 < len(keys) else len(line)
            value = line[match.end() : end].strip(" \t,;|*_")
            field_name = _field_for(match.group("key"))
            if value and field_name not in found:
                parsed = _parse_value(field_name, value)
                if parsed:
                    found[field_name] = parsed
    patient = None
    if any(name in found for name in ("mrn", "name", "dob")):
        patient = PatientInfo(
            mrn=found.get("mrn"), name=found.get("name"), dob=found.get("dob"), sex=found.get("sex")
        )
    return patient, found.get("date"), found.get("author")


def _field_for(key: str) -> str:
    key = " ".join(key.lower().split())
    if key.startswith(("mrn", "medical record")):
        return "mrn"
    if key in ("patient", "patient name", "name"):
        return "name"
    if key.startswith(("dob", "d.o.b", "date of birth", "birth")):
        return "dob"
    if key in ("sex", "gender"):
        return "sex"
    if "date" in key:
        return "date"
    return "author"


def _parse_value(field_name: str, value: str) -> str | None:
    if field_name == "mrn":
        match = _MRN_VALUE.match(value)
        return match.group(0) if match and any(c.isdigit() for c in match.group(0)) else None
    if field_name in ("dob", "date"):
        return text_date(value)
    if field_name == "sex":
        return _SEX.get(value.split()[0].lower().rstrip("."))
    return _person_name(value)


def _person_name(value: str) -> str | None:
    """ "Doe, Jane" -> "Jane Doe"; cut at two spaces, where the next column begins."""
    value = re.split(r"\s{2,}|\t", value.strip())[0].strip(" ,;")
    if not value or len(value) > 80 or not any(c.isalpha() for c in value):
        return None
    if value.count(",") == 1:
        family, given = (part.strip() for part in value.split(","))
        if family and given:
            value = f"{given} {family}"
    return " ".join(value.split())


def _title(text: str, markdown: bool) -> str | None:
    head = text[:HEADER_SCAN_CHARS]
    if markdown:
        heading = _MD_HEADING.search(head)
        if heading:
            return heading.group(1)[:200]
    for line in head.splitlines()[:20]:
        line = line.strip().strip("#*_ ").strip()
        if line and not _KEY.match(line):
            return line[:200]
    return None


def extract_text(data: bytes, filename: str) -> Extraction:
    """A plain-text or Markdown note."""
    text, encoding, warnings = decode_text(data)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ExtractionError("file contains no text (only whitespace)")
    markdown = filename.lower().endswith((".md", ".markdown"))
    patient, when, author = parse_header_fields(text)
    return Extraction(
        text=text,
        format="markdown" if markdown else "text",
        doc_type="note",
        title=_title(text, markdown),
        date=when,
        author=author,
        patient=patient,
        encoding=encoding,
        warnings=warnings,
    )
