"""Build a demo vault: users of every role, patients with charts, records in every format, some history.

`build_demo(root)` creates a new vault at `root` and fills it through the same
API a person would use (create_vault, add_user, import_paths, add_encounter,
add_entry, confirm_code, disclose, break_glass, the assistant), so the demo
is also a smoke test of the whole product. Documents come from the public test
data beside the repository (../shared/data, or CHARTVAULT_DEMO_DATA) when it
is there, else from the synthetic set in `archive.demo_content`.

The demo passphrases are fixed and printed: a demo vault is for trying the
product, never for real records. Plaintext is written only into the new
vault's inbox/ and deleted by the import once its encrypted copy is committed.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.errors import UserError

if TYPE_CHECKING:
    from archive.session import Session


@dataclass(frozen=True)
class DemoUser:
    name: str
    role: str
    full_name: str
    passphrase: str
    licence: str | None = None


# DEMO ONLY: these passphrases are published in the README and printed by `chartvault demo`.
DEMO_USERS = (
    DemoUser("admin", "admin", "Ada Admin", "demo-only lighthouse keeper"),
    DemoUser("tess", "technician", "Tess Tech", "demo-only filing cabinet"),
    DemoUser("drmaria", "physician", "Maria Lopez", "demo-only stethoscope", "MD-12345"),
    DemoUser("drchen", "physician", "Wei Chen", "demo-only reflex hammer", "MD-67890"),
)
DEMO_WARNING = "DEMO ONLY: these passphrases are public. Never put real records in a demo vault."
SOURCES = ("auto", "shared", "synthetic")
STAGING = "demo-staging"

Progress = Callable[[int, int, str], None]  # (done, PROGRESS_TOTAL, "Step n of N: what is happening now")
PROGRESS_TOTAL = 1000
# The build's steps, each with its share of the progress bar (roughly the share of the time it takes:
# the passphrase KDFs, the import with OCR, and the code set are the long ones).
STEPS = (
    ("Creating the vault and the demo users", 40),
    ("Adding patients and their stays", 2),
    ("Importing documents (text, Markdown, PDF, DOCX, HL7, FHIR, a handwriting-style scan)", 20),
    ("Filing and charting", 2),
    ("Loading the ICD-10-CM code set and coding encounters", 20),
    ("Searching, viewing and disclosing (technician)", 1),
    ("Searching and asking the assistant (physician)", 9),
    ("Break-glass access (flagged for review)", 1),
    ("Embedding records for semantic search", 3),
    ("Counting", 2),
)


@dataclass
class DemoReport:
    root: Path
    source: str  # "shared" or "synthetic"
    users: list[DemoUser]
    counts: dict[str, int] = field(default_factory=dict)
    embedded: int = 0
    embedding_note: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "vault": str(self.root),
            "source": self.source,
            "users": [{"name": u.name, "role": u.role, "full_name": u.full_name, "passphrase": u.passphrase,
                       "licence": u.licence} for u in self.users],
            "counts": self.counts,
            "embedded": self.embedded,
            "embedding": self.embedding_note,
            "seconds": round(self.seconds, 1),
            "warning": DEMO_WARNING,
        }


def demo_data_dir() -> Path:
    """Where the public test data is: CHARTVAULT_DEMO_DATA, else ../shared/data beside the repository."""
    env = os.environ.get("CHARTVAULT_DEMO_DATA")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def resolve_source(source: str = "auto") -> str:
    if source not in SOURCES:
        raise UserError(f"Unknown demo source '{source}'.", f"Use one of: {', '.join(SOURCES)}.")
    if source == "auto":
        return "shared" if (demo_data_dir() / "README.md").is_file() else "synthetic"
    if source == "shared" and not demo_data_dir().is_dir():
        raise UserError(
            f"No public test data at {demo_data_dir()}.",
            "Set CHARTVAULT_DEMO_DATA to the data folder, or use --source synthetic.",
        )
    return source


def is_demo_vault(root: Path) -> bool:
    """Whether the vault at `root` was built by `build_demo` (public metadata only)."""
    from vault.vault import Vault

    try:
        return bool(Vault.open(Path(root)).metadata.get("demo"))
    except Exception:  # noqa: BLE001 - no vault, or a broken one: not a demo as far as the UI is concerned
        return False


def build_demo(
    root: Path,
    *,
    source: str = "auto",
    embed: bool | None = None,
    progress: Progress | None = None,
) -> DemoReport:
    """Create a demo vault at `root` (which must not hold a vault yet). See the module doc.

    `embed`: embed every record for semantic search now (None: only when the
    embedder is cheap, i.e. the fake one tests use; otherwise the backlog is
    left for `chartvault reindex` or the TUI's background embedding).
    """
    from archive.login import create_vault, vault_exists

    started = time.monotonic()
    root = Path(root).expanduser()
    if vault_exists(root):
        raise UserError(f"A vault already exists at {root}.", "Choose an empty folder with --vault DIR.")
    source = resolve_source(source)
    existed = root.exists()
    steps = _Steps(progress)
    report = DemoReport(root=root, source=source, users=list(DEMO_USERS))

    steps.next()  # creating the vault and the demo users: a passphrase KDF each, so a tick each
    admin_user = DEMO_USERS[0]
    steps.at(0.0, f"creating the vault, admin '{admin_user.name}'")
    admin = create_vault(root, admin_user.name, admin_user.passphrase, full_name=admin_user.full_name)
    sessions: list[Session] = [admin]
    ok = False
    try:
        _mark_demo(admin)
        from archive.users import add_user

        kdfs = len(DEMO_USERS) + 1  # the vault's admin, the other users, tess signing in
        for n, user in enumerate(DEMO_USERS[1:], start=1):
            steps.at(n / kdfs, f"adding {user.name} ({user.role})")
            add_user(admin, user.name, user.role, user.passphrase, full_name=user.full_name, licence=user.licence)
        steps.at((kdfs - 1) / kdfs, "signing in as tess")
        tess = _login(sessions, root, "tess")

        steps.next()
        files = _files(source)
        _add_patients(tess, [f.patient for f in files if f.patient is not None])

        steps.next()
        outcomes = _import(tess, files, steps)

        steps.next()
        _file_and_chart(tess, outcomes)

        steps.next()
        _code(tess, outcomes, files, steps)

        steps.next()
        _technician_history(tess, outcomes)

        steps.next()
        steps.at(0.0, "signing in as drmaria")
        maria = _login(sessions, root, "drmaria")
        _physician_history(maria, outcomes, steps)

        steps.next()
        _break_glass(admin, outcomes)

        steps.next()
        report.embedded, report.embedding_note = _embed(tess, embed)

        steps.next()
        from archive.status import vault_status

        report.counts = {k: int(v) for k, v in vault_status(tess).counts.items() if isinstance(v, int)}
        ok = True
    finally:
        for session in reversed(sessions):
            try:
                session.logout("demo built")
            except Exception:  # noqa: BLE001 - closing is best effort; the vault is already consistent
                session.close()
        shutil.rmtree(root / "inbox" / STAGING, ignore_errors=True)
        if not ok:
            _discard(root, existed)
    steps.done()
    report.seconds = time.monotonic() - started
    return report


def _discard(root: Path, existed: bool) -> None:
    """A build that failed leaves no half-built vault (so it can simply be run again). Vault.create
    accepted the folder only if it was new or held nothing but an inbox, so that inbox is all we keep."""
    for child in root.iterdir() if root.exists() else []:
        if child.name == "inbox" and existed:
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    if not existed:
        shutil.rmtree(root, ignore_errors=True)


class _Steps:
    """The build's progress in PROGRESS_TOTAL units: each of STEPS owns its share of the bar, and `at`
    moves the bar within the current step (never backwards), naming the step and what it does now."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress, self.n, self.last = progress, -1, -1
        self.weight = sum(share for _, share in STEPS)

    def next(self) -> None:
        self.n += 1
        self.at(0.0)

    def at(self, fraction: float, detail: str = "") -> None:
        if not self.progress:
            return
        before = sum(share for _, share in STEPS[:self.n])
        share = STEPS[self.n][1] * min(max(fraction, 0.0), 1.0)
        value = max(self.last, int((before + share) * PROGRESS_TOTAL / self.weight))
        self.last = value
        label = f"Step {self.n + 1} of {len(STEPS)}: {STEPS[self.n][0]}"
        self.progress(value, PROGRESS_TOTAL, f"{label} - {detail}" if detail else label)

    def done(self) -> None:
        if self.progress:
            self.progress(PROGRESS_TOTAL, PROGRESS_TOTAL, "Done")


def _mark_demo(admin: Session) -> None:
    vault = admin.vault
    vault.metadata["demo"] = True
    vault.save_metadata()


def _login(sessions: list[Session], root: Path, name: str) -> Session:
    from archive.login import open_session

    user = next(u for u in DEMO_USERS if u.name == name)
    session = open_session(root, user.name, user.passphrase)
    sessions.append(session)
    return session


def _user(name: str) -> DemoUser:
    return next(u for u in DEMO_USERS if u.name == name)


# ----------------------------------------------------------------- steps


def _add_patients(tess: Session, described: list[Any]) -> None:
    """The demo patients, and the patients public notes describe (so each note is filed to its own person)."""
    from archive.charts.encounters import add_encounter
    from archive.charts.patients import add_patient
    from archive.demo_content import PATIENTS

    for pt in (*PATIENTS, *described):
        add_patient(tess, pt.mrn, pt.name, pt.dob, pt.sex, physician=pt.attending)
    add_encounter(tess, "DEMO-1001", "admission", "2024-02-03", "2024-02-09", "drmaria", "Heart failure admission")
    add_encounter(tess, "DEMO-1001", "visit", "2024-03-15", None, "drchen", "Cardiology clinic")
    add_encounter(tess, "DEMO-1003", "visit", "2023-11-20", None, "drchen", "Chest clinic")
    add_encounter(tess, "DEMO-1004", "admission", "2024-01-12", "2024-01-20", "drchen", "Hip fracture")
    add_encounter(tess, "DEMO-1005", "visit", "2023-09-05", None, "drmaria", "Asthma review")
    add_encounter(tess, "DEMO-1002", "visit", "2024-01-10", None, "drmaria", "Diabetes follow-up")


def _files(source: str) -> list[Any]:
    from archive.demo_content import shared_files, synthetic_files

    files = synthetic_files()
    if source == "shared":
        extra = shared_files(demo_data_dir())
        if any(f.name.endswith("handwriting_style_note.png") for f in extra):
            # The public handwriting-style scan replaces the drawn one.
            files = [f for f in files if not f.name.endswith("progress_note_handwritten.png")]
        files += extra
    return files


def _import(tess: Session, files: list[Any], steps: _Steps) -> dict[str, Any]:
    """Stage the documents in the new vault's inbox (the only place plaintext may be) and import them
    with --move semantics: each staged file is deleted once its encrypted copy is committed."""
    from archive.intake import import_paths

    staging = tess.vault.inbox_dir / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    os.chmod(staging, 0o700)
    for f in files:
        path = staging / f.name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(f.data)
    try:
        report = import_paths(tess, [staging], move=True, settle=0.0,
                              progress=lambda done, total, _out: steps.at(done / max(total, 1),
                                                                          f"{done} of {total} files"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    by_name: dict[str, Any] = {}
    for out in report.outcomes:
        by_name[Path(str(out.input)).name] = out
    return by_name


def _record(outcomes: dict[str, Any], suffix: str) -> str | None:
    for name, out in outcomes.items():
        if name.endswith(suffix) and out.record_id:
            return str(out.record_id)
    return None


def _file_and_chart(tess: Session, outcomes: dict[str, Any]) -> None:
    from archive.charts.entries import add_entry
    from archive.filing import file_record

    scan = _record(outcomes, "progress_note_handwritten.png") or _record(outcomes, "handwriting_style_note.png")
    if scan:
        file_record(tess, scan, "DEMO-1001")  # filed, still waiting for a transcription
    discharge = _record(outcomes, "vale_discharge_2024-02-09.txt")
    entries: list[tuple[str, str, str, str, dict[str, Any]]] = [
        ("DEMO-1001", "medication", "Furosemide", "2024-02-09",
         {"dose": "40 mg", "route": "oral", "frequency": "once daily", "source_record": discharge}),
        ("DEMO-1001", "medication", "Lisinopril", "2024-02-09",
         {"dose": "10 mg", "route": "oral", "frequency": "once daily", "source_record": discharge}),
        ("DEMO-1001", "medication", "Bisoprolol", "2024-03-15",
         {"dose": "1.25 mg", "route": "oral", "frequency": "once daily"}),
        ("DEMO-1001", "referral", "Cardiology follow-up after heart failure admission", "2024-02-09",
         {"referral_to": "drchen", "referral_to_kind": "doctor", "referral_reason": "heart failure review"}),
        ("DEMO-1003", "medication", "Amoxicillin", "2023-11-20",
         {"dose": "1 g", "route": "oral", "frequency": "three times daily", "stop": "2023-11-25"}),
        ("DEMO-1004", "procedure", "Right hip hemiarthroplasty", "2024-01-13", {}),
        ("DEMO-1004", "medication", "Enoxaparin", "2024-01-13",
         {"dose": "40 mg", "route": "subcutaneous", "frequency": "once daily", "stop": "2024-02-10"}),
        ("DEMO-1004", "referral", "Physiotherapy after hip surgery", "2024-01-20",
         {"referral_to": "Riverside Rehabilitation Centre", "referral_to_kind": "facility",
          "referral_reason": "mobilisation after hemiarthroplasty"}),
        ("DEMO-1005", "medication", "Budesonide inhaler", "2023-09-05",
         {"dose": "100 micrograms", "route": "inhaled", "frequency": "twice daily"}),
    ]
    for mrn, kind, text, date, extra in entries:
        add_entry(tess, mrn, kind, text, date, force=True, **{k: v for k, v in extra.items() if v})


# Records to code, and the ICD-10-CM category a confirmed suggestion should fall in.
CODING = (
    ("vale_discharge_2024-02-09.txt", ("I50", "I11", "I10")),
    ("okafor_clinic_2023-11-20.txt", ("J18", "J15", "J13")),
    ("lund_orthopaedic_consult_2024-01-12.docx", ("S72", "M80", "M81")),
    ("reyes_diabetes_2024-01-10.txt", ("E11",)),
)


# Conditions a public note states about its patient, coded as a coder would (so statistics, which count
# coded diagnoses, agree with what the notes say; see tests/functional/test_demo.py).
STATED_CONDITIONS = (
    ("heart failure", "I50.9"),
    ("type 2 diabetes", "E11.9"),
)


def _code(tess: Session, outcomes: dict[str, Any], files: list[Any], steps: _Steps) -> None:
    from archive.coding import confirm_code, ensure_code_set, reject_code, suggest_for_record

    loading = 0.8  # of the step: the code set; then coding the records
    ensure_code_set(tess, progress=lambda done, total, what: steps.at(loading * done / max(total, 1), what))
    for n, (name, prefixes) in enumerate(CODING):
        steps.at(loading + (1 - loading) * n / (len(CODING) + 1), f"coding {name}")
        record = _record(outcomes, name)
        if record is None:
            continue
        suggestions = suggest_for_record(tess, record, limit=8).suggestions
        matching = [s for s in suggestions if s.code.startswith(prefixes)]
        for s in matching[:2]:
            confirm_code(tess, record, s.code, passage=getattr(s, "passage", None), score=getattr(s, "score", None))
        others = [s for s in suggestions if s not in matching]
        if others and name.startswith("vale"):
            reject_code(tess, record, others[0].code)  # a rejected suggestion stays in the history
    steps.at(loading + (1 - loading) * len(CODING) / (len(CODING) + 1), "coding what the public notes state")
    _code_stated(tess, outcomes, files)


def _code_stated(tess: Session, outcomes: dict[str, Any], files: list[Any]) -> None:
    """Confirm the STATED_CONDITIONS a filed public note names without denying them (the passage is the
    sentence naming it)."""
    import re

    from archive.coding import confirm_code

    denied = re.compile(r"\b(?:no|denies|without|negative for|rule out|r/o)\b", re.I)
    for f in files:
        out = outcomes.get(Path(f.name).name)
        if not f.name.startswith("shared/notes/") or not f.data.startswith(b"MRN:") or out is None \
                or not out.record_id:
            continue
        text = f.data.decode("utf-8", "replace")
        for phrase, code in STATED_CONDITIONS:
            for match in re.finditer(r"[^.\n]*\b" + re.escape(phrase) + r"\b[^.\n]*", text, re.I):
                if not denied.search(match.group(0)):
                    confirm_code(tess, str(out.record_id), code, passage=match.group(0).strip())
                    break


def _technician_history(tess: Session, outcomes: dict[str, Any]) -> None:
    from archive.access import disclose
    from archive.records import show_record
    from archive.search import search_records

    for query in ("heart failure", "pneumonia", "metformin"):
        search_records(tess, query, limit=10)
    for name in ("okafor_chest_xray_2023-11-20.pdf", "lund_operative_note_MDM_T02.hl7"):
        record = _record(outcomes, name)
        if record:
            show_record(tess, record)
    consult = _record(outcomes, "lund_orthopaedic_consult_2024-01-12.docx")
    if consult:
        disclose(tess, consult, "drmaria", "second opinion on anticoagulation after hip surgery")


def _physician_history(maria: Session, outcomes: dict[str, Any], steps: _Steps) -> None:
    from archive.assistant import Conversation
    from archive.records import show_record
    from archive.search import search_records

    steps.at(0.45, "searching for furosemide")
    search_records(maria, "furosemide", limit=10)
    steps.at(0.55, "opening Harriet Vale's records")
    for name in ("vale_discharge_2024-02-09.txt", "vale_cardiology_2024-03-15.md"):
        record = _record(outcomes, name)
        if record:
            show_record(maria, record)
    steps.at(0.65, "asking the assistant about DEMO-1001's medications")
    Conversation(maria).ask("what medications does DEMO-1001 take?")


def _break_glass(admin: Session, outcomes: dict[str, Any]) -> None:
    from archive.access import break_glass
    from archive.records import show_record

    record = _record(outcomes, "vale_admission_ADT_A01.hl7")
    if record is None:
        return
    break_glass(admin, record, "DEMO-1001",
                "night on-call: ward asked to confirm the admission date during the clinical system outage")
    show_record(admin, record)


def _embed(tess: Session, embed: bool | None) -> tuple[int, str]:
    from archive.embedding import embed_backlog

    if embed is None:
        embed = os.environ.get("CHARTVAULT_EMBEDDER") == "fake"
    if not embed:
        return 0, ("left for later: the app embeds in the background while a technician has it open, "
                   "or run 'chartvault reindex'")
    try:
        report = embed_backlog(tess)
    except UserError as exc:
        return 0, f"not embedded ({exc.message})"
    return int(report.records), "embedded"
