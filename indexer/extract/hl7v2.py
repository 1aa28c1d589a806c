"""HL7 v2 messages: patient, document date and author, clinical facts and a readable text.

Accepts a UTF-8 byte-order mark and \\r, \\n or \\r\\n between segments. The
patient comes from PID (PID-3 first repetition as MRN, PID-5 name, PID-7
birth date, PID-8 sex); facts from PV1 (encounter), DG1 and PRB (conditions),
RXE/RXO/RXD (medications), RXA (immunizations, or medications when not coded
in CVX), PR1 (procedures), AL1 (allergies) and OBX (observations). Narrative
OBX values (TX, FT) and NTE comments form the note body. Never writes to disk.
"""

from __future__ import annotations

import logging
from typing import Any

from indexer.extract.dates import hl7_date
from indexer.extract.errors import ExtractionError
from indexer.extract.render import fact_line, patient_line
from indexer.extract.text import decode_text
from indexer.extract.types import Extraction, Fact, PatientInfo

MESSAGE_TITLES = {
    "ADT": "Patient administration",
    "BAR": "Billing account",
    "DFT": "Financial transaction",
    "MDM": "Medical document",
    "OMG": "General clinical order",
    "OML": "Laboratory order",
    "ORM": "Order",
    "ORU": "Observation result",
    "OUL": "Laboratory observation",
    "PPR": "Problem list",
    "RDE": "Pharmacy order",
    "RDS": "Pharmacy dispense",
    "REF": "Referral",
    "SIU": "Scheduling",
    "VXU": "Vaccination update",
}
# HL7 table 0063 (relationship) and 0131 (contact role), the codes messages use most.
RELATIONSHIPS = {
    "SPO": "spouse", "DOM": "life partner", "CHD": "child", "PAR": "parent", "MTH": "mother", "FTH": "father",
    "SIB": "sibling", "BRO": "brother", "SIS": "sister", "GRD": "guardian", "EMC": "emergency contact",
    "FND": "friend", "SEL": "self", "OTH": "other", "SO": "significant other", "EC": "emergency contact",
    "C": "emergency contact", "N": "next of kin", "NOK": "next of kin", "E": "employer", "F": "federal agency",
    "I": "insurance company",
    "O": "other", "S": "state agency", "U": "unknown", "EMR": "employer", "GRP": "grandparent", "GCH": "grandchild",
    "DAU": "daughter", "SON": "son", "WRD": "ward", "CGV": "care giver", "ASC": "associate",
}
CODING_SYSTEMS = {
    "I9": "ICD-9-CM",
    "I9C": "ICD-9-CM",
    "I9M": "ICD-9-CM",
    "I9CDX": "ICD-9-CM",
    "I10": "ICD-10-CM",
    "I10C": "ICD-10-CM",
    "ICD10": "ICD-10-CM",
    "SCT": "http://snomed.info/sct",
    "SNM": "http://snomed.info/sct",
    "LN": "http://loinc.org",
    "RXNORM": "RxNorm",
    "RXN": "RxNorm",
    "CVX": "CVX",
    "NDC": "NDC",
    "C4": "CPT-4",
    "CPT": "CPT-4",
}
PATIENT_CLASSES = {
    "E": "emergency",
    "I": "inpatient",
    "O": "outpatient",
    "P": "preadmit",
    "R": "recurring patient",
    "B": "obstetrics",
}
# HL7 table 0270, the document types of TXA-2.
DOCUMENT_TYPES = {
    "AR": "Autopsy report",
    "CD": "Cardiodiagnostics",
    "CN": "Consultation",
    "DI": "Diagnostic imaging",
    "DS": "Discharge summary",
    "ED": "Emergency department report",
    "HP": "History and physical examination",
    "OP": "Operative report",
    "PC": "Psychiatric consultation",
    "PH": "Psychiatric history and physical examination",
    "PN": "Procedure note",
    "PR": "Progress note",
    "SP": "Surgical pathology",
    "TS": "Transfer summary",
}
RESULT_MESSAGES = ("ORU", "OUL")
SEXES = {"F": "F", "M": "M", "O": "X", "A": "X", "U": "U", "N": "U"}
NARRATIVE_TYPES = {"TX", "FT"}
SKIPPED_VALUE_TYPES = {"ED", "RP", "HD"}

_FRAMING = ("FHS", "BHS", "BTS", "FTS")


def extract_hl7v2(data: bytes, filename: str) -> Extraction:
    """One HL7 v2 message (the first, when a file holds a batch)."""
    import hl7

    # hl7 logs the whole field when an escape sequence is malformed, and
    # field values are patient data: keep them out of any log file.
    logging.getLogger("hl7").setLevel(logging.CRITICAL)

    raw, encoding, warnings = decode_text(data)
    lines = [line.strip() for line in raw.replace("\r\n", "\r").replace("\n", "\r").split("\r")]
    segments = [line for line in lines if line and not line.startswith(_FRAMING)]
    if not segments or not segments[0].startswith("MSH"):
        raise ExtractionError("not an HL7 v2 message: no MSH segment at the start")
    try:
        message = hl7.parse("\r".join(segments))
    except hl7.ParseException as exc:
        raise ExtractionError("malformed HL7 v2 message: the MSH segment cannot be parsed") from exc

    reader = _MessageReader(message)
    result = reader.read()
    result.encoding = encoding
    result.warnings = warnings + result.warnings
    return result


def _value(segment: Any, field: int, component: int = 1, repetition: int = 1, sub: int = 1) -> str:
    """A leaf value, '' when absent; never raises on short or odd segments."""
    try:
        value = segment.extract_field(
            field_num=field, repeat_num=repetition, component_num=component, subcomponent_num=sub
        )
    except (IndexError, KeyError, ValueError, TypeError, AttributeError):
        return ""
    # \.br\ escapes come back as \r.
    return str(value).replace("\r", "\n").strip()


def _repetitions(segment: Any, field: int) -> int:
    try:
        return len(segment(field)) if field < len(segment) else 0
    except (IndexError, TypeError):
        return 0


def _coded(segment: Any, field: int, repetition: int = 1) -> tuple[str, str | None, str | None]:
    """A CE/CWE value -> (display text, code, coding system)."""
    code = _value(segment, field, 1, repetition)
    display = _value(segment, field, 2, repetition)
    original = _value(segment, field, 9, repetition)
    system = _value(segment, field, 3, repetition)
    text = original or display or _value(segment, field, 5, repetition) or code
    return text, code or None, (CODING_SYSTEMS.get(system.upper(), system) or None)


def _person(segment: Any, field: int) -> str | None:
    """An XCN/XPN person -> "Given Family" (or whatever single value is there)."""
    family = _value(segment, field, 2)
    given = _value(segment, field, 3)
    if family or given:
        return " ".join(part for part in (given, family) if part)
    only = _value(segment, field, 1)
    return only if only and not only.replace("-", "").isdigit() else None


def _result_interpreter(segment: Any) -> str | None:
    """OBR-32 is NDL: its first component holds ID&Family&Given sub-components."""
    family = _value(segment, 32, 1, 1, 2)
    given = _value(segment, 32, 1, 1, 3)
    if family or given:
        return " ".join(part for part in (given, family) if part)
    return _person(segment, 32)


def _first(*values: str | None) -> str | None:
    for value in values:
        if value:
            return value
    return None


class _MessageReader:
    """Walks the segments once, collecting facts, text lines and metadata."""

    def __init__(self, message: Any) -> None:
        self.message = message
        self.segments = [(str(segment[0]).strip(), segment) for segment in message]
        self.facts: list[Fact] = []
        self.summary: list[str] = []
        self.body: list[str] = []
        self.dates: dict[str, str] = {}
        self.authors: dict[str, str] = {}
        self.patient: PatientInfo | None = None
        self.message_type = ""
        self.order_date: str | None = None

    def read(self) -> Extraction:
        handlers = {
            "MSH": self._msh,
            "PID": self._pid,
            "MRG": self._mrg,
            "NK1": self._nk1,
            "PV1": self._pv1,
            "ORC": self._orc,
            "OBR": self._obr,
            "TXA": self._txa,
            "DG1": self._dg1,
            "PRB": self._prb,
            "RXE": self._rxe,
            "RXO": self._rxo,
            "RXD": self._rxd,
            "RXA": self._rxa,
            "RXR": self._rxr,
            "PR1": self._pr1,
            "AL1": self._al1,
            "OBX": self._obx,
            "NTE": self._nte,
            "SCH": self._sch,
        }
        for name, segment in self.segments:
            handler = handlers.get(name)
            if handler:
                handler(segment)
        visits = {f.extra.get("visit") for f in self.facts if f.kind == "encounter"}
        if len(visits) == 1 and None not in visits:
            # One visit per message (PV1-19): every fact of the message belongs to it.
            for fact in self.facts:
                fact.encounter = next(iter(visits))
        kind = self.message_type.split("^")[0]
        title = self.dates.get("title") or (
            f"{MESSAGE_TITLES.get(kind, 'HL7 message')} ({self.message_type})"
        )
        text = "\n".join(self.summary + ([""] + self.body if self.body else []))
        return Extraction(
            text=text,
            format="hl7v2",
            doc_type=f"hl7:{self.message_type}" if self.message_type else "hl7:unknown",
            title=title,
            date=self._document_date(kind),
            author=_first(
                self.authors.get("txa5"), self.authors.get("txa9"), self.authors.get("obr32"),
                self.authors.get("pv1"),
            ),
            patient=self.patient,
            facts=self.facts,
        )

    def _document_date(self, kind: str) -> str | None:
        """A document's own date first; for results the observation time; else when sent."""
        if kind in RESULT_MESSAGES:
            return _first(self.dates.get("txa"), self.dates.get("obx"), self.dates.get("obr"),
                          self.dates.get("msh"))
        return _first(self.dates.get("txa"), self.dates.get("msh"), self.dates.get("obr"),
                      self.dates.get("obx"))

    def _add(self, fact: Fact, label: str) -> None:
        self.facts.append(fact)
        self.summary.append(fact_line(fact, label))

    def _msh(self, segment: Any) -> None:
        if self.message_type:
            return
        event = "^".join(p for p in (_value(segment, 9, 1), _value(segment, 9, 2)) if p)
        self.message_type = event
        sent = hl7_date(_value(segment, 7))
        if sent:
            self.dates["msh"] = sent
        sender = " ".join(p for p in (_value(segment, 3), _value(segment, 4)) if p)
        line = f"HL7 {event or 'message'}"
        if sent:
            line += f" of {sent}"
        if sender:
            line += f" from {sender}"
        self.summary.append(line)

    def _pid(self, segment: Any) -> None:
        mrn = _first(_value(segment, 3, 1), _value(segment, 2, 1), _value(segment, 4, 1))
        family = _value(segment, 5, 1, 1, 1)
        given = _value(segment, 5, 2)
        name = " ".join(part for part in (given, family) if part) or None
        dob = hl7_date(_value(segment, 7))
        sex = SEXES.get(_value(segment, 8).upper()[:1]) if _value(segment, 8) else None
        info = PatientInfo(mrn=mrn, name=name, dob=dob, sex=sex)
        if self.patient is None:
            self.patient = info
        self.summary.append(patient_line(info))
        died = hl7_date(_value(segment, 29))
        if died:
            self.summary.append(f"Died {died} (date of death)")

    def _nk1(self, segment: Any) -> None:
        """NK1: a next of kin or contact person (name, relationship, role), as the message lists them."""
        name = " ".join(p for p in (_value(segment, 2, 2), _value(segment, 2, 1, 1, 1)) if p)
        if not name:
            return
        parts = [f"Next of kin {_value(segment, 1) or ''}".rstrip() + f": {name}"]
        code, text = _value(segment, 3, 1), _value(segment, 3, 2)
        relationship = text or RELATIONSHIPS.get(code.upper(), code)
        if relationship:
            parts.append(f"relationship {relationship}" + (f" ({code})" if code and code != relationship else ""))
        role_code, role_text = _value(segment, 7, 1), _value(segment, 7, 2)
        role = role_text or RELATIONSHIPS.get(role_code.upper(), role_code)
        if role:
            parts.append(f"contact role {role}")
        self.summary.append("; ".join(parts))

    def _mrg(self, segment: Any) -> None:
        prior = _value(segment, 1, 1)
        if prior:
            self.summary.append(f"Merged record: prior MRN {prior}")

    def _pv1(self, segment: Any) -> None:
        patient_class = _value(segment, 2)
        text = PATIENT_CLASSES.get(patient_class.upper(), patient_class) or "visit"
        extra: dict[str, str] = {}
        if patient_class:
            extra["class"] = patient_class
        location = ", ".join(p for p in (_value(segment, 3, i) for i in (1, 2, 3, 4)) if p)
        if location:
            extra["location"] = location
        attending = _person(segment, 7)
        if attending:
            extra["attending"] = attending
            self.authors.setdefault("pv1", attending)
        service = _value(segment, 10)
        if service:
            extra["service"] = service
        visit = _value(segment, 19, 1)
        if visit:
            extra["visit"] = visit
        self._add(
            Fact(
                kind="encounter",
                text=f"{text.capitalize()} visit",
                date=hl7_date(_value(segment, 44)),
                end_date=hl7_date(_value(segment, 45)),
                extra=extra,
            ),
            "Visit",
        )

    def _orc(self, segment: Any) -> None:
        self.order_date = hl7_date(_value(segment, 9))

    def _obr(self, segment: Any) -> None:
        service, code, system = _coded(segment, 4)
        when = hl7_date(_value(segment, 7))
        if when:
            self.dates.setdefault("obr", when)
        interpreter = _result_interpreter(segment)
        if interpreter:
            self.authors.setdefault("obr32", interpreter)
        if service:
            if self.message_type.startswith(("ORU", "OUL")):
                self.dates.setdefault("title", service)
            line = f"Order: {service}"
            if when:
                line += f"; {when}"
            self.summary.append(line)

    def _txa(self, segment: Any) -> None:
        when = hl7_date(_value(segment, 6)) or hl7_date(_value(segment, 4))
        if when:
            self.dates.setdefault("txa", when)
        for key, field in (("txa5", 5), ("txa9", 9)):
            person = _person(segment, field)
            if person:
                self.authors.setdefault(key, person)
        code = _value(segment, 2, 1)
        doc_type = _value(segment, 2, 2) or DOCUMENT_TYPES.get(code.upper(), code)
        title = _value(segment, 25) or doc_type
        if title:
            self.dates.setdefault("title", title)
        status = _value(segment, 17)
        line = "Document: " + (title or "clinical document")
        if when:
            line += f"; {when}"
        if status:
            line += f"; status {status}"
        self.summary.append(line)

    def _dg1(self, segment: Any) -> None:
        text, code, system = _coded(segment, 3)
        text = text if text != code else (_value(segment, 4) or text)
        if not text:
            return
        extra = {"diagnosis type": _value(segment, 6)} if _value(segment, 6) else {}
        self._add(
            Fact(
                kind="condition",
                text=text,
                date=hl7_date(_value(segment, 5)),
                code=code,
                system=system,
                extra=extra,
            ),
            "Diagnosis",
        )

    def _prb(self, segment: Any) -> None:
        text, code, system = _coded(segment, 3)
        if not text:
            return
        self._add(
            Fact(
                kind="condition",
                text=text,
                date=hl7_date(_value(segment, 7)) or hl7_date(_value(segment, 2)),
                end_date=hl7_date(_value(segment, 9)),
                code=code,
                system=system,
                status=_first(_value(segment, 14), _value(segment, 13)),
                extra={"action": _value(segment, 1)} if _value(segment, 1) else {},
            ),
            "Problem",
        )

    def _medication(
        self, segment: Any, code_field: int, amount: int, units: int, instructions: int
    ) -> None:
        text, code, system = _coded(segment, code_field)
        if not text:
            return
        extra: dict[str, str] = {}
        dose = " ".join(p for p in (_value(segment, amount), _value(segment, units, 2) or
                                    _value(segment, units, 1)) if p)
        if dose:
            extra["dose"] = dose
        note = _value(segment, instructions, 2) or _value(segment, instructions, 1)
        if note:
            extra["instructions"] = note
        self._add(
            Fact(kind="medication", text=text, date=self.order_date, code=code, system=system,
                 extra=extra),
            "Medication",
        )

    def _rxe(self, segment: Any) -> None:
        self._medication(segment, code_field=2, amount=3, units=5, instructions=7)

    def _rxo(self, segment: Any) -> None:
        self._medication(segment, code_field=1, amount=2, units=4, instructions=7)

    def _rxd(self, segment: Any) -> None:
        self._medication(segment, code_field=2, amount=4, units=5, instructions=9)

    def _rxa(self, segment: Any) -> None:
        text, code, system = _coded(segment, 5)
        if not text:
            return
        immunization = system == "CVX" or self.message_type.startswith("VXU")
        extra: dict[str, str] = {}
        amount = _value(segment, 6)
        if amount and amount != "999":  # 999 means "amount unknown" in immunization messages
            extra["dose"] = " ".join(p for p in (amount, _value(segment, 7, 1)) if p)
        lot = _value(segment, 15)
        if lot:
            extra["lot"] = lot
        self._add(
            Fact(
                kind="immunization" if immunization else "medication",
                text=text,
                date=hl7_date(_value(segment, 3)),
                code=code,
                system=system,
                status=_value(segment, 20) or None,
                extra=extra,
            ),
            "Immunization" if immunization else "Medication given",
        )

    def _rxr(self, segment: Any) -> None:
        route = _value(segment, 1, 2) or _value(segment, 1, 1)
        if route and self.facts and self.facts[-1].kind in ("medication", "immunization"):
            self.facts[-1].extra["route"] = route
            self.summary[-1] += f"; route {route}"

    def _pr1(self, segment: Any) -> None:
        text, code, system = _coded(segment, 3)
        text = _value(segment, 4) if (not text or text == code) and _value(segment, 4) else text
        if not text:
            return
        self._add(
            Fact(kind="procedure", text=text, date=hl7_date(_value(segment, 5)), code=code,
                 system=system),
            "Procedure",
        )

    def _al1(self, segment: Any) -> None:
        text, code, system = _coded(segment, 3)
        if not text:
            return
        extra: dict[str, str] = {}
        for key, field in (("type", 2), ("severity", 4)):
            value = _value(segment, field, 2) or _value(segment, field, 1)
            if value:
                extra[key] = value
        reaction = _value(segment, 5)
        if reaction:
            extra["reaction"] = reaction
        self._add(
            Fact(kind="allergy", text=text, date=hl7_date(_value(segment, 6)), code=code,
                 system=system, extra=extra),
            "Allergy",
        )

    def _obx(self, segment: Any) -> None:
        value_type = _value(segment, 2).upper()
        name, code, system = _coded(segment, 3)
        when = hl7_date(_value(segment, 14))
        if when:
            self.dates.setdefault("obx", when)
        if value_type in NARRATIVE_TYPES:
            for repetition in range(1, _repetitions(segment, 5) + 1):
                text = _value(segment, 5, 1, repetition)
                if text:
                    self.body.append(text)
            return
        if value_type in SKIPPED_VALUE_TYPES:
            return
        value = self._observation_value(segment, value_type)
        if not value or not name:
            return
        extra = {"value": value}
        for key, field in (("unit", 6), ("reference range", 7), ("flag", 8)):
            part = _value(segment, field, 1)
            if part:
                extra[key] = part
        self._add(
            Fact(kind="observation", text=name, date=when, code=code, system=system,
                 status=_value(segment, 11) or None, extra=extra),
            "Observation",
        )

    @staticmethod
    def _observation_value(segment: Any, value_type: str) -> str:
        if value_type in ("CE", "CWE", "CNE"):
            return _coded(segment, 5)[0]
        if value_type in ("DT", "TS", "DTM"):
            raw = _value(segment, 5)
            return hl7_date(raw) or raw
        if value_type == "SN":
            return "".join(_value(segment, 5, i) for i in (1, 2, 3, 4)).strip()
        values = [_value(segment, 5, 1, r) for r in range(1, _repetitions(segment, 5) + 1)]
        return ", ".join(v for v in values if v)

    def _nte(self, segment: Any) -> None:
        comment = " ".join(
            _value(segment, 3, 1, r) for r in range(1, _repetitions(segment, 3) + 1)
        ).strip()
        if comment:
            self.body.append(comment)

    def _sch(self, segment: Any) -> None:
        reason = _value(segment, 7, 2) or _value(segment, 7, 1)
        start = hl7_date(_value(segment, 11, 4))
        line = "Appointment: " + (reason or "scheduled")
        if start:
            line += f"; {start}"
            self.dates.setdefault("obr", start)
        self.summary.append(line)
