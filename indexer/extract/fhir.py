"""FHIR R4 JSON (a Bundle or a single resource): patient, clinical facts and a readable text.

Facts come from Encounter, Condition, MedicationRequest/MedicationStatement,
Procedure, Observation, Immunization and AllergyIntolerance. Attachments of
DocumentReference and DiagnosticReport (base64 `data`) are decoded in memory
and their text joins the rendering. Billing resources (Claim,
ExplanationOfBenefit) are skipped: they repeat the clinical facts. Never
writes to disk.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from typing import Any

from indexer.extract.dates import fhir_date
from indexer.extract.errors import ExtractionError
from indexer.extract.render import fact_line, patient_line
from indexer.extract.text import decode_text
from indexer.extract.types import Extraction, Fact, PatientInfo

MAX_BUNDLE_DEPTH = 4
MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024
SEXES = {"female": "F", "male": "M", "other": "X", "unknown": "U"}
ATTACHMENT_SUFFIXES = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/json": ".json",
    "application/fhir+json": ".json",
    "x-application/hl7-v2+er7": ".hl7",
}
LABELS = {
    "encounter": "Encounter",
    "condition": "Condition",
    "medication": "Medication",
    "procedure": "Procedure",
    "observation": "Observation",
    "immunization": "Immunization",
    "allergy": "Allergy",
}

JsonObject = dict[str, Any]


def extract_fhir(data: bytes, filename: str, *, extract_attachment: Callable[[bytes, str], Extraction]) -> Extraction:
    """A FHIR resource or Bundle in JSON; `extract_attachment` reads embedded non-text attachments (a PDF, a scan)."""
    raw, encoding, warnings = decode_text(data)
    try:
        document = json.loads(raw)
    except RecursionError as exc:  # a JSON bomb of brackets, not a damaged file
        raise ExtractionError("JSON nested too deeply: not a FHIR resource (refused, not parsed)") from exc
    except ValueError as exc:
        raise ExtractionError("invalid JSON: the file is damaged or truncated") from exc
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise ExtractionError("JSON without a FHIR resourceType: not a FHIR resource")

    reader = _BundleReader(warnings, extract_attachment)
    for resource in _resources(document, depth=0):
        reader.add(resource)
    result = reader.result(document)
    result.encoding = encoding
    return result


def _resources(resource: JsonObject, depth: int) -> Iterator[JsonObject]:
    if resource.get("resourceType") != "Bundle":
        yield resource
        return
    if depth >= MAX_BUNDLE_DEPTH:
        return
    for entry in resource.get("entry") or []:
        inner = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(inner, dict) and isinstance(inner.get("resourceType"), str):
            yield from _resources(inner, depth + 1)


def _concept(value: Any) -> tuple[str, str | None, str | None]:
    """A CodeableConcept (or Coding) -> (display text, code, system)."""
    if not isinstance(value, dict):
        return "", None, None
    codings = value.get("coding") if "coding" in value else [value]
    first = next((c for c in codings or [] if isinstance(c, dict)), {})
    code = first.get("code")
    text = value.get("text") or first.get("display") or code or ""
    return str(text), (str(code) if code else None), first.get("system")


def _status(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    text, code, _ = _concept(value)
    return code or text or None


def _date(resource: JsonObject, *keys: str) -> str | None:
    """The first of several date fields, reading Period.start where a Period is found."""
    for key in keys:
        value = resource.get(key)
        if isinstance(value, dict):
            value = value.get("start")
        if isinstance(value, str) and fhir_date(value):
            return fhir_date(value)
    return None


def _end(resource: JsonObject, *keys: str) -> str | None:
    for key in keys:
        value = resource.get(key)
        if isinstance(value, dict):
            value = value.get("end")
        if isinstance(value, str) and fhir_date(value):
            return fhir_date(value)
    return None


def _number(value: Any) -> str:
    """Four significant digits are plenty to read and to search (Synthea writes 15)."""
    if isinstance(value, float):
        return f"{value:.4g}" if 0.001 <= abs(value) < 10000 else f"{value:.6g}"
    return str(value)


def _quantity(value: Any) -> str:
    if not isinstance(value, dict) or "value" not in value:
        return ""
    unit = value.get("unit") or value.get("code") or ""
    return f"{value.get('comparator', '')}{_number(value['value'])} {unit}".strip()


def _observation_value(resource: JsonObject) -> str:
    for key, value in resource.items():
        if not key.startswith("value"):
            continue
        if key == "valueQuantity":
            return _quantity(value)
        if key == "valueCodeableConcept":
            return _concept(value)[0]
        if key == "valuePeriod" and isinstance(value, dict):
            return f"{value.get('start', '')} to {value.get('end', '')}"
        if isinstance(value, (str, int, float, bool)):
            return _number(value)
    return ""


def _person_name(names: Any) -> str | None:
    if not isinstance(names, list) or not names:
        return None
    official = [n for n in names if isinstance(n, dict) and n.get("use") == "official"]
    name = (official or [n for n in names if isinstance(n, dict)] or [{}])[0]
    parts = [str(g) for g in name.get("given") or []]
    if name.get("family"):
        parts.append(str(name["family"]))
    return " ".join(parts) or name.get("text") or None


def _mrn(identifiers: Any) -> str | None:
    """The MR-typed identifier, else the first one."""
    if not isinstance(identifiers, list):
        return None
    values = [i for i in identifiers if isinstance(i, dict) and i.get("value")]
    for identifier in values:
        codings = (identifier.get("type") or {}).get("coding") or []
        if any(isinstance(c, dict) and c.get("code") == "MR" for c in codings):
            return str(identifier["value"])
    return str(values[0]["value"]) if values else None


def _reference_id(reference: Any) -> str | None:
    """'urn:uuid:abc' / 'Encounter/abc' -> 'abc' (the referenced resource's id)."""
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    text = str(reference["reference"]).strip()
    for prefix in ("urn:uuid:", "Encounter/"):
        if text.startswith(prefix):
            return text[len(prefix):] or None
    return text.rsplit("/", 1)[-1] or None


def _display(reference: Any) -> str | None:
    if isinstance(reference, list):
        reference = reference[0] if reference else None
    if isinstance(reference, dict) and reference.get("display"):
        return str(reference["display"])
    return None


class _BundleReader:
    """Collects facts and text lines resource by resource."""

    def __init__(self, warnings: list[str], extract_attachment: Callable[[bytes, str], Extraction]) -> None:
        self.warnings = warnings
        self.extract_attachment = extract_attachment  # the dispatcher: an attachment can be in any format
        self.patient: PatientInfo | None = None
        self.died: str | None = None  # Patient.deceasedDateTime
        self.facts: list[Fact] = []
        self.lines: list[str] = []
        self.notes: list[str] = []
        self.document_title: str | None = None
        self.document_date: str | None = None
        self.author: str | None = None

    def add(self, resource: JsonObject) -> None:
        kind = resource["resourceType"]
        handler = getattr(self, f"_{kind.lower()}", None)
        if handler is None:
            return
        before = len(self.facts)
        handler(resource)
        # Each fact keeps the encounter it belongs to: an Encounter its own id, the others their reference.
        own = str(resource["id"]) if kind == "Encounter" and resource.get("id") else None
        for fact in self.facts[before:]:
            fact.encounter = own or _reference_id(resource.get("encounter") or resource.get("context"))

    def result(self, document: JsonObject) -> Extraction:
        kind = document["resourceType"]
        if self.patient is not None:
            if self.died:
                self.lines.insert(0, f"Died {self.died} (date of death)")
            self.lines.insert(0, patient_line(self.patient))
        text = "\n".join(self.lines + ([""] + self.notes if self.notes else []))
        if not text.strip():
            text = f"FHIR {kind} resource"
            self.warnings.append(f"no clinical content found in this {kind}")
        dates = [fact.date for fact in self.facts if fact.date]
        when = self.document_date or fhir_date(str(document.get("timestamp") or ""))
        if kind == "Bundle" and sum(fact.kind == "encounter" for fact in self.facts) > 1 and dates:
            # A patient's history over many encounters: the record is as recent as its last clinical date
            # (each fact keeps its own date; the first document's date would be the oldest encounter's).
            when = max(dates)
        title = self.document_title
        if title is None and kind == "Bundle" and self.patient and self.patient.name:
            title = f"FHIR record of {self.patient.name}"
        if title is None and kind != "Bundle" and self.facts:
            title = self.facts[0].text
        return Extraction(
            text=text,
            format="fhir",
            doc_type=f"fhir:{kind}",
            title=title or f"FHIR {kind}",
            date=when or (max(dates) if dates else None),
            author=self.author,
            patient=self.patient,
            facts=self.facts,
            warnings=self.warnings,
        )

    def _fact(self, fact: Fact) -> None:
        if not fact.text:
            return
        self.facts.append(fact)
        self.lines.append(fact_line(fact, LABELS[fact.kind]))

    def _patient(self, resource: JsonObject) -> None:
        if self.patient is not None:
            return
        self.died = fhir_date(str(resource.get("deceasedDateTime") or "")) or None
        self.patient = PatientInfo(
            mrn=_mrn(resource.get("identifier")),
            name=_person_name(resource.get("name")),
            dob=fhir_date(str(resource.get("birthDate") or "")),
            sex=SEXES.get(str(resource.get("gender") or "").lower()),
        )

    def _encounter(self, resource: JsonObject) -> None:
        types = resource.get("type") or []
        text = _concept(types[0])[0] if types else ""
        klass = resource.get("class") or {}
        class_code = klass.get("code") if isinstance(klass, dict) else None
        extra: dict[str, str] = {}
        if class_code:
            extra["class"] = str(class_code)
        reasons = [_concept(r)[0] for r in resource.get("reasonCode") or []]
        if any(reasons):
            extra["reason"] = ", ".join(r for r in reasons if r)
        _, code, system = _concept(types[0]) if types else ("", None, None)
        self._fact(
            Fact(
                kind="encounter",
                text=text or f"{class_code or 'Unspecified'} encounter",
                date=_date(resource, "period"),
                end_date=_end(resource, "period"),
                code=code,
                system=system,
                status=_status(resource.get("status")),
                extra=extra,
            )
        )

    def _condition(self, resource: JsonObject) -> None:
        text, code, system = _concept(resource.get("code"))
        self._fact(
            Fact(
                kind="condition",
                text=text,
                date=_date(resource, "onsetDateTime", "onsetPeriod", "recordedDate"),
                end_date=_date(resource, "abatementDateTime") or _end(resource, "onsetPeriod"),
                code=code,
                system=system,
                status=_status(resource.get("clinicalStatus")),
            )
        )

    def _medication_fact(self, resource: JsonObject, date_keys: tuple[str, ...]) -> None:
        text, code, system = _concept(resource.get("medicationCodeableConcept"))
        text = text or _display(resource.get("medicationReference")) or ""
        extra: dict[str, str] = {}
        for dosage in (resource.get("dosageInstruction") or resource.get("dosage") or [])[:1]:
            if not isinstance(dosage, dict):
                continue
            if dosage.get("text"):
                extra["dose"] = str(dosage["text"])
            for rate in (dosage.get("doseAndRate") or [])[:1]:
                dose = _quantity(rate.get("doseQuantity")) if isinstance(rate, dict) else ""
                if dose:
                    extra.setdefault("dose", dose)
            route = _concept(dosage.get("route"))[0]
            if route:
                extra["route"] = route
            if dosage.get("asNeededBoolean"):
                extra["as needed"] = "yes"
        reasons = [_concept(r)[0] for r in resource.get("reasonCode") or []]
        if any(reasons):
            extra["reason"] = ", ".join(r for r in reasons if r)
        self._fact(
            Fact(
                kind="medication",
                text=text,
                date=_date(resource, *date_keys),
                end_date=_end(resource, "effectivePeriod"),
                code=code,
                system=system,
                status=_status(resource.get("status")),
                extra=extra,
            )
        )

    def _medicationrequest(self, resource: JsonObject) -> None:
        self._medication_fact(resource, ("authoredOn",))

    def _medicationstatement(self, resource: JsonObject) -> None:
        self._medication_fact(resource, ("effectiveDateTime", "effectivePeriod", "dateAsserted"))

    def _procedure(self, resource: JsonObject) -> None:
        text, code, system = _concept(resource.get("code"))
        self._fact(
            Fact(
                kind="procedure",
                text=text,
                date=_date(resource, "performedDateTime", "performedPeriod"),
                end_date=_end(resource, "performedPeriod"),
                code=code,
                system=system,
                status=_status(resource.get("status")),
            )
        )

    def _observation(self, resource: JsonObject) -> None:
        text, code, system = _concept(resource.get("code"))
        value = _observation_value(resource)
        parts = []
        for component in resource.get("component") or []:
            if isinstance(component, dict):
                name = _concept(component.get("code"))[0]
                part = _observation_value(component)
                if name and part:
                    parts.append(f"{name} {part}")
        extra: dict[str, str] = {}
        if value or parts:
            extra["value"] = value or ", ".join(parts)
        interpretation = resource.get("interpretation") or []
        if interpretation:
            flag = _concept(interpretation[0])[0]
            if flag:
                extra["flag"] = flag
        self._fact(
            Fact(
                kind="observation",
                text=text,
                date=_date(resource, "effectiveDateTime", "effectivePeriod", "issued"),
                code=code,
                system=system,
                status=_status(resource.get("status")),
                extra=extra,
            )
        )

    def _immunization(self, resource: JsonObject) -> None:
        text, code, system = _concept(resource.get("vaccineCode"))
        self._fact(
            Fact(
                kind="immunization",
                text=text,
                date=_date(resource, "occurrenceDateTime", "recorded"),
                code=code,
                system=system,
                status=_status(resource.get("status")),
            )
        )

    def _allergyintolerance(self, resource: JsonObject) -> None:
        text, code, system = _concept(resource.get("code"))
        extra: dict[str, str] = {}
        for key in ("type", "criticality"):
            if isinstance(resource.get(key), str):
                extra[key] = resource[key]
        categories = [c for c in resource.get("category") or [] if isinstance(c, str)]
        if categories:
            extra["category"] = ", ".join(categories)
        reactions = [
            _concept(m)[0]
            for reaction in resource.get("reaction") or []
            if isinstance(reaction, dict)
            for m in reaction.get("manifestation") or []
        ]
        if any(reactions):
            extra["reaction"] = ", ".join(r for r in reactions if r)
        self._fact(
            Fact(
                kind="allergy",
                text=text,
                date=_date(resource, "onsetDateTime", "recordedDate"),
                code=code,
                system=system,
                status=_status(resource.get("clinicalStatus")),
                extra=extra,
            )
        )

    def _documentreference(self, resource: JsonObject) -> None:
        title = resource.get("description") or _concept(resource.get("type"))[0] or "Document"
        when = _date(resource, "date")
        self.document_title = self.document_title or str(title)
        self.document_date = self.document_date or when
        self.author = self.author or _display(resource.get("author"))
        self.lines.append(f"Document: {title}" + (f"; {when}" if when else ""))
        for content in resource.get("content") or []:
            if isinstance(content, dict):
                self._attachment(content.get("attachment"), str(title))

    def _diagnosticreport(self, resource: JsonObject) -> None:
        title = _concept(resource.get("code"))[0] or "Report"
        when = _date(resource, "effectiveDateTime", "effectivePeriod", "issued")
        self.lines.append(f"Report: {title}" + (f"; {when}" if when else ""))
        if resource.get("conclusion"):
            self.notes.append(str(resource["conclusion"]))
        for attachment in resource.get("presentedForm") or []:
            self._attachment(attachment, title)

    def _attachment(self, attachment: Any, title: str) -> None:
        """Decode base64 attachment data in memory; text types are read, others extracted."""
        if not isinstance(attachment, dict) or not attachment.get("data"):
            return
        encoded = str(attachment["data"])
        if len(encoded) > MAX_ATTACHMENT_BYTES * 4 // 3:
            self.warnings.append(f"attachment of '{title}' is too large and was skipped")
            return
        try:
            payload = base64.b64decode(encoded, validate=False)
        except (binascii.Error, ValueError):
            self.warnings.append(f"attachment of '{title}' is not valid base64")
            return
        content_type = str(attachment.get("contentType") or "").lower().split(";")[0].strip()
        try:
            if content_type.startswith("text/") or not content_type:
                text = decode_text(payload)[0]
            else:
                suffix = ATTACHMENT_SUFFIXES.get(content_type, "")
                text = self.extract_attachment(payload, f"attachment{suffix}").text
        except ExtractionError as exc:
            self.warnings.append(f"attachment of '{title}' could not be read: {exc.reason}")
            return
        if text.strip():
            self.notes.append(text.strip())
