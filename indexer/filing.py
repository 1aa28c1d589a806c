"""Filing: which patient a document belongs to, and its type, date and author.

Three sources can name the patient's MRN:
  1. the content (HL7 PID, FHIR Patient, an "MRN:" line in a note), via the extractor;
  2. a sidecar `<file>.meta.json`: {"mrn", "document_type", "date", "author", "title"};
  3. the file name `MRN__anything.ext` (two underscores).
One MRN (from any number of agreeing sources) files the record to that
patient; none, or sources that disagree, leave it in "needs filing" so a
person decides. The sidecar's type, date, author and title override the
extractor's guesses (a person wrote them on purpose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from indexer.extract.types import Extraction, PatientInfo

MRN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_/.]{0,39}$")
FILENAME_MRN = re.compile(r"^(?P<mrn>[A-Za-z0-9][A-Za-z0-9\-]{0,39})__.+")
# Values that name a field instead of filling it ("MRN" in the MRN field): a template left unfilled.
PLACEHOLDER_MRNS = {"mrn", "mr", "id", "pid", "patient", "patient id", "patientid", "medical record number",
                    "unknown", "none", "null", "n/a", "na", "tbd", "xxx", "test"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?$")
SIDECAR_KEYS = {
    "mrn": "mrn",
    "patient_mrn": "mrn",
    "document_type": "doc_type",
    "doc_type": "doc_type",
    "type": "doc_type",
    "date": "date",
    "author": "author",
    "title": "title",
    "patient_name": "patient_name",
    "name": "patient_name",
}


@dataclass
class Filing:
    mrn: str | None
    status: str  # "filed" or "needs_filing"
    reason: str  # why, for people
    patient: PatientInfo | None  # demographics from the content (to create/match the patient)
    sources: dict[str, str] = field(default_factory=dict)  # where each MRN came from
    doc_type: str = ""
    date: str | None = None
    author: str | None = None
    title: str | None = None
    warnings: list[str] = field(default_factory=list)


def normalise_mrn(value: Any) -> str | None:
    """A cleaned MRN, or None if it is not a plausible one."""
    if value is None:
        return None
    text = str(value).strip()
    if text.casefold() in PLACEHOLDER_MRNS:
        return None
    return text if MRN_PATTERN.match(text) else None


def mrn_from_filename(name: str) -> str | None:
    match = FILENAME_MRN.match(name)
    return match.group("mrn") if match else None


def read_sidecar(sidecar: dict[str, Any] | None, warnings: list[str]) -> dict[str, str]:
    """The known fields of a sidecar, as strings; unknown keys are reported, not fatal."""
    out: dict[str, str] = {}
    for key, value in (sidecar or {}).items():
        field_name = SIDECAR_KEYS.get(str(key).lower())
        if field_name is None:
            warnings.append(f"sidecar key '{key}' is not used")
            continue
        if value is None or isinstance(value, (dict, list)):
            warnings.append(f"sidecar '{key}' must be a string")
            continue
        out[field_name] = str(value).strip()
    if "date" in out and not ISO_DATE.match(out["date"]):
        warnings.append(f"sidecar date '{out['date']}' is not YYYY-MM-DD; ignored")
        del out["date"]
    return out


def decide_filing(extraction: Extraction, sidecar: dict[str, Any] | None, filename: str) -> Filing:
    warnings: list[str] = []
    meta = read_sidecar(sidecar, warnings)
    sources: dict[str, str] = {}
    patient = extraction.patient
    content_mrn = normalise_mrn(patient.mrn) if patient else None
    if patient and patient.mrn and not content_mrn:
        warnings.append("the MRN in the document is not a plausible MRN; ignored")
    if content_mrn:
        sources["content"] = content_mrn
    if "mrn" in meta:
        side_mrn = normalise_mrn(meta["mrn"])
        if side_mrn:
            sources["sidecar"] = side_mrn
        else:
            warnings.append(f"sidecar MRN '{meta['mrn']}' is not a plausible MRN; ignored")
    name_mrn = mrn_from_filename(filename)
    if name_mrn:
        sources["filename"] = name_mrn
    distinct = sorted(set(sources.values()))
    if len(distinct) == 1:
        mrn: str | None = distinct[0]
        status, reason = "filed", "MRN from " + " and ".join(sorted(sources))
    elif not distinct:
        mrn, status, reason = None, "needs_filing", "no MRN in the content, a sidecar or the file name"
    else:
        mrn, status = None, "needs_filing"
        reason = "conflicting MRNs: " + ", ".join(f"{src} {val}" for src, val in sorted(sources.items()))
    if patient is not None and mrn is not None and content_mrn != mrn:
        patient = None  # the content's demographics belong to someone else
    if patient is None and mrn is not None and meta.get("patient_name"):
        patient = PatientInfo(mrn=mrn, name=meta["patient_name"])
    return Filing(
        mrn=mrn,
        status=status,
        reason=reason,
        patient=patient,
        sources=sources,
        doc_type=meta.get("doc_type") or extraction.doc_type,
        date=meta.get("date") or extraction.date,
        author=meta.get("author") or extraction.author,
        title=meta.get("title") or extraction.title,
        warnings=warnings,
    )
