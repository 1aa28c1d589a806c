"""Turn a blind set (written without reading the code) into bench/assistant.py's question format.
Mapping only; no question or answer is changed.

    python bench/blind/to_bench.py bench/blind/assistant_blind.jsonl > bench/blind/assistant_blind_bench.jsonl
    python bench/blind/to_bench.py bench/blind2/assistant_blind2.jsonl > bench/blind2/assistant_blind2_bench.jsonl

Records: an MTSamples note_id becomes MTS-<0-based row of mtsamples.csv>, an ACI-Bench encounter ACI-<id>; a
named question's record is its patient's MRN (FHIR, HL7, or a hand-entered patient of chart_entries.jsonl, which
bench/assistant.py --chart-entries types in). A named "no" question expects "No record of ..." or "No: ..."; other
yes/no questions are scored on the verdict the answer states first."""
import csv
import json
import re
import sys
from pathlib import Path

source = Path(sys.argv[1]).resolve()
rows = list(csv.DictReader(open('/work/shared/data/mtsamples/mtsamples.csv', encoding='utf-8')))
row_of = {r['note_id']: i for i, r in enumerate(rows)}


def _mrn(b: dict) -> str:
    """A named question's patient MRN: given (round 1: patient.mrn), else from the source file (an HL7 message's
    PID-3 first component, as chartvault imports it), else the "MRN X" its record field names (FHIR, chart
    entries; round 2 gives the patient as a name)."""
    patient = b.get("patient")
    if isinstance(patient, dict) and patient.get("mrn"):
        return str(patient["mrn"])
    src = str(b.get("source") or "")
    if src.endswith(".hl7"):
        text = (Path("/work/shared/data") / src).read_text(encoding="utf-8", errors="replace")
        pid = next(seg for seg in re.split(r"[\r\n]+", text) if seg.startswith("PID|"))
        return pid.split("|")[3].split("~")[0].split("^")[0]
    m = re.search(r"\bMRN ([^\s)]+)", str(b.get("record") or ""))
    return m.group(1) if m else str(patient)


out = []
for line in open(source, encoding='utf-8'):
    if not line.strip():
        continue
    b = json.loads(line)
    q = {"id": b["id"], "kind": ("past-case" if b["kind"] == "past_case" else "named") + "/" + b["answer_type"],
         "question": b["question"]}
    rec = b.get("record") or ""
    if b["kind"] == "past_case":
        if rec.startswith("note_id="):
            q["expect_mrn"] = f"MTS-{row_of[rec.split('=', 1)[1]]}"
        elif rec.startswith("encounter_id="):
            q["expect_mrn"] = "ACI-" + rec.split("=", 1)[1]
    else:
        q["expect_mrn"] = _mrn(b)
        if str(b.get("source", "")).endswith("chart_entries.jsonl"):
            q["kind"] = "named-chart/" + b["answer_type"]
    if str(b.get("note") or "").startswith("ambiguous"):
        q["ambiguous"] = True        # another case matches as well: the answer should list the cases
        other = re.match(r"ambiguous: (?:note_id=)?(\d+)", b["note"])  # "ambiguous: 254" or "ambiguous: note_id=254"
        if other and other.group(1) in row_of:   # the other case goes into the vault too (bench's also_mrn)
            q["also_mrn"] = [f"MTS-{row_of[other.group(1)]}"]
    if q.get("expect_mrn", "").startswith("MTS-"):   # MTSamples keeps one text under several ids: any copy is it
        text = rows[int(q["expect_mrn"][4:])]["transcription"].strip()
        same = [f"MTS-{i}" for i, r in enumerate(rows) if r["transcription"].strip() == text
                and f"MTS-{i}" != q["expect_mrn"]]
        if same:
            q["same_as"] = same
    if b["answer_type"] == "no" and b["kind"] != "past_case":
        q["expect_none"] = True      # the record does not hold it: "No record of ..." or "No: ..."
    elif b["answer_type"] in ("yes", "no"):
        q["expect_start"] = [b["answer_type"]]
    else:
        q["expect"] = b["answer"]
    out.append(q)
print(f"# The BLIND assistant questions of {source.parent.name}/ (issue 20): written by a helper who did not read the "
      "code, from seeded")
print(f"# records of ../shared/data (seed and procedure: bench/{source.parent.name}/README.md). Converted to this "
      "bench's format by")
print("# bench/blind/to_bench.py (mapping only).")
for q in out:
    print(json.dumps(q))
