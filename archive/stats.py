"""Statistics for funding and research: frequency of illnesses treated, recurrence, readmissions.

Aggregates only: nothing here returns a name, an MRN or a record; results are
counts, rates and confidence intervals. Every query asks policy
(Action.STATS) and is an audit entry with its parameters.

What counts as a diagnosis (the "diagnosis events"):
- a confirmed ICD-10-CM code of a record (`record_codes`: the latest decision per
  record and code is "confirmed"), the record filed to a patient; one event per
  place the code was confirmed at (`occurrences`: the date and encounter of each
  fact of the record its passage names), else on the record's date; a record
  held for review (archive.review) counts nothing;
- a chart entry of kind "diagnosis" with an ICD-10-CM code, current version only,
  not entered in error or cancelled; its date is the entry's date.
A diagnosis without a full date (YYYY-MM-DD) takes the start of the encounter it
is attached to; with neither it is left out and counted as `undated`. The same
code on the same patient from a record and from the chart counts once per
encounter (counts are of distinct patients and distinct encounters).

Which encounter a diagnosis belongs to: the active encounter it is attached to
(record_codes.encounter_id / the entry's encounter), else the patient's admission
whose stay contains the date (an admission without a discharge runs to today),
else a visit on that date; else the diagnosis is its own episode (one per
patient and day). Periods follow the encounter's start date (the diagnosis date
for an episode of its own), so encounter counts add up across periods.

Never writes anything but audit entries; never returns patient identifiers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from archive.charts import rules
from archive.errors import BadInput
from archive.policy import Action
from archive.store.reports import CHAPTERS

if TYPE_CHECKING:
    from archive.session import Session
    from archive.store import Store

LEVELS = ("chapter", "category", "code")
PERIODS = ("month", "quarter", "year")
DEFAULT_GAP_DAYS = 30
DEFAULT_WINDOW_DAYS = 365
DEFAULT_READMISSION_DAYS = 30
Z95 = 1.959963984540054

CHAPTER_TITLES = {num: title for num, _lo, _hi, title in CHAPTERS}


def chapter_of(code: str) -> str | None:
    """The chapter number of an ICD-10-CM code ('S72.001A' -> '19'), or None."""
    head = code.replace(".", "").upper()[:3]
    return next((num for num, lo, hi, _t in CHAPTERS if lo <= head <= hi), None)


# -- diagnosis events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiagnosisEvent:
    """One diagnosis as the statistics see it (internal: carries the MRN; never shown or exported)."""

    mrn: str
    code: str
    day: str
    encounter: str | None
    encounter_kind: str | None
    encounter_start: str | None
    encounter_end: str | None
    episode: str
    episode_day: str
    category: str
    chapter: str | None


def diagnosis_events(store: Store, prefixes: list[str] | None = None, today: dt.date | None = None) -> list[
        DiagnosisEvent]:
    """Every dated diagnosis event (unaudited, for this module and archive.deid), optionally only codes under
    one of `prefixes` (codes or categories: 'S72', 'N39.0')."""
    wanted = [p.replace(".", "").upper() + "%" for p in prefixes or []]
    rows = store.reports.diagnosis_events(wanted, (today or rules.today()).isoformat())
    return [DiagnosisEvent(*r) for r in rows]


# -- parameters ---------------------------------------------------------------------------------------


def parse_bound(value: str | None, option: str, end: bool) -> str | None:
    """'2023' / '2023-04' / '2023-04-05' -> a day (the first, or with end=True the last, day it covers)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 4 and text.isdigit():
            return f"{text}-12-31" if end else f"{text}-01-01"
        if len(text) == 7:
            first = dt.date.fromisoformat(text + "-01")
            if not end:
                return first.isoformat()
            nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return (nxt - dt.timedelta(days=1)).isoformat()
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise BadInput(f"{option}: '{text}' is not a date.", f"Give YYYY-MM-DD, YYYY-MM or YYYY, e.g. {option} 2023-01.")


def check_choice(value: str, choices: tuple[str, ...], option: str) -> str:
    v = (value or "").strip().lower()
    if v not in choices:
        raise BadInput(f"{option}: '{value}' is not one of {', '.join(choices)}.",
                       f"For example {option} {choices[0]}.")
    return v


def _positive(value: int, option: str, minimum: int = 1) -> int:
    if int(value) < minimum:
        raise BadInput(f"{option}: must be at least {minimum} (got {value}).", f"For example {option} 30.")
    return int(value)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for a proportion (95% by default); None when n is 0."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def group_labels(store: Store, level: str, keys: set[str]) -> dict[str, str]:
    """Descriptions from the code set (reference data; empty when the code set is not loaded)."""
    if level == "chapter":
        return {k: CHAPTER_TITLES.get(k, "Unclassified code") for k in keys}
    return store.coding.descriptions(keys)


def _audit(session: Session, action: str, params: dict[str, Any]) -> None:
    with session.transaction():
        session.audit(action, details=params)


# -- frequency ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrequencyCell:
    period: str
    group: str
    label: str
    patients: int
    encounters: int


@dataclass(frozen=True)
class Margin:
    key: str  # a period, a group, or "ALL"
    patients: int  # distinct patients (not the sum of cells: a patient may count in several groups)
    encounters: int


@dataclass(frozen=True)
class Frequency:
    by: str
    period: str
    date_from: str | None
    date_to: str | None
    cells: list[FrequencyCell]
    periods: list[Margin]  # distinct counts per period, all groups together
    groups: list[Margin]  # distinct counts per group over the whole range
    total: Margin
    undated: int  # diagnoses left out: no date and no encounter to date them
    labels: dict[str, str] = field(default_factory=dict)

    def period_keys(self) -> list[str]:
        """The periods that have encounters, oldest first."""
        return [m.key for m in self.periods]

    def calendar_keys(self) -> list[str]:
        """Every period from the first with encounters to the last, the empty ones too: a line over time takes
        one step per calendar period ("2015".."2024"), not per period that happens to have encounters."""
        keys = self.period_keys()
        if not keys:
            return []
        return calendar_periods(self.period, keys[0], keys[-1])

    def busiest(self, n: int | None = None) -> list[Margin]:
        """The groups with the most encounters first; ties in the groups' own order (chapter 9 before 10)."""
        ranked = sorted(self.groups, key=lambda m: (-m.encounters, _group_sort(self.by, m.key)))
        return ranked if n is None else ranked[:n]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def calendar_periods(period: str, first: str, last: str) -> list[str]:
    """Each period's key from `first` to `last`, in the form the counts use ("2024", "2024-03", "2024-Q1")."""
    def step(n: int) -> str:
        if period == "year":
            return f"{n:04d}"
        if period == "quarter":
            return f"{n // 4:04d}-Q{n % 4 + 1}"
        return f"{n // 12:04d}-{n % 12 + 1:02d}"

    def number(key: str) -> int:
        if period == "year":
            return int(key)
        if period == "quarter":
            return int(key[:4]) * 4 + int(key[-1]) - 1
        return int(key[:4]) * 12 + int(key[5:7]) - 1

    return [step(n) for n in range(number(first), number(last) + 1)]


def compute_frequency(store: Store, by: str, period: str, date_from: str | None = None,
                      date_to: str | None = None) -> Frequency:
    """Distinct patients and encounters per (period, group), with margins (unaudited; callers check policy)."""
    rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for kind, per, grp, n, e in store.reports.frequency_counts(by, period, date_from, date_to,
                                                              rules.today().isoformat()):
        rows[kind].append((per, grp, n, e))
    labels = group_labels(store, by, {str(g) for _p, g, _n, _e in rows["group"]})
    total = rows["total"][0]
    return Frequency(
        by=by, period=period, date_from=date_from, date_to=date_to,
        cells=sorted((FrequencyCell(p, g, labels.get(g, ""), n, e) for p, g, n, e in rows["cell"]),
                     key=lambda c: (c.period, c.group)),
        periods=sorted((Margin(p, n, e) for p, _g, n, e in rows["period"]), key=lambda m: m.key),
        groups=sorted((Margin(g, n, e) for _p, g, n, e in rows["group"]), key=lambda m: _group_sort(by, m.key)),
        total=Margin("ALL", total[2], total[3]),
        undated=rows["undated"][0][2],
        labels=labels,
    )


def _group_sort(by: str, key: str) -> tuple[int, str]:
    return (int(key), "") if by == "chapter" and key.isdigit() else (999, key)


def frequency(session: Session, by: str = "chapter", period: str = "year", date_from: str | None = None,
              date_to: str | None = None) -> Frequency:
    """How often illnesses were treated: distinct patients and encounters per period and code group."""
    session.require(Action.STATS)
    by = check_choice(by, LEVELS, "--by")
    period = check_choice(period, PERIODS, "--period")
    start, end = parse_bound(date_from, "--from", False), parse_bound(date_to, "--to", True)
    if start and end and start > end:
        raise BadInput(f"--from {start} is after --to {end}.", "Swap them.")
    result = compute_frequency(session.store, by, period, start, end)
    _audit(session, "stats_frequency", {"by": by, "period": period, "from": start, "to": end})
    return result


# -- recurrence ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Episode:
    start: dt.date
    resolved: dt.date | None  # None: still open (an admission without a discharge)


def _resolution(e: DiagnosisEvent) -> dt.date | None:
    """When the care of this diagnosis ended: discharge of an admission, end (or day) of a visit, else its day."""
    if e.encounter_kind == "admission":
        return rules.stored_day(e.encounter_end)
    if e.encounter_kind == "visit":
        return rules.stored_day(e.encounter_end or e.encounter_start)
    return rules.stored_day(e.day)


def build_episodes(events: list[DiagnosisEvent], gap_days: int) -> list[Episode]:
    """One patient's episodes: a diagnosis starts a new episode when it falls at least `gap_days` after the
    current episode's resolution; otherwise it continues the episode (and may push its resolution later)."""
    episodes: list[Episode] = []
    for e in sorted(events, key=lambda x: x.day):
        day = rules.stored_day(e.day)
        assert day is not None
        res = _resolution(e)
        if res is not None and res < day:
            res = day
        if episodes:
            cur = episodes[-1]
            if cur.resolved is None or (day - cur.resolved).days < gap_days:
                later = None if cur.resolved is None or res is None else max(cur.resolved, res)
                episodes[-1] = Episode(cur.start, later)
                continue
        episodes.append(Episode(day, res))
    return episodes


@dataclass(frozen=True)
class Recurrence:
    code: str
    label: str
    window_days: int
    gap_days: int
    as_of: str
    patients: int  # patients with a first episode
    unresolved: int  # first episode still open: not at risk yet
    censored: int  # resolved, no recurrence, but the window has not fully passed
    eligible: int  # recurred + completed the window without recurrence
    recurred: int  # a second episode starting within the window after the first resolved
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    median_days_to_recurrence: float | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _code_prefix(store: Store, code: str) -> tuple[str, str]:
    from indexer import icd10

    norm = icd10.normalize_code(code or "")
    if norm is None or "-" in norm:
        raise BadInput(f"'{code}' is not an ICD-10-CM code or category.",
                       "Give a category or code, e.g. W19, S72, N39.0 or A04.7.")
    label = ""
    if store.coding.code_set_loaded():
        info = store.coding.lookup(norm)
        if info is None:
            near = [c.code for c in store.coding.near_codes(norm, limit=3)]
            raise BadInput(f"There is no ICD-10-CM code '{norm}'.",
                           f"Nearest codes: {', '.join(near)}." if near else "Search with 'chartvault code search'.")
        label = info.description
    return norm, label


def compute_recurrence(store: Store, code: str, window_days: int = DEFAULT_WINDOW_DAYS,
                       gap_days: int = DEFAULT_GAP_DAYS, as_of: dt.date | None = None) -> Recurrence:
    """Recurrence of `code` (a code or category prefix) among patients with a first episode (unaudited)."""
    norm, label = _code_prefix(store, code)
    today = as_of or rules.today()
    by_patient: dict[str, list[DiagnosisEvent]] = defaultdict(list)
    for e in diagnosis_events(store, [norm], today):
        if e.day <= today.isoformat():
            by_patient[e.mrn].append(e)
    unresolved = censored = eligible = recurred = 0
    delays: list[int] = []
    for events in by_patient.values():
        episodes = build_episodes(events, gap_days)
        first = episodes[0]
        if first.resolved is None:
            unresolved += 1
            continue
        second = episodes[1] if len(episodes) > 1 else None
        if second is not None and (second.start - first.resolved).days <= window_days:
            recurred += 1
            eligible += 1
            delays.append((second.start - first.resolved).days)
        elif (today - first.resolved).days >= window_days:
            eligible += 1
        else:
            censored += 1
    ci = wilson_interval(recurred, eligible)
    delays.sort()
    median = None
    if delays:
        mid = len(delays) // 2
        median = float(delays[mid]) if len(delays) % 2 else (delays[mid - 1] + delays[mid]) / 2
    return Recurrence(
        code=norm, label=label, window_days=window_days, gap_days=gap_days, as_of=today.isoformat(),
        patients=len(by_patient), unresolved=unresolved, censored=censored, eligible=eligible, recurred=recurred,
        rate=recurred / eligible if eligible else None, ci_low=ci[0] if ci else None, ci_high=ci[1] if ci else None,
        median_days_to_recurrence=median,
    )


def recurrence(session: Session, code: str, window_days: int = DEFAULT_WINDOW_DAYS,
               gap_days: int = DEFAULT_GAP_DAYS, as_of: str | None = None) -> Recurrence:
    """Share of patients whose condition came back: a second episode within the window after the first resolved."""
    session.require(Action.STATS)
    window_days = _positive(window_days, "--window-days")
    gap_days = _positive(gap_days, "--gap-days")
    if window_days < gap_days:
        raise BadInput(f"--window-days {window_days} is shorter than --gap-days {gap_days}: nothing could recur.",
                       "A new episode starts at least the gap after the first resolved; widen the window.")
    day = rules.stored_day(parse_bound(as_of, "--as-of", False)) if as_of else None
    result = compute_recurrence(session.store, code, window_days, gap_days, day)
    _audit(session, "stats_recurrence", {"code": result.code, "window_days": window_days, "gap_days": gap_days,
                                         "as_of": result.as_of})
    return result


# -- readmissions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadmissionRow:
    physician: str  # the attending of the index stay (user name; "" when none is on file)
    full_name: str
    discharges: int  # index stays: admissions with a discharge date
    censored: int  # discharged less than `days` ago and not readmitted: left out of the rate
    eligible: int  # discharges - censored
    readmitted: int  # index stays followed by an admission of the same patient within `days`
    rate: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class Readmissions:
    days: int
    as_of: str
    by_physician: list[ReadmissionRow]
    overall: ReadmissionRow

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _readmission_row(physician: str, full_name: str, discharges: int, readmitted: int,
                     censored: int) -> ReadmissionRow:
    eligible = discharges - censored
    ci = wilson_interval(readmitted, eligible)
    return ReadmissionRow(physician, full_name, discharges, censored, eligible, readmitted,
                          readmitted / eligible if eligible else None, ci[0] if ci else None, ci[1] if ci else None)


def compute_readmissions(store: Store, days: int = DEFAULT_READMISSION_DAYS,
                         as_of: dt.date | None = None) -> Readmissions:
    """Readmissions within `days` of a discharge, by the index stay's attending physician and overall."""
    day = (as_of or rules.today()).isoformat()
    by = [_readmission_row(p, f, n, r, c) for p, f, n, r, c in store.reports.readmission_counts(days, day)]
    overall = _readmission_row("ALL", "", sum(r.discharges for r in by), sum(r.readmitted for r in by),
                               sum(r.censored for r in by))
    return Readmissions(days, day, by, overall)


def readmissions(session: Session, days: int = DEFAULT_READMISSION_DAYS, as_of: str | None = None) -> Readmissions:
    """Admissions starting within `days` of a previous discharge of the same patient, by physician and overall."""
    session.require(Action.STATS)
    days = _positive(days, "--days")
    day = rules.stored_day(parse_bound(as_of, "--as-of", False)) if as_of else None
    result = compute_readmissions(session.store, days, day)
    _audit(session, "stats_readmissions", {"days": days, "as_of": result.as_of})
    return result
