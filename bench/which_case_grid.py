"""The grid of bench/which_case.py: listing rules scored on captured rounds, chosen leave-one-round-out.

A rule is (AMBIGUOUS, PAIR, PAIR_GAP, WEIGHT, SUM) as in archive/assistant/cases.listed_cases: the cases within
AMBIGUOUS of the best; else the best and the next other patient's case when its share of the best s2 >= PAIR, its
lead over the case after it (of the best) g >= PAIR_GAP, and s2 + WEIGHT * g >= SUM."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

Rule = tuple[float, float, float, float, float]


def features(d: dict[str, Any]) -> dict[str, Any]:
    """Shares of the best (each ranked case) and the next other patient's share and lead."""
    sc = d["scored"]
    q = d["q"]
    f: dict[str, Any] = {"amb": bool(q.get("ambiguous")), "shares": [], "s2": 0.0, "g": 0.0, "pats": []}
    if not sc:
        return f
    best = sc[0][0] or 1.0
    f["shares"] = [(s[0] / best, s[2]) for s in sc]
    others = [s for s in sc[1:] if s[2] is None or s[2] != sc[0][2]]
    if others:
        f["s2"] = others[0][0] / best
        f["g"] = (others[0][0] - (others[1][0] if len(others) > 1 else 0.0)) / best
        f["other"] = others[0][2]
    f["best"] = sc[0][2]
    f["match"] = {q.get("expect_mrn"), *(q.get("same_as") or []), *(q.get("also_mrn") or [])}
    return f


def listed(f: dict[str, Any], rule: Rule) -> set[Any]:
    amb, pair, gap, weight, total = rule
    if not f["shares"]:
        return set()
    close = [m for s, m in f["shares"] if s >= amb][:3]
    if len(close) == 1 and "other" in f and f["s2"] >= pair and f["g"] >= gap and f["s2"] + weight * f["g"] >= total:
        close.append(f["other"])
    return set(close) if len(close) > 1 else {close[0]}


def count(fs: list[dict[str, Any]], rule: Rule) -> tuple[int, int, int, int, int]:
    """(ambiguous shown, ambiguous with the pair shown, ambiguous, clear listed, clear)."""
    shown = pair = amb = clear_listed = clear = 0
    for f in fs:
        got = listed(f, rule)
        if f["amb"]:
            amb += 1
            shown += len(got) > 1
            pair += len(got & f.get("match", set())) > 1
        else:
            clear += 1
            clear_listed += len(got) > 1
    return shown, pair, amb, clear_listed, clear


AMBS = (0.93, 0.95, 0.97, 0.99)
PAIRS = (0.7, 0.75, 0.8, 0.83, 0.85, 0.88, 0.9)
GAPS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
WEIGHTS = (0.0, 0.25, 0.5, 1.0)
SUMS = (0.0, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2)
OLD: Rule = (0.97, 0.85, 0.3, 0.0, 0.0)


def choose(fs: list[dict[str, Any]], forms: str = "all") -> Rule:
    """The most ambiguous pairs shown without listing on more clear questions than the shipped rule does there;
    ties: fewer clear listed, then the values nearest the shipped ones."""
    old_clear = count(fs, OLD)[3]
    best: tuple[Any, ...] | None = None
    weights, sums = (WEIGHTS, SUMS) if forms == "all" else ((0.0,), (0.0,))
    for rule in itertools.product(AMBS, PAIRS, GAPS, weights, sums):
        if (rule[3] == 0.0) != (rule[4] == 0.0):
            continue
        shown, pair, _amb, cl, _clear = count(fs, rule)
        if cl > old_clear:
            continue
        key = (pair, shown, -cl, -sum(abs(x - y) for x, y in zip(rule, OLD, strict=True)))
        if best is None or key > best[0]:
            best = (key, rule)
    assert best is not None
    return best[1]


def grid(files: list[str], forms: str = "all") -> None:
    rounds = {Path(f).stem: [features(d) for d in json.loads(Path(f).read_text(encoding="utf-8"))] for f in files}
    tot_old = [0] * 5
    tot_new = [0] * 5
    print(f"rule forms: {forms}")
    print("| round held out | shipped rule: shown / pair / ambiguous, clear listed / clear | chosen (AMBIGUOUS, PAIR,"
          " PAIR_GAP, WEIGHT, SUM) | chosen: shown / pair / ambiguous, clear listed / clear |")
    print("|---|---|---|---|")
    for name, data in rounds.items():
        train = [d for n, r in rounds.items() if n != name for d in r]
        rule = choose(train, forms)
        old, new = count(data, OLD), count(data, rule)
        tot_old = [a + b for a, b in zip(tot_old, old, strict=True)]
        tot_new = [a + b for a, b in zip(tot_new, new, strict=True)]
        print(f"| {name} | {old[0]} / {old[1]} / {old[2]}, {old[3]} / {old[4]} | {rule} | "
              f"{new[0]} / {new[1]} / {new[2]}, {new[3]} / {new[4]} |")
    print(f"| all | {tot_old[0]} / {tot_old[1]} / {tot_old[2]}, {tot_old[3]} / {tot_old[4]} | | "
          f"{tot_new[0]} / {tot_new[1]} / {tot_new[2]}, {tot_new[3]} / {tot_new[4]} |")
    allr = [d for r in rounds.values() for d in r]
    rule = choose(allr, forms)
    print("fitted on all rounds:", rule, count(allr, rule))
