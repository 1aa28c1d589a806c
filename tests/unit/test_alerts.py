"""Alert windows (pure) and the --since parser."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.alerts import _windows
from archive.audit import AuditEntry
from archive.audit_review import parse_since
from archive.errors import BadInput

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _entry(seq: int, minute: float, patient: str) -> AuditEntry:
    ts = (T0 + dt.timedelta(minutes=minute)).isoformat()
    return AuditEntry(seq, ts, "tess", "technician", "view_record", patient, f"r{seq}", None, "ok", False, {})


def _distinct(n: int):  # type: ignore[no-untyped-def]
    return lambda window: len({e.patient for e in window}) >= n


def test_burst_of_patients_is_one_alert_naming_its_entries() -> None:
    # 4 patients within 3 minutes, then quiet, then the same patient again and again
    entries = [_entry(i + 1, m, p) for i, (m, p) in enumerate(
        [(0, "A"), (1, "B"), (2, "C"), (3, "D"), (30, "E"), (31, "E"), (32, "E")]
    )]
    runs = _windows(entries, minutes=10, hit=_distinct(3))
    assert [[e.seq for e in run] for run in runs] == [[1, 2, 3, 4]]


def test_slow_browsing_never_fires_and_two_bursts_are_two_alerts() -> None:
    slow = [_entry(i + 1, i * 11, chr(65 + i)) for i in range(6)]  # one patient every 11 minutes
    assert _windows(slow, minutes=10, hit=_distinct(2)) == []
    bursts = [_entry(i + 1, m, p) for i, (m, p) in enumerate([(0, "A"), (1, "B"), (60, "C"), (61, "D")])]
    runs = _windows(bursts, minutes=10, hit=_distinct(2))
    assert [[e.seq for e in run] for run in runs] == [[1, 2], [3, 4]]


def test_parse_since() -> None:
    assert parse_since("2026-01-05") == "2026-01-05T00:00:00.000000+00:00"  # same format as entry times
    assert parse_since(None) is None and parse_since("  ") is None
    recent = dt.datetime.fromisoformat(parse_since("12h") or "")
    assert abs((dt.datetime.now(dt.UTC) - recent) - dt.timedelta(hours=12)) < dt.timedelta(seconds=5)
    with pytest.raises(BadInput):
        parse_since("last tuesday")
