"""A seeded fixture for statistics and de-identified exports: patients, encounters, diagnoses.

`build(seed)` makes plain Python rows (dataclasses); `insert(db, fx)` writes them
into a vault's tables as the chart and coding code would leave them (several
versions of an entry, decisions that supersede each other, a retracted
encounter, a record still needing filing). The rows carry planted identifiers
(names, MRNs, dates, addresses, phone numbers, e-mails, record ids) in every
free-text column, and rare cases, so export tests can prove none survives.

Tests compute expected statistics from these rows in plain Python (see
`expected_*` in the test modules), never through the SQL under test.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from typing import Any

FIRST = ["Zebulon", "Philomena", "Thaddeus", "Ottilie", "Barnaby", "Clementine", "Ezekiel", "Perpetua", "Lucasta",
         "Ignatius"]
LAST = ["Quackenbush", "Featherstonehaugh", "Wigglesworth", "Pennywhistle", "Throckmorton", "Higginbottom",
        "Scrimgeour", "Vandersloot"]
STREETS = ["1428 Elmwood Avenue", "77 Sunset Strip", "310 Wisteria Lane", "9 Privet Drive", "221B Baker Street"]
CITIES = ["Springfield, IL 62704", "Shelbyville, KY 40065", "Ogdenville, OR 97035"]
COMMON = ["I10", "E11.9", "J18.9", "N39.0", "S72.001A", "W19.XXXA", "A04.7", "K35.80", "F32.9", "J45.909",
          "N39.0", "I10", "E11.9", "I10"]
RARE = {"A20.0": 1, "X34.XXXA": 2, "Q87.40": 3}  # code -> how many patients get it once
PHYSICIANS = ["drmaria", "drbob"]
START = dt.date(2021, 1, 1)
END = dt.date(2024, 6, 30)


@dataclass
class FxPatient:
    mrn: str
    name: str
    dob: str
    sex: str
    address: str
    phone: str
    email: str


@dataclass
class FxEncounter:
    id: str
    n: int
    mrn: str
    kind: str  # admission | visit
    start: str
    end: str | None
    attending: str | None
    status: str = "active"
    text: str = ""


@dataclass
class FxDiagnosis:
    """One diagnosis source row. `versions` (chart) or `decisions` (record) hold its history, last wins."""

    source: str  # chart | record
    mrn: str | None
    code: str
    date: str | None
    encounter: str | None  # explicit attachment
    kind: str = "diagnosis"
    status: str = "active"
    code_system: str = "ICD-10-CM"
    versions: list[dict[str, Any]] = field(default_factory=list)  # chart: earlier versions (superseded)
    decisions: list[str] = field(default_factory=lambda: ["confirmed"])  # record: statuses in order
    record_id: str = ""
    record_status: str = "filed"
    text: str = ""


@dataclass
class Fixture:
    patients: list[FxPatient]
    encounters: list[FxEncounter]
    diagnoses: list[FxDiagnosis]
    planted: list[str]  # strings that must never appear in an export


def _day(d: dt.date) -> str:
    return d.isoformat()


def build(seed: int = 8, n_patients: int = 90) -> Fixture:
    rng = random.Random(seed)
    patients: list[FxPatient] = []
    encounters: list[FxEncounter] = []
    diagnoses: list[FxDiagnosis] = []
    enc_n = 0
    rec_n = 0

    def new_encounter(mrn: str, kind: str, start: dt.date, los: int | None, attending: str | None) -> FxEncounter:
        nonlocal enc_n
        enc_n += 1
        end = _day(start + dt.timedelta(days=los)) if los is not None else None
        e = FxEncounter(f"e{enc_n}", enc_n, mrn, kind, _day(start), end, attending)
        encounters.append(e)
        return e

    def new_record_id() -> str:
        nonlocal rec_n
        rec_n += 1
        return f"r{rec_n:012x}"

    for i in range(n_patients):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 3) % len(LAST)]
        # Old patients on purpose: ages over 89 must come out as "90+".
        born = dt.date(1924 + rng.randint(0, 8), rng.randint(1, 12), rng.randint(1, 28)) if i % 9 == 0 else \
            dt.date(rng.randint(1935, 2012), rng.randint(1, 12), rng.randint(1, 28))
        p = FxPatient(
            mrn=f"QZ-{7000 + i}", name=f"{first} {last}", dob=_day(born), sex=rng.choice("FMFMU"),
            address=f"{rng.choice(STREETS)}, {rng.choice(CITIES)}", phone=f"(217) 555-{1000 + i:04d}",
            email=f"{first.lower()}.{last.lower()}{i}@example.org",
        )
        patients.append(p)
        day = START + dt.timedelta(days=rng.randint(0, 900))
        for _ in range(rng.randint(1, 4)):
            if day > END:
                break
            kind = "admission" if rng.random() < 0.5 else "visit"
            los = rng.randint(1, 12) if kind == "admission" else None
            enc = new_encounter(p.mrn, kind, day, los, rng.choice([*PHYSICIANS, None]))
            enc.text = f"{p.name} of {p.address}, phone {p.phone}, seen {enc.start}"
            last_day = dt.date.fromisoformat(enc.end) if enc.end else day
            for _ in range(rng.randint(1, 2)):
                code = rng.choice(COMMON)
                when = day + dt.timedelta(days=rng.randint(0, (last_day - day).days))
                text = f"{p.name} ({p.mrn}) born {p.dob}, {p.address}, {p.phone}"
                roll = rng.random()
                if roll < 0.45:  # a chart entry, its encounter found from the date
                    diagnoses.append(FxDiagnosis("chart", p.mrn, code, _day(when), None, text=text))
                elif roll < 0.6:  # a chart entry attached explicitly
                    diagnoses.append(FxDiagnosis("chart", p.mrn, code, _day(when), enc.id, text=text))
                else:  # a confirmed code on a record dated within the encounter
                    diagnoses.append(FxDiagnosis("record", p.mrn, code, _day(when), None,
                                                 record_id=new_record_id(), text=text))
            # Readmission within 30 days now and then.
            gap = rng.choice([3, 12, 25, 29, 31, 45, 120, 200])
            day = last_day + dt.timedelta(days=gap)

    # Rare cases, each on an otherwise ordinary patient, in a visit of its own.
    k = 0
    for code, count in RARE.items():
        for _ in range(count):
            p = patients[(k * 7 + 3) % len(patients)]
            k += 1
            day = dt.date(2023, 1 + k, 10 + k)
            enc = new_encounter(p.mrn, "visit", day, None, "drbob")
            diagnoses.append(FxDiagnosis("chart", p.mrn, code, _day(day), enc.id, text=f"rare {p.name}"))

    p0, p1, p2, p3, p4 = patients[1], patients[2], patients[4], patients[5], patients[10]
    # Edge cases the definitions decide.
    diagnoses += [
        # retracted entry: its earlier version had a code, the current one is entered in error
        FxDiagnosis("chart", p0.mrn, "J18.9", "2022-05-05", None, status="entered_in_error",
                    versions=[{"code": "J18.9", "status": "active"}]),
        # corrected entry: J18.9 then J15.9; only J15.9 counts
        FxDiagnosis("chart", p1.mrn, "J15.9", "2022-07-07", None, versions=[{"code": "J18.9", "status": "active"}]),
        # cancelled diagnosis, a complication, a SNOMED-coded diagnosis: none count
        FxDiagnosis("chart", p2.mrn, "N39.0", "2022-08-01", None, status="cancelled"),
        FxDiagnosis("chart", p2.mrn, "T81.40XA", "2022-08-02", None, kind="complication"),
        FxDiagnosis("chart", p2.mrn, "68566005", "2022-08-03", None, code_system="SNOMED-CT"),
        # confirmed then rejected (does not count); rejected then confirmed (counts)
        FxDiagnosis("record", p3.mrn, "I10", "2022-09-09", None, decisions=["confirmed", "rejected"],
                    record_id=new_record_id()),
        FxDiagnosis("record", p3.mrn, "E11.9", "2022-09-10", None, decisions=["rejected", "confirmed"],
                    record_id=new_record_id()),
        # a coded record nobody has filed yet: no patient, does not count
        FxDiagnosis("record", None, "I10", "2022-10-10", None, record_id=new_record_id(),
                    record_status="needs_filing"),
        # undated, no encounter: left out (counted as undated)
        FxDiagnosis("chart", p4.mrn, "F32.9", None, None),
        # partial date with an explicit encounter: dated by the encounter's start
        FxDiagnosis("chart", p4.mrn, "F32.9", "2023-03", None),
    ]
    # the partial-date one gets an encounter of its own
    enc = new_encounter(p4.mrn, "visit", dt.date(2023, 3, 14), None, "drmaria")
    diagnoses[-1].encounter = enc.id
    # a retracted encounter: a diagnosis inside it does not map to it (it becomes its own episode)
    bad = new_encounter(p4.mrn, "admission", dt.date(2023, 9, 1), 5, "drmaria")
    bad.status = "entered_in_error"
    diagnoses.append(FxDiagnosis("chart", p4.mrn, "K35.80", "2023-09-03", None))
    # an ongoing admission (no discharge yet), with a diagnosis in it
    new_encounter(p4.mrn, "admission", dt.date(2024, 5, 1), None, "drmaria")
    diagnoses.append(FxDiagnosis("record", p4.mrn, "J18.9", "2024-05-03", None, record_id=new_record_id()))

    _recurrence_scenario(patients, diagnoses, new_encounter)
    # discharged late June 2024, not back: its follow-up is incomplete until late July
    late = FxPatient("QZ-L0", "Leopold Latecomer", "1961-06-06", "M", "4 Late Lane, Shelbyville, KY 40065",
                     "(502) 555-0199", "leo@example.org")
    patients.append(late)
    new_encounter(late.mrn, "admission", dt.date(2024, 6, 10), 15, "drbob")
    new_encounter(late.mrn, "admission", dt.date(2024, 7, 10), 3, "drbob")  # back 15 days after that discharge
    # a consult visit during a stay: a diagnosis that day belongs to the stay (the admission wins)
    stay = new_encounter(late.mrn, "admission", dt.date(2022, 11, 1), 9, "drmaria")
    new_encounter(late.mrn, "visit", dt.date(2022, 11, 5), None, "drbob")
    diagnoses.append(FxDiagnosis("chart", late.mrn, "I10", "2022-11-05", None))
    # and on the last day of a stay, a visit of the same day elsewhere: still the stay
    diagnoses.append(FxDiagnosis("record", late.mrn, "E11.9", stay.end, None, record_id=new_record_id()))

    planted: list[str] = []
    for p in patients:
        planted += [p.name, p.name.split()[1], p.mrn, p.dob, p.address, p.address.split(",")[0], p.phone,
                    p.phone[-8:], p.email]
    planted += [e.start for e in encounters] + [e.end for e in encounters if e.end]
    planted += [d.record_id for d in diagnoses if d.record_id]
    planted += list(RARE) + [c.replace(".", "") for c in RARE] + [c[:3] for c in RARE]
    planted += ["drmaria", "drbob", "Maria Lopez", "Bob Byers"]
    return Fixture(patients, encounters, diagnoses, sorted(set(planted)))


SCENARIO_CODE = "W10.0XXA"  # only the hand-made recurrence scenario uses it
SCENARIO_AS_OF = dt.date(2024, 6, 30)
# What the scenario's six patients make of W10 as of SCENARIO_AS_OF (gap 30, window 365), worked out by hand.
SCENARIO_EXPECTED = {"patients": 6, "unresolved": 1, "censored": 1, "eligible": 4, "recurred": 2}


def _recurrence_scenario(patients: list[FxPatient], diagnoses: list[FxDiagnosis], new_encounter: Any) -> None:
    """Six patients whose falls (W10) show each rule of episodes and recurrence once."""
    d = dt.date.fromisoformat
    plans: list[list[tuple[str, str, str | None, str]]] = [  # (kind, start, end, diagnosis day) per encounter
        # 50 days after the first visit: a new episode within the window -> recurred
        [("visit", "2022-01-10", None, "2022-01-10"), ("visit", "2022-03-01", None, "2022-03-01")],
        # 15 days later: the same episode; nothing after -> counted, not recurred
        [("visit", "2022-01-10", None, "2022-01-10"), ("visit", "2022-01-25", None, "2022-01-25")],
        # 18 days after discharge continues the episode; 41 days after that starts a new one -> recurred
        [("admission", "2022-02-01", "2022-02-20", "2022-02-03"), ("visit", "2022-03-10", None, "2022-03-10"),
         ("visit", "2022-04-20", None, "2022-04-20")],
        # a new episode, but 516 days after the first resolved: outside the window -> counted, not recurred
        [("visit", "2021-01-01", None, "2021-01-01"), ("visit", "2022-06-01", None, "2022-06-01")],
        # still in hospital: the first episode has not resolved -> not at risk yet
        [("admission", "2024-06-01", None, "2024-06-02")],
        # resolved 121 days before the cut-off, nothing since: follow-up not over -> left out
        [("visit", "2024-03-01", None, "2024-03-01")],
    ]
    for i, plan in enumerate(plans):
        p = FxPatient(mrn=f"QZ-W{i}", name=f"Winifred Fallowfield{'x' * i}", dob="1950-02-02", sex="F",
                      address="12 Tumble Row, Springfield, IL 62704", phone=f"(217) 555-77{i:02d}",
                      email=f"w{i}@example.org")
        patients.append(p)
        for kind, start, end, day in plan:
            los = (d(end) - d(start)).days if end else None
            enc = new_encounter(p.mrn, kind, d(start), los, "drmaria")
            diagnoses.append(FxDiagnosis("chart", p.mrn, SCENARIO_CODE, day, None, text=f"fell, {p.name}"))
            assert enc.mrn == p.mrn


def insert_physicians(admin: Any) -> None:
    """The fixture's PHYSICIANS as users of the vault, signed by `admin` (inside the caller's transaction)."""
    from archive.users import User, insert_user

    insert_user(admin.store, User("drmaria", "physician", "Maria Lopez", licence="MD-1", created_by="admin"),
                sign_as=admin)
    insert_user(admin.store, User("drbob", "physician", "Bob Byers", licence="MD-2", created_by="admin"), sign_as=admin)


def insert(db: Any, fx: Fixture) -> None:
    """Write the fixture into the index (one transaction)."""
    from vault.db import transaction

    now = "2024-07-01T00:00:00+00:00"
    with transaction(db):
        for p in fx.patients:
            db.execute(
                "INSERT INTO patients (mrn, name, dob, sex, created_at, source) VALUES (?, ?, ?, ?, ?, ?)",
                [p.mrn, p.name, p.dob, p.sex, now, f"{p.address}; {p.phone}; {p.email}"],
            )
        for e in fx.encounters:
            db.execute(
                "INSERT INTO encounters (n, id, patient_mrn, kind, start_date, end_date, attending, text, status,"
                " details, version, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 'tess')",
                [e.n, e.id, e.mrn, e.kind, e.start, e.end, e.attending, e.text, e.status,
                 json.dumps({"note": e.text}), now],
            )
        n_entry = 0
        for d in fx.diagnoses:
            if d.source == "chart":
                n_entry += 1
                entry_id = f"c{n_entry}"
                history = [*d.versions, {}]
                db.execute(
                    "INSERT INTO chart_entries (n, id, patient_mrn, current_version, created_at, created_by)"
                    " VALUES (?, ?, ?, ?, ?, 'tess')",
                    [n_entry, entry_id, d.mrn, len(history), now],
                )
                for v, override in enumerate(history, start=1):
                    row = {"code": d.code, "status": d.status, **override}
                    db.execute(
                        "INSERT INTO chart_entry_versions (entry_id, version, kind, text, date, status, encounter_id,"
                        " code, code_system, details, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                        " ?, 'tess')",
                        [entry_id, v, d.kind, d.text or "diagnosis", d.date, row["status"], d.encounter,
                         row["code"], d.code_system, json.dumps({"note": d.text}), now],
                    )
            else:
                db.execute(
                    "INSERT INTO records (id, blob_id, filename, title, patient_mrn, date, author, size, metadata,"
                    " status, imported_at, facts) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                    [d.record_id, "b" + d.record_id, f"{d.text}.txt", d.text, d.mrn, d.date, "Maria Lopez",
                     json.dumps({"patient_in_content": d.text}), d.record_status, now,
                     json.dumps([{"kind": "diagnosis", "text": d.text, "code": d.code}])],
                )
                for status in d.decisions:
                    db.execute(
                        "INSERT INTO record_codes (record_id, code, status, decided_by, decided_at, passage,"
                        " encounter_id) VALUES (?, ?, ?, 'tess', ?, ?, ?)",
                        [d.record_id, d.code, status, now, d.text, d.encounter],
                    )


# -- independent expectations: plain Python over the fixture rows (not the SQL under test) ----------------

CHAPTER = {  # chapter of each code the fixture uses, read off the ICD-10-CM tabular list by hand
    "I10": "9", "E11.9": "4", "J18.9": "10", "J15.9": "10", "N39.0": "14", "S72.001A": "19", "W19.XXXA": "20",
    "A04.7": "1", "K35.80": "11", "F32.9": "5", "J45.909": "10", "A20.0": "1", "X34.XXXA": "20", "Q87.40": "17",
    "W10.0XXA": "20",
}


@dataclass(frozen=True)
class Event:
    mrn: str
    code: str
    day: dt.date
    enc: FxEncounter | None

    @property
    def episode(self) -> tuple[str, ...]:
        return ("enc", self.enc.id) if self.enc else ("own", self.mrn, self.day.isoformat())

    @property
    def episode_day(self) -> dt.date:
        return dt.date.fromisoformat(self.enc.start) if self.enc else self.day


def _full(value: str | None) -> dt.date | None:
    if value and len(value) == 10:
        return dt.date.fromisoformat(value)
    return None


def events(fx: Fixture, today: dt.date | None = None) -> tuple[list[Event], int]:
    """The diagnoses that count, each with its encounter; and how many were left out for want of a date."""
    today = today or dt.date.today()
    by_id = {e.id: e for e in fx.encounters}
    out: list[Event] = []
    undated = 0
    for d in fx.diagnoses:
        if d.source == "chart":
            if d.kind != "diagnosis" or d.status in ("entered_in_error", "cancelled") or d.code_system != "ICD-10-CM":
                continue
        elif d.decisions[-1] != "confirmed" or d.record_status != "filed" or d.mrn is None:
            continue
        assert d.mrn is not None
        explicit = by_id.get(d.encounter or "")
        if explicit is not None and (explicit.status != "active" or explicit.mrn != d.mrn):
            explicit = None
        day = _full(d.date) or (dt.date.fromisoformat(explicit.start) if explicit else None)
        if day is None:
            undated += 1
            continue
        enc = explicit
        if enc is None:
            mine = [e for e in fx.encounters if e.mrn == d.mrn and e.status == "active"]
            stays = [e for e in mine if e.kind == "admission"
                     and dt.date.fromisoformat(e.start) <= day <= (_full(e.end) or today)]
            visits = [e for e in mine if e.kind == "visit"
                      and dt.date.fromisoformat(e.start) <= day <= (_full(e.end) or dt.date.fromisoformat(e.start))]
            pick = stays or visits
            enc = max(pick, key=lambda e: (e.start, e.n)) if pick else None
        out.append(Event(d.mrn, d.code.upper(), day, enc))
    return out, undated


def period_of(day: dt.date, period: str) -> str:
    if period == "year":
        return str(day.year)
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def group_of(code: str, by: str) -> str:
    if by == "code":
        return code
    if by == "category":
        return code.replace(".", "")[:3]
    return CHAPTER[code]


def expected_frequency(fx: Fixture, by: str, period: str, start: dt.date | None = None,
                       end: dt.date | None = None) -> dict[str, Any]:
    cells: dict[tuple[str, str], tuple[set[str], set[tuple[str, ...]]]] = {}
    periods: dict[str, tuple[set[str], set[tuple[str, ...]]]] = {}
    groups: dict[str, tuple[set[str], set[tuple[str, ...]]]] = {}
    every: tuple[set[str], set[tuple[str, ...]]] = (set(), set())
    evs, undated = events(fx)
    for e in evs:
        if (start and e.episode_day < start) or (end and e.episode_day > end):
            continue
        key = (period_of(e.episode_day, period), group_of(e.code, by))
        for bucket in (cells.setdefault(key, (set(), set())), periods.setdefault(key[0], (set(), set())),
                       groups.setdefault(key[1], (set(), set())), every):
            bucket[0].add(e.mrn)
            bucket[1].add(e.episode)

    def counts(d: dict[Any, tuple[set[str], set[tuple[str, ...]]]]) -> dict[Any, tuple[int, int]]:
        return {k: (len(v[0]), len(v[1])) for k, v in d.items()}

    return {"cells": counts(cells), "periods": counts(periods), "groups": counts(groups),
            "total": (len(every[0]), len(every[1])), "undated": undated}


def expected_recurrence(fx: Fixture, prefix: str, window: int, gap: int, as_of: dt.date) -> dict[str, int]:
    """Per patient: walk the diagnoses in time order, opening a new episode after a gap past the last resolution."""
    wanted = prefix.replace(".", "").upper()
    per: dict[str, list[Event]] = {}
    for e in events(fx, as_of)[0]:
        if e.code.replace(".", "").startswith(wanted) and e.day <= as_of:
            per.setdefault(e.mrn, []).append(e)
    out = {"patients": len(per), "unresolved": 0, "censored": 0, "eligible": 0, "recurred": 0}
    for evs in per.values():
        starts: list[dt.date] = []
        ends: list[dt.date | None] = []
        for e in sorted(evs, key=lambda x: x.day):
            if e.enc is None:
                res: dt.date | None = e.day
            elif e.enc.kind == "admission":
                res = _full(e.enc.end)
            else:
                res = _full(e.enc.end) or dt.date.fromisoformat(e.enc.start)
            if res is not None and res < e.day:
                res = e.day
            if starts and (ends[-1] is None or (e.day - ends[-1]).days < gap):
                ends[-1] = None if ends[-1] is None or res is None else max(ends[-1], res)
            else:
                starts.append(e.day)
                ends.append(res)
        first_end = ends[0]
        if first_end is None:
            out["unresolved"] += 1
        elif len(starts) > 1 and (starts[1] - first_end).days <= window:
            out["recurred"] += 1
            out["eligible"] += 1
        elif (as_of - first_end).days >= window:
            out["eligible"] += 1
        else:
            out["censored"] += 1
    return out


def expected_readmissions(fx: Fixture, days: int, as_of: dt.date) -> dict[str, dict[str, int]]:
    """Per attending of the discharging stay ("" when none) and "ALL": discharges, readmitted, censored."""
    stays = [e for e in fx.encounters if e.kind == "admission" and e.status == "active"]
    out: dict[str, dict[str, int]] = {}
    for a in stays:
        if a.end is None or dt.date.fromisoformat(a.end) > as_of:
            continue
        end = dt.date.fromisoformat(a.end)
        back = any(
            b.id != a.id and b.mrn == a.mrn and 0 <= (dt.date.fromisoformat(b.start) - end).days <= days
            and dt.date.fromisoformat(b.start) <= as_of  # nothing after the cut-off is known
            for b in stays
        )
        for key in (a.attending or "", "ALL"):
            row = out.setdefault(key, {"discharges": 0, "readmitted": 0, "censored": 0})
            row["discharges"] += 1
            row["readmitted"] += int(back)
            row["censored"] += int(not back and (as_of - end).days < days)
    return out
