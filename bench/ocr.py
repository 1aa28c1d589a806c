"""OCR: the "needs transcription" decision, old rule (mean confidence) against the new one, same run.

Pages are rendered from seeded prescription/note texts: handwriting-style pages in the handwriting
fonts of Debian's packages (fonts-dancingscript, fonts-breip, fonts-femkeklaver, fonts-rufscript,
fonts-dkg-handwriting; those not installed are skipped and named), with rotation, blur and noise;
printed pages in DejaVu with light noise. The shared scans in ../shared/data/ocr/ join them
(handwriting_style_note.png handwritten; typewriter, linn, crom printed). For each page the
current engine reads it once; both rules decide on the same lines. Printed: precision and recall of
"queued" for handwritten pages, the character error rate (CER) against the rendered text, time.

    .venv/bin/python bench/ocr.py [--quick] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
RESULTS = REPO / "bench" / "RESULTS.md"
SHARED = REPO.parent / "shared" / "data" / "ocr"

HANDWRITING = {
    "DancingScript": "/usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf",
    "Breip": "/usr/share/fonts/truetype/breip/Breip.ttf",
    "FemkeKlaver": "/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf",
    "Rufscript": "/usr/share/fonts/truetype/rufscript/Rufscript010.ttf",
    "dkg": "/usr/share/fonts/truetype/fifthhorseman/dkg.ttf",
    "dkg-italic": "/usr/share/fonts/truetype/fifthhorseman/dkgIt.ttf",
}
PRINTED = {
    "DejaVuSans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "DejaVuSerif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "DejaVuSansMono": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
}
NAMES = ["John Smith", "Mary Jones", "Ahmed Khan", "Laura Brown", "Peter Walsh", "Anna Novak"]
DRUGS = ["Cimetidine 400 mg", "Amoxicillin 500 mg", "Metformin 850 mg", "Lisinopril 10 mg",
         "Atorvastatin 20 mg", "Omeprazole 20 mg", "Ceftriaxone 1 g", "Prednisone 5 mg"]
SIGS = ["take one tablet twice daily", "one capsule three times a day for seven days",
        "one tablet at night with food", "as directed, review in two weeks"]
FINDINGS = ["Cough and fever for three days", "Chest pain on exertion", "Shortness of breath, swollen ankles",
            "Sore throat, no rash", "Blood pressure 150/95, pulse 98"]
PLANS = ["Plan: chest x-ray, blood count", "Impression: community acquired pneumonia",
         "Follow up in the clinic next week", "Refer to cardiology"]


def texts(count: int, seed: int = 17) -> list[list[str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2009, 2024)
        out.append([
            f"Patient: {rng.choice(NAMES)}",
            f"Date {day:02d}-{month:02d}-{year % 100:02d}",
            rng.choice(FINDINGS),
            f"Rx {rng.choice(DRUGS)}",
            rng.choice(SIGS),
            rng.choice(PLANS),
        ])
    return out


def render(lines: list[str], font_path: str, *, handwritten: bool, seed: int) -> object:
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = random.Random(seed)
    size = 46 if handwritten else 34
    font = ImageFont.truetype(font_path, size)
    page = Image.new("L", (1400, 120 + 90 * len(lines)), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        jitter = rng.randint(-8, 8) if handwritten else 0
        draw.text((60 + jitter, 50 + 90 * i + jitter // 2), line, font=font, fill=rng.randint(10, 60))
    if handwritten:
        page = page.rotate(rng.uniform(-3, 3), resample=Image.Resampling.BICUBIC, fillcolor=255, expand=True)
        page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    noise = 18 if handwritten else 8
    pixels = page.load()
    width, height = page.size
    for _ in range(width * height // 40):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = max(0, min(255, pixels[x, y] + rng.randint(-noise * 3, noise * 3)))  # type: ignore[index]
    return page.convert("RGB")


def cer(truth: str, read: str) -> float:
    a, b = " ".join(truth.split()), " ".join(read.split())
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(1, len(a))


MISREAD = 0.05  # a rendered page read with at least this character error rate needs a person


def search_latency(docs: int) -> list[str]:
    """Full-text p50/p95 before (exact only) and after (exact, then near spellings when few match), same
    run, on an in-memory FTS5 index of MTSamples notes with some words misread as OCR would."""
    import csv

    from benchlib import percentile
    from sqlcipher3 import dbapi2

    from indexer import fts

    source = REPO.parent / "shared" / "data" / "mtsamples" / "mtsamples.csv"
    if not source.exists():
        return ["search latency: MTSamples not found, skipped"]
    csv.field_size_limit(10_000_000)
    with source.open(encoding="utf-8") as f:
        notes = [row.get("transcription") or "" for row in csv.DictReader(f)][:docs]
    rng = random.Random(5)
    db = dbapi2.connect(":memory:")
    fts.create_schema(db)
    db.execute("CREATE TABLE records (n INTEGER PRIMARY KEY, id TEXT, filename TEXT, patient_mrn TEXT, "
               "date TEXT, doc_type TEXT, format TEXT, title TEXT)")
    swaps = {"d": "2", "e": "c", "o": "0", "l": "1", "i": "l"}
    for n, text in enumerate(notes, 1):
        words = text.split()
        for i in rng.sample(range(len(words)), min(len(words), 3)):  # three misread words per note
            w = words[i]
            k = rng.randrange(len(w)) if w else 0
            if w and w[k] in swaps:
                words[i] = w[:k] + swaps[w[k]] + w[k + 1 :]
        db.execute(f"INSERT INTO {fts.TABLE}(rowid, title, filename, text, meta) VALUES (?, '', '', ?, '')",
                   [n, " ".join(words)])
        db.execute("INSERT INTO records (n, id) VALUES (?, ?)", [n, f"r{n}"])
    queries = ["cimetidine", "chest pain", "hypertension", "metformin", "appendectomy", "fracture femur",
               "bronchoscopy", "cholecystectomy", "lisinopril", "colonoscopy", "pneumonia", "atorvastatin",
               "laceration", "tonsillectomy", "hemoglobin", "carpal tunnel", "warfarin", "endoscopy"]
    limit = 20
    before, after = [], []
    widened = 0
    for _ in range(5):
        for q in queries:
            t = time.perf_counter()
            page = fts.search_page(db, q, limit=limit)
            before.append(time.perf_counter() - t)
            t = time.perf_counter()
            page = fts.search_page(db, q, limit=limit)
            if page.total < limit:  # archive.search: the same condition and widening
                parts = []
                for w in q.split():
                    near = fts.near_terms(db, w)
                    parts.append("(" + " OR ".join([w, *(f'"{x}"' for x in near)]) + ")" if near else w)
                if " ".join(parts) != q:
                    widened += 1
                    fts.search_page(db, " ".join(parts), limit=limit)
            after.append(time.perf_counter() - t)
    p95b, p95a = percentile(before, 0.95), percentile(after, 0.95)
    return [
        f"full-text search, {len(notes)} MTSamples notes (3 words misread each), {len(before)} queries: "
        f"exact only p50 {1000 * percentile(before, .5):.1f} ms p95 {1000 * p95b:.1f} ms; with near spellings "
        f"p50 {1000 * percentile(after, .5):.1f} ms p95 {1000 * p95a:.1f} ms ({p95a / p95b:.2f}x); "
        f"{widened} of {len(after)} widened",
    ]


def scores(cases: list[tuple[bool, bool]]) -> tuple[float, float]:
    tp = sum(1 for truth, said in cases if truth and said)
    fp = sum(1 for truth, said in cases if not truth and said)
    fn = sum(1 for truth, said in cases if truth and not said)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 texts per font instead of 4")
    parser.add_argument("--lines", type=Path, help="also save each page's OCR lines (JSON) for calibration")
    parser.add_argument("--from-lines", type=Path, help="decide on OCR lines saved by --lines (no OCR)")
    parser.add_argument("--docs", type=int, default=0, help="search latency on this many MTSamples notes "
                        "(default 2000, 1000 with --quick)")
    parser.add_argument("--record", action="store_true", help="append the numbers to bench/RESULTS.md")
    args = parser.parse_args()

    from indexer.extract.image import iter_frames, ocr
    from indexer.extract.legibility import assess, needs_transcription_by_mean

    per_font = 2 if args.quick else 4
    pages: list[tuple[str, bool, object, str | None]] = []  # name, handwritten, image, truth
    missing = [name for name, path in HANDWRITING.items() if not Path(path).exists()]
    for fonts, handwritten in ((HANDWRITING, True), (PRINTED, False)):
        for f_index, (name, path) in enumerate(fonts.items()):
            if not Path(path).exists():
                continue
            for t_index, lines in enumerate(texts(per_font, seed=17 + 31 * f_index + (0 if handwritten else 7))):
                image = render(lines, path, handwritten=handwritten, seed=f_index * 100 + t_index)
                pages.append((f"{name}#{t_index}", handwritten, image, "\n".join(lines)))
    for name, handwritten in (("handwriting_style_note.png", True), ("typewriter.png", False),
                              ("linn.png", False), ("crom.png", False)):
        path = SHARED / name
        if path.exists():
            truth = (SHARED / "linn.txt").read_text(encoding="utf-8") if name == "linn.png" else None
            pages.append((name, handwritten, next(iter_frames(path.read_bytes())), truth))

    rows = []
    saved: dict[str, object] = {}
    old_cases, new_cases = [], []
    misread_old: list[tuple[bool, bool]] = []
    misread_new: list[tuple[bool, bool]] = []
    cer_hw, cer_pr = [], []
    t_ocr = t_old = t_new = 0.0
    import json

    from indexer.extract.types import OcrLine

    kept = json.loads(args.from_lines.read_text(encoding="utf-8")) if args.from_lines else None
    if kept is None:
        ocr(pages[0][2])  # type: ignore[arg-type]  # warm-up: engine load
    for name, handwritten, image, truth in pages:
        t = time.perf_counter()
        if kept is None:
            lines = ocr(image)  # type: ignore[arg-type]
        else:
            lines = [OcrLine(text, conf) for text, conf in kept[name][1]]
        t_ocr += time.perf_counter() - t
        saved[name] = [handwritten, [(line.text, line.confidence) for line in lines]]
        t = time.perf_counter()
        old = needs_transcription_by_mean(lines)
        t_old += time.perf_counter() - t
        t = time.perf_counter()
        verdict = assess(lines)
        t_new += time.perf_counter() - t
        old_cases.append((handwritten, old))
        new_cases.append((handwritten, verdict.needs_transcription))
        error = cer(truth, "\n".join(line.text for line in lines)) if truth else None
        if error is not None and name != "linn.png":  # linn: two columns read across, not misread
            misread_old.append((error >= MISREAD, old))
            misread_new.append((error >= MISREAD, verdict.needs_transcription))
        if error is not None:
            (cer_hw if handwritten else cer_pr).append(error)
        rows.append((name, handwritten, verdict.mean, verdict.weakest_line, verdict.unknown_share,
                     len(verdict.garbage), error, old, verdict.needs_transcription))
        print(f"{name:28} {'hand' if handwritten else 'print':5} mean {verdict.mean or 0:.3f} "
              f"weakest {verdict.weakest_line or 0:.3f} unknown {verdict.unknown_share:.2f} "
              f"garbage {len(verdict.garbage)} cer {'-' if error is None else f'{error:.3f}'} "
              f"old {'Q' if old else '.'} new {'Q' if verdict.needs_transcription else '.'}", flush=True)

    if args.lines:
        args.lines.write_text(json.dumps(saved), encoding="utf-8")
    p_old, r_old = scores(old_cases)
    p_new, r_new = scores(new_cases)
    hand = sum(1 for h, _ in old_cases if h)
    pm_old, rm_old = scores(misread_old)
    pm_new, rm_new = scores(misread_new)
    misread = sum(1 for m, _ in misread_old if m)
    summary = [
        f"pages: {len(pages)} ({hand} handwritten, {len(pages) - hand} printed); fonts missing: {missing or 'none'}",
        f"old rule (mean < 0.92): precision {p_old:.2f} recall {r_old:.2f}",
        f"new rule:               precision {p_new:.2f} recall {r_new:.2f}",
        f"recall new/old: {r_new / r_old if r_old else float('inf'):.2f}x",
        f"against 'misread' (CER >= {MISREAD}, rendered pages: {misread} of {len(misread_old)}): "
        f"old precision {pm_old:.2f} recall {rm_old:.2f}; new precision {pm_new:.2f} recall {rm_new:.2f}",
        f"CER (current engine) handwritten {sum(cer_hw) / max(1, len(cer_hw)):.3f}, "
        f"printed {sum(cer_pr) / max(1, len(cer_pr)):.3f}",
        f"decision time per page: old {1000 * t_old / len(pages):.2f} ms, new {1000 * t_new / len(pages):.2f} ms "
        f"(first call reads the vocabulary); OCR {t_ocr / len(pages):.2f} s/page"
        + (f" (decisions re-made on the OCR lines saved in {args.from_lines.name})" if kept is not None else ""),
    ]
    summary += search_latency(args.docs or (1000 if args.quick else 2000))
    print("\n".join(summary))
    if args.record:
        with RESULTS.open("a", encoding="utf-8") as out:
            form = "quick" if args.quick else "full"
            out.write(f"\n### OCR needs-transcription decision ({dt.date.today()}, {form})\n\n")
            out.write("| page | kind | mean | weakest line | unknown | garbage | CER | old | new |\n")
            out.write("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
            for name, hw, mean, weak, unk, garb, error, old, new in rows:
                out.write(f"| {name} | {'hand' if hw else 'print'} | {mean or 0:.3f} | {weak or 0:.3f} | {unk:.2f} "
                          f"| {garb} | {'-' if error is None else f'{error:.3f}'} | {'Q' if old else '.'} "
                          f"| {'Q' if new else '.'} |\n")
            out.write("\n" + "\n".join(f"- {line}" for line in summary) + "\n")


if __name__ == "__main__":
    main()
