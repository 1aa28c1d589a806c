"""archive.charts.rules: the pure checks (dates, names, choices, codes, similarity)."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.charts import rules
from archive.errors import BadInput, ValidationError


def test_validation_error_names_the_option_and_is_bad_input() -> None:
    exc = ValidationError("dob", "birth date 2031-01-01 is in the future.")
    assert isinstance(exc, BadInput) and exc.exit_code == 2
    assert exc.message == "--dob: birth date 2031-01-01 is in the future."
    renamed = ValidationError("referral_reason", "is required.").as_option("--reason")
    assert renamed.message == "--reason: is required." and renamed.field == "referral_reason"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2024/03/05", "is not a date"),
        ("05-03-2024", "is not a date"),
        ("2023-02-29", "not a real date"),
        ("2024-13-01", "not a real date"),
    ],
)
def test_parse_day_refuses_malformed_and_impossible_dates(value: str, problem: str) -> None:
    with pytest.raises(ValidationError) as err:
        rules.parse_day("date", value, "the date")
    assert err.value.field == "date" and problem in err.value.problem


def test_parse_day_accepts_a_leap_day_and_handles_empty() -> None:
    assert rules.parse_day("date", "2024-02-29", "the date") == dt.date(2024, 2, 29)
    assert rules.parse_day("date", "  ", "the date") is None
    with pytest.raises(ValidationError, match="--date: the date is required"):
        rules.parse_day("date", "", "the date", required=True)


def test_birth_dates_in_the_future_or_implausibly_old_are_refused() -> None:
    tomorrow = rules.today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match=f"birth date {tomorrow.isoformat()} is in the future"):
        rules.check_birth_date("dob", tomorrow)
    with pytest.raises(ValidationError, match="over 125"):
        rules.check_birth_date("dob", dt.date(rules.today().year - 130, 1, 1))
    rules.check_birth_date("dob", rules.today())  # a newborn is fine


def test_choice_is_forgiving_about_case_and_dashes_but_names_the_options() -> None:
    assert rules.check_choice("status", "Entered-In-Error", rules.ENTRY_STATUSES, "status") == "entered_in_error"
    assert rules.check_choice("sex", "f", rules.SEXES, "sex") == "F"
    with pytest.raises(ValidationError) as err:
        rules.check_choice("sex", "Q", rules.SEXES, "sex")
    assert "F, M, X, U" in err.value.problem and "got Q" in err.value.problem


def test_names_need_letters_and_no_digits() -> None:
    assert rules.check_name("name", "  María   José  ") == "María José"
    for bad, why in (("", "required"), ("12345", "no letters"), ("Ann 2", "digits")):
        with pytest.raises(ValidationError, match=why):
            rules.check_name("name", bad)


def test_text_length_and_control_characters() -> None:
    with pytest.raises(ValidationError, match="at most 500"):
        rules.check_text("text", "x" * 501, "the text")
    with pytest.raises(ValidationError, match="control characters"):
        rules.check_text("text", "abc\x1b[31m", "the text")


def test_stored_day_reads_partial_dates_leniently() -> None:
    assert rules.stored_day("2019-11") == dt.date(2019, 11, 1)
    assert rules.stored_day("2019") == dt.date(2019, 1, 1)
    assert rules.stored_day("2019-11-04T10:00:00") == dt.date(2019, 11, 4)
    assert rules.stored_day("garbage") is None and rules.stored_day(None) is None


def test_name_similarity_catches_near_identical_and_reordered_names() -> None:
    assert rules.name_similarity("John Smith", "Jon Smith") >= rules.NAME_SIMILARITY
    assert rules.name_similarity("Smith, John", "John Smith") == 1.0
    assert rules.name_similarity("José Álvarez", "Jose Alvarez") == 1.0
    assert rules.name_similarity("John Smith", "Mary Jones") < rules.NAME_SIMILARITY
    assert rules.name_similarity("", "John Smith") == 0.0


def test_procedure_codes_are_free_but_sane() -> None:
    assert rules.check_procedure_code("code", "0DTJ4ZZ") == "0DTJ4ZZ"
    with pytest.raises(ValidationError, match="not a procedure code"):
        rules.check_procedure_code("code", "rm -rf /")
