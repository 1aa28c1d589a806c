"""Issue 20, "which case": capture the ranked cases of every past-case question of a round, then choose the listing
rule leave-one-round-out.

    # once per round (asks only the past-case questions, through the CLI path as assistant.py does):
    PYTHONPATH=.. HF_HUB_OFFLINE=1 python which_case.py capture --questions FILE --chart-entries CHART \
        --vault DIR --out r7.json
    # then:
    python which_case.py grid r5.json r6.json r7.json

A question is ambiguous when its bench line says so; its matching cases are the expected patient, `same_as` (copies
of the same note, and in round 7 the writer's other case) and `also_mrn` (the writer's other case). A listing
"shows the pair" when it holds two of those patients; listing more than one case for a clear question is a cost.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def capture(args: argparse.Namespace) -> None:
    import assistant as A

    from archive.assistant import cases

    captured: list[dict[str, Any]] = []
    real_rank = cases.rank_cases
    current: dict[str, Any] = {}

    def rank(ctx: Any, asked: Any, question: str, hits: Any) -> Any:
        scored = real_rank(ctx, asked, question, hits)
        desc = set(asked.words) | set(asked.context)
        top = hits[0][1] or 1.0
        rel = {rid: (score / top if top > 0 else 1.0 / (1 + i)) for i, (rid, score, _m) in enumerate(hits)}
        cover = {rid: len(desc & cases.asserted_stems(ctx.texts.text(rid), desc)) / max(1, len(desc))
                 for _s, rid, _m in scored}
        current.setdefault("scored", [[s, rid, mrn, ctx.texts.text(rid)[:4000], cover[rid], rel[rid]]
                                      for s, rid, mrn in scored])
        return scored

    cases.rank_cases = rank  # type: ignore[assignment]
    real_ask = A._ask_facts

    def ask(questions: list[dict[str, Any]], root: Path, phys: Any) -> list[dict[str, Any]]:
        out = []
        for q in questions:
            if not str(q.get("kind", "")).startswith("past-case"):
                continue
            current.clear()
            o = real_ask([q], root, phys)[0]
            captured.append({"q": q, "scored": current.get("scored", []), "right": o["right"],
                             "which_shown": o["which_shown"]})
            out.append(o)
        Path(args.out).write_text(json.dumps(captured), encoding="utf-8")
        return out

    A._ask_facts = ask  # type: ignore[assignment]
    A._baseline = lambda questions, phys: 1.0  # type: ignore[assignment]
    A.run_questions(args)
    Path(args.out).write_text(json.dumps(captured), encoding="utf-8")
    print(f"{len(captured)} past-case questions captured to {args.out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("--questions", required=True)
    c.add_argument("--chart-entries")
    c.add_argument("--vault", required=True)
    c.add_argument("--out", required=True)
    c.set_defaults(quick=False, retrieval="hybrid", show_misses=False, record=False)
    g = sub.add_parser("grid")
    g.add_argument("files", nargs="+")
    args = ap.parse_args()
    if args.cmd == "capture":
        capture(args)
    else:
        from which_case_grid import grid

        grid(args.files)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
