"""The citation check (verbatim passages, whitespace only normalised, dates), passages, rendering."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from archive.assistant import passages as P
from archive.assistant.answer import NOTHING_FOUND, Answer, Draft, Statement, render
from archive.assistant.citations import Citation, RecordTexts, check_citations, citation_holds
from archive.store import Store

NOTE = (
    "CHIEF COMPLAINT\n\nChest pain.\n\nHISTORY OF PRESENT ILLNESS\n\nHe presents with chest pain radiating to the\n"
    "left arm.  He denies shortness of breath.\n\nASSESSMENT AND PLAN\n\nStable angina.\n"
)


@dataclass
class FakeBlobs:
    blobs: dict[str, bytes] = field(default_factory=dict)

    def get_bytes(self, blob_id: str) -> bytes:
        return self.blobs[blob_id]


@dataclass
class FakeSession:
    store: Store
    blobs: FakeBlobs


def _session(text: str = NOTE, date: str = "2021-02-01") -> FakeSession:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE records (n INTEGER, id TEXT, patient_mrn TEXT, date TEXT, title TEXT, doc_type TEXT, "
               "format TEXT, text_blob_id TEXT, facts TEXT)")
    db.execute("CREATE TABLE transcriptions (id INTEGER, record_id TEXT, text_blob_id TEXT)")
    db.execute("INSERT INTO records VALUES (1, 'r1', 'MRN-1', ?, 'note', 'note', 'text', 'b1', '[]')", [date])
    return FakeSession(Store(db), FakeBlobs({"b1": text.encode()}))  # type: ignore[arg-type]


def test_verbatim_passage_holds_and_whitespace_is_normalised() -> None:
    texts = RecordTexts(_session())  # type: ignore[arg-type]
    assert citation_holds(Citation("r1", "2021-02-01", "Chest pain."), texts)
    # the passage spans a line break in the record: only whitespace differs
    assert citation_holds(Citation("r1", "2021-02-01", "chest pain radiating to the left arm.  He denies"), texts)


def test_tampered_passages_are_dropped() -> None:
    texts = RecordTexts(_session())  # type: ignore[arg-type]
    good = Citation("r1", "2021-02-01", "Stable angina.")
    tampered = [
        Citation("r1", "2021-02-01", "Unstable angina."),  # a word changed
        Citation("r1", "2021-02-01", "He admits shortness of breath."),  # negation flipped
        Citation("r1", "2021-02-01", "stable angina."),  # case is not whitespace
        Citation("r1", "2021-02-01", ""),  # nothing quoted
        Citation("r9", "2021-02-01", "Stable angina."),  # no such record
        Citation("r1", "2020-01-01", "Stable angina."),  # a date that is neither the record's nor quoted
    ]
    kept, dropped = check_citations([good, *tampered], texts)
    assert kept == [good]
    assert dropped == tampered


def test_a_date_quoted_in_the_passage_holds() -> None:
    line = "Medication: Amoxicillin 500 MG Oral Capsule; 2021-03-05; status stopped"
    texts = RecordTexts(_session(text="Patient: X\n" + line + "\n", date="2021-03-20"))  # type: ignore[arg-type]
    assert citation_holds(Citation("r1", "2021-03-05", line), texts)
    assert not citation_holds(Citation("r1", "2021-03-06", line), texts)


def test_passages_are_slices_of_the_text_and_skip_negations() -> None:
    match = P.passage_for(NOTE, "chest pain")
    assert match is not None and match.segment.text in NOTE
    assert not P.best_matches(NOTE, P.query_stems("shortness of breath"))  # "denies shortness of breath"
    assert P.best_matches(NOTE, P.query_stems("shortness of breath"), skip_negated=False)
    line = "Medication: X 1 MG; 2021-03-05"
    assert P.line_with(f"a\n{line}\n", "X 1 MG", "2021-03-05") == line
    assert P.lead_passage(NOTE) == "Chest pain."
    assert [s.text for s in P.section_after(NOTE, "assessment")] == ["Stable angina."]


def test_trim_keeps_a_verbatim_window() -> None:
    long = "word " * 200 + "needle in the middle " + "word " * 200
    seg = P.segments(long)[0]
    start = seg.text.index("needle")
    window = P.trim(seg, start, start + 6, limit=100)
    assert "needle" in window and window in long and len(window) <= 100


def test_render_numbers_citations_once() -> None:
    a = Citation("r1", "2021-02-01", "Chest pain.")
    b = Citation("r1", "2021-02-01", "Stable angina.")
    draft = Draft("find", lead=lambda sts: f"{len(sts)} things:")
    text, cites = render(draft, [Statement("one", [a]), Statement("two", [a, b, a])])
    assert text.splitlines() == ["2 things:", "- one [1]", "- two [1][2]"]
    assert cites == [a, b]


def test_nothing_found_wording_and_json_shape() -> None:
    assert NOTHING_FOUND == "I found nothing in the records about that"
    answer = Answer(NOTHING_FOUND)
    assert not answer.found
    assert answer.to_json() == {"answer": NOTHING_FOUND, "citations": [], "refused": False, "reason": None}
    cited = Answer("x", [Citation("r1", "2021-02-01", "Chest pain.", patient="MRN-1")])
    assert cited.to_json()["citations"] == [{"record_id": "r1", "date": "2021-02-01", "passage": "Chest pain."}]
