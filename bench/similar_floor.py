"""Where to cut "similar cases": the similarity of same-specialty vs other-specialty MTSamples notes.

`archive.search.similar_cases` scores a record's neighbours by the mean, over the
record's passages, of each neighbour's best-matching passage (the cosine of the
embedding model; `VectorMatrix.similar_scores`). This script imports a few notes
of each of several distinct MTSamples specialties into a temporary vault, embeds
them (the real model, or `--fake` for the tests' hashed bag of words), and prints
the score distribution of same-specialty pairs (a loose stand-in for "similar
cases") and other-specialty pairs (unrelated), and for candidate floors how many of
each would be kept. The floor (`archive.search.SIMILAR_FLOOR`) was chosen from it.

    HF_HUB_OFFLINE=1 PYTHONPATH=. python bench/similar_floor.py [--each 6] [--fake]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
MTSAMPLES = HERE.parents[2] / "shared" / "data" / "mtsamples" / "mtsamples.csv"
SPECIALTIES = ("Cardiovascular / Pulmonary", "Orthopedic", "Gastroenterology", "Neurology", "Urology",
               "Obstetrics / Gynecology", "Ophthalmology", "Dermatology", "Psychiatry / Psychology",
               "ENT - Otolaryngology", "Nephrology", "Hematology - Oncology")
ADMIN_PASS, TECH_PASS = "copper lantern harbour 7", "quiet walnut meadow 9"


def pick(each: int) -> list[tuple[str, str]]:
    """(specialty, text): the first `each` distinct notes of 400-6000 characters of every specialty."""
    csv.field_size_limit(10**8)
    seen: set[str] = set()
    count = dict.fromkeys(SPECIALTIES, 0)
    out: list[tuple[str, str]] = []
    with open(MTSAMPLES, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            spec = (row.get("medical_specialty") or "").strip()
            text = (row.get("transcription") or "").strip()
            if spec not in count or count[spec] >= each or not 400 < len(text) < 6000 or text in seen:
                continue
            seen.add(text)
            count[spec] += 1
            out.append((spec, text))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--each", type=int, default=6, help="notes per specialty")
    ap.add_argument("--fake", action="store_true", help="the tests' fake embedder instead of the real model")
    args = ap.parse_args(argv)
    if not MTSAMPLES.exists():
        print(f"MTSamples not found at {MTSAMPLES}", file=sys.stderr)
        return 2
    from archive.embedding import embed_backlog, get_embedder, use_embedder
    from archive.intake import import_paths
    from archive.login import create_vault, open_session
    from archive.users import add_user

    if args.fake:
        from indexer.embedder import FakeEmbedder

        use_embedder(FakeEmbedder())
    notes = pick(args.each)
    work = Path(tempfile.mkdtemp(prefix="cv-similar-"))
    try:
        src = work / "notes"
        src.mkdir()
        for i, (_, text) in enumerate(notes):
            (src / f"n{i:03d}.txt").write_text(text, encoding="utf-8")
        admin = create_vault(work / "vault", "admin", ADMIN_PASS)
        add_user(admin, "bench", "technician", TECH_PASS)
        admin.close()
        session = open_session(work / "vault", "bench", TECH_PASS)
        import_paths(session, [src])
        embed_backlog(session)
        embedder = get_embedder(session)
        rows = session.db.execute("SELECT n, filename FROM records").fetchall()
        spec_of = {int(n): notes[int(name[1:4])][0] for n, name in rows}
        vm = session.store.records.vectors(embedder.model_id, embedder.dim)
        same: list[float] = []
        other: list[float] = []
        best_other: list[float] = []  # per record: its most similar other-specialty note
        for n in vm.records:
            scores = vm.similar_scores(int(n))
            mine = [(int(m), float(s)) for m, s in zip(vm.records, scores, strict=True) if m != n]
            same += [s for m, s in mine if spec_of[m] == spec_of[int(n)]]
            others = [s for m, s in mine if spec_of[m] != spec_of[int(n)]]
            other += others
            best_other.append(max(others))
        print(f"model {embedder.model_id}: {len(notes)} notes, {len(SPECIALTIES)} specialties x {args.each}")
        for name, xs in (("same specialty", same), ("other specialty", other), ("best other, per note", best_other)):
            q = np.percentile(xs, [5, 25, 50, 75, 95, 99])
            print(f"  {name:<22} n={len(xs):>5}  p5 {q[0]:.3f}  p25 {q[1]:.3f}  median {q[2]:.3f}  "
                  f"p75 {q[3]:.3f}  p95 {q[4]:.3f}  p99 {q[5]:.3f}  max {max(xs):.3f}")
        for floor in np.arange(0.30, 0.80, 0.05):
            kept_same = np.mean(np.asarray(same) >= floor)
            kept_other = np.mean(np.asarray(other) >= floor)
            precision = (np.sum(np.asarray(same) >= floor)
                         / max(1, np.sum(np.asarray(same) >= floor) + np.sum(np.asarray(other) >= floor)))
            print(f"  floor {floor:.2f}: keeps {kept_same:6.1%} of same-specialty, {kept_other:6.1%} of other "
                  f"pairs; same-specialty share of what is kept {precision:6.1%}")
        session.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
