"""De-identified research exports (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)) with small-cell suppression.

Two CSV extracts leave the vault through here, and nothing else of a patient:
- `export_stats`: counts of patients and encounters per year and code group
  (archive.stats), groups with fewer than `min_cell` patients combined into
  OTHER, then small cells suppressed with complementary suppression
  (archive.suppression) so no suppressed count follows from the totals;
- `export_cases`: one row per patient, encounter and code: a pseudonym, the year,
  age in years ("90+" from 90), sex, setting, length of stay in days and the code.
  A code held by fewer than `min_cell` patients is shown as its category; a
  category held by fewer is left out.

What never leaves (the 18 Safe Harbor identifiers): names, MRNs, record, encounter
and entry ids, any date finer than the year (birth, admission, discharge,
diagnosis), addresses and any geography, phone/fax/e-mail, account or licence
numbers, device ids, URLs, IP addresses, biometrics, photos, and free text of any
kind (titles, notes, entry texts): the extracts are built only from codes, years,
counts, sex and derived numbers, never from a text column. Code descriptions come
from the ICD-10-CM code set (reference data).

Pseudonyms: HMAC-SHA256 of the MRN under a random key made for this export and
never stored, so they are stable within one file and unlinkable across files,
and no one (us included) can turn them back into MRNs. Rows are sorted by
pseudonym, so their order says nothing about the MRNs either.

The file is written 0600, atomically (vault.atomic); the export is an audit entry
with its parameters and row counts, never its content or the patients in it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive import stats
from archive.charts import rules
from archive.errors import BadInput, UserError
from archive.policy import Action
from archive.suppression import protect
from vault.atomic import atomic_writer

if TYPE_CHECKING:
    from archive.session import Session

DEFAULT_MIN_CELL = 11
MIN_MIN_CELL = 2
TOP_AGE = 90  # ages from 90 on are shown as "90+"
OTHER = "OTHER"
ALL = "ALL"
STATS_COLUMNS = ("measure", "level", "year", "group", "label", "count", "suppressed")
CASES_COLUMNS = ("patient", "encounter_seq", "year", "age", "sex", "setting", "stay_days", "code", "code_level",
                 "category", "chapter", "description")


@dataclass(frozen=True)
class ExportResult:
    kind: str  # stats | cases
    path: str
    rows: int
    min_cell: int
    suppressed_cells: int = 0  # stats: cells left blank (primary and complementary together)
    merged_groups: int = 0  # stats: groups with fewer than min_cell patients, combined into OTHER
    patients: int = 0  # cases: pseudonymous patients in the file
    suppressed_rows: int = 0  # cases: rows left out (their category has fewer than min_cell patients)
    generalized_rows: int = 0  # cases: rows whose code is shown as its category
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# -- checks and output ---------------------------------------------------------------------------------


def _check_min_cell(min_cell: int) -> int:
    if int(min_cell) < MIN_MIN_CELL:
        raise BadInput(f"--min-cell must be at least {MIN_MIN_CELL} (got {min_cell}).",
                       f"The default, {DEFAULT_MIN_CELL}, follows the CMS cell-size policy.")
    return int(min_cell)


def _check_out(session: Session, out: Path, force: bool) -> Path:
    path = Path(out).expanduser()
    vault_root = Path(session.vault.root).resolve()
    if path.resolve() == vault_root or vault_root in path.resolve().parents:
        # the inbox is watched: an extract written there would be imported as a record
        raise BadInput(f"--out {path} is inside the vault folder.",
                       "Write exports outside the vault, e.g. --out ~/extract.csv.")
    if path.is_dir():
        raise BadInput(f"--out {path} is a folder.", "Give a file name, e.g. --out extract.csv.")
    if not path.parent.is_dir():
        raise BadInput(f"--out: the folder {path.parent} does not exist.", "Create it first, or choose another.")
    if path.exists() and not force:
        raise UserError(f"{path} exists already.", "Choose another name, or give --force to replace it.")
    return path


def _safe(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write(session: Session, path: Path, columns: tuple[str, ...], rows: list[list[Any]], action: str,
           details: dict[str, Any]) -> None:
    """Write the CSV atomically (0600) and audit the export; the audit entry commits before the rename."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[_safe(v) for v in row] for row in rows])
    with atomic_writer(path, mode=0o600) as fh:
        fh.write(buf.getvalue().encode("utf-8"))
        with session.transaction():
            session.audit(action, details=details)


# -- statistics extract --------------------------------------------------------------------------------


def _stats_tables(freq: stats.Frequency, min_cell: int) -> tuple[list[str], list[str], dict[str, list[list[int]]],
                                                                    int]:
    """Rows (groups, OTHER), columns (years) and one interior table per measure; groups under min_cell merged."""
    years = freq.period_keys()
    keep = [g.key for g in freq.groups if g.patients >= min_cell]
    merged = [g.key for g in freq.groups if g.patients < min_cell]
    rows = keep + ([OTHER] if merged else [])
    index = {g: i for i, g in enumerate(keep)}
    col = {y: j for j, y in enumerate(years)}
    tables = {m: [[0] * len(years) for _ in rows] for m in ("patients", "encounters")}
    for cell in freq.cells:
        i = index.get(cell.group, len(keep))  # a merged group adds to OTHER
        tables["patients"][i][col[cell.period]] += cell.patients
        tables["encounters"][i][col[cell.period]] += cell.encounters
    return rows, years, tables, len(merged)


def export_stats(session: Session, out: Path, by: str = "chapter", period: str = "year",
                 date_from: str | None = None, date_to: str | None = None,
                 min_cell: int = DEFAULT_MIN_CELL, force: bool = False) -> ExportResult:
    """Counts of patients and encounters per year and code group, small cells suppressed, to a CSV file."""
    session.require(Action.EXPORT)
    by = stats.check_choice(by, stats.LEVELS, "--by")
    if stats.check_choice(period, stats.PERIODS, "--period") != "year":
        raise BadInput(
            f"--period {period}: de-identified exports carry years only (HIPAA Safe Harbor: no date element "
            "finer than the year).",
            "Use --period year; monthly and quarterly counts stay inside the vault ('chartvault stats frequency').",
        )
    min_cell = _check_min_cell(min_cell)
    start, end = stats.parse_bound(date_from, "--from", False), stats.parse_bound(date_to, "--to", True)
    path = _check_out(session, out, force)
    freq = stats.compute_frequency(session.store, by, "year", start, end)
    params = {"by": by, "period": "year", "from": start, "to": end, "min_cell": min_cell, "out": str(path)}
    csv_rows: list[list[Any]] = []
    suppressed_cells = merged = 0
    if freq.cells:
        groups, years, tables, merged = _stats_tables(freq, min_cell)
        labels = {**freq.labels, OTHER: f"Groups with fewer than {min_cell} patients, combined",
                  ALL: "Sum over the groups (a patient may count in several)"}
        if by == "chapter":
            labels = {k: (f"Chapter {k}: {v}" if k not in (OTHER, ALL) else v) for k, v in labels.items()}
        for measure, interior in tables.items():
            table = protect(interior, min_cell)
            suppressed_cells += len(table.suppressed)
            for i, group in enumerate([*groups, ALL]):
                for j, year in enumerate([*years, ALL]):
                    shown = table.shown(i, j)
                    csv_rows.append([measure, by, year, group, labels.get(group, ""),
                                     "" if shown is None else shown, 0 if shown is not None else 1])
    details = {**params, "rows": len(csv_rows), "suppressed_cells": suppressed_cells, "merged_groups": merged}
    _write(session, path, STATS_COLUMNS, csv_rows, "export_stats", details)
    return ExportResult("stats", str(path), len(csv_rows), min_cell, suppressed_cells=suppressed_cells,
                        merged_groups=merged, params=params)


# -- case extract --------------------------------------------------------------------------------------


def _codes(codes: list[str]) -> list[str]:
    from indexer import icd10

    out: list[str] = []
    for raw in codes:
        for part in str(raw).split(","):
            if not part.strip():
                continue
            norm = icd10.normalize_code(part)
            if norm is None or "-" in norm:
                raise BadInput(f"--codes: '{part.strip()}' is not an ICD-10-CM code or category.",
                               "For example --codes S72,W19 or --codes N39.0.")
            if norm not in out:
                out.append(norm)
    if not out:
        raise BadInput("--codes: which codes?", "Give codes or categories, e.g. --codes S72,W19.")
    return out


def _age(dob: str | None, day: str) -> str:
    born, when = rules.stored_day(dob) if dob and len(dob) >= 10 else None, rules.stored_day(day)
    if born is None or when is None or when < born:
        return ""
    years = when.year - born.year - ((when.month, when.day) < (born.month, born.day))
    return f"{TOP_AGE}+" if years >= TOP_AGE else str(years)


def _stay_days(e: stats.DiagnosisEvent) -> str:
    if e.encounter_kind != "admission" or not e.encounter_end:
        return ""
    start, end = rules.stored_day(e.encounter_start), rules.stored_day(e.encounter_end)
    return str((end - start).days) if start and end else ""


def export_cases(session: Session, out: Path, codes: list[str], date_from: str | None = None,
                 date_to: str | None = None, min_cell: int = DEFAULT_MIN_CELL, force: bool = False,
                 patient_list: str | None = None) -> ExportResult:
    """One row per pseudonymous patient, encounter and code under `codes`, to a CSV file.

    `patient_list`: only the patients of that list (archive.saved; yours or shared with you).
    """
    session.require(Action.EXPORT)
    only: set[str] | None = None
    if patient_list is not None:
        from archive.saved import list_patients

        only = set(list_patients(session, patient_list)[1])
    wanted = _codes(codes)
    min_cell = _check_min_cell(min_cell)
    start, end = stats.parse_bound(date_from, "--from", False), stats.parse_bound(date_to, "--to", True)
    path = _check_out(session, out, force)
    events = [
        e for e in stats.diagnosis_events(session.store, wanted)
        if (not start or e.episode_day >= start) and (not end or e.episode_day <= end)
        and (only is None or e.mrn in only)
    ]
    # Policy decides per patient: a physician under the 'assigned' scope exports only their own patients' cases.
    allowed = {m: session.may_see_patient(m, Action.EXPORT) for m in {e.mrn for e in events}}
    visible = [e for e in events if allowed[e.mrn]]
    # One row per (patient, encounter or own episode, code), whatever the records or entries behind it.
    unique = {(e.mrn, e.episode, e.code): e for e in visible}
    code_patients: dict[str, set[str]] = defaultdict(set)
    cat_patients: dict[str, set[str]] = defaultdict(set)
    for mrn, _ep, code in unique:
        code_patients[code].add(mrn)
        cat_patients[code.replace(".", "")[:3]].add(mrn)
    in_file = {k[0] for k in unique}
    patients = {m: dob_sex for m, dob_sex in session.store.patients.birth_dates_and_sex().items() if m in in_file}
    key = secrets.token_bytes(32)  # this export's pseudonym key: never stored, never logged
    pseudo = {m: "P" + hmac.new(key, m.encode(), hashlib.sha256).hexdigest()[:16] for m in in_file}
    descriptions = stats.group_labels(session.store, "code", {c for c in code_patients} | set(cat_patients))
    kept: dict[tuple[str, str, str], tuple[str, str]] = {}  # row key -> (code shown, level)
    suppressed = generalized = 0
    for (mrn, ep, code), e in unique.items():
        if len(code_patients[code]) >= min_cell:
            kept[(mrn, ep, code)] = (code, "code")
        elif len(cat_patients[e.category]) >= min_cell:
            kept[(mrn, ep, code)] = (e.category, "category")
            generalized += 1
        else:
            suppressed += 1
    # Numbered over the rows kept, so a gap cannot hint at a left-out (rare) one.
    seq = _number_encounters({k: unique[k] for k in kept})
    rows: list[list[Any]] = []
    for (mrn, ep, code), (shown, level) in kept.items():
        e = unique[(mrn, ep, code)]
        category = e.category
        dob, sex = patients.get(mrn, (None, None))
        rows.append([
            pseudo[mrn], seq[(mrn, ep)], e.episode_day[:4], _age(dob, e.episode_day),
            sex if sex in rules.SEXES else "U", e.encounter_kind or "unlinked", _stay_days(e), shown, level,
            category, e.chapter or "", descriptions.get(shown, ""),
        ])
    rows = sorted({tuple(r): r for r in rows}.values(), key=lambda r: (r[0], r[1], r[7]))
    params = {"codes": wanted, "from": start, "to": end, "min_cell": min_cell, "out": str(path)}
    if patient_list is not None:
        params["list"] = patient_list
    n_patients = len({r[0] for r in rows})
    details = {**params, "rows": len(rows), "patients": n_patients, "suppressed_rows": suppressed,
               "generalized_rows": generalized}
    _write(session, path, CASES_COLUMNS, rows, "export_cases", details)
    return ExportResult("cases", str(path), len(rows), min_cell, patients=n_patients, suppressed_rows=suppressed,
                        generalized_rows=generalized, params=params)


def _number_encounters(unique: dict[tuple[str, str, str], stats.DiagnosisEvent]) -> dict[tuple[str, str], int]:
    """Each patient's encounters (or days without one) numbered 1, 2, ... in time order."""
    starts: dict[tuple[str, str], str] = {}
    for (mrn, ep, _code), e in unique.items():
        starts[(mrn, ep)] = min(starts.get((mrn, ep), e.episode_day), e.episode_day)
    numbers: dict[tuple[str, str], int] = {}
    count: dict[str, int] = defaultdict(int)
    for mrn, ep in sorted(starts, key=lambda k: (k[0], starts[k], k[1])):
        count[mrn] += 1
        numbers[(mrn, ep)] = count[mrn]
    return numbers

