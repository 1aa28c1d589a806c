"""indexer.extract.render: the readable line of a fact."""

from __future__ import annotations

from indexer.extract.render import fact_line, patient_line
from indexer.extract.types import Fact, PatientInfo


def test_fact_line_names_the_code_system() -> None:
    fact = Fact(
        kind="condition",
        text="Ischemic stroke",
        date="2004-01-25",
        end_date="2004-02-01",
        code="422504002",
        system="http://snomed.info/sct",
        status="active",
        extra={"diagnosis type": "A"},
    )
    assert fact_line(fact, "Diagnosis") == (
        "Diagnosis: Ischemic stroke [SNOMED CT 422504002]; diagnosis type A; "
        "2004-01-25 to 2004-02-01; status active"
    )


def test_same_day_period_and_missing_parts() -> None:
    fact = Fact(kind="encounter", text="Check up", date="2020-01-02", end_date="2020-01-02")
    assert fact_line(fact, "Encounter") == "Encounter: Check up; 2020-01-02"


def test_patient_line() -> None:
    assert patient_line(PatientInfo(mrn="1", name="Jane Doe", dob="1960-03-14", sex="F")) == (
        "Patient: Jane Doe; MRN 1; born 1960-03-14; sex F"
    )
    assert patient_line(PatientInfo(mrn=None)) == "Patient: (no name)"
