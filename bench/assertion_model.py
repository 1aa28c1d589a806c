"""The learned second opinion on assertion (indexer/assertion_model.py): leave-one-round-out, and its cost.

Training data (all development sets): the coding snippet rounds (bench/snippets/*.jsonl, blind4, blind5,
blind6/coding, blind7/coding; a line's concept, found in its text, is "not affirmed" unless its kind is affirmed)
and affirmed mentions labelled mechanically: in the dev split of bench/coding.py's MTSamples and ACI-Bench notes,
each verbatim occurrence of the note's gold wording that the rules (indexer.assertion) call affirmed. Never the
NegEx/ConText set and never the held-out notes.

Leave-one-round-out: for each round, a model trained on the other rounds (and the dev-split mentions) is put in
front of the suggester (`assertion_model.using`), at each threshold, and the held-out round is scored as
`bench/coding.py --snippets` does: non-affirmed lines still coded, affirmed controls whose expected category
left the top 5, family lines whose Z80-Z84 code was lost, beside the rules alone in the same run.

    PYTHONPATH=$PWD HF_HUB_OFFLINE=1 .venv/bin/python bench/assertion_model.py            # LORO table
    ... bench/assertion_model.py --write --threshold 0.9    # train on every round, write indexer/data/
    ... bench/assertion_model.py --cost [--limit N]          # MTSamples/ACI top-1/top-5 and time, model on/off
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from coding import (  # noqa: E402
    Snippet,
    _loadavg,
    aci_items,
    false_positive_cases,
    gold_said,
    load_snippets,
    mtsamples_items,
    score_snippets,
    score_tree,
    this_tree,
)

from archive.store.schema import MIGRATIONS  # noqa: E402
from indexer import assertion_model, icd10  # noqa: E402
from indexer.assertion import assertion_of, heading_at  # noqa: E402
from indexer.code_match import matcher_for  # noqa: E402
from indexer.code_suggest import suggest_codes  # noqa: E402
from vault.db import migrate, open_index  # noqa: E402

HERE = Path(__file__).resolve().parent
ROUNDS: dict[str, list[Path]] = {
    "own (snippets/)": sorted((HERE / "snippets").glob("*.jsonl")),
    "round 4": [HERE / "blind4" / "coding_nonaffirmed.jsonl"],
    "round 5": [HERE / "blind5" / "coding_nonaffirmed5.jsonl"],
    "round 6": [HERE / "blind6" / "coding" / "coding_nonaffirmed6.jsonl"],
    "round 7": [HERE / "blind7" / "coding" / "coding_nonaffirmed7.jsonl"],
}
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
GROUPS = True
PER_NOTE = 3  # at most this many affirmed occurrences a dev note gives


def rounds() -> dict[str, list[Snippet]]:
    return {name: [sn for p in paths for sn in load_snippets(p)] for name, paths in ROUNDS.items()}


def snippet_examples(snippets: list[Snippet]) -> list[tuple[str, int, int, int]]:
    """(text, start, end, label) for each line whose concept is found in its text; label 1 = not affirmed."""
    out = []
    for sn in snippets:
        m = re.search(r"\b" + re.escape(sn.concept) + r"s?\b", sn.text, re.I) if sn.concept else None
        if m is not None:
            out.append((sn.text, m.start(), m.end(), int(sn.kind != "affirmed")))
    return out


ASSESSMENT_HEADS = ("DIAGNOS", "ASSESSMENT", "IMPRESSION", "PROBLEM")


class _Recorder:
    """Stands in for the model in front of the suggester: records each mention the rules call affirmed
    under an assessment-like heading, doubts none."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int]] = []

    def doubts(self, text: str, start: int, end: int) -> bool:
        head = heading_at(text, start)
        if head is not None and any(w in head.name.upper() for w in ASSESSMENT_HEADS):
            self.seen.append((text, start, end))
        return False


def dev_affirmed_examples(db, matcher) -> list[tuple[tuple[str, int, int, int], str]]:  # type: ignore[no-untyped-def]
    """Affirmed mentions labelled mechanically, each with its group: in the dev split's notes, the gold
    wordings the rules call affirmed ("gold"), and the mentions the suggester finds under an assessment,
    impression, diagnosis or problem heading that the rules call affirmed ("assessment")."""
    out = []
    seen: set[tuple[str, str]] = set()
    notes: dict[str, str] = {}
    for item in [*mtsamples_items(db), *aci_items()]:
        if item.split != "dev" or (item.note_id, item.phrase) in seen:
            continue
        seen.add((item.note_id, item.phrase))
        notes[item.note_id] = item.text
        taken = 0
        for m in re.finditer(r"\b" + re.escape(item.phrase) + r"s?\b", item.text, re.I):
            if taken < PER_NOTE and assertion_of(item.text, m.start(), m.end()) == "affirmed":
                out.append(((item.text, m.start(), m.end(), 0), "gold"))
                taken += 1
    if ASSESSMENT_LINES:
        for text in notes.values():
            rec = _Recorder()
            with assertion_model.using(rec):  # type: ignore[arg-type]
                suggest_codes(db, text, limit=10, matcher=matcher)
            spans = list(dict.fromkeys(rec.seen))[:ASSESSMENT_PER_NOTE]
            out += [((t, s, e, 0), "assessment") for t, s, e in spans]
    return out


ASSESSMENT_LINES = True
ASSESSMENT_PER_NOTE = 5


def _open_db(tmp: str):  # type: ignore[no-untyped-def]
    db = open_index(Path(tmp) / "index.db", b"\x01" * 32, create=True)
    migrate(db, MIGRATIONS)
    icd10.ensure_loaded(db)
    return db


def tally(outcomes) -> tuple[int, int, int, int, int, int]:  # type: ignore[no-untyped-def]
    """(non-affirmed lines, of them coded, affirmed lines, of them expected found, family lines, Z found)."""
    non = [o for o in outcomes if o.snippet.kind != "affirmed"]
    aff = [o for o in outcomes if o.snippet.kind == "affirmed"]
    fam = [o for o in outcomes if o.snippet.kind == "family"]
    return (len(non), sum(bool(o.false_positives) for o in non), len(aff), sum(bool(o.hit) for o in aff),
            len(fam), sum(bool(o.hit) for o in fam))


def loro(db, matcher, by_round: dict[str, list[Snippet]], dev: list, show: bool) -> None:  # type: ignore[no-untyped-def]
    print(f"dev-split affirmed mentions: {len(dev)}; load {_loadavg()}")
    rows = []
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for held, snippets in by_round.items():
        train = [ex for name, sn in by_round.items() if name != held for ex in snippet_examples(sn)]
        groups = ["snippets"] * len(train) + [g for _, g in dev]
        train += [ex for ex, _ in dev]
        t = time.perf_counter()
        model = assertion_model.train(train, trained_on=f"all but {held}", groups=groups if GROUPS else None)
        fit_s = time.perf_counter() - t
        with assertion_model.using(None):
            base = score_snippets(db, matcher, snippets)
        cells = {"rules": tally(base)}
        flagged: dict[float, list[str]] = {}
        for th in THRESHOLDS:
            with assertion_model.using(assertion_model.Model(model.weights, th)):
                out = score_snippets(db, matcher, snippets)
            cells[f"{th}"] = tally(out)
            flagged[th] = [f"{o.snippet.id} {o.snippet.kind}" for o, b in zip(out, base, strict=True)
                           if bool(o.false_positives) != bool(b.false_positives) or o.hit != b.hit]
        for k, v in cells.items():
            for i, x in enumerate(v):
                totals[k][i] += x
        rows.append((held, len(train), fit_s, cells))
        if show:
            for th in THRESHOLDS:
                print(f"  {held} @ {th}: changed lines {flagged[th]}")
    head = "| held-out round | train examples | " + " | ".join(
        ["rules alone: non-affirmed coded / affirmed found / family Z found"]
        + [f"model >= {th}" for th in THRESHOLDS]) + " |"
    print("\n" + head)
    print("|" + "---|" * (3 + len(THRESHOLDS)))

    def cell(v: tuple[int, ...] | list[int]) -> str:
        return f"{v[1]} of {v[0]} / {v[3]} of {v[2]} / {v[5]} of {v[4]}"

    for held, n, fit_s, cells in rows:
        print(f"| {held} | {n} ({fit_s:.1f} s) | " + " | ".join(cell(v) for v in cells.values()) + " |")
    print("| all | | " + " | ".join(cell(v) for v in totals.values()) + " |")


def held_out(db, matcher, model: assertion_model.Model, snippets: list[Snippet], show: bool) -> None:  # type: ignore[no-untyped-def]
    """A new round, scored by the rules alone and by the rules with the model in front, at each threshold."""
    print(f"{len(snippets)} lines; load {_loadavg()}")
    with assertion_model.using(None):
        base = score_snippets(db, matcher, snippets)
    print("| threshold | non-affirmed lines coded | affirmed: expected in top 5 | family: Z80-Z84 found |")
    print("|---|---|---|---|")

    def row(name: str, v: tuple[int, ...]) -> None:
        print(f"| {name} | {v[1]} of {v[0]} | {v[3]} of {v[2]} | {v[5]} of {v[4]} |")

    row("rules alone", tally(base))
    for th in THRESHOLDS:
        with assertion_model.using(assertion_model.Model(model.weights, th)):
            out = score_snippets(db, matcher, snippets)
        row(f"rules + model >= {th}", tally(out))
        if show:
            print("  changed: " + ", ".join(f"{o.snippet.id} {o.snippet.kind}" for o, b in zip(out, base, strict=True)
                                            if bool(o.false_positives) != bool(b.false_positives) or o.hit != b.hit))


def negex(model: assertion_model.Model) -> None:
    """The NegEx/ConText sentences (evaluation only, never training): of the concepts the rules call affirmed,
    how many the model would send to review, by gold label (negated or another person's: a catch; affirmed
    patient's: a review the rules did not need)."""
    import assertion as negex_bench  # bench/assertion.py

    rows, _missing = negex_bench.load(negex_bench.DATA)
    rules_affirmed = [r for r in rows if assertion_of(r.sentence, r.start, r.end) == "affirmed"]
    wrong = [r for r in rules_affirmed if r.negated or r.family]
    right = [r for r in rules_affirmed if not (r.negated or r.family)]
    print(f"\nNegEx/ConText: {len(rows)} concepts, {len(rules_affirmed)} called affirmed by the rules "
          f"({len(wrong)} of them negated or another person's by the gold labels)")
    print("| threshold | negated/other caught | affirmed sent to review |")
    print("|---|---|---|")
    for th in THRESHOLDS:
        m = assertion_model.Model(model.weights, th)
        caught = sum(m.doubts(r.sentence, r.start, r.end) for r in wrong)
        review = sum(m.doubts(r.sentence, r.start, r.end) for r in right)
        print(f"| {th} | {caught} of {len(wrong)} | {review} of {len(right)} ({review / max(1, len(right)):.1%}) |")


def cost(db, matcher, model: assertion_model.Model, limit: int) -> None:  # type: ignore[no-untyped-def]
    mts = mtsamples_items(db)
    aci = aci_items()
    if limit:
        mts = mts[:limit]
    mts = [replace(i, said=gold_said(i.text, i.phrase)) for i in mts]
    aci = [replace(i, said=gold_said(i.text, i.phrase)) for i in aci]
    fp_cases = false_positive_cases(db, matcher)
    print(f"MTSamples {len(mts)} items, ACI-Bench {len(aci)} complaints; load {_loadavg()}")
    results = {}
    fp_results = {}
    for name, m in (("rules alone", None), ("rules + model", model)):
        with assertion_model.using(m):
            predict, seconds = this_tree(db, matcher)
            t = time.perf_counter()
            scores, fps, _hits, notes = score_tree(predict, mts, aci, fp_cases)
            wall = time.perf_counter() - t
        note_s = sorted(seconds[i] for i in notes)
        results[name] = (scores, note_s, wall)
        fp_results[name] = fps
    print("\n| set | split | " + " | ".join(f"{n}: top-1 / top-5" for n in results) + " | n |")
    print("|---|---|---|---|---|")
    for source in ("mtsamples", "aci-bench"):
        for split in ("dev", "held-out"):
            for subset in ("all", "affirmed"):
                key = (source, "note", split, subset)
                n = results["rules alone"][0][key].n
                print(f"| {source} note ({subset}) | {split} | "
                      + " | ".join(r[0][key].pair() for r in results.values()) + f" | {n} |")
    print("\nFalse positives (bench/coding.py's cases: NegEx held-out half, templates), rules alone / rules + model:")
    for key in sorted(fp_results["rules alone"]):
        a, b = fp_results["rules alone"][key], fp_results["rules + model"][key]
        print(f"  {key}: {a.fp} / {b.fp} of {a.n}; affirmed kept in top 5 {a.affirmed_kept} / {b.affirmed_kept}")
    for name, (_s, note_s, wall) in results.items():
        med = note_s[len(note_s) // 2] if note_s else 0.0
        p95 = note_s[int(len(note_s) * 0.95)] if note_s else 0.0
        print(f"{name}: per note median {med * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms ({len(note_s)} notes, "
              f"{wall:.0f} s in all)")
    print(f"load {_loadavg()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--show", action="store_true", help="list the lines each threshold changes")
    ap.add_argument("--write", action="store_true", help="train on every round and write the shipped model")
    ap.add_argument("--threshold", type=float, default=0.9, help="the shipped model's threshold (--write)")
    ap.add_argument("--cost", action="store_true", help="MTSamples/ACI top-1/top-5 and time, model on and off")
    ap.add_argument("--out", type=Path, help="--write: this file instead of indexer/data/assertion_model.npz")
    ap.add_argument("--model", type=Path, help="--cost: this model file instead of the shipped one")
    ap.add_argument("--snippets", type=Path, metavar="FILE", help="a new round: rules alone beside rules + a model "
                    "trained on every round above, at each threshold")
    ap.add_argument("--limit", type=int, default=0, help="--cost: only the first N MTSamples notes")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = _open_db(tmp)
        matcher = matcher_for(db)
        if args.cost:
            model = assertion_model.load(args.model) if args.model else assertion_model.shipped()
            if model is None:
                raise SystemExit("no model: give --model PATH (bench/assertion_model.py --write --out PATH)")
            negex(model)
            cost(db, matcher, model, args.limit)
            return
        by_round = rounds()
        dev = dev_affirmed_examples(db, matcher)
        if args.write:
            train = [ex for sn in by_round.values() for ex in snippet_examples(sn)]
            groups = ["snippets"] * len(train) + [g for _, g in dev]
            train += [ex for ex, _ in dev]
            model = assertion_model.train(train, threshold=args.threshold, groups=groups,
                                          trained_on=f"{', '.join(by_round)} + {len(dev)} dev-split mentions")
            path = args.out or assertion_model.model_path()
            model.save(path)
            print(f"wrote {path} ({path.stat().st_size} bytes; {len(train)} examples, threshold {args.threshold})")
            return
        if args.snippets:
            train = [ex for sn in by_round.values() for ex in snippet_examples(sn)]
            groups = ["snippets"] * len(train) + [g for _, g in dev]
            model = assertion_model.train(train + [ex for ex, _ in dev], groups=groups)
            held_out(db, matcher, model, load_snippets(args.snippets), args.show)
            return
        loro(db, matcher, by_round, dev, args.show)


if __name__ == "__main__":
    main()
