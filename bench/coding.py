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

False positives from non-affirmed mentions (issue 22), on held-out text (--fp-half tune: the tune half):
- NegEx: the held-out half of bench/assertion.py's split of the NegEx/ConText set (Apache-2.0): each
  sentence whose concept is labelled negated, or whose experiencer is not the patient. The concept's
  own category is what suggest_codes gives the concept alone; a false positive is that category among the
  sentence's suggestions (a family-history Z code is not one).
- templates: seeded notes that deny, doubt, plan for or attribute to a relative a condition
  (FP_CONDITIONS x FP_TEMPLATES), beside an affirmed one that must still be found.

Subsets: each note is also scored by how it speaks of its gold condition (gold_said: the shipped
assertion labeller on the gold wording's verbatim occurrences), so that the figure on notes whose gold
is affirmed can be told apart from notes whose gold is only negated, doubted, planned, past or a relative's.

Other trees: --tree PATH scores another checkout's suggester on the same items in the same run
(bench/coding_worker.py in a subprocess), e.g. the pre-issue-22 commit be9f2bc.

    .venv/bin/python bench/coding.py [--record] [--show-misses dev] [--limit N] [--tree /tmp/pre22]
    .venv/bin/python bench/coding.py --snippets FILE [--show-text] [--review-channel]

Snippets (--snippets FILE, JSONL, one {"id", "kind", "text", "concept", "forbidden", "expected"} a line; kind
negated|family|hypothetical|uncertain|other|affirmed): each text's suggestions; a false positive is a suggestion
(not the uncertain list) whose category is in `forbidden`; affirmed lines: an `expected` category in the top 5;
family lines: an expected Z80-Z84 code among the suggestions. Beside them the naive baseline of the same run: the
concept's own codes, what a coder blind to negation, doubt, plans and relatives would suggest.
bench/snippets/coding_dev.jsonl is a small file written for the mode's test; bench/snippets/coding_session9_own.jsonl
(136 lines) are the session-9 coding helper's own cases, written while changing the rules: development, not independent;
bench/snippets/coding_session14_probes.jsonl (320 lines, no `concept`: the naive column is empty) are s14-neg2's own
wordings of round 12's families and of other note conventions, written in batches and read: development too.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.store.schema import MIGRATIONS  # noqa: E402
from bench.review_channel import code_suggestions_with_review  # noqa: E402
from indexer import icd10  # noqa: E402
from indexer.assertion import assertion_of  # noqa: E402
from indexer.code_match import matcher_for  # noqa: E402
from indexer.code_suggest import code_suggestions, suggest_codes  # noqa: E402
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
    said: str = ""  # how the note speaks of the gold condition (gold_said)


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

    def pair(self) -> str:
        if not self.n:
            return "-"
        return f"{self.top1 / self.n:.3f} / {self.top5 / self.n:.3f}"


def gold_said(text: str, phrase: str) -> str:
    """How the note speaks of its gold condition, by the shipped labeller (indexer.assertion.assertion_of) on
    each verbatim occurrence of the gold wording (whole words, any case, a plural "s" allowed): "affirmed" when
    one occurrence is affirmed, "never affirmed" when all are negated, possible, hypothetical, historical or a
    relative's (or a heading), "not named" when the wording does not occur in the note."""
    labels = [assertion_of(text, m.start(), m.end())
              for m in re.finditer(r"\b" + re.escape(phrase) + r"s?\b", text, re.I)]
    if not labels:
        return "not named"
    return "affirmed" if "affirmed" in labels else "never affirmed"


def this_tree(db, matcher, review: bool = False):  # type: ignore[no-untyped-def]
    """Categories for each text from this tree's suggester (and the seconds each note took); with `review`, the
    codes held for review (the unshipped channel) are not suggested."""
    seconds: list[float] = []

    def predict(texts: list[str]) -> list[list[str]]:
        out = []
        for text in texts:
            t = time.perf_counter()
            out.append(categories(code_suggestions_with_review(db, text, limit=10, matcher=matcher)[0].suggestions
                                  if review else suggest_codes(db, text, limit=10, matcher=matcher)))
            seconds.append(time.perf_counter() - t)
        return out

    return predict, seconds


def other_tree(tree: str):  # type: ignore[no-untyped-def]
    """Categories for each text from another checkout's suggester (bench/coding_worker.py in a subprocess)."""

    def predict(texts: list[str]) -> list[list[str]]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        done = subprocess.run([sys.executable, str(HERE / "coding_worker.py"), tree], input=json.dumps(texts),
                              capture_output=True, text=True, check=True, env=env)
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    return predict


SUBSETS = ("all", "affirmed", "never affirmed", "not named")


def score_tree(predict, mts: list[Item], aci: list[Item], fp_cases: list[FpCase]):  # type: ignore[no-untyped-def]
    """Scores keyed (set, task, split, subset), the false-positive tallies, and this tree's per-note categories."""
    by_note: dict[str, list[Item]] = defaultdict(list)
    for item in aci:
        by_note[item.note_id].append(item)
    aci_notes = list(by_note)
    texts = ([i.phrase for i in mts] + [i.text for i in mts] + [i.phrase for i in aci]
             + [by_note[n][0].text for n in aci_notes] + [c.text for c in fp_cases])
    cats = predict(texts)
    k = 0
    plain_mts, note_mts = cats[k : k + len(mts)], cats[k + len(mts) : k + 2 * len(mts)]
    k += 2 * len(mts)
    plain_aci = cats[k : k + len(aci)]
    k += len(aci)
    note_aci = dict(zip(aci_notes, cats[k : k + len(aci_notes)], strict=True))
    k += len(aci_notes)
    fp_cats = cats[k:]
    scores: dict[tuple[str, str, str, str], Score] = defaultdict(Score)
    hits: dict[str, tuple[list[str], list[str]]] = {}
    for item, plain, note in zip(mts, plain_mts, note_mts, strict=True):
        scores[(item.source, "plain", item.split, "all")].add(plain, item.gold)
        for subset in ("all", item.said):
            scores[(item.source, "note", item.split, subset)].add(note, item.gold)
        hits[item.note_id] = (plain, note)
    for item, plain in zip(aci, plain_aci, strict=True):
        scores[(item.source, "plain", item.split, "all")].add(plain, item.gold)
        note = note_aci[item.note_id]
        golds = {i.gold for i in by_note[item.note_id]}
        first_ok = bool(note) and note[0] in golds
        for subset in ("all", item.said):
            scores[(item.source, "note", item.split, subset)].add(note, item.gold, top1_ok=first_ok)
        hits[f"{item.note_id} {item.phrase}"] = (plain, note)
    fps: dict[str, FalsePositives] = defaultdict(lambda: FalsePositives(examples=[]))
    for case, found in zip(fp_cases, fp_cats, strict=True):
        tally = fps[case.key]
        tally.n += 1
        if case.affirmed:
            tally.affirmed_kept += int(case.affirmed in found[:5])
        if case.category in found:
            tally.fp += 1
            if tally.examples is not None and len(tally.examples) < 5:
                tally.examples.append(f"{case.category} from {case.text[:100]!r}")
    return scores, dict(fps), hits, list(range(len(mts), 2 * len(mts))) + list(range(k - len(aci_notes), k))


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
        mts = [replace(i, said=gold_said(i.text, i.phrase)) for i in mts]
        aci = [replace(i, said=gold_said(i.text, i.phrase)) for i in aci]
        fp_cases = false_positive_cases(db, matcher, negex_half=args.fp_half)
        # The uncertain list (code_suggestions) beside the suggestions: they must be the suggest_codes ones, and
        # a doubted template condition ("Rule out X", "Possible X") should be listed as uncertain.
        uncertain_listed: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for case in fp_cases:
            both = code_suggestions(db, case.text, limit=10, matcher=matcher)
            tally = uncertain_listed[case.key]
            tally[0] += 1
            tally[1] += int(case.category in {u.category for u in both.uncertain})
            tally[2] += int(both.suggestions != suggest_codes(db, case.text, limit=10, matcher=matcher))
        predict, note_seconds = this_tree(db, matcher, args.review_channel)
        scores, fps, hits, notes = score_tree(predict, mts, aci, fp_cases)
        note_seconds = [note_seconds[i] for i in notes]
        others = {}
        for tree in args.tree or []:
            t = time.perf_counter()
            others[tree] = score_tree(other_tree(tree), mts, aci, fp_cases)
            print(f"tree {tree}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
        misses: list[str] = []
        for item in [*mts, *aci]:
            if args.show_misses != item.split:
                continue
            key = item.note_id if item.source == "mtsamples" else f"{item.note_id} {item.phrase}"
            plain, note = hits[key]
            if item.gold not in plain[:5] or item.gold not in note[:5]:
                misses.append(f"{item.note_id} gold {item.gold} '{item.phrase}' ({item.said}): plain {plain[:5]} "
                              f"note {note[:5]}")
        spot = [
            (item, (icd10.lookup(db, item.gold) or icd10.CodeInfo(item.gold, "?", "", False, "", "", "", "", 0)))
            for item in random.Random(6).sample(mts, min(args.spot_check, len(mts)))
        ]
    trees = ["this tree", *others]
    table = {"this tree": (scores, fps), **{t: (o[0], o[1]) for t, o in others.items()}}
    lines = [
        f"code set: {load.codes} entries, {load.billable} billable, loaded in {load.seconds:.1f} s; "
        f"matcher built in {matcher_s:.1f} s; median {_median(note_seconds) * 1000:.0f} ms per note "
        f"(load {_loadavg()})",
        "",
        "Subsets (how the note speaks of the gold condition: `gold_said`, the shipped labeller on the gold wording's",
        "verbatim occurrences): affirmed = at least one occurrence affirmed; never affirmed = every occurrence",
        "negated, possible, hypothetical, historical, a relative's or a heading; not named = no verbatim occurrence.",
        "",
        "| set | task | split | gold in the note | " + " | ".join(f"{t}: top-1 / top-5" for t in trees) + " | n |",
        "|---|---|---|---|" + "---|" * len(trees) + "---|",
    ]
    for key in sorted(scores, key=lambda k: (k[0], k[1], k[2], SUBSETS.index(k[3]))):
        cells = [table[t][0][key].pair() for t in trees]
        lines.append(f"| {' | '.join(key)} | " + " | ".join(cells) + f" | {scores[key].n} |")
    lines += [
        "",
        f"| non-affirmed mentions (NegEx {args.fp_half}) | " + " | ".join(f"{t}: false positives" for t in trees)
        + " | mentions | affirmed neighbour in top 5 |",
        "|---|" + "---|" * len(trees) + "---|---|",
    ]
    for key in sorted(fps):
        cells = [str(table[t][1][key].fp) if key in table[t][1] else "-" for t in trees]
        lines.append(f"| {key} | " + " | ".join(cells) + f" | {fps[key].n} | {fps[key].affirmed_kept} |")
    lines += [
        "",
        "This tree's uncertain list (`code suggest`, apart from the suggestions; never among them):",
        "",
        f"| non-affirmed mentions (NegEx {args.fp_half}) | listed as uncertain | suggestions differ from suggest_codes "
        "| mentions |",
        "|---|---|---|---|",
    ]
    for key, (n, listed, differ) in sorted(uncertain_listed.items()):
        lines.append(f"| {key} | {listed} | {differ} | {n} |")
    print("\n".join(lines))
    # The false positives' texts only from the tune half (held-out sentences are counted, never shown).
    for key, tally in sorted(fps.items()):
        for example in (tally.examples or []) if args.fp_half == "tune" or key.startswith("templates") else []:
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


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


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


@dataclass(frozen=True)
class FpCase:
    key: str  # which set and kind of non-affirmed mention
    text: str
    category: str  # the non-affirmed condition's category: a false positive when suggested
    affirmed: str = ""  # the affirmed neighbour's category (templates), which must still be found


def false_positive_cases(db, matcher, seed: int = 22, negex_half: str = "held-out") -> list[FpCase]:  # type: ignore[no-untyped-def]
    """Texts whose suggestions must not name a negated, family, hypothetical or possible mention (target: none).
    NegEx sentences of `negex_half` ("held-out", or "tune": bench/assertion.py's halves)."""
    out: list[FpCase] = []
    negex = DATA / "negex" / "context_annotations.tsv"
    if negex.exists():
        sys.path.insert(0, str(HERE))
        from assertion import half, load  # bench/assertion.py

        rows, _missing = load(negex)
        for row in rows:
            if half(row, seed) != negex_half or not (row.negated or row.family):
                continue
            own = categories(suggest_codes(db, row.concept, limit=1, matcher=matcher))
            if not own or own[0].startswith("Z"):
                continue
            out.append(FpCase("negex negated" if row.negated else "negex other person", row.sentence, own[0]))
    rng = random.Random(seed)
    for kind, template in FP_TEMPLATES:
        for cond, cat in FP_CONDITIONS:
            other, other_cat = rng.choice([c for c in FP_CONDITIONS if c[1] != cat])
            out.append(FpCase(f"templates {kind}", template.format(c=cond, C=cond.capitalize(), a=other), cat,
                              other_cat))
    return out


# -- snippets: an independent file of non-affirmed and affirmed sentences (--snippets FILE) --------------

SNIPPET_KINDS = ("negated", "family", "hypothetical", "uncertain", "other", "affirmed")
SNIPPET_KEYS = ("id", "kind", "text", "concept", "forbidden", "expected")
FAMILY_HISTORY = ("Z80", "Z81", "Z82", "Z83", "Z84")


@dataclass(frozen=True)
class Snippet:
    id: str
    kind: str  # one of SNIPPET_KINDS
    text: str
    concept: str  # the condition as the text names it
    forbidden: tuple[str, ...]  # 3-character categories that must not be suggested
    expected: tuple[str, ...]  # codes or categories: affirmed (top 5) or family (a Z80-Z84 code)


def _code_key(code: str) -> str:
    return code.replace(".", "").strip().upper()


def load_snippets(path: Path) -> list[Snippet]:
    """The lines of a JSONL snippets file; a malformed line is a ValueError naming its line number."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise ValueError(f"{path}:{n}: not a JSON object")
        missing = [k for k in SNIPPET_KEYS if k not in row and k != "expected"]
        if missing:
            raise ValueError(f"{path}:{n}: missing {', '.join(missing)}")
        if row["kind"] not in SNIPPET_KINDS:
            raise ValueError(f"{path}:{n}: kind {row['kind']!r} is not one of {', '.join(SNIPPET_KINDS)}")
        out.append(Snippet(str(row["id"]), row["kind"], row["text"], row["concept"],
                           tuple(_code_key(c)[:3] for c in row.get("forbidden") or []),
                           tuple(_code_key(c) for c in row.get("expected") or [])))
    return out


@dataclass
class SnippetOutcome:
    snippet: Snippet
    false_positives: list[str]  # suggested codes whose category is forbidden
    uncertain: list[str]  # forbidden categories listed apart as uncertain (never suggestions)
    hit: bool | None  # affirmed: an expected category in the top 5; family: an expected Z80-Z84 code suggested
    naive_false_positive: bool  # the baseline (the concept coded wherever written) suggests a forbidden category
    naive_hit: bool | None
    # forbidden categories shown as "needs review" (bench/review_channel.py, not shipped): caught, never codes
    reviewed: list[str] = field(default_factory=list)
    # affirmed or family lines: an expected code shown as "needs review" (not suggested, so not found)
    expected_reviewed: bool = False


def _expected_hit(snippet: Snippet, codes: list[str]) -> bool | None:
    """None when there is nothing to find: a kind the expected codes do not score, or a line whose writer left
    `expected` empty (the right code was debatable); such a line is not counted as a miss."""
    if not snippet.expected:
        return None
    if snippet.kind == "affirmed":
        top5 = list(dict.fromkeys(c[:3] for c in codes))[:5]
        return any(e[:3] in top5 for e in snippet.expected)
    if snippet.kind == "family":
        wanted = [e for e in snippet.expected if e[:3] in FAMILY_HISTORY]
        if not wanted:
            return None
        return any(_code_key(c).startswith(e) for e in wanted for c in codes)
    return None


def score_snippets(db, matcher, snippets: list[Snippet],  # type: ignore[no-untyped-def]
                   review: bool = False) -> list[SnippetOutcome]:
    """Each snippet's suggestions (code_suggestions: the suggestions, apart from them the uncertain list)
    against its forbidden and expected categories, beside the naive baseline: the concept's own codes (what a
    coder blind to negation, doubt, plans and relatives would suggest for the text)."""
    out = []
    for sn in snippets:
        if review:
            both, held = code_suggestions_with_review(db, sn.text, limit=10, matcher=matcher)
        else:
            both, held = code_suggestions(db, sn.text, limit=10, matcher=matcher), []
        codes = [s.code for s in both.suggestions]
        naive = [s.code for s in suggest_codes(db, sn.concept, limit=10, matcher=matcher)] if sn.concept else []
        out.append(SnippetOutcome(
            sn,
            [c for c in codes if c[:3] in sn.forbidden],
            sorted({u.category for u in both.uncertain} & set(sn.forbidden)),
            _expected_hit(sn, codes),
            any(c[:3] in sn.forbidden for c in naive),
            _expected_hit(sn, naive),
            sorted({r.suggestion.category for r in held} & set(sn.forbidden)),
            bool(_expected_hit(sn, [r.suggestion.code for r in held])) and not _expected_hit(sn, codes),
        ))
    return out


def snippet_table(outcomes: list[SnippetOutcome]) -> list[str]:
    """Counts by kind; for each, ours beside the naive baseline measured in the same run."""
    lines = [
        "| kind | lines | lines with a false positive: this tree | naive (concept coded wherever written) "
        "| forbidden category listed as uncertain | forbidden category shown as needs review "
        "| expected found: this tree | naive | expected only in needs review |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in (*SNIPPET_KINDS, "all"):
        group = [o for o in outcomes if kind in ("all", o.snippet.kind)]
        if not group:
            continue
        scored = [o for o in group if o.hit is not None]
        found = f"{sum(bool(o.hit) for o in scored)} of {len(scored)}" if scored else "-"
        naive_found = f"{sum(bool(o.naive_hit) for o in scored)} of {len(scored)}" if scored else "-"
        lines.append(f"| {kind} | {len(group)} | {sum(bool(o.false_positives) for o in group)} | "
                     f"{sum(o.naive_false_positive for o in group)} | {sum(bool(o.uncertain) for o in group)} | "
                     f"{sum(bool(o.reviewed) for o in group)} | {found} | {naive_found} | "
                     f"{sum(o.expected_reviewed for o in scored) if scored else '-'} |")
    lines += ["", "expected found: affirmed lines, an expected category in the top 5; family lines, an expected "
              "Z80-Z84 code among the suggestions. A false positive: a suggestion (not the uncertain list, not "
              "needs review) whose category is forbidden. A code shown as needs review counts as not suggested."]
    return lines


def run_snippets(path: Path, show: bool, review: bool = False) -> list[SnippetOutcome]:
    snippets = load_snippets(path)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_index(Path(tmp) / "index.db", b"\x01" * 32, create=True)
        migrate(db, MIGRATIONS)
        icd10.ensure_loaded(db)
        matcher = matcher_for(db)
        outcomes = score_snippets(db, matcher, snippets, review)
    print(f"{path} ({len(snippets)} lines; load {_loadavg()}; review channel {'on' if review else 'off'})\n")
    print("\n".join(snippet_table(outcomes)))
    controls = [o for o in outcomes if o.snippet.kind == "affirmed"]
    if review:
        print(f"\naffirmed controls whose expected code went to needs review: "
              f"{sum(o.expected_reviewed for o in controls)} of {len(controls)}; non-affirmed lines with a forbidden "
              f"category caught in needs review: "
              f"{sum(bool(o.reviewed) for o in outcomes if o.snippet.kind != 'affirmed')}"
              f" of {sum(o.snippet.kind != 'affirmed' for o in outcomes)}")
    failed = [o for o in outcomes if o.false_positives or o.hit is False or o.expected_reviewed]
    if failed:
        print("\nfailures (id, kind, false positives, expected not found):")
    for o in failed:
        miss = f" expected {list(o.snippet.expected)} not found" if o.hit is False else ""
        miss += " (sent to needs review)" if o.expected_reviewed else ""
        print(f"  {o.snippet.id} {o.snippet.kind}: {o.false_positives or ''}{miss}"
              + (f"\n      {o.snippet.text!r}" if show else ""))
    return outcomes


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
    ap.add_argument("--tree", action="append", help="also score another checkout's suggester in the same run, "
                    "e.g. the pre-issue-22 tree: git archive be9f2bc | tar -x -C /tmp/pre22 (repeatable)")
    ap.add_argument("--fp-half", choices=["held-out", "tune"], default="held-out",
                    help="the NegEx half for the false positives (their texts are printed for the tune half only)")
    ap.add_argument("--snippets", type=Path, metavar="FILE", help="only score a JSONL file of snippets "
                    '({"id","kind","text","concept","forbidden","expected"}; kind negated|family|hypothetical|'
                    "uncertain|other|affirmed): false positives, expected codes found, beside a naive baseline")
    ap.add_argument("--show-text", action="store_true", help="with --snippets: print each failing line's text")
    ap.add_argument("--review-channel", action="store_true",
                    help="measure the review channel (not shipped): a code whose every mention lies in the scope "
                    "of a cue of doubt the rules could not attribute (bench/review_scope.py) counts as not "
                    "suggested")
    args = ap.parse_args()
    if args.snippets:
        run_snippets(args.snippets, args.show_text, args.review_channel)
        return
    run(args)


if __name__ == "__main__":
    main()
