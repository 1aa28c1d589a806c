"""What an extraction produces: the text and metadata of one file (and who and what it is about).

Plain dataclasses shared by every format module and by the pipeline; no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PatientInfo:
    """Who a document is about, as far as the document itself says."""

    mrn: str | None
    name: str | None = None  # "Given Family"
    dob: str | None = None  # ISO YYYY-MM-DD
    sex: str | None = None  # F, M, X or U


@dataclass
class Fact:
    """One structured clinical fact taken from FHIR or HL7."""

    kind: str  # medication, procedure, condition, encounter, observation, allergy, immunization
    text: str  # display text, e.g. "Amoxicillin 250 MG Oral Capsule"
    date: str | None = None  # ISO date (start, onset, authored)
    end_date: str | None = None
    code: str | None = None
    system: str | None = None  # e.g. "http://snomed.info/sct", "ICD-10-CM", "RxNorm"
    status: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # dose, route, value and unit, ...
    # The encounter the fact belongs to: an Encounter's own id (FHIR) or visit number (HL7 PV1-19), and for
    # other facts the id of the encounter they reference (FHIR `encounter`, the message's PV1 in HL7).
    encounter: str | None = None


@dataclass
class OcrLine:
    """One line of text found by OCR, with the recogniser's confidence (0..1)."""

    text: str
    confidence: float


@dataclass
class Extraction:
    """The text and metadata of one file."""

    text: str  # full searchable text; for structured formats a readable rendering
    format: str  # text, markdown, pdf, image, docx, hl7v2, fhir
    doc_type: str  # e.g. "note", "scan", "hl7:ADT^A01", "fhir:Bundle"
    title: str | None = None
    date: str | None = None  # ISO date of the document, if known
    date_source: str | None = None  # where `date` came from: "text", "document properties (modified)", ...
    author: str | None = None
    patient: PatientInfo | None = None
    facts: list[Fact] = field(default_factory=list)
    pages: int | None = None
    ocr_lines: list[OcrLine] = field(default_factory=list)
    ocr_confidence: float | None = None  # weighted mean line confidence; None if no OCR
    needs_transcription: bool = False  # OCR confidence too low: likely handwriting
    transcription_reasons: list[str] = field(default_factory=list)  # why (indexer.extract.legibility)
    ocr_engine: str | None = None  # which engine read it (indexer.extract.ocr_engines); None if no OCR
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
