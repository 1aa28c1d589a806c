"""Where to call a search by meaning "weak": the best hit's score when something matches vs when nothing does.

`archive.search.search` (semantic and hybrid) always lists the records closest to
a query, even when none is about it. This script builds two disjoint MTSamples
corpora (a tuning one and a report one), imports and embeds each in a fresh vault,
and runs through chartvault's own search:

- queries that should match well: MTSamples descriptions whose own note is in the
  corpus and found in the top 10, and rare words (8+ letters) present in one or two
  corpus notes;
- queries that should match nothing well: rare words of notes outside the corpus
  that no corpus note contains, and misspellings of present rare words that no
  corpus note contains (the `search cimetidine` case: the only mention is misspelled).

For each mode it prints the best-hit score distributions, picks on the tuning corpus
the floor with the best balanced accuracy (good queries kept, nothing-queries flagged)
and reports that floor, untouched, on the report corpus. `archive.search.WEAK_FLOOR`
holds the result.

    HF_HUB_OFFLINE=1 PYTHONPATH=. python bench/weak_floor.py [--notes 200] [--queries 60] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("CHARTVAULT_EMBEDDER", None)  # the real model

from retrieval import RESULTS, Note, build_vault, description_queries, load_notes  # noqa: E402

MODES = ("hybrid", "semantic")
_WORD = re.compile(r"\b[a-z]{8,}\b")


def misspell(word: str, rng: random.Random) -> str:
    """One plausible typing slip inside the word: a vowel swapped, a letter dropped or two letters swapped."""
    i = rng.randrange(2, len(word) - 2)
    kind = rng.choice(("vowel", "drop", "swap"))
    if kind == "vowel" and word[i] in "aeiou":
        return word[:i] + rng.choice([v for v in "aeiou" if v != word[i]]) + word[i + 1 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def words_of(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def queries_for(notes: list[Note], corpus: list[int], outside: list[int], n: int, seed: int
                ) -> tuple[list[tuple[str, int | None]], list[str]]:
    """(good queries with their own note or None, nothing-queries) for one corpus."""
    rng = random.Random(seed)
    inside = set(corpus)
    counts: dict[str, int] = {}
    for i in corpus:
        for w in words_of(notes[i].text):
            counts[w] = counts.get(w, 0) + 1
    good: list[tuple[str, int | None]] = []
    descs = [q for q in description_queries(notes, 5000, seed) if q.own in inside]
    good += [(q.text, q.own) for q in descs[:n]]
    rare = sorted(w for w, c in counts.items() if c <= 2)
    rng.shuffle(rare)
    good += [(w, None) for w in rare[: n // 2]]
    absent = sorted({w for i in outside for w in words_of(notes[i].text)} - set(counts))
    rng.shuffle(absent)
    nothing = absent[: n // 2]
    slips = []
    for w in rare[n // 2 :]:
        s = misspell(w, rng)
        if s not in counts and s != w:
            slips.append(s)
        if len(slips) >= n // 2:
            break
    return good, nothing + slips


def best_scores(session: Any, good: list[tuple[str, int | None]], nothing: list[str], note_of: dict[str, int]
                ) -> dict[str, tuple[list[float], list[float]]]:
    """Per mode: best-hit scores of the good queries that found their note (or hit anything), and of the others."""
    from archive.errors import ChartvaultError
    from archive.search import search

    out: dict[str, tuple[list[float], list[float]]] = {}
    for mode in MODES:
        ok: list[float] = []
        bad: list[float] = []
        for text, own in good:
            try:
                res = search(session, text, mode=mode, limit=10)
            except ChartvaultError:
                continue
            if not res.hits:
                continue
            if own is not None and own not in {note_of[h.record_id] for h in res.hits}:
                continue  # the search did not find it: not a good match to keep
            ok.append(max(h.score for h in res.hits))
        for text in nothing:
            try:
                res = search(session, text, mode=mode, limit=10)
            except ChartvaultError:
                continue
            if res.hits:
                bad.append(max(h.score for h in res.hits))
        out[mode] = (ok, bad)
    return out


def build(notes: list[Note], corpus: list[int], root: Path) -> tuple[Any, dict[str, int]]:
    from archive.embedding import embed_backlog
    from archive.intake import import_paths

    src = root / "notes"
    src.mkdir(parents=True)
    for i in corpus:
        (src / f"mts_{i:05d}.txt").write_text(notes[i].text, encoding="utf-8")
    session = build_vault(root / "vault")
    import_paths(session, [src])
    shutil.rmtree(src)
    embed_backlog(session)
    note_of = {rid: int(fn[4:9]) for rid, fn in session.db.execute("SELECT id, filename FROM records").fetchall()}
    return session, note_of


def rates(ok: list[float], bad: list[float], floor: float) -> tuple[float, float]:
    """(share of good queries kept, share of nothing-queries flagged weak) at `floor`."""
    kept = sum(s >= floor for s in ok) / len(ok) if ok else 0.0
    flagged = sum(s < floor for s in bad) / len(bad) if bad else 0.0
    return kept, flagged


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def run(args: argparse.Namespace) -> list[str]:
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    notes = [n for n in load_notes() if 400 <= len(n.text) <= 8000]
    order = list(range(len(notes)))
    random.Random(args.seed).shuffle(order)
    tune, report = sorted(order[: args.notes]), sorted(order[args.notes : 2 * args.notes])
    outside = order[2 * args.notes : 2 * args.notes + 400]
    work = Path(tempfile.mkdtemp(prefix="cv-weak-"))
    floors: dict[str, float] = {}
    try:
        for name, corpus in (("tuning", tune), ("report", report)):
            t = time.perf_counter()
            session, note_of = build(notes, corpus, work / name)
            good, nothing = queries_for(notes, corpus, outside, args.queries, args.seed + len(name))
            scores = best_scores(session, good, nothing, note_of)
            session.close()
            say(f"{name} corpus: {len(corpus)} MTSamples notes; {len(good)} queries that should match well, "
                f"{len(nothing)} that match nothing well ({time.perf_counter() - t:.0f} s)")
            for mode, (ok, bad) in scores.items():
                say(f"  {mode}: best-hit score of good queries (n={len(ok)}) p5 {pct(ok, .05):.3f}, "
                    f"p25 {pct(ok, .25):.3f}, median {pct(ok, .5):.3f}; of nothing-queries (n={len(bad)}) "
                    f"median {pct(bad, .5):.3f}, p95 {pct(bad, .95):.3f}, max {max(bad, default=float('nan')):.3f}")
                if name == "tuning":
                    candidates = [x / 100 for x in range(20, 80)]
                    floors[mode] = max(candidates, key=lambda f: (sum(rates(ok, bad, f)), -f))
                kept, flagged = rates(ok, bad, floors[mode])
                say(f"  {mode} floor {floors[mode]:.2f} ({'chosen here' if name == 'tuning' else 'from tuning'}): "
                    f"good queries kept {kept:.1%}, nothing-queries flagged weak {flagged:.1%}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--notes", type=int, default=200, help="notes per corpus (tuning, report)")
    p.add_argument("--queries", type=int, default=60, help="description queries per corpus (and half as many words)")
    p.add_argument("--seed", type=int, default=18)
    p.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = p.parse_args(argv)
    started = time.time()
    lines = run(args)
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f}; {time.time() - started:.0f} s in all")
    if args.record:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(f"\n## weak-match floor ({stamp}, bench/weak_floor.py)\n\n")
            fh.write("\n".join(lines) + f"\n\nload average at the end: {load:.1f} (2 cores shared with other work)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
