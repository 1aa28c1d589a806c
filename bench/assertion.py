"""Assertion accuracy on the NegEx/ConText test set, beside naive baselines measured in the same run.

The set (Chapman et al.; Harkema et al. 2009; Apache-2.0; /work/shared/data/negex/context_annotations.tsv)
has 2,376 sentences from 120 reports, one concept each, labelled negated/affirmed, historical/recent/not
particular and patient/other. The file carries no report id, so the seeded split is by sentence text
(rows that share a sentence stay on one side): the rules were tuned on the `tune` half only; `held-out` is
the other half; `all` is both.

    python bench/assertion.py [--quick] [--seed 22] [--data PATH]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer.assertion import context_of

DATA = Path("/work/shared/data/negex/context_annotations.tsv")
SEED = 22

# The naive rules the issue quotes: a trigger word within 60 characters before the concept.
NAIVE_WINDOW = 60
_NAIVE_NEG = re.compile(
    r"\b(no|not|denies|denied|deny|without|never|negative|none|absent|absence of|free of|ruled? out|r/o)\b", re.I
)
_NAIVE_HIST = re.compile(r"\b(history|hx|h/o|status post|s/p|previous|previously|prior|past)\b", re.I)


@dataclass(frozen=True)
class Row:
    concept: str
    sentence: str
    negated: bool
    historical: bool
    family: bool
    start: int
    end: int


def locate(concept: str, sentence: str) -> tuple[int, int] | None:
    """The concept's span in its sentence: the annotators upper-cased it there; else any case; spaces loose."""
    words = [re.escape(w) for w in concept.split()]
    if not words:
        return None
    rx = r"\s+".join(words)
    # The last upper-case match: "ALLERGIES:  He has no known ALLERGIES." marks the second.
    upper = list(re.finditer(r"\s+".join(re.escape(w.upper()) for w in concept.split()), sentence))
    m = upper[-1] if upper else re.search(rx, sentence, re.I)
    return (m.start(), m.end()) if m else None


def load(path: Path) -> tuple[list[Row], int]:
    rows, missing = [], 0
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for rec in reader:
            _n, concept, sentence, neg, temp, exp = rec[:6]
            span = locate(concept.strip(), sentence)
            if span is None:
                missing += 1  # a concept not in its sentence (the annotation's text was cut); left out, counted
                continue
            rows.append(Row(concept, sentence, neg.strip() == "Negated", temp.strip() == "Historical",
                            exp.strip() != "Patient", *span))
    return rows, missing


def half(row: Row, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}:{row.sentence}".encode()).digest()
    return "tune" if digest[0] % 2 == 0 else "held-out"


def naive_negated(row: Row) -> bool:
    return bool(_NAIVE_NEG.search(row.sentence[max(0, row.start - NAIVE_WINDOW) : row.start]))


def naive_historical(row: Row) -> bool:
    return bool(_NAIVE_HIST.search(row.sentence[max(0, row.start - NAIVE_WINDOW) : row.start]))


def ours(row: Row) -> tuple[bool, bool, bool]:
    ctx = context_of(row.sentence, row.start, row.end)
    return ctx.negated, ctx.historical, ctx.family


@dataclass(frozen=True)
class Scores:
    accuracy: float
    f1: float
    tp: int
    fp: int
    fn: int


def scores(gold: list[bool], pred: list[bool]) -> Scores:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / max(1, len(gold))
    f1 = 2 * tp / max(1, 2 * tp + fp + fn)
    return Scores(acc, f1, tp, fp, fn)


@dataclass(frozen=True)
class Report:
    name: str
    n: int
    negation: Scores
    naive_negation: Scores
    history: Scores
    naive_history: Scores
    family: Scores


def evaluate(rows: list[Row], name: str) -> Report:
    mine = [ours(r) for r in rows]
    neg_gold = [r.negated for r in rows]
    hist_gold = [r.historical for r in rows]
    return Report(
        name,
        len(rows),
        scores(neg_gold, [m[0] for m in mine]),
        scores(neg_gold, [naive_negated(r) for r in rows]),
        scores(hist_gold, [m[1] for m in mine]),
        scores(hist_gold, [naive_historical(r) for r in rows]),
        scores([r.family for r in rows], [m[2] for m in mine]),
    )


def errors(rows: list[Row], axis: Callable[[Row], bool], pred_index: int) -> list[str]:
    out = []
    for r in rows:
        if ours(r)[pred_index] != axis(r):
            out.append(f"gold={axis(r)!s:5} {r.concept!r}: {r.sentence[:160]!r}")
    return out


def table(reports: list[Report]) -> str:
    lines = [
        "| split | sentences | negation acc (naive) | negated F1 (naive) | historical F1 (naive) | family F1 |",
        "|---|---|---|---|---|---|",
    ]
    for r in reports:
        lines.append(
            f"| {r.name} | {r.n} | {r.negation.accuracy:.3f} ({r.naive_negation.accuracy:.3f}) "
            f"| {r.negation.f1:.3f} ({r.naive_negation.f1:.3f}) | {r.history.f1:.3f} ({r.naive_history.f1:.3f}) "
            f"| {r.family.f1:.3f} |"
        )
    return "\n".join(lines)


def run(path: Path, seed: int, quick: bool, show_errors: str) -> list[Report]:
    rows, missing = load(path)
    if quick:
        rows = rows[::4]
    tune = [r for r in rows if half(r, seed) == "tune"]
    held = [r for r in rows if half(r, seed) == "held-out"]
    t0 = time.perf_counter()
    reports = [evaluate(tune, "tune"), evaluate(held, "held-out"), evaluate(rows, "all")]
    elapsed = time.perf_counter() - t0
    print(f"{len(rows)} sentences ({missing} concepts not found in their sentence, left out), seed {seed}")
    print(table(reports))
    held_out = reports[1]
    print(f"ratios on held-out (ours / naive): "
          f"negated F1 {held_out.negation.f1 / max(1e-9, held_out.naive_negation.f1):.3f}, "
          f"historical F1 {held_out.history.f1 / max(1e-9, held_out.naive_history.f1):.3f}; "
          f"{elapsed / max(1, 3 * len(rows)) * 1e3:.2f} ms per concept")
    if show_errors:
        chosen = tune if show_errors.startswith("tune") else rows
        which = show_errors.split(":")[-1]
        if which == "neg":
            print("\n".join(errors(chosen, lambda r: r.negated, 0)))
        else:
            print("\n".join(errors(chosen, lambda r: r.historical, 1)))
    return reports


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--quick", action="store_true", help="every fourth sentence")
    ap.add_argument("--errors", default="", help="tune:neg, tune:hist: print the tune half's errors (for tuning)")
    args = ap.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data} is missing (see /work/shared/data/README.md)")
    run(args.data, args.seed, args.quick, args.errors)


if __name__ == "__main__":
    main()
