"""The learned sentence selector: capture, leave-one-round-out fit, held-out figures beside the hand-set reader.

For each development round (the question sets of bench/assistant.py --questions, all seen: dev and rounds 1-5)
every question is asked through the CLI path as bench/assistant.py asks it (its scoring: right fact with the
right record). While the hand-set reader answers, every call of `reading.best_sentences` that compares by meaning
(and is not a yes/no reading) is captured with all its candidate sentences and their features; a candidate is
labelled positive when it holds an expected answer form and comes from the expected patient's record. Then:

  1. for each feature set and L2 strength listed below, a conditional-logit selector is fitted on five rounds and
     scored on the sixth (top-1 sentence holds an expected form), for each of the six rounds; the configuration
     with the best mean held-out figure is chosen (by this cross-validation only);
  2. with that configuration, each round is asked again end to end with the selector fitted on the OTHER five
     rounds (held out), and its right-fact-right-record figure is printed beside the hand-set reader's of step 0;
  3. the selector fitted on all six rounds is written to archive/assistant/selector.json with --write.

    cd bench && PYTHONPATH=$PWD/.. HF_HUB_OFFLINE=1 python reader_cv.py --vaults /tmp/s10-20 [--write]
       [--captured /tmp/s10-20/captured.json] [--rounds dev,r1,...]

--vaults DIR holds one vault directory per round (DIR/dev, DIR/b1 ... DIR/b5, as bench/assistant.py --vault
builds them; built when missing). --captured reuses a capture file (step 0 is then skipped; its figures are read
from the file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
# a reading `reading.understand` marks current: its caller orders it by date (the selector leaves it alone)
CURRENT = re.compile(r"\b(?:is|are)\b.*\b(?:on|taking)\b|\bcurrent(?:ly)?\b|\bnow\b|"
                     r"\b(?:most recent|latest|last|newest)\b", re.I)
ROUNDS = {  # name: (questions, chart entries, vault sub-directory)
    "dev": ("assistant_dev.jsonl", None, "dev"),
    "r1": ("blind/assistant_blind_bench.jsonl", None, "b1"),
    "r2": ("blind2/assistant_blind2_bench.jsonl", "blind2/chart_entries.jsonl", "b2"),
    "r3": ("blind3/assistant_blind3_bench.jsonl", "blind3/chart_entries.jsonl", "b3"),
    "r4": ("blind4/assistant_blind4_bench.jsonl", "blind4/chart_entries.jsonl", "b4"),
    "r5": ("blind6/assist/assistant_blind5_bench.jsonl", "blind6/assist/chart_entries.jsonl", "b5"),
}
BASE = ("score", "score_gap", "meaning", "meaning_gap", "meaning_known")
WORDS = ("words", "own", "described", "desc_only", "asked_share", "heading", "label", "form", "qualified")
TYPES = ("typed", "unit", "untyped", "fact", "typed_meaning", "fact_meaning", "value", "date", "duration", "drug",
         "other")
SHAPE = ("position", "length", "whole")
NEAR = ("fact_described", "answers", "meaning_rank", "words_rank", "side_own", "side_meaning")
SHAPES = ("new_words",) + tuple(f"{kind}_{name}" for name in ("size", "often", "drug", "when", "number")
                                for kind in ("asks", "shape"))
FEATURE_SETS = {
    "score+meaning": BASE,
    "+words": BASE + WORDS,
    "+words+types": BASE + WORDS + TYPES,
    "+near": BASE + NEAR,
    "+shapes": BASE + SHAPES,
    "+types+shapes": BASE + TYPES + SHAPES,
    "all": BASE + WORDS + TYPES + SHAPE + NEAR + SHAPES,
}
L2 = (0.001, 0.01, 0.1, 1.0)
DEPTHS = (3, 6, 150)  # the hand-set reader's first this many candidates are reordered (the rest follow)


def _top(group: dict[str, Any], depth: int) -> dict[str, Any]:
    """A reading's first `depth` candidates in the hand-set order (gaps and ranks recomputed among them)."""
    from archive.assistant.reading import among_first

    g = dict(group, y=group["y"][:depth], x=[dict(x) for x in group["x"][:depth]])
    among_first(g["x"])
    return g


# ---------------------------------------------------------------- asking and capturing


def _open_round(name: str, vaults: Path) -> tuple[Any, Path, list[dict[str, Any]]]:
    from assistant import ADMIN, PHYS, _version, build_fact_vault, load_questions, referenced

    import archive.login

    qpath, entries, sub = ROUNDS[name]
    questions = load_questions(HERE / qpath)
    base = vaults / sub
    root = base / "vault"
    mts_rows, aci_ids = referenced(questions)
    entries_path = HERE / entries if entries else None
    wanted = _version(False, mts_rows, aci_ids, entries_path)
    version = base / "corpus.version"
    if not (root.exists() and version.exists() and version.read_text(encoding="utf-8") == wanted):
        print(f"{name}: building the vault in {base}", flush=True)
        import shutil

        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        build_fact_vault(root, False, mts_rows, aci_ids, entries_path)
    from archive.embedding import embed_backlog

    admin = archive.login.open_session(root, *ADMIN)
    embed_backlog(admin)
    admin.close()
    phys = archive.login.open_session(root, *PHYS)
    from archive.assistant import ask

    ask(phys, "find records about chest pain")
    ask(phys, "In the case of the woman with chest pain, what was she given?")
    return phys, root, questions


def _forms(q: dict[str, Any]) -> list[str]:
    from assistant import _norm

    if q.get("expect_none") or q.get("expect_start"):
        return []
    expect = [q["expect"]] if isinstance(q.get("expect"), str) else list(q.get("expect") or [])
    return [_norm(e) for e in expect if _norm(e)]


def ask_round(name: str, vaults: Path, model: Any, capture: bool) -> dict[str, Any]:
    """Ask every question of a round with `model` as the selector (None: the hand-set order); with `capture`,
    return every meaning-compared reading's candidates, labelled."""
    from assistant import _ask_facts, _kept_session, _norm

    import archive.assistant.reading as R

    phys, root, questions = _open_round(name, vaults)
    calls: list[dict[str, Any]] = []
    real, real_selector = R.best_sentences, R.selector

    def wrapped(texts: dict[str, str], asked: R.Asked, *, limit: int = 3, similarity: Any = None,
                by_meaning: int = 12, whole: bool = False) -> list[R.Found]:
        out = real(texts, asked, limit=10**6, similarity=similarity, by_meaning=by_meaning, whole=whole)
        if similarity is not None and asked.type != R.YESNO and not asked.current:
            calls.append({"whole": whole, "asked": asked.text, "type": asked.type,
                          "cands": [(f.record_id, f.segment.text, dict(f.features)) for f in out]})
        return out[:limit]

    import archive.assistant.cases as C

    real_rank = C.rank_cases
    ranked: list[list[tuple[float, str | None]]] = []

    def rank_cases(*a: Any, **k: Any) -> list[tuple[float, str, str | None]]:
        out = real_rank(*a, **k)
        ranked.append([(sc, mrn) for sc, _rid, mrn in out[:6]])
        return out

    C.rank_cases = rank_cases  # type: ignore[assignment]
    null = R.Selector(("score",), (0.0,), (1.0,), (1.0,))  # the hand-set order, features computed
    R.selector = (lambda: null) if (capture and model is None) else (lambda: model)  # type: ignore[assignment]
    if capture:
        R.best_sentences = wrapped  # type: ignore[assignment]
    patient_of: dict[str, str | None] = {}
    outcomes, groups = [], []
    try:
        with _kept_session(phys):
            for i, q in enumerate(questions):
                calls.clear()
                ranked.clear()
                o = _ask_facts([q], root, phys)[0]
                outcomes.append({"right": o["right"], "checks": o["checks"], "unsupported": o["unsupported"],
                                 "which": o["which_shown"], "ambiguous": bool(q.get("ambiguous")),
                                 "seconds": o["seconds"], "stage": o["stage"], "kind": q.get("kind", "?"),
                                 "cases": ranked[0] if ranked else [], "expect_mrn": q.get("expect_mrn"),
                                 "also": [*(q.get("also_mrn") or []), *(q.get("same_as") or [])]})
                forms = _forms(q)
                if not capture or not forms:
                    continue
                same = {q.get("expect_mrn"), *(q.get("same_as") or [])}
                if q.get("ambiguous"):
                    same |= set(q.get("also_mrn") or [])
                for call in calls:
                    cands = []
                    for rid, text, feats in call["cands"]:
                        if rid not in patient_of:
                            row = phys.db.execute("SELECT patient_mrn FROM records WHERE id = ?", [rid]).fetchone()
                            patient_of[rid] = row[0] if row else None
                        ok = patient_of[rid] in same and any(f in _norm(text) for f in forms)
                        cands.append((int(ok), feats))
                    if cands and patient_of[call["cands"][0][0]] in same:
                        groups.append({"q": i, "question": q["question"], "asked": call["asked"],
                                       "type": call["type"], "whole": call["whole"], "y": [c[0] for c in cands],
                                       "x": [c[1] for c in cands], "text": [t for _r, t, _f in call["cands"]]})
    finally:
        R.best_sentences, R.selector = real, real_selector  # type: ignore[assignment]
        C.rank_cases = real_rank  # type: ignore[assignment]
        phys.close()
    return {"outcomes": outcomes, "groups": groups}


# ---------------------------------------------------------------- fitting


def _matrix(groups: list[dict[str, Any]], names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = [[x.get(n, 0.0) for n in names] for g in groups for x in g["x"]]
    y = np.array([v for g in groups for v in g["y"]], dtype=float)
    starts = np.cumsum([0] + [len(g["y"]) for g in groups])[:-1]
    return np.array(rows, dtype=float).reshape(len(y), len(names)), y, starts


def fit(groups: list[dict[str, Any]], names: tuple[str, ...], l2: float, steps: int = 300
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conditional logit over each reading's candidates: maximise log P(a positive is chosen). The weights start
    at the hand-set reader (its score alone, at the temperature fitted first) and L2 pulls them back to it, so a
    strong L2 is the hand-set order. Readings with no positive or no negative carry no signal and are left out."""
    use = [g for g in groups if 0 < sum(g["y"]) < len(g["y"])]
    x, y, starts = _matrix(use, names)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-6] = 1.0
    z = (x - mean) / std
    gid = np.repeat(np.arange(len(use)), [len(g["y"]) for g in use])
    at = names.index("score")

    def grad_of(w: np.ndarray) -> np.ndarray:
        s = z @ w
        e = np.exp(s - np.maximum.reduceat(s, starts)[gid])
        p_all = e / np.add.reduceat(e, starts)[gid]
        p_pos = e * y / np.add.reduceat(e * y, starts)[gid]
        return -((p_pos - p_all) @ z) / len(use)

    def adam(w: np.ndarray, prior: np.ndarray, strength: float, mask: np.ndarray) -> np.ndarray:
        m, v = np.zeros_like(w), np.zeros_like(w)
        for t in range(1, steps + 1):
            g = (grad_of(w) + 2 * strength * (w - prior)) * mask
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g**2
            w = w - 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        return w

    only = np.zeros(len(names))
    only[at] = 1.0
    prior = adam(only.copy(), np.zeros(len(names)), 0.0, only)  # the hand-set score's temperature
    w = adam(prior.copy(), prior, l2, np.ones(len(names)))
    return w, mean, std


def top1(groups: list[dict[str, Any]], names: tuple[str, ...], model: tuple[np.ndarray, ...] | None) -> int:
    """Readings whose first candidate (by the model; None: the hand-set order) holds an expected form."""
    right = 0
    for g in groups:
        if not any(g["y"]):
            continue
        if model is None:
            right += g["y"][0]
            continue
        w, mean, std = model
        x = np.array([[c.get(n, 0.0) for n in names] for c in g["x"]])
        right += g["y"][int(np.argmax(((x - mean) / std) @ w))]
    return right


def selector_of(names: tuple[str, ...], model: tuple[np.ndarray, ...], depth: int) -> Any:
    from archive.assistant.reading import Selector

    w, mean, std = model
    return Selector(names, tuple(map(float, mean)), tuple(map(float, std)), tuple(map(float, w)), depth)


# ---------------------------------------------------------------- the run


def _figures(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    lat = sorted(o["seconds"] for o in outcomes)
    checks = [c for o in outcomes for c in o["checks"]]
    amb = [o for o in outcomes if o["ambiguous"]]
    past = [o for o in outcomes if str(o["kind"]).startswith("past")]
    return {"right": sum(o["right"] for o in outcomes), "n": len(outcomes),
            "past": sum(o["right"] for o in past), "past_n": len(past),
            "checks": f"{sum(checks)}/{len(checks)}", "unsupported": sum(o["unsupported"] for o in outcomes),
            "which": f"{sum(o['which'] for o in amb)}/{len(amb)}",
            "b": sum(o["stage"] == "b" for o in outcomes),
            "p95_ms": round(1000 * lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]) if lat else 0}


THRESHOLDS = (0.8, 0.85, 0.88, 0.9, 0.93, 0.95, 0.97)


def _shown(o: dict[str, Any], t: float) -> bool:
    """Whether a second patient's case scores at least `t` of the best one (past_case lists it then)."""
    cases = o.get("cases") or []
    if len(cases) < 2:
        return False
    best, first = cases[0][0], cases[0][1]
    return any(sc >= t * best and mrn != first for sc, mrn in cases[1:])


def which_case(by_round: dict[str, list[dict[str, Any]]]) -> None:
    """Step 3: the share of a second case's score at which past_case lists several cases (AMBIGUOUS), chosen on
    five rounds (most ambiguous questions shown without showing more clear ones than the shipped 0.93 does), scored
    on the sixth."""
    print("\nstep 3: \"which case\" by the case-score share, leave-one-round-out (past-case questions)")
    print("| round | ambiguous shown at 0.93 | clear shown at 0.93 | chosen share | ambiguous shown | clear shown |")
    print("|---|---|---|---|---|---|")
    rounds = list(by_round)
    for r in rounds:
        train = [o for x in rounds if x != r for o in by_round[x] if o.get("cases")]

        def counts(os_: list[dict[str, Any]], t: float) -> tuple[int, int]:
            return (sum(_shown(o, t) for o in os_ if o["ambiguous"]),
                    sum(_shown(o, t) for o in os_ if not o["ambiguous"]))

        now = counts(train, 0.93)
        t = max((t for t in THRESHOLDS if counts(train, t)[1] <= now[1]), key=lambda t: (counts(train, t)[0], t))
        test = [o for o in by_round[r] if o.get("cases")]
        n_amb = sum(o["ambiguous"] for o in test)
        a0, c0 = counts(test, 0.93)
        a1, c1 = counts(test, t)
        print(f"| {r} | {a0}/{n_amb} | {c0}/{len(test) - n_amb} | {t} | {a1}/{n_amb} | {c1}/{len(test) - n_amb} |")
    print("all rounds, each share: " + "; ".join(
        f"{t}: {sum(_shown(o, t) for x in rounds for o in by_round[x] if o['ambiguous'])} ambiguous, "
        f"{sum(_shown(o, t) for x in rounds for o in by_round[x] if o.get('cases') and not o['ambiguous'])} clear"
        for t in THRESHOLDS))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vaults", required=True, help="one vault directory per round under this one")
    ap.add_argument("--captured", help="a capture file: read if it exists, else written after step 0")
    ap.add_argument("--rounds", default=",".join(ROUNDS))
    ap.add_argument("--write", action="store_true", help="write the selector fitted on all rounds")
    ap.add_argument("--no-end-to-end", action="store_true", help="skip step 2 (held-out end-to-end runs)")
    args = ap.parse_args()
    vaults = Path(args.vaults)
    rounds = args.rounds.split(",")
    cap_path = Path(args.captured) if args.captured else None
    if cap_path is not None and cap_path.exists():
        captured = json.loads(cap_path.read_text(encoding="utf-8"))
        for r in captured:  # a capture made before "current" readings were left out (the caller orders them by date)
            captured[r]["groups"] = [g for g in captured[r]["groups"] if not CURRENT.search(g.get("asked", ""))]
    else:
        captured = {}
        for name in rounds:
            t0 = time.perf_counter()
            captured[name] = ask_round(name, vaults, None, capture=True)
            print(f"{name}: hand-set reader {_figures(captured[name]['outcomes'])}; {len(captured[name]['groups'])} "
                  f"readings captured ({time.perf_counter() - t0:.0f} s; load {os.getloadavg()[0]:.1f})", flush=True)
        if cap_path is not None:
            cap_path.write_text(json.dumps(captured), encoding="utf-8")

    print("\nstep 1: top-1 sentence holds an expected form, leave-one-round-out (readings of the right record "
          "with an expected form among the candidates)")
    header = "| config | " + " | ".join(rounds) + " | sum | rounds better / worse |"
    print(header + "\n|" + "---|" * (len(rounds) + 3))
    base = {r: top1(captured[r]["groups"], ("score",), None) for r in rounds}
    total = {r: sum(1 for g in captured[r]["groups"] if any(g["y"])) for r in rounds}
    print("| hand-set | " + " | ".join(f"{base[r]}/{total[r]}" for r in rounds) + f" | {sum(base.values())} | |")
    best: tuple[float, str, float, int] | None = None
    for depth in DEPTHS:
        cut = {r: [_top(g, depth) for g in captured[r]["groups"]] for r in rounds}
        for fs, names in FEATURE_SETS.items():
            for l2 in L2:
                held = {}
                for r in rounds:
                    train = [g for o in rounds if o != r for g in cut[o]]
                    held[r] = top1(cut[r], names, fit(train, names, l2))
                better = sum(held[r] > base[r] for r in rounds)
                worse = sum(held[r] < base[r] for r in rounds)
                mean = float(np.mean([held[r] / max(1, total[r]) for r in rounds]))
                print(f"| top {depth}: {fs}, L2 {l2} | " + " | ".join(f"{held[r]}" for r in rounds)
                      + f" | {sum(held.values())} | {better} / {worse} |", flush=True)
                if best is None or mean > best[0]:
                    best = (mean, fs, l2, depth)
    assert best is not None
    _, fs, l2, depth = best
    names = FEATURE_SETS[fs]
    print(f"\nchosen by the mean held-out share: the hand-set top {depth} reordered by {fs}, L2 {l2}")

    if not args.no_end_to_end:
        print("\nstep 2: end to end, each round with the selector fitted on the other rounds")
        print("| round | hand-set right | selector right (held out) | past case | citations | unsupported | "
              "which case | stage b | p95 ms (hand-set / selector) |")
        print("|---|---|---|---|---|---|---|---|---|")
        held_out: dict[str, list[dict[str, Any]]] = {}
        for r in rounds:
            train = [_top(g, depth) for o in rounds if o != r for g in captured[o]["groups"]]
            model = selector_of(names, fit(train, names, l2), depth)
            before = _figures(captured[r]["outcomes"])
            held_out[r] = ask_round(r, vaults, model, capture=False)["outcomes"]
            after = _figures(held_out[r])
            print(f"| {r} | {before['right']}/{before['n']} | {after['right']}/{after['n']} | "
                  f"{before['past']} -> {after['past']} of {after['past_n']} | "
                  f"{before['checks']} -> {after['checks']} | "
                  f"{before['unsupported']} -> {after['unsupported']} | {before['which']} -> {after['which']} | "
                  f"{before['b']} -> {after['b']} | {before['p95_ms']} / {after['p95_ms']} (load "
                  f"{os.getloadavg()[0]:.1f}) |", flush=True)

        if args.captured:
            Path(args.captured).with_suffix(".heldout.json").write_text(json.dumps(held_out), encoding="utf-8")
        which_case(held_out)

    if args.write:
        w, mean, std = fit([_top(g, depth) for r in rounds for g in captured[r]["groups"]], names, l2)
        out = {"about": f"bench/reader_cv.py: conditional logit over the hand-set top {depth}, features {fs}, L2 {l2}, "
                        f"fitted on rounds {','.join(rounds)}",
               "depth": depth, "features": list(names), "mean": [round(float(v), 6) for v in mean],
               "std": [round(float(v), 6) for v in std], "weights": [round(float(v), 6) for v in w]}
        path = HERE.parent / "archive" / "assistant" / "selector.json"
        path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
