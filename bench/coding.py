"""Evaluate ICD-10-CM code suggestions on real notes (MTSamples, ACI-Bench), category level.

Gold labels
- MTSamples (../shared/data/mtsamples/mtsamples.csv, CC0): a note enters the set when one of
  its keywords (after the first, which is the specialty) also appears in its sample name or
  description, and that keyword is, after normalisation, exactly a name in the code set: the
  description of a category or subcategory (parentheses and ", unspecified ..." tails removed)
  or one of its inclusion terms, all such names pointing to one category. Single words that
  ICD-10-CM only codes by site (fracture, tumor, cancer, hernia, ...: SITELESS below) are
  left out. The longest such keyword is the note's gold category. Reproducible: no hand labels.
- ACI-Bench (../shared/data/aci-bench/train_metadata.csv + train.csv, CC BY 4.0): every chief
  and secondary complaint, labelled by hand in bench/coding_aci_gold.tsv ("-" = not codable).

Tasks, scored at the category level (first three characters), top-1 and top-5 over the
suggestions' distinct categories in order:
- plain: the diagnosis wording alone (the keyword / the complaint) -> suggest_codes.
- note: the whole note -> suggest_codes; MTSamples: is the gold category first / in the top 5;
  ACI-Bench: for each complaint of the note, is it in the top 5 (top-1: the first suggestion is
  one of the note's complaints).

Splits: a stable hash of the note id puts half the notes in "dev" (looked at while building
the suggester) and half in "held-out" (not looked at); both are reported.

False positives from non-affirmed mentions (issue 22), on held-out text only:
- NegEx: the held-out half of bench/assertion.py's split of the NegEx/ConText set (Apache-2.0): each
  sentence whose concept is labelled negated, or whose experiencer is not the patient. The concept's
  own category is what suggest_codes gives the concept alone; a false positive is that category among the
  sentence's suggestions (a family-history Z code is not one).
- templates: seeded notes that deny, doubt, plan for or attribute to a relative a condition
  (FP_CONDITIONS x FP_TEMPLATES), beside an affirmed one that must still be found.

    .venv/bin/python bench/coding.py [--record] [--show-misses dev] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.store.schema import MIGRATIONS  # noqa: E402
from indexer import icd10  # noqa: E402
from indexer.code_match import matcher_for  # noqa: E402
from indexer.code_suggest import suggest_codes  # noqa: E402
from vault.db import migrate, open_index  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
DATA = HERE.parent.parent / "shared" / "data"
ACI_GOLD = HERE / "coding_aci_gold.tsv"

SITELESS = frozenset(
    "fracture fractures tumor tumors cancer neoplasm hernia injury injuries hemorrhage bleeding fistula mass "
    "lesion lesions pregnancy infection abscess ulcer cyst carcinoma aneurysm stenosis obstruction laceration "
    "hematoma pain nodule polyp polyps".split()
)


def split_of(note_id: str) -> str:
    return "dev" if hashlib.sha256(note_id.encode()).digest()[0] % 2 == 0 else "held-out"


def _norm(text: str) -> str:
    t = text.lower()
    t = re.sub(r"\([^)]*\)", " ", t)
    t = re.sub(r",\s*(unspecified|not otherwise specified)\b.*$", "", t)
    t = re.sub(r"\bnos\b", " ", t)
    t = re.sub(r"[^a-z0-9' ]+", " ", t)
    return " ".join(t.split())


def code_set_names(db) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    names: dict[str, set[str]] = defaultdict(set)
    rows = db.execute("SELECT code, description, terms FROM icd10_codes WHERE kind IN ('category', 'subcategory')")
    for code, desc, terms in rows:
        for name in [desc, *(t for t in terms.split(" | ") if t.strip())]:
            key = _norm(name)
            if key:
                names[key].add(code[:3])
    return names


@dataclass(frozen=True)
class Item:
    source: str
    note_id: str
    split: str
    phrase: str  # the diagnosis as written
    gold: str  # category
    text: str  # the note


def mtsamples_items(db) -> list[Item]:  # type: ignore[no-untyped-def]
    names = code_set_names(db)
    items = []
    with open(DATA / "mtsamples" / "mtsamples.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            title = f"{row['sample_name']} {row['description']}".lower()
            found = []
            for kw in (k.strip().lower() for k in row["keywords"].split(",")[1:]):
                if not kw or kw in SITELESS or not re.search(r"\b" + re.escape(kw) + r"\b", title):
                    continue
                key = _norm(kw)
                cats = names.get(key) or names.get(key.rstrip("s")) or set()
                if len(cats) == 1:
                    found.append((kw, next(iter(cats))))
            if found and row["transcription"].strip():
                kw, cat = max(found, key=lambda f: len(f[0]))
                nid = "mts-" + row["note_id"]
                items.append(Item("mtsamples", nid, split_of(nid), kw, cat, row["transcription"]))
    return items


def aci_items() -> list[Item]:
    gold = {}
    for line in ACI_GOLD.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        phrase, cat, _kind = line.split("\t")
        gold[phrase] = cat
    notes = {}
    with open(DATA / "aci-bench" / "train.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            notes[row["encounter_id"]] = row["note"]
    items = []
    with open(DATA / "aci-bench" / "train_metadata.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            nid = "aci-" + row["encounter_id"]
            complaints = [row["cc"].strip().lower()] + [
                c.strip().lower() for c in row["2nd_complaints"].split(";") if c.strip()
            ]
            for phrase in complaints:
                cat = gold.get(phrase, "-")
                if cat != "-" and row["encounter_id"] in notes:
                    items.append(Item("aci-bench", nid, split_of(nid), phrase, cat, notes[row["encounter_id"]]))
    return items


def categories(suggestions) -> list[str]:  # type: ignore[no-untyped-def]
    out: list[str] = []
    for s in suggestions:
        if s.code[:3] not in out:
            out.append(s.code[:3])
    return out


@dataclass
class Score:
    n: int = 0
    top1: int = 0
    top5: int = 0

    def add(self, cats: list[str], gold: str | set[str], top1_ok: bool | None = None) -> bool:
        golds = {gold} if isinstance(gold, str) else gold
        self.n += 1
        first = bool(cats) and cats[0] in golds if top1_ok is None else top1_ok
        self.top1 += int(first)
        hit = bool(golds & set(cats[:5]))
        self.top5 += int(hit)
        return hit

    def row(self) -> str:
        if not self.n:
            return "n=0"
        return f"{self.top1 / self.n:.3f} | {self.top5 / self.n:.3f} | {self.n}"


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_index(Path(tmp) / "index.db", b"\x01" * 32, create=True)
        migrate(db, MIGRATIONS)
        load = icd10.ensure_loaded(db)
        t0 = time.perf_counter()
        matcher = matcher_for(db)
        matcher_s = time.perf_counter() - t0
        mts = mtsamples_items(db)
        aci = aci_items()
        if args.limit:
            mts = mts[: args.limit]
        if args.split:
            mts = [i for i in mts if i.split == args.split]
            aci = [i for i in aci if i.split == args.split]
        scores: dict[tuple[str, str, str], Score] = defaultdict(Score)
        misses: list[str] = []
        note_seconds: list[float] = []
        for item in mts:
            plain = categories(suggest_codes(db, item.phrase, limit=10, matcher=matcher))
            hit = scores[(item.source, "plain", item.split)].add(plain, item.gold)
            t = time.perf_counter()
            note = categories(suggest_codes(db, item.text, limit=10, matcher=matcher))
            note_seconds.append(time.perf_counter() - t)
            hit_note = scores[(item.source, "note", item.split)].add(note, item.gold)
            if args.show_misses == item.split and (not hit or not hit_note):
                misses.append(f"{item.note_id} gold {item.gold} '{item.phrase}': plain {plain[:5]} note {note[:5]}")
        by_note: dict[str, list[Item]] = defaultdict(list)
        for item in aci:
            plain = categories(suggest_codes(db, item.phrase, limit=10, matcher=matcher))
            hit = scores[(item.source, "plain", item.split)].add(plain, item.gold)
            if args.show_misses == item.split and not hit:
                misses.append(f"{item.note_id} gold {item.gold} '{item.phrase}': plain {plain[:5]}")
            by_note[item.note_id].append(item)
        for nid, items in by_note.items():
            t = time.perf_counter()
            note = categories(suggest_codes(db, items[0].text, limit=10, matcher=matcher))
            note_seconds.append(time.perf_counter() - t)
            golds = {i.gold for i in items}
            first_ok = bool(note) and note[0] in golds
            for item in items:
                hit = scores[(item.source, "note", item.split)].add(note, item.gold, top1_ok=first_ok)
                if args.show_misses == item.split and not hit:
                    misses.append(f"{nid} gold {item.gold} '{item.phrase}': note {note[:5]}")
        fps = false_positives(db, matcher)
        spot = [
            (item, (icd10.lookup(db, item.gold) or icd10.CodeInfo(item.gold, "?", "", False, "", "", "", "", 0)))
            for item in random.Random(6).sample(mts, min(args.spot_check, len(mts)))
        ]
    lines = [
        f"code set: {load.codes} entries, {load.billable} billable, loaded in {load.seconds:.1f} s; "
        f"matcher built in {matcher_s:.1f} s; median {_median(note_seconds) * 1000:.0f} ms per note",
        "",
        "| set | task | split | top-1 | top-5 | n |",
        "|---|---|---|---|---|---|",
    ]
    for (source, task, split), score in sorted(scores.items()):
        lines.append(f"| {source} | {task} | {split} | {score.row()} |")
    lines += [
        "",
        "| non-affirmed mentions (held-out) | false positives | mentions | affirmed neighbour in top 5 |",
        "|---|---|---|---|",
    ]
    for key, tally in sorted(fps.items()):
        lines.append(f"| {key} | {tally.row()} |")
    print("\n".join(lines))
    for key, tally in sorted(fps.items()):
        for example in tally.examples or []:
            print(f"  FP {key}: {example}")
    if args.spot_check:
        print("\nspot check (MTSamples gold):")
        for item, info in spot:
            print(f"  {item.note_id}: '{item.phrase}' -> {item.gold} {info.description}")
    if misses:
        print("\nmisses:")
        print("\n".join(misses))
    if args.record:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        with open(RESULTS, "a", encoding="utf-8") as fh:
            fh.write(f"\n## coding suggestions ({stamp}, bench/coding.py)\n\n" + "\n".join(lines) + "\n")


# (condition as written, its category) -- written for this benchmark, not tuned on
FP_CONDITIONS = (
    ("pneumonia", "J18"), ("chest pain", "R07"), ("asthma", "J45"), ("hypertension", "I10"),
    ("type 2 diabetes", "E11"), ("breast cancer", "C50"), ("pulmonary embolism", "I26"), ("migraine", "G43"),
    ("atrial fibrillation", "I48"), ("depression", "F32"), ("seizures", "R56"), ("urinary tract infection", "N39"),
    ("stroke", "I63"), ("anemia", "D64"), ("gout", "M10"), ("hypothyroidism", "E03"),
)
FP_TEMPLATES = (
    ("negated", "Patient denies {c}. Assessment: {a}."),
    ("negated", "No evidence of {c}. Impression: {a}."),
    ("negated", "{C} was ruled out. Diagnosis: {a}."),
    ("negated", "Negative for {c}. She has {a}."),
    ("family", "Family history of {c} in her mother. Assessment: {a}."),
    ("family", "FAMILY HISTORY:\nFather had {c}.\n\nASSESSMENT: {a}."),
    ("hypothetical", "Return to the clinic if {c} develops. Assessment: {a}."),
    ("hypothetical", "Risk of {c} discussed. Diagnosis: {a}."),
    ("possible", "Rule out {c}. Assessment: {a}."),
    ("possible", "Possible {c}. Known {a}."),
)


@dataclass
class FalsePositives:
    n: int = 0
    fp: int = 0
    affirmed_kept: int = 0
    examples: list[str] | None = None

    def row(self) -> str:
        return f"{self.fp} | {self.n} | {self.affirmed_kept}"


def false_positives(db, matcher, seed: int = 22) -> dict[str, FalsePositives]:  # type: ignore[no-untyped-def]
    """Suggestions that rest on a negated, family, hypothetical or possible mention (target: none)."""
    out: dict[str, FalsePositives] = defaultdict(lambda: FalsePositives(examples=[]))
    negex = DATA / "negex" / "context_annotations.tsv"
    if negex.exists():
        sys.path.insert(0, str(HERE))
        from assertion import half, load  # bench/assertion.py

        rows, _missing = load(negex)
        for row in rows:
            if half(row, seed) != "held-out" or not (row.negated or row.family):
                continue
            own = categories(suggest_codes(db, row.concept, limit=1, matcher=matcher))
            if not own or own[0].startswith("Z"):
                continue
            key = "negex negated" if row.negated else "negex other person"
            tally = out[key]
            tally.n += 1
            cats = categories(suggest_codes(db, row.sentence, limit=10, matcher=matcher))
            if own[0] in cats:
                tally.fp += 1
                if tally.examples is not None and len(tally.examples) < 5:
                    tally.examples.append(f"{own[0]} from {row.sentence[:100]!r}")
    rng = random.Random(seed)
    for kind, template in FP_TEMPLATES:
        for cond, cat in FP_CONDITIONS:
            other, other_cat = rng.choice([c for c in FP_CONDITIONS if c[1] != cat])
            text = template.format(c=cond, C=cond.capitalize(), a=other)
            cats = categories(suggest_codes(db, text, limit=10, matcher=matcher))
            tally = out[f"templates {kind}"]
            tally.n += 1
            tally.affirmed_kept += int(other_cat in cats[:5])
            if cat in cats:
                tally.fp += 1
                if tally.examples is not None and len(tally.examples) < 5:
                    tally.examples.append(f"{cat} from {text!r}")
    return dict(out)


def _median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    ap.add_argument("--show-misses", choices=["dev", "held-out"], help="list the misses of one split")
    ap.add_argument("--spot-check", type=int, default=0, help="print N random MTSamples gold labels")
    ap.add_argument("--limit", type=int, default=0, help="only the first N MTSamples notes (quick run)")
    ap.add_argument("--split", choices=["dev", "held-out"], help="only one split")
    run(ap.parse_args())


if __name__ == "__main__":
    main()
