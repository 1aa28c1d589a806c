"""indexer.extract.dates: the date spellings of HL7, FHIR and free text."""

from __future__ import annotations

import pytest

from indexer.extract.dates import fhir_date, hl7_date, text_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20210801090642+0215", "2021-08-01"),
        ("19610615", "1961-06-15"),
        ("198808181126+0215", "1988-08-18"),
        ("202101", "2021-01"),
        ("20211345", None),
        ("", None),
        ("not a date", None),
    ],
)
def test_hl7_date(value: str, expected: str | None) -> None:
    assert hl7_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1991-06-07T23:37:54+00:00", "1991-06-07"),
        ("2011-10-14T23:37:54.530+00:00", "2011-10-14"),
        ("1956-08-03", "1956-08-03"),
        ("1956-08", "1956-08"),
        ("1956", "1956"),
        ("1956-02-30", None),
    ],
)
def test_fhir_date(value: str, expected: str | None) -> None:
    assert fhir_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-05-02", "2021-05-02"),
        ("03/14/1960", "1960-03-14"),
        ("14/03/1960", "1960-03-14"),
        ("14.03.1960", "1960-03-14"),
        ("3/4/21", "2021-03-04"),
        ("March 3, 2022", "2022-03-03"),
        ("3rd Sept 2022", "2022-09-03"),
        ("seen on Feb 30, 2022", None),
        ("no date here", None),
    ],
)
def test_text_date(value: str, expected: str | None) -> None:
    assert text_date(value) == expected
