"""Evaluate the assistant: answers, citations, the citation check, unsupported answers, latency.

Corpus (bench/assistant_corpus.py): the 67 ACI-Bench train notes (chief and
secondary complaints in train_metadata.csv) and the 18 Synthea FHIR R4
bundles (medications, procedures, conditions with dates), imported into a
fresh vault. Questions and their expected facts and records are generated
in code from the source files (FHIR JSON parsed here, ACI metadata), never
copied from an answer:

  list      "What medications did NAME get in MONTH YEAR?"   expects that MedicationRequest's text
  class     "What antibiotics did NAME get?"                  expects the antibiotic (ingredient list below)
  procedure "What procedures did NAME have in YEAR?"          expects that Procedure's text
  timeline  "Summarise the timeline of NAME" / "Give me an overview of MRN X"  expects a condition / the CC
  count     "How many patients had CONDITION in YEAR?"        expects the number of patients (FHIR onset in
            YEAR + ACI notes dated in YEAR listing it as a complaint)
  find      "Find records about CC"                           expects the note(s) with that chief complaint
  similar   "Show similar cases to record R"                  expects another note with the same chief complaint
  code      "What ICD-10-CM code fits PHRASE?"                expects the category of bench/coding_aci_gold.tsv
  passages  "Did NAME have COMPLAINT?"                        expects that patient's note
  follow-up "What medications did NAME get?" -> "and in MONTH YEAR?"  expects only that month's medication
  nothing   questions about things absent from the data       expects "I found nothing in the records about that"

Reported: answer correct, citation correct, citation passes the check (an independent re-check: the
passage occurs in the record's decrypted text, whitespace normalised, and the date is the record's or
quoted; must be 100%), unsupported answers (an answer with a record statement and no valid citation;
must be 0), and latency of the CLI path (`chartvault ask --json` in-process, session open, models loaded).

    .venv/bin/python bench/assistant.py [--quick] [--retrieval fts|hybrid] [--record]

With --questions PATH (JSON Lines; bench/assistant_dev.jsonl is the development set, whose header lists the
fields) the questions of that file are asked over a larger corpus: all 67 ACI-Bench train notes, the 18 FHIR
bundles, the 139 HL7 v2 messages, a seeded sample of 60 MTSamples notes plus every MTSamples row and ACI-Bench
validation/test note the file names, and the demo's notes, patients, encounters and typed-in chart entries.
Records are named by MRN: MTS-<0-based row of mtsamples.csv>, ACI-<encounter id>, a FHIR bundle's "Medical Record
Number" identifier, an HL7 message's PID-3 as imported, DEMO-1001..1005. Scored per kind: the right fact from the
right record (the first citation's patient is expect_mrn; for an ambiguous case, any cited one), citations passing
the check, unsupported answers, and "which case" shown when a question is marked ambiguous. --vault DIR keeps
that vault (rebuilt when the file names other records) for reruns.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import csv
import datetime as dt
import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant_corpus import AciNote, FhirPatient, write_corpus  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
ACI_GOLD = HERE / "coding_aci_gold.tsv"
NOTHING = "I found nothing in the records about that"
# Antibiotic ingredients for the expectations (independent of the assistant's drug-class table).
ANTIBIOTICS = ("amoxicillin", "penicillin", "cefuroxime", "cephalexin", "clavulanate", "azithromycin",
               "doxycycline", "ciprofloxacin", "nitrofurantoin", "trimethoprim")
ADMIN, PHYS = ("admin", "copper lantern harbour"), ("drmaria", "granite orchid compass")


@dataclass
class Question:
    kind: str
    text: str
    expect_in_answer: list[str] = field(default_factory=list)  # all must appear (case-insensitive)
    expect_absent: list[str] = field(default_factory=list)
    expect_records: set[str] = field(default_factory=set)  # citations must come from these records
    must_cite: set[str] = field(default_factory=set)  # at least one of these must be cited
    expect_count: int | None = None
    expect_nothing: bool = False
    expect_category: str | None = None
    before: list[str] = field(default_factory=list)  # earlier turns of the same conversation
    extra: str = ""  # the condition of a count question


def _stems(text: str) -> set[str]:
    from indexer.query.tokens import stem

    return {stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def _clean(condition: str) -> str:
    return " ".join(re.sub(r"\([^)]*\)", " ", condition).split())


def _month(day: str) -> str:
    return f"{calendar.month_name[int(day[5:7])]} {day[:4]}"


# Several phrasings per kind, used in turn, so the set does not test one wording only.
PHRASES = {
    "list": ["What medications did {name} get in {month}?", "which meds was {name} on in {month}",
             "list {name}'s prescriptions from {month}", "{name}: drugs prescribed during {month}?"],
    "class": ["What antibiotics did {name} get?", "did {name} receive any antibiotics?", "abx for {name}"],
    "procedure": ["What procedures did {name} have in {year}?", "procedures {name} underwent during {year}",
                  "any surgeries or procedures for {name} in {year}?"],
    "timeline": ["Summarise the timeline of {name}", "give me an overview of {name}", "what happened to {name}?"],
    "count": ["How many patients had {cond} in {year}?", "how many people were diagnosed with {cond} in {year}",
              "number of patients with {cond} during {year}"],
    "find": ["Find records about {cc}", "any notes mentioning {cc}?", "show me documents on {cc}"],
    "passages": ["Did {name} have {c}?", "what do the notes say about {name}'s {c}?"],
}


def phrase(kind: str, i: int, **values: str) -> str:
    options = PHRASES[kind]
    return options[i % len(options)].format(**values)


def build_questions(notes: list[AciNote], patients: list[FhirPatient], rec: dict[str, str], quick: bool
                    ) -> list[Question]:
    """`rec` maps an MRN to its record id."""
    qs: list[Question] = []
    cap = 3 if quick else 10
    # -- FHIR: medications in a month, antibiotics, procedures, timelines, follow-ups
    with_meds = [p for p in patients if any(f.kind == "medication" for f in p.facts)]
    for i, p in enumerate(with_meds[:cap]):
        med = max((f for f in p.facts if f.kind == "medication"), key=lambda f: (f.date, f.text))
        in_month = {f.text for f in p.facts if f.kind == "medication" and f.date[:7] == med.date[:7]}
        others = [f.text for f in p.facts if f.kind == "medication" and f.text not in in_month]
        qs.append(Question("list", phrase("list", i, name=p.name, month=_month(med.date)), [med.text],
                           others[:2], {rec[p.mrn]}, {rec[p.mrn]}))
    for p in patients:
        abx_i = sum(q.kind == "class" for q in qs)
        abx = [f for f in p.facts if f.kind == "medication" and any(a in f.text.lower() for a in ANTIBIOTICS)]
        if abx:
            non = [f.text for f in p.facts if f.kind == "medication" and f not in abx]
            qs.append(Question("class", phrase("class", abx_i, name=p.name), [f.text for f in abx][:3], non[:2],
                               {rec[p.mrn]}, {rec[p.mrn]}))
    procs = [p for p in patients if any(f.kind == "procedure" for f in p.facts)]
    for i, p in enumerate(procs[:cap]):
        proc = max((f for f in p.facts if f.kind == "procedure"), key=lambda f: (f.date, f.text))
        qs.append(Question("procedure", phrase("procedure", i, name=p.name, year=proc.date[:4]), [proc.text], [],
                           {rec[p.mrn]}, {rec[p.mrn]}))
    for i, p in enumerate([p for p in patients if any(f.kind == "condition" for f in p.facts)][: 2 if quick else 5]):
        cond = max((f for f in p.facts if f.kind == "condition"), key=lambda f: f.date)
        qs.append(Question("timeline", phrase("timeline", i, name=p.name), [cond.text], [], {rec[p.mrn]},
                           {rec[p.mrn]}))
    for p in with_meds[: 2 if quick else 4]:
        meds = sorted((f for f in p.facts if f.kind == "medication"), key=lambda f: f.date)
        first = meds[0]
        that_month = {f.text for f in meds if f.date[:7] == first.date[:7]}
        later = [f.text for f in meds if f.text not in that_month]
        qs.append(Question("follow-up", f"and in {_month(first.date)}?", [first.text], later[:2], {rec[p.mrn]},
                           {rec[p.mrn]}, before=[f"What medications did {p.name} get?"]))
    # -- counts of conditions by year (FHIR onsets + ACI notes dated that year with it as a complaint)
    by_cond: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in patients:
        for f in p.facts:
            if f.kind == "condition" and not f.text.lower().startswith("history of"):
                by_cond[(_clean(f.text).lower(), f.date[:4])].add(p.mrn)
    for note in notes:
        for complaint in [note.cc, *note.complaints]:
            key = (_clean(complaint).lower(), note.date[:4])
            if any(k[0] == key[0] for k in by_cond):
                by_cond[key].add(note.mrn)
    picked = sorted(by_cond.items(), key=lambda kv: (-len(kv[1]), kv[0]))[: 3 if quick else 8]
    for i, ((cond, year), mrns) in enumerate(picked):
        qs.append(Question("count", phrase("count", i, cond=cond, year=year), expect_count=len(mrns),
                           expect_records={rec[m] for m in mrns}, must_cite={rec[m] for m in mrns}, extra=cond))
    # -- ACI: counts of complaints from the metadata (no period)
    complaint_notes: dict[str, set[str]] = defaultdict(set)
    for note in notes:
        for complaint in {note.cc.lower(), *(c.lower() for c in note.complaints)}:
            complaint_notes[complaint].add(note.mrn)
    common = sorted((c for c, m in complaint_notes.items() if len(m) >= 2 and len(c.split()) <= 3),
                    key=lambda c: (-len(complaint_notes[c]), c))
    for c in common[: 2 if quick else 5]:
        fhir = {p.mrn for p in patients for f in p.facts if f.kind == "condition" and _clean(f.text).lower() == c}
        mrns = complaint_notes[c] | fhir
        qs.append(Question("count", f"How many patients had {c}?", expect_count=len(mrns),
                           expect_records={rec[m] for m in mrns}, must_cite={rec[m] for m in mrns}, extra=c))
    # -- ACI: find, similar, passages
    by_cc: dict[str, list[AciNote]] = defaultdict(list)
    for note in notes:
        by_cc[note.cc.lower()].append(note)
    specific = [cc for cc in sorted(by_cc) if len(cc.split()) >= 2][:cap]
    for i, cc in enumerate(specific):
        ids = {rec[n.mrn] for n in by_cc[cc]}
        qs.append(Question("find", phrase("find", i, cc=cc), [], [], set(), ids))
    shared = [cc for cc in sorted(by_cc) if len(by_cc[cc]) >= 2][: 2 if quick else 5]
    for cc in shared:
        source, *rest = by_cc[cc]
        qs.append(Question("similar", f"Show similar cases to record {rec[source.mrn]}", [], [], set(),
                           {rec[n.mrn] for n in rest}))
    named = [n for n in notes if len(n.name.split()) == 2 and n.complaints]
    for i, note in enumerate(named[: 2 if quick else 6]):
        qs.append(Question("passages", phrase("passages", i, name=note.name, c=note.complaints[0]), [], [],
                           {rec[note.mrn]},
                           {rec[note.mrn]}))
    # -- codes (the ACI gold categories of bench/coding.py)
    gold = []
    for line in ACI_GOLD.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            wording, cat, _kind = line.split("\t")
            if cat != "-":
                gold.append((wording, cat))
    code_phrases = ["What ICD-10-CM code fits {w}?", "icd10 for {w}", "which diagnosis code should I use for {w}"]
    for i, (wording, cat) in enumerate(gold[: 0 if quick else 8]):  # quick: no code set to load (CI)
        qs.append(Question("code", code_phrases[i % 3].format(w=wording), expect_category=cat))
    # -- nothing in the records
    no_abx = [p for p in patients if not any(
        f.kind == "medication" and any(a in f.text.lower() for a in ANTIBIOTICS) for f in p.facts)]
    nothing = ["Find records about Ebola virus disease", "How many patients had scurvy?",
               "Find records about a snake bite"]
    nothing += [f"What antibiotics did {p.name} get?" for p in no_abx[:2]]
    for text in nothing[: 2 if quick else 5]:
        qs.append(Question("nothing", text, expect_nothing=True))
    return qs


# ---------------------------------------------------------------- scoring


@dataclass
class Outcome:
    q: Question
    data: dict[str, Any]
    seconds: float
    answer_ok: bool
    citation_ok: bool | None  # None: not applicable (codes, nothing-found)
    checks: list[bool]
    unsupported: bool


def check(session: Any, citation: dict[str, Any]) -> bool:
    """The independent re-check of one citation (not the assistant's own code)."""
    row = session.db.execute("SELECT text_blob_id, date FROM records WHERE id = ?", [citation["record_id"]]).fetchone()
    if row is None or not citation["passage"].strip():
        return False
    text = " ".join(session.blobs.get_bytes(row[0]).decode("utf-8", "replace").split())
    passage = " ".join(citation["passage"].split())
    date_ok = not citation["date"] or (row[1] or "")[:10] == citation["date"][:10] or citation["date"] in passage
    return passage in text and date_ok


def score(session: Any, q: Question, data: dict[str, Any], seconds: float) -> Outcome:
    answer = data["answer"]
    cites = data["citations"]
    low = answer.lower()
    checks = [check(session, c) for c in cites]
    cited = {c["record_id"] for c in cites}
    if q.expect_nothing:
        ok = answer == NOTHING
    elif q.expect_category:
        codes = re.findall(r"^- ([A-Z][0-9][0-9A-Z])", answer, re.M)
        ok = bool(codes) and codes[0] == q.expect_category
    elif q.expect_count is not None:
        # The metadata lists a visit's complaints; notes also mention conditions in the history. So: every
        # expected patient counted (recall), each count backed by a passage naming the condition (below).
        m = re.match(r"(\d+) patients? had", answer)
        ok = bool(m) and int(m.group(1)) >= q.expect_count and q.must_cite <= cited
    elif q.kind in ("find", "similar", "passages"):
        ok = bool(cited & q.must_cite)
    else:
        ok = all(e.lower() in low for e in q.expect_in_answer) and not any(a.lower() in low for a in q.expect_absent)
    if q.expect_nothing or q.expect_category:
        citation_ok: bool | None = None
    elif q.expect_count is not None:
        topic = _stems(q.extra)
        citation_ok = bool(cites) and all(topic <= _stems(c["passage"]) for c in cites)
    elif q.expect_records:
        citation_ok = bool(cites) and cited <= q.expect_records and bool(cited & q.must_cite)
    else:
        citation_ok = bool(cited & q.must_cite)
    is_statement = answer not in (NOTHING, "") and not data["refused"] and q.kind != "code" \
        and not answer.startswith(("Several patients match", "Which patient"))
    unsupported = is_statement and (not cites or not all(checks))
    return Outcome(q, data, seconds, ok, citation_ok, checks, unsupported)


# ---------------------------------------------------------------- running


def build_vault(root: Path, corpus: Path, quick: bool) -> tuple[Any, list[AciNote], list[FhirPatient]]:
    from archive.intake import import_paths
    from archive.login import create_vault
    from archive.users import add_user

    admin = create_vault(root, *ADMIN)
    add_user(admin, PHYS[0], "physician", PHYS[1], full_name="Maria Lopez", licence="MD-12345")
    notes, patients = write_corpus(corpus, aci_limit=20 if quick else None, fhir_limit=6 if quick else None)
    report = import_paths(admin, [corpus])
    assert report.counts["imported"] == len(notes) + len(patients), report.counts
    return admin, notes, patients


def run(args: argparse.Namespace) -> tuple[list[str], list[Outcome]]:
    import archive.login

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "vault"
        t0 = time.perf_counter()
        admin, notes, patients = build_vault(root, Path(tmp) / "corpus", args.quick)
        build_s = time.perf_counter() - t0
        retrieval = args.retrieval
        embed_s = 0.0
        if retrieval == "hybrid":
            from archive.embedding import embed_backlog

            t0 = time.perf_counter()
            embed_backlog(admin)
            embed_s = time.perf_counter() - t0
        phys = archive.login.open_session(root, *PHYS)
        rec = {r[0]: r[1] for r in phys.db.execute("SELECT patient_mrn, id FROM records").fetchall()}
        questions = build_questions(notes, patients, rec, args.quick)
        # "model loaded": the code set in the index, the embedding model in memory, one warm-up question
        from archive.assistant import ask
        from archive.coding import ensure_code_set

        t0 = time.perf_counter()
        if any(q.kind == "code" for q in questions):
            ensure_code_set(phys)
        ask(phys, "find records about chest pain")
        warm_s = time.perf_counter() - t0

        with _kept_session(phys):
            outcomes = _ask_all(questions, root, phys)
        phys.close()
        admin.close()
    return report(outcomes, args, build_s, embed_s, warm_s, len(notes), len(patients)), outcomes


def _ask_all(questions: list[Question], root: Path, phys: Any) -> list[Outcome]:
    """Each question through the CLI in-process (`ask --json`; a conversation through `chat --json`)."""
    from click.testing import CliRunner

    from archive.cli import cli

    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": PHYS[0], "CHARTVAULT_PASSPHRASE": PHYS[1]}
    runner = CliRunner()
    outcomes: list[Outcome] = []
    for q in questions:
        if q.before:
            stdin = "\n".join([*q.before, q.text]) + "\n"
            t = time.perf_counter()
            result = runner.invoke(cli, ["chat", "--json"], env=env, input=stdin, catch_exceptions=False)
            seconds = (time.perf_counter() - t) / (len(q.before) + 1)
            data = json.loads(result.stdout.splitlines()[-1])
        else:
            t = time.perf_counter()
            result = runner.invoke(cli, ["ask", "--json", q.text], env=env, catch_exceptions=False)
            seconds = time.perf_counter() - t
            data = json.loads(result.stdout)
        outcomes.append(score(phys, q, data, seconds))
    return outcomes


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else "n/a"


def report(outcomes: list[Outcome], args: argparse.Namespace, build_s: float, embed_s: float, warm_s: float,
           n_notes: int, n_fhir: int) -> list[str]:
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.q.kind].append(o)
    lines = [
        f"corpus: {n_notes} ACI-Bench notes + {n_fhir} FHIR bundles (imported in {build_s:.1f} s"
        + (f", embedded in {embed_s:.1f} s" if embed_s else "") + f"); retrieval: {args.retrieval}; "
        f"warm-up (code set + first question): {warm_s:.1f} s",
        "",
        "| kind | n | answer correct | citation correct | citations passing the check | unsupported |",
        "|---|---|---|---|---|---|",
    ]
    for kind in sorted(by_kind):
        os_ = by_kind[kind]
        cit = [o for o in os_ if o.citation_ok is not None]
        checks = [c for o in os_ for c in o.checks]
        lines.append(
            f"| {kind} | {len(os_)} | {_pct(sum(o.answer_ok for o in os_), len(os_))} | "
            f"{_pct(sum(bool(o.citation_ok) for o in cit), len(cit))} | {_pct(sum(checks), len(checks))} | "
            f"{sum(o.unsupported for o in os_)} |"
        )
    cit = [o for o in outcomes if o.citation_ok is not None]
    checks = [c for o in outcomes for c in o.checks]
    lat = sorted(o.seconds for o in outcomes)
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
    lines.append(
        f"| **all** | {len(outcomes)} | {_pct(sum(o.answer_ok for o in outcomes), len(outcomes))} | "
        f"{_pct(sum(bool(o.citation_ok) for o in cit), len(cit))} | {_pct(sum(checks), len(checks))} | "
        f"{sum(o.unsupported for o in outcomes)} |"
    )
    counts = [o for o in outcomes if o.q.expect_count is not None]
    exact = sum(bool(re.match(rf"{o.q.expect_count} patients? had", o.data["answer"])) for o in counts)
    recall = _pct(sum(o.answer_ok for o in counts), len(counts))
    lines += ["", f"count questions: every expected patient counted in {recall}; the number equal to the expected "
                  f"one in {_pct(exact, len(counts))} (notes also mention conditions in the history that the "
                  "metadata does not list as the visit's complaints)"]
    lines += ["", f"latency of `chartvault ask --json` (in-process CLI, session open, models loaded): "
                  f"median {lat[len(lat) // 2] * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms "
                  f"(target p95 <= 1000 ms)"]
    slowest = sorted(outcomes, key=lambda o: -o.seconds)[:5]
    lines.append("slowest: " + "; ".join(f"{o.q.kind} {o.seconds * 1000:.0f} ms" for o in slowest))
    print("\n".join(lines))
    if args.show_misses:
        for o in outcomes:
            if not o.answer_ok or o.citation_ok is False or o.unsupported:
                print(f"\nMISS [{o.q.kind}] {o.q.text} (expect {o.q.expect_in_answer or o.q.expect_count or ''} "
                      f"{o.q.expect_category or ''})\n  {o.data['answer'][:400]}")
    return lines


# ---------------------------------------------------------------- fact questions from a file (--questions)

TECH = ("tess", "amber willow ledger")
FACT_CORPUS_VERSION = "2"  # bump when the corpus changes (a --vault built before is rebuilt)


def referenced(questions: list[dict[str, Any]]) -> tuple[tuple[int, ...], set[str]]:
    """The MTSamples rows (MTS-<row>) and ACI-Bench encounters (ACI-<id>) a question file names."""
    named = {str(q.get(k) or "") for q in questions for k in ("expect_mrn", "patient")}
    named |= {m for q in questions for m in q.get("also_mrn") or []}
    rows = tuple(sorted(int(m[4:]) for m in named if re.fullmatch(r"MTS-\d+", m)))
    return rows, {m[4:] for m in named if m.startswith("ACI-")}


def build_fact_vault(root: Path, quick: bool, mts_rows: tuple[int, ...] = (), aci_ids: set[str] | None = None,
                     chart_entries: Path | None = None) -> None:
    """ACI-Bench notes, FHIR bundles, HL7 v2 messages, a seeded MTSamples sample (plus the rows the questions
    name), the demo's notes and typed-in chart entries, and the question set's own hand-entered patients and chart
    entries (`chart_entries`, typed in through the domain API by a technician)."""
    from assistant_corpus import add_chart_entries, add_demo_chart, load_chart_entries, write_fact_corpus

    from archive.intake import import_paths
    from archive.login import create_vault, open_session
    from archive.users import add_user

    admin = create_vault(root, *ADMIN)
    add_user(admin, PHYS[0], "physician", PHYS[1], full_name="Maria Lopez", licence="MD-12345")
    add_user(admin, TECH[0], "technician", TECH[1], full_name="Tess Ng")
    corpus = root.parent / "corpus"
    write_corpus(corpus, aci_limit=20 if quick else None, fhir_limit=None)
    write_fact_corpus(corpus, mts=20 if quick else 60, mts_rows=mts_rows, aci_ids=aci_ids)
    tech = open_session(root, *TECH)
    from archive.charts.patients import add_patient
    from archive.demo_content import PATIENTS

    for pt in PATIENTS:
        add_patient(tech, pt.mrn, pt.name, pt.dob, pt.sex, physician=PHYS[0])
    report = import_paths(admin, [corpus])
    by_file = {Path(o.input).name: o.record_id for o in report.outcomes if o.record_id}
    add_demo_chart(tech, PHYS[0], by_file, patients=False)
    if chart_entries is not None:
        rows = load_chart_entries(chart_entries)
        refused = add_chart_entries(tech, PHYS[0], rows)
        print(f"chart entries: {len(rows) - len(refused)} of {len(rows)} rows of {chart_entries} typed in"
              + "".join(f"\n  refused: {r}" for r in refused))
    tech.close()
    (root.parent / "corpus.version").write_text(_version(quick, mts_rows, aci_ids, chart_entries), encoding="utf-8")
    admin.close()


def _version(quick: bool, mts_rows: tuple[int, ...], aci_ids: set[str] | None, chart_entries: Path | None = None
             ) -> str:
    import hashlib

    parts: list[Any] = [FACT_CORPUS_VERSION, quick, list(mts_rows), sorted(aci_ids or ())]
    if chart_entries is not None:
        parts.append(hashlib.sha256(chart_entries.read_bytes()).hexdigest())
    return json.dumps(parts)


def load_questions(path: Path) -> list[dict[str, Any]]:
    """One JSON object a line: question, kind, expect (facts, any of them), expect_mrn, optional patient,
    before (earlier turns), ambiguous (another case matches as well: the answer must list the cases)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(json.loads(line))
    return out


def _norm(text: str) -> str:
    return " ".join(text.lower().replace(",", "").split())


_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\w.])")


def _rounds_to(expect: str, answer: str) -> bool:
    """A decimal answer written with more places than the expected form ("-3.578" for "-3.58") is the same fact
    when it rounds to it; only for an expected form that is a bare decimal number."""
    if not re.fullmatch(r"-?\d+\.\d+", expect.strip()):
        return False
    places = len(expect.strip().split(".")[1])
    want = Decimal(expect.strip())
    return any(len(m.split(".")[1]) > places and
               Decimal(m).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) == want
               for m in _NUMBER.findall(answer))


TYPED_IN = "(chart entry typed in; no source record to quote)"  # a chart fact typed in by hand: the chart backs it


def _record_ok(q: dict[str, Any], patients: list[str | None]) -> bool:
    """The first citation is the expected record (or a copy of the same text); for an ambiguous question the
    expected record is among the cited ones, or the other matching case is cited first."""
    mrn = q.get("expect_mrn")
    if mrn is None:
        return True
    if not patients:
        return False
    same = {mrn, *(q.get("same_as") or [])}
    if patients[0] in same:
        return True
    return bool(q.get("ambiguous")) and (bool(same & set(patients)) or patients[0] in (q.get("also_mrn") or []))


def score_fact(session: Any, q: dict[str, Any], data: dict[str, Any], seconds: float) -> dict[str, Any]:
    answer = data["answer"]
    cites = data["citations"]
    checks = [check(session, c) for c in cites]
    patients = []
    for c in cites:
        row = session.db.execute("SELECT patient_mrn FROM records WHERE id = ?", [c["record_id"]]).fetchone()
        patients.append(row[0] if row else None)
    expect = [q["expect"]] if isinstance(q.get("expect"), str) else list(q.get("expect") or [])
    if q.get("expect_none"):
        fact_ok = answer.startswith(("No record of", "No:", NOTHING))
        record_ok = True
    elif q.get("expect_start"):  # a yes/no question: the answer must begin with it, for the right record
        first = answer.split("\n", 1)[0]
        verdict = first.split("Answer:", 1)[1] if "Answer:" in first else answer  # a past case names itself first
        fact_ok = _norm(verdict).startswith(tuple(_norm(e) for e in q["expect_start"]))
        mrn = q.get("expect_mrn")
        record_ok = _record_ok(q, patients)
        record_ok = record_ok or (not patients and TYPED_IN in answer and f"MRN {mrn}" in answer)
    else:
        fact_ok = (any(_norm(e) in _norm(answer) or _rounds_to(e, answer) for e in expect) if expect else True) and \
            all(_norm(e) in _norm(answer) for e in q.get("expect_all") or [])
        mrn = q.get("expect_mrn")
        record_ok = _record_ok(q, patients)
        record_ok = record_ok or (not patients and TYPED_IN in answer and f"MRN {mrn}" in answer)
    which = "cases match" in answer
    stage = None if (fact_ok and record_ok) else _stage(session, q, answer, cites, patients, expect, record_ok)
    is_statement = not data["refused"] and not answer.startswith((NOTHING, "No record of", "Several patients match",
                                                                   "Which patient"))
    return {"q": q, "answer": answer, "seconds": seconds, "right": fact_ok and record_ok, "fact_ok": fact_ok,
            "record_ok": record_ok, "checks": checks,
            "unsupported": is_statement and (not (cites or TYPED_IN in answer) or not all(checks)),
            "which_shown": which, "stage": stage}


STAGES = {"a": "wrong case / patient", "b": "right record, answering sentence not chosen",
          "c": "sentence chosen, fact not stated", "d": "chart / named-patient routing",
          "e": "expected form not in the record (scoring or data)"}


def _stage(session: Any, q: dict[str, Any], answer: str, cites: list[dict[str, Any]], patients: list[str | None],
           expect: list[str], record_ok: bool) -> str:
    """Where a miss was lost (computed, so a held-out set is read only as counts per stage): (a) another case or
    patient cited; (d) the question was not routed to a fact answer (a question back, a code list, a chart-only
    question answered from the wrong kind of entry); (b) the right record, but the sentence holding the expected
    fact was not cited; (c) that sentence cited, the fact not stated; (e) the expected form is in no record of the
    expected patient (a paraphrased expectation, or a chart entry that could not be typed in)."""
    if answer.startswith(("Which patient", "Several patients match")) or "codes for" in answer.split("\n", 1)[0]:
        return "d"
    if cites and not record_ok:
        return "a"
    mrn = q.get("expect_mrn")
    texts = [" ".join(session.blobs.get_bytes(r[0]).decode("utf-8", "replace").split()).lower()
             for r in session.db.execute("SELECT text_blob_id FROM records WHERE patient_mrn = ?", [mrn])]
    forms = [_norm(e) for e in expect]
    if q.get("expect_none") or q.get("expect_start") or not forms:
        return "d" if str(q.get("kind", "")).startswith("named-chart") else "b"
    if not any(f in _norm(t) for f in forms for t in texts):
        return "d" if str(q.get("kind", "")).startswith("named-chart") else "e"
    if any(f in _norm(c["passage"]) for f in forms for c in cites):
        return "c"
    return "b"


@contextlib.contextmanager
def _kept_session(phys: Any) -> Iterator[None]:
    """Every CLI command run in this process uses the one open session `phys` (models loaded once, never
    closed by a command): what "latency with models loaded" measures."""
    import archive.login

    class Kept:
        def __getattr__(self, name: str) -> Any:
            return getattr(phys, name)

        def close(self) -> None:
            pass

    real_open = archive.login.open_session
    archive.login.open_session = lambda *a, **k: Kept()  # type: ignore[assignment]
    try:
        yield
    finally:
        archive.login.open_session = real_open


def run_questions(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    import archive.login

    questions = load_questions(Path(args.questions))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.vault) if args.vault else Path(tmp)
        root = base / "vault"
        t0 = time.perf_counter()
        version = base / "corpus.version"
        mts_rows, aci_ids = referenced(questions)
        entries = Path(args.chart_entries) if args.chart_entries else None
        wanted = _version(args.quick, mts_rows, aci_ids, entries)
        if not (root.exists() and version.exists() and version.read_text(encoding="utf-8") == wanted):
            if root.exists():
                import shutil

                shutil.rmtree(base / "corpus", ignore_errors=True)
                shutil.rmtree(root)
            base.mkdir(parents=True, exist_ok=True)
            build_fact_vault(root, args.quick, mts_rows, aci_ids, entries)
        build_s = time.perf_counter() - t0
        embed_s = 0.0
        if args.retrieval == "hybrid":
            from archive.embedding import embed_backlog

            t0 = time.perf_counter()
            admin = archive.login.open_session(root, *ADMIN)
            embed_backlog(admin)
            admin.close()
            embed_s = time.perf_counter() - t0
        phys = archive.login.open_session(root, *PHYS)
        from archive.assistant import ask

        t0 = time.perf_counter()
        ask(phys, "find records about chest pain")
        ask(phys, "In the case of the woman with chest pain, what was she given?")
        warm_s = time.perf_counter() - t0

        with _kept_session(phys):
            outcomes = _ask_facts(questions, root, phys)
        baseline = _baseline(questions, phys)
        phys.close()
    return report_facts(outcomes, args, build_s, embed_s, warm_s, baseline), outcomes


def _baseline(questions: list[dict[str, Any]], phys: Any) -> float:
    """The same questions as plain searches (the facade's default mode, the question as the query, --patient as
    the filter): the share whose top hit is the expected patient's record and whose snippet holds the fact."""
    from archive.search import search

    right = 0
    for q in questions:
        try:
            hits = search(phys, q["question"], patient=q.get("patient"), limit=1, mark=("", "")).hits
        except Exception:  # noqa: BLE001 - a query the index cannot parse counts as a miss
            hits = []
        expect = [q["expect"]] if isinstance(q.get("expect"), str) else list(q.get("expect") or q.get("expect_all")
                                                                              or [])
        if q.get("expect_none"):
            right += not hits
        elif hits and hits[0].patient == q.get("expect_mrn", hits[0].patient):
            right += any(_norm(e) in _norm(hits[0].snippet) for e in expect)
    return right / max(1, len(questions))


def _ask_facts(questions: list[dict[str, Any]], root: Path, phys: Any) -> list[dict[str, Any]]:
    from click.testing import CliRunner

    from archive.cli import cli

    env = {"CHARTVAULT_VAULT": str(root), "CHARTVAULT_USER": PHYS[0], "CHARTVAULT_PASSPHRASE": PHYS[1]}
    runner = CliRunner()
    out = []
    for q in questions:
        before = q.get("before") or []
        if before:
            t = time.perf_counter()
            result = runner.invoke(cli, ["chat", "--json"], env=env, input="\n".join([*before, q["question"]]) + "\n",
                                   catch_exceptions=False)
            seconds = (time.perf_counter() - t) / (len(before) + 1)
            data = json.loads(result.stdout.splitlines()[-1])
        else:
            extra = ["--patient", q["patient"]] if q.get("patient") else []
            t = time.perf_counter()
            result = runner.invoke(cli, ["ask", "--json", *extra, q["question"]], env=env, catch_exceptions=False)
            seconds = time.perf_counter() - t
            data = json.loads(result.stdout)
        out.append(score_fact(phys, q, data, seconds))
    return out


def report_facts(outcomes: list[dict[str, Any]], args: argparse.Namespace, build_s: float, embed_s: float,
                 warm_s: float, baseline: float) -> list[str]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in outcomes:
        by_kind[o["q"].get("kind", "?")].append(o)
    lines = [
        f"questions: {args.questions} ({len(outcomes)}); vault built in {build_s:.1f} s"
        + (f", embedded in {embed_s:.1f} s" if embed_s else "") + f"; retrieval: {args.retrieval}; "
        f"warm-up: {warm_s:.1f} s",
        "",
        "| kind | n | right fact, right record | citations passing the check | unsupported | "
        "\"which case\" shown when ambiguous |",
        "|---|---|---|---|---|---|",
    ]

    def row(name: str, os_: list[dict[str, Any]]) -> str:
        checks = [c for o in os_ for c in o["checks"]]
        amb = [o for o in os_ if o["q"].get("ambiguous")]
        return (f"| {name} | {len(os_)} | {_pct(sum(o['right'] for o in os_), len(os_))} | "
                f"{_pct(sum(checks), len(checks))} | {sum(o['unsupported'] for o in os_)} | "
                f"{_pct(sum(o['which_shown'] for o in amb), len(amb))} |")

    for kind in sorted(by_kind):
        lines.append(row(kind, by_kind[kind]))
    lines.append(row("**all**", outcomes))
    lat = sorted(o["seconds"] for o in outcomes)
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
    share = sum(o["right"] for o in outcomes) / max(1, len(outcomes))
    lines += ["", f"baseline, same run (the question as a plain search, top hit's snippet): {baseline:.0%} right "
                  f"fact and record; the assistant {share:.0%} ({share / baseline:.1f}x)" if baseline else
              f"baseline, same run (the question as a plain search): 0% right; the assistant {share:.0%}"]
    lines += ["", f"latency per answer (in-process CLI, session open, models loaded): median "
                  f"{lat[len(lat) // 2] * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms "
                  "(target p95 <= 1000 ms)"]
    stages = defaultdict(lambda: defaultdict(int))
    for o in outcomes:
        if o.get("stage"):
            stages[o["stage"]][str(o["q"].get("kind", "?")).split("/")[0]] += 1
    lines += ["", "misses by stage: " + "; ".join(
        f"({k}) {STAGES[k]}: {sum(stages[k].values())} (" + ", ".join(f"{g} {n}" for g, n in sorted(stages[k].items()))
        + ")" for k in sorted(stages))]
    print("\n".join(lines))
    if args.show_misses:
        for o in outcomes:
            if not o["right"] or o["unsupported"] or not all(o["checks"]):
                print(f"\nMISS [{o['q'].get('kind')}] {o['q']['question']} (expect {o['q'].get('expect')} "
                      f"in {o['q'].get('expect_mrn')}; fact {o['fact_ok']}, record {o['record_ok']}, "
                      f"stage {o.get('stage')})\n  "
                      f"{o['answer'][:500]}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--questions", metavar="PATH",
                    help="a question file (JSON Lines: question, kind, expect, expect_mrn, ...; e.g. "
                         "bench/assistant_dev.jsonl) asked over the fact corpus instead of the generated set")
    ap.add_argument("--vault", metavar="DIR", help="with --questions: build the vault in DIR once and reuse it")
    ap.add_argument("--chart-entries", metavar="PATH",
                    help="with --questions: hand-entered patients and chart entries (JSON Lines: {\"patient\": {mrn, "
                         "name, dob, sex}} or {\"entry\": {mrn, kind, text, date, dose, ...}}) typed into the vault "
                         "through the domain API before the questions are asked")
    ap.add_argument("--quick", action="store_true", help="a small corpus and question set (for CI)")
    ap.add_argument("--retrieval", choices=["fts", "hybrid"], default=None,
                    help="hybrid embeds the corpus with the real model first (default: hybrid unless --quick)")
    ap.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    ap.add_argument("--show-misses", action="store_true", help="print the questions answered wrongly")
    args = ap.parse_args()
    if args.retrieval is None:
        args.retrieval = "fts" if args.quick else "hybrid"
    if args.questions:
        lines, _ = run_questions(args)
    else:
        lines, _ = run(args)
    if args.record:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        what = f" --questions {args.questions}" if args.questions else ""
        with open(RESULTS, "a", encoding="utf-8") as fh:
            fh.write(f"\n## assistant ({stamp}, bench/assistant.py{' --quick' if args.quick else ''}{what})\n\n"
                     + "\n".join(lines) + "\n")


if __name__ == "__main__":
    csv.field_size_limit(10**8)
    main()
