"""`search --positive`: precision and recall on notes that affirm or deny a finding, and the latency of labelling.

1. Labelled set (seeded; written for this benchmark, not tuned on): notes built from FINDINGS x phrasings
   that affirm (present, complained of, assessed, a past history) or do not (denied, absent, ruled out,
   doubted, planned for, a relative's), with filler sentences about other findings; some notes deny and
   affirm the same finding (gold: affirms). Gold: the note affirms the query's finding. Decision: the one
   `search --positive` makes (archive.search.Labeller -> indexer.mentions), on every note that mentions the
   query's words; baseline in the same run: every mention counts (plain search).
2. Latency (quick form): hybrid search on bench/retrieval.py's synthetic vault (MTSamples sentences, random
   unit vectors), each query run four ways in turn: hits unlabelled (the Labeller a no-op: the search
   before issue 22), labelled from the text at query time (the maps ignored: issue 22's first two passes),
   labelled by lookup in the maps stored at import (every search now; the label cache emptied first before
   both), and --positive (right after, on the same hits: labels from the cache).

    python bench/search_positive.py [--notes 600] [--seed 22] [--latency-chunks 30000] [--no-latency]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import percentile  # noqa: E402

from indexer.hybrid import expand  # noqa: E402
from indexer.mentions import mentions  # noqa: E402

FINDINGS = (
    "chest pain", "shortness of breath", "fever", "cough", "headache", "nausea", "abdominal pain",
    "pneumonia", "pulmonary embolism", "diabetes", "hypertension", "rash", "dizziness", "back pain",
    "seizure", "syncope", "hematuria", "anemia", "atrial fibrillation", "stroke",
)
AFFIRM = (
    "The patient presents with {f}.", "She reports {f} since yesterday.", "Complains of {f} for two days.",
    "ASSESSMENT: {f}.", "{F} noted on examination.", "He was admitted with {f}.", "Impression: acute {f}.",
    "PAST MEDICAL HISTORY:\n{F}.", "History of {f} in 2019.", "Diagnosis: {f}, improving.",
)
DENY = (
    "The patient denies {f}.", "No {f}.", "Negative for {f}.", "{F} was ruled out.", "There is no evidence of {f}.",
    "Without {f}.", "Family history of {f} in her mother.", "FAMILY HISTORY:\nFather had {f}.",
    "Return if {f} develops.", "Rule out {f}.", "Possible {f}.", "She has never had {f}.",
    "No complaints of {f}.", "Free of {f}.",
)
FILLER = (
    "Vital signs are stable.", "She lives with her husband.", "Medications were reviewed.",
    "Follow up in two weeks.", "The abdomen is soft.", "Lungs are clear to auscultation.",
    "Plan discussed with the patient.", "Labs were drawn this morning.",
)


def note(rng: random.Random, finding: str, affirms: bool, others: list[str]) -> str:
    parts = [rng.choice(FILLER)]
    if affirms and rng.random() < 0.25:  # denies and affirms the same finding: still affirms it
        parts.append(rng.choice(DENY).format(f=finding, F=finding.capitalize()))
    chosen = rng.choice(AFFIRM if affirms else DENY)
    parts.append(chosen.format(f=finding, F=finding.capitalize()))
    other = rng.choice(others)
    parts.append(rng.choice(AFFIRM + DENY).format(f=other, F=other.capitalize()))
    parts.append(rng.choice(FILLER))
    rng.shuffle(parts)
    return "\n".join(parts)


def labelled_set(n: int, seed: int) -> list[tuple[str, str, bool]]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        finding = FINDINGS[k % len(FINDINGS)]
        affirms = rng.random() < 0.5
        others = [f for f in FINDINGS if not set(f.split()) & set(finding.split())]
        out.append((finding, note(rng, finding, affirms, others), affirms))
    return out


def precision_recall(pairs: list[tuple[bool, bool]]) -> tuple[float, float, int, int, int]:
    tp = sum(g and p for g, p in pairs)
    fp = sum(p and not g for g, p in pairs)
    fn = sum(g and not p for g, p in pairs)
    return tp / max(1, tp + fp), tp / max(1, tp + fn), tp, fp, fn


def quality(n: int, seed: int) -> list[str]:
    ours, plain = [], []
    for finding, text, gold in labelled_set(n, seed):
        found = mentions(text, expand(finding).concepts)
        if not found:
            raise AssertionError(f"no mention of {finding!r} in {text!r}")
        ours.append((gold, any(m.positive for m in found)))
        plain.append((gold, True))
    p, r, tp, fp, fn = precision_recall(ours)
    bp, br, *_ = precision_recall(plain)
    return [
        f"labelled set: {n} notes (seed {seed}), {sum(g for g, _ in ours)} affirm their finding",
        f"--positive: precision {p:.3f}, recall {r:.3f} (tp {tp}, fp {fp}, fn {fn}); "
        f"plain search (every mention): precision {bp:.3f}, recall {br:.3f}; precision ratio {p / max(bp, 1e-9):.2f}",
    ]


def latency(chunks: int) -> list[str]:
    import retrieval  # bench/retrieval.py: its synthetic vault and query loop

    import archive.search as facade

    timings: dict[str, list[float]] = {"unlabelled": [], "labelled from text": [], "labelled": [], "positive": []}
    cpu: dict[str, list[float]] = {name: [] for name in timings}
    real_search, real_labeller = facade.search, facade.Labeller

    class NoLabels(real_labeller):  # type: ignore[misc,valid-type]
        def __call__(self, n: int, hit: Any, text: str | None = None) -> Any:
            return hit

    class FromText(real_labeller):  # type: ignore[misc,valid-type]
        """Labels worked out from the text at query time (before the maps stored at import)."""

        def read_maps(self, texts: dict[int, str]) -> None:
            return None

    ways = {"unlabelled": NoLabels, "labelled from text": FromText, "labelled": real_labeller,
            "positive": real_labeller}

    def each_way(session: Any, query: str, **kwargs: Any) -> Any:
        if query == "warm up" or kwargs.get("mode") != "hybrid" or kwargs.get("date_from"):
            return real_search(session, query, **kwargs)
        for name, labeller in ways.items():
            facade.Labeller = labeller
            if name.startswith("labelled"):  # labelled cold: nothing from an earlier query's labels
                facade._labelled.cache_clear()
            t, c = time.perf_counter(), time.process_time()
            result = real_search(session, query, positive=name == "positive", **kwargs)
            timings[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
        facade.Labeller = real_labeller
        return result

    notes = retrieval.load_notes()
    queries = [sorted(n.descriptions)[0] for n in random.Random(4).sample([n for n in notes if n.descriptions], 40)]
    facade.search = each_way
    try:
        with tempfile.TemporaryDirectory() as tmp:
            retrieval.latency(Path(tmp) / "synthetic", chunks, queries, notes, lambda line: None)
    finally:
        facade.search, facade.Labeller = real_search, real_labeller
    base = percentile(timings["unlabelled"], 0.95)
    lines = [f"hybrid search at {chunks} chunks, {len(timings['labelled'])} queries, limit 10, each run four ways:"]
    for name, values in timings.items():
        p95 = percentile(values, 0.95)
        lines.append(f"  {name}: p50 {1000 * percentile(values, 0.5):.0f} ms, p95 {1000 * p95:.0f} ms "
                     f"(p95 ratio to unlabelled {p95 / base:.2f}); CPU p50 {1000 * percentile(cpu[name], 0.5):.0f} ms, "
                     f"p95 {1000 * percentile(cpu[name], 0.95):.0f} ms")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--notes", type=int, default=600)
    ap.add_argument("--seed", type=int, default=22)
    ap.add_argument("--latency-chunks", type=int, default=30_000, help="quick form; the target is at 100k")
    ap.add_argument("--no-latency", action="store_true")
    args = ap.parse_args()
    for line in quality(args.notes, args.seed):
        print(line, flush=True)
    if not args.no_latency:
        for line in latency(args.latency_chunks):
            print(line, flush=True)


if __name__ == "__main__":
    main()
