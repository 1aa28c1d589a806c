"""Accuracy at filing (issue 17): the review queue's recall and false alarms, and statistics by year.

1. A seeded set of inputs (HL7 v2, FHIR R4, text notes) with planted problems of each kind the review queue
   looks for, mixed with clean ones (including spelling variants of names, which are not problems). Every
   input is imported into a fresh vault; a planted problem counts as found when its record has a review item
   of the planted kind; a clean input is a false alarm when its record has any. Baseline in the same run:
   the same inputs through the import without the review checks (what was filed silently before).
2. Statistics by year on the Synthea bundles of ../shared/data/fhir-r4/: each bundle is imported, codes are
   suggested and every suggestion confirmed from its passage; for each code confirmed from a passage that
   names a Condition, the years the statistics count it in (for that patient) are compared with the onset
   years of the Conditions of that text in the bundle's JSON. Baseline in the same run: the years the old
   placement gave (the encounter most cited by the record's chart entries, `encounter_for_record`).

    .venv/bin/python bench/filing.py [--seed 17] [--clean 120] [--per-kind 8] [--bundles all|N] [--quick]
        [--record]

`--quick` (what a busy shared machine runs): the whole seeded set, 6 bundles instead of all 18.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hl7_fixture import adt  # noqa: E402

PASS = "bench filing passphrase"
FHIR_DIR = ROOT.parent / "shared" / "data" / "fhir-r4"
GIVEN = ["Jane", "John", "Maria", "Ahmed", "Li", "Olga", "Pedro", "Grace", "Tomas", "Aiko", "Samuel", "Fatima"]
FAMILY = ["Smith", "Garcia", "Nguyen", "Okafor", "Kowalski", "Haddad", "Jensen", "Moreau", "Silva", "Tanaka"]
# Spelling variants a careful technician does not stop at (same person).
VARIANTS = {"John": "Jon", "Maria": "María", "Ahmed": "Ahmad", "Olga": "OLGA", "Grace": "G.", "Tomas": "Tomás"}
CODES = [("E11.9", "Type 2 diabetes mellitus"), ("I10", "Essential hypertension"), ("J45.909", "Asthma"),
         ("N39.0", "Urinary tract infection"), ("J02.0", "Streptococcal pharyngitis"), ("M10.9", "Gout")]
KINDS = ("dob_conflict", "sex_conflict", "name_conflict", "placeholder_mrn", "placeholder_code", "unknown_code",
         "dob_before_1900", "future_date", "admission_before_birth", "discharge_before_admission",
         "misfiled_note", "fhir_placeholder_code", "fhir_discharge_before_admission", "fhir_onset_before_1900")
# The review item kind that finds each planted problem.
FINDS = {"dob_conflict": "demographics", "sex_conflict": "demographics", "name_conflict": "demographics",
         "placeholder_mrn": "placeholder", "placeholder_code": "placeholder", "unknown_code": "code",
         "dob_before_1900": "date", "future_date": "date", "admission_before_birth": "date",
         "discharge_before_admission": "date", "misfiled_note": "misfiled", "fhir_placeholder_code": "placeholder",
         "fhir_discharge_before_admission": "date", "fhir_onset_before_1900": "date"}


@dataclass
class Input:
    name: str
    data: bytes
    planted: str | None  # the kind of problem planted, None for a clean input
    phase: int = 1  # 0: imported first (the earlier source of a conflict)


def _day(rng: random.Random, lo: int, hi: int) -> str:
    return f"{rng.randint(lo, hi)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"


def _iso(hl7day: str) -> str:
    return f"{hl7day[:4]}-{hl7day[4:6]}-{hl7day[6:8]}"


def _fhir(mrn: str, given: str, family: str, dob: str, encounters: list[tuple[str, str, str]],
          conditions: list[tuple[str, str, str, str]]) -> bytes:
    """A small FHIR bundle: encounters (id, start, end) and conditions (code, system, text, onset)."""
    entries: list[dict[str, Any]] = [{"resource": {
        "resourceType": "Patient", "id": f"p-{mrn}", "birthDate": dob, "gender": "female",
        "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": mrn}],
        "name": [{"use": "official", "given": [given], "family": family}]}}]
    for eid, start, end in encounters:
        entries.append({"resource": {"resourceType": "Encounter", "id": eid, "status": "finished",
                                     "class": {"code": "AMB"}, "type": [{"text": "Office visit"}],
                                     "period": {"start": start, "end": end}}})
    for n, (code, system, text, onset) in enumerate(conditions):
        entries.append({"resource": {"resourceType": "Condition", "id": f"c{n}",
                                     "code": {"coding": [{"system": system, "code": code, "display": text}],
                                              "text": text},
                                     "onsetDateTime": onset,
                                     "encounter": {"reference": f"urn:uuid:{encounters[0][0]}"}}})
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def seeded_inputs(seed: int, clean: int, per_kind: int) -> list[Input]:
    """`clean` clean inputs and `per_kind` of each planted kind, shuffled (conflicts' first sources first)."""
    rng = random.Random(seed)
    out: list[Input] = []
    serial = iter(range(10**6))

    def person() -> tuple[str, str, str, str]:
        n = next(serial)
        return f"B{seed}-{n:05d}", rng.choice(GIVEN), rng.choice(FAMILY), _day(rng, 1930, 2005)

    def hl7(mrn: str, given: str, family: str, dob: str, **kw: Any) -> bytes:
        kw.setdefault("control", f"M{next(serial)}")
        kw.setdefault("admitted", _day(rng, int(dob[:4]) + 1, 2024) if dob[:4].isdigit() and
                      1900 < int(dob[:4]) < 2024 else "20200101")
        return adt(mrn, f"{family}^{given}", dob, **kw)

    for i in range(clean):
        mrn, given, family, dob = person()
        shape = i % 4
        code, text = rng.choice(CODES)
        if shape == 0:
            out.append(Input(f"clean-{i}.hl7", hl7(mrn, given, family, dob, diagnoses=(f"{code}^{text}^I10",)), None))
        elif shape == 1:  # the same patient from a second sender, a spelling variant of the name
            out.append(Input(f"clean-{i}a.hl7", hl7(mrn, given, family, dob), None, phase=0))
            variant = VARIANTS.get(given, given.upper())
            out.append(Input(f"clean-{i}b.hl7", hl7(mrn, variant, family, dob, sender="SENDER_B"), None))
        elif shape == 2:
            start = f"{rng.randint(2005, 2023)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
            out.append(Input(f"clean-{i}.json", _fhir(mrn, given, family, _iso(dob), [("e1", start, start)],
                                                      [(code, ICD, text, start)]), None))
        else:
            note = f"MRN: {mrn}\nPatient: {given} {family}\nDate: 2022-0{rng.randint(1, 9)}-12\n\n{text}, stable.\n"
            out.append(Input(f"clean-{i}.txt", note.encode(), None))

    from indexer import icd10

    known = icd10.known_codes()
    for kind in KINDS:
        for j in range(per_kind):
            mrn, given, family, dob = person()
            name = f"{kind}-{j}"
            if kind in ("dob_conflict", "sex_conflict", "name_conflict"):
                out.append(Input(name + "-first.hl7", hl7(mrn, given, family, dob), None, phase=0))
                other = dict(given=given, family=family, dob=dob, sex="F")
                if kind == "dob_conflict":
                    other["dob"] = _day(rng, 1930, 2005)
                elif kind == "sex_conflict":
                    other["sex"] = "M"
                else:
                    other["given"], other["family"] = rng.choice(["Bartholomew", "Zainab"]), "Quisling"
                out.append(Input(name + ".hl7", hl7(mrn, other["given"], other["family"], other["dob"],
                                                    sex=other["sex"], sender="SENDER_B"), kind))
            elif kind == "placeholder_mrn":
                out.append(Input(name + ".hl7", hl7("MRN", given, family, dob), kind))
            elif kind == "placeholder_code":
                out.append(Input(name + ".hl7", hl7(mrn, given, family, dob, diagnoses=("code^Diagnosis^I10C",)),
                                 kind))
            elif kind == "unknown_code":
                while True:
                    fake = f"{rng.choice('ABCDEFGHIJKLMNPQRSTVWXYZ')}{rng.randint(0, 9)}{rng.randint(0, 9)}." \
                           f"{rng.randint(0, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
                    if fake not in known:
                        break
                out.append(Input(name + ".hl7", hl7(mrn, given, family, dob, diagnoses=(f"{fake}^Illness^I10",)),
                                 kind))
            elif kind == "dob_before_1900":
                ancient = f"1{rng.randint(0, 8)}{rng.randint(10, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                out.append(Input(name + ".hl7", hl7(mrn, given, family, ancient, admitted="20200101"), kind))
            elif kind == "future_date":
                out.append(Input(name + ".hl7", hl7(mrn, given, family, dob, admitted=_day(rng, 2990, 2999)), kind))
            elif kind == "admission_before_birth":
                born = _day(rng, 1990, 2010)
                out.append(Input(name + ".hl7", hl7(mrn, given, family, born,
                                                    admitted=_day(rng, 1960, int(born[:4]) - 1)), kind))
            elif kind == "discharge_before_admission":
                out.append(Input(name + ".hl7", hl7(mrn, given, family, dob, admitted="20210315",
                                                    discharged=f"202103{rng.randint(1, 14):02d}"), kind))
            elif kind == "misfiled_note":
                out.append(Input(name + "-chart.hl7", hl7(mrn, given, family, dob), None, phase=0))
                note = "Patient: Bartholomew Quisling\nDate: 2022-03-04\n\nFollow-up: doing well.\n"
                out.append(Input(f"{mrn}__{name}.txt", note.encode(), kind))
            elif kind == "fhir_placeholder_code":
                visit = [("e1", "2020-02-02", "2020-02-02")]
                out.append(Input(name + ".json", _fhir(mrn, given, family, _iso(dob), visit,
                                                       [("code", ICD, "Diagnosis", "2020-02-02")]), kind))
            elif kind == "fhir_discharge_before_admission":
                visit = [("e1", "2020-05-10", "2020-05-01")]
                out.append(Input(name + ".json", _fhir(mrn, given, family, _iso(dob), visit, []), kind))
            elif kind == "fhir_onset_before_1900":
                visit = [("e1", "2020-05-10", "2020-05-10")]
                out.append(Input(name + ".json", _fhir(mrn, given, family, _iso(dob), visit,
                                                       [("I10", ICD, "Essential hypertension", "1013-11-13")]), kind))
    rng.shuffle(out)
    return sorted(out, key=lambda i: i.phase)  # stable: first sources first, shuffled within a phase


def _vault(work: Path) -> Any:
    from archive.login import create_vault
    from archive.session import Session
    from archive.users import User, get_user, insert_user
    from vault.db import transaction

    admin = create_vault(work, "admin", PASS)
    with transaction(admin.db):
        insert_user(admin.store, User("tess", "technician", "Tess Tech", created_by="admin"), sign_as=admin)
    return Session(unlocked=admin.unlocked, user=get_user(admin.store, "tess"), audit_log=admin.audit_log)


def run_filing(inputs: list[Input], work: Path, checks: bool = True) -> dict[str, Any]:
    """Import the inputs (first sources first); per planted kind, how many reached the queue as that kind."""
    import archive.intake
    from archive.intake import import_paths
    from archive.review import list_review

    session = _vault(work / ("v" if checks else "v-baseline"))
    folder = work / ("in" if checks else "in-baseline")
    folder.mkdir()
    saved = archive.intake.check_outcomes
    if not checks:
        archive.intake.check_outcomes = lambda session, outcomes: None  # type: ignore[assignment]
    try:
        outcomes: dict[str, Any] = {}
        start = time.perf_counter()
        for phase in (0, 1):
            paths = []
            for item in inputs:
                if item.phase == phase:
                    (folder / item.name).write_bytes(item.data)
                    paths.append(folder / item.name)
            for out in import_paths(session, paths, settle=0).outcomes:
                outcomes[Path(out.input).name] = out
        seconds = time.perf_counter() - start
    finally:
        archive.intake.check_outcomes = saved
    items = defaultdict(set)
    for item in list_review(session, "all"):
        items[item.record_id].add(item.kind)
    found: Counter[str] = Counter()
    planted: Counter[str] = Counter()
    false_alarms, clean, missed = 0, 0, []
    for item in inputs:
        out = outcomes[item.name]
        kinds = items.get(out.record_id or "", set())
        if item.planted is None:
            clean += 1
            false_alarms += bool(kinds)
        else:
            planted[item.planted] += 1
            if FINDS[item.planted] in kinds:
                found[item.planted] += 1
            else:
                missed.append(item.name)
    session.close()
    return {"planted": planted, "found": found, "clean": clean, "false_alarms": false_alarms, "missed": missed,
            "seconds": seconds}


# -- statistics by year on the Synthea bundles -------------------------------------------------------------


def condition_onsets(bundle: dict[str, Any]) -> dict[str, set[str]]:
    """Folded condition text -> the onset years of the bundle's Conditions of that text."""
    from archive.charts import rules

    out: dict[str, set[str]] = defaultdict(set)
    for entry in bundle.get("entry") or []:
        res = entry.get("resource") or {}
        if res.get("resourceType") != "Condition":
            continue
        code = res.get("code") or {}
        text = code.get("text") or ((code.get("coding") or [{}])[0].get("display")) or ""
        onset = str(res.get("onsetDateTime") or res.get("recordedDate") or "")[:4]
        if text and onset:
            out[rules.fold(text)].add(onset)
    return out


def check_bundle_years(session: Any, record_id: str, bundle: dict[str, Any]) -> dict[str, int]:
    """Confirm every suggested code of an imported bundle from its passage; count the codes (from a
    passage naming a Condition) whose statistics years equal the Conditions' onset years, now and under the
    old placement (the record's most cited encounter)."""
    from archive.charts import rules
    from archive.charts.encounters import encounter_for_record, load_encounter
    from archive.coding import confirm_code, suggest_for_record
    from archive.stats import diagnosis_events

    onsets = condition_onsets(bundle)
    mrn = session.store.records.patient_and_date(record_id)[0]
    text = session.blobs.get_bytes(session.store.records.get(record_id)["text_blob_id"]).decode()
    old_enc = encounter_for_record(session, record_id)  # before any code: the old rule's answer
    old_year = load_encounter(session, old_enc).start[:4] if old_enc else None
    suggestions = suggest_for_record(session, record_id, limit=40).suggestions
    checked = agree = old_agree = 0
    coded: set[str] = set()  # the Condition texts some confirmed code was counted for
    for s in suggestions:
        confirm_code(session, record_id, s.code, passage=s.passage, score=s.score, start=s.start)
        line_start = text.rfind("\n", 0, s.start) + 1
        line_end = text.find("\n", s.start)
        line = rules.fold(text[line_start: line_end if line_end >= 0 else len(text)])
        named = max((t for t in onsets if t in line), key=len, default="")
        if not named:
            continue
        years = {e.day[:4] if not e.encounter_start else e.encounter_start[:4]
                 for e in diagnosis_events(session.store, [s.code]) if e.mrn == mrn and e.code == s.code}
        checked += 1
        agree += years == onsets[named]
        old_agree += {old_year} == onsets[named]
        if years == onsets[named]:
            coded.add(named)
    UNCODED.update(set(onsets) - coded)
    return {"codes": checked, "agree": agree, "old_agree": old_agree, "conditions": len(onsets),
            "conditions_coded": len(coded)}


UNCODED: set[str] = set()  # Condition texts of the bundles no confirmed code was counted for (printed)


def run_bundles(paths: list[Path], work: Path) -> dict[str, Any]:
    from archive.coding import ensure_code_set
    from archive.intake import import_paths

    session = _vault(work / "v-bundles")
    ensure_code_set(session)
    totals: Counter[str] = Counter()
    start = time.perf_counter()
    for path in paths:
        [out] = import_paths(session, [path], settle=0).outcomes
        result = check_bundle_years(session, out.record_id, json.loads(path.read_text()))
        totals.update(result)
        totals["bundles"] += 1
    totals["seconds"] = int(time.perf_counter() - start)
    session.close()
    return dict(totals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--clean", type=int, default=120)
    parser.add_argument("--per-kind", type=int, default=8)
    parser.add_argument("--bundles", default="all", help="all, or how many of the Synthea bundles")
    parser.add_argument("--quick", action="store_true",
                        help="the full seeded set (cheap) but only 6 of the Synthea bundles")
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.bundles = "6"

    work = Path(tempfile.mkdtemp(prefix="bench-filing-"))
    inputs = seeded_inputs(args.seed, args.clean, args.per_kind)
    base = run_filing(inputs, work, checks=False)
    new = run_filing(inputs, work, checks=True)
    planted = sum(new["planted"].values())
    bundles = sorted(FHIR_DIR.glob("*.json"))
    if args.bundles != "all":
        bundles = bundles[: int(args.bundles)]
    years = run_bundles(bundles, work)

    lines = [
        f"inputs: {len(inputs)} ({planted} with a planted problem, {new['clean']} clean; seed {args.seed})",
        "| planted problem | inputs | found (review) | found (baseline: no review) |",
        "|---|---|---|---|",
    ]
    for kind in KINDS:
        lines.append(f"| {kind} | {new['planted'][kind]} | {new['found'][kind]} | {base['found'][kind]} |")
    recall = sum(new["found"].values()) / planted if planted else 0.0
    base_recall = sum(base["found"].values()) / planted if planted else 0.0
    lines += [
        "",
        f"recall: {recall:.1%} (baseline {base_recall:.1%}); clean inputs queued: {new['false_alarms']}/"
        f"{new['clean']} = {new['false_alarms'] / max(1, new['clean']):.1%}; missed: {new['missed'] or 'none'}",
        f"import time: {new['seconds']:.1f} s with the checks, {base['seconds']:.1f} s without "
        f"(ratio {new['seconds'] / max(base['seconds'], 1e-9):.2f})",
        "",
        f"statistics by year, {years.get('bundles', 0)} Synthea bundles: {years.get('codes', 0)} codes confirmed "
        f"from a passage naming a Condition; counted in exactly the Conditions' onset years: "
        f"{years.get('agree', 0)} ({years.get('agree', 0) / max(1, years.get('codes', 0)):.1%}); "
        f"old placement (the record's most cited encounter): {years.get('old_agree', 0)} "
        f"({years.get('old_agree', 0) / max(1, years.get('codes', 0)):.1%}); {years.get('seconds', 0)} s",
        f"conditions in the bundles' JSON (distinct texts): {years.get('conditions', 0)}; with a confirmed "
        f"ICD-10-CM code counted in exactly their onset years: {years.get('conditions_coded', 0)}; no code was "
        f"confirmed from a passage naming the others (statistics count coded diagnoses only): "
        f"{', '.join(sorted(UNCODED)) or 'none'}",
    ]
    print("\n".join(lines))
    if args.record:
        with (ROOT / "bench" / "RESULTS.md").open("a") as fh:
            fh.write("\n## Accuracy at filing: review queue and statistics by year (issue 17, bench/filing.py"
                     f"{' --quick' if args.quick else ''})\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
