"""archive.columns: the MRN column is as wide as the widest MRN shown, within bounds, and never cuts one."""

from __future__ import annotations

from archive.columns import MRN_CAP, MRN_LEAST, mrn_cell, mrn_width

UUID = "3f1c2a9e-5b7d-4c1e-9a2b-6d8e0f4a1b2c"


def test_the_column_fits_the_widest_mrn_shown() -> None:
    assert len(UUID) == 36
    assert mrn_width(["1001", UUID, None]) == 36
    assert mrn_width(["1001", "42"]) == MRN_LEAST  # as it always was, for short MRNs and the header
    assert mrn_width([]) == MRN_LEAST and mrn_width([None, ""]) == MRN_LEAST
    assert mrn_width(["1001"], least=20) == 20 and mrn_width(["1001"], least=0) == 4


def test_a_longer_mrn_than_the_cap_is_printed_whole() -> None:
    long = "x" * (MRN_CAP + 5)
    assert mrn_width([long, "1"]) == MRN_CAP
    assert mrn_cell(long, MRN_CAP) == long
    assert mrn_cell("1001", 6) == "1001  " and mrn_cell(UUID, mrn_width([UUID])) == UUID
