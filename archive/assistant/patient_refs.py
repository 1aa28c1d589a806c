"""Which patient a question names: an MRN, or a name looked up in the patients table.

A name matches when two of its words appear in the question ("Martha
Collins"), or one capitalised word does ("Mrs Collins"). Several patients
matching equally well is ambiguous: the assistant asks which, listing MRNs.
Reads the patients table only; the caller has already checked policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archive.session import Session

MAX_CANDIDATES = 8


@dataclass(frozen=True)
class PatientRef:
    mrn: str
    name: str | None
    dob: str | None

    def describe(self) -> str:
        parts = [f"MRN {self.mrn}"]
        if self.name:
            parts.append(self.name)
        if self.dob:
            parts.append(f"born {self.dob}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"mrn": self.mrn, "name": self.name, "dob": self.dob}


@dataclass
class Resolution:
    patient: PatientRef | None = None
    candidates: list[PatientRef] = field(default_factory=list)  # several equally good matches
    words: tuple[str, ...] = ()  # the question's words that named the patient (taken out of the topic)

    @property
    def ambiguous(self) -> bool:
        return self.patient is None and len(self.candidates) > 1


def by_mrn(session: Session, mrn: str) -> PatientRef | None:
    row = session.store.patients.find_mrn(mrn.strip())
    return PatientRef(*row) if row else None


def _name_tokens(name: str | None) -> list[str]:
    return [t.lower() for t in re.findall(r"[A-Za-z][A-Za-z'\-]*", name or "")]


def _names_someone(word: str, question: str) -> bool:
    """Whether a capitalised word may name a person where it stands: not the question's first word, capitalised
    as every sentence's first word is ("Young active woman with asthma ..."), unless it is marked as a name ("Bixby's
    ...", "Karls: ..."); not after an article, where a capitalised word names a thing ("on the Bruce protocol", "a
    Foley catheter")."""
    for m in re.finditer(rf"(?<![\w'-]){re.escape(word)}(?![\w-])", question):
        before = question[: m.start()]
        after = question[m.end():]
        if not before.strip() and not re.match(r"(?:'s\b|\s*[:,]|\s+[A-Z])", after):
            continue
        if re.search(r"\b(?:the|a|an)\s+$", before, re.I):
            continue
        return True
    return False


def by_words(session: Session, words: tuple[str, ...], question: str) -> Resolution:
    """Resolve name words (from intents.name_candidates) and MRN-like tokens of the question."""
    for token in re.findall(r"\b[A-Za-z0-9][A-Za-z0-9\-_/.]*\d[A-Za-z0-9\-_/.]*\b", question):
        if len(token) >= 3:
            found = by_mrn(session, token.rstrip("."))
            if found:
                return Resolution(found, [found], (token,))
    usable = [w for w in words if len(w) >= 2]
    if not usable:
        return Resolution()
    matched: dict[str, tuple[PatientRef, set[str]]] = {}
    for word in usable:
        for mrn, name, dob in session.store.patients.named_like(word, limit=200):
            if word.lower() in _name_tokens(name):
                ref, hits = matched.setdefault(mrn, (PatientRef(mrn, name, dob), set()))
                hits.add(word)
    scored: list[tuple[int, PatientRef, set[str]]] = []
    naming = {w for w in usable if _names_someone(w, question)}
    for ref, hits in matched.values():
        capitalised = any(w[0].isupper() and len(w) >= 3 and w in naming for w in hits)
        if len(hits) >= 2 or capitalised:
            scored.append((len(hits), ref, hits))
    if not scored:
        return Resolution()
    best = max(s for s, _, _ in scored)
    top = [(ref, hits) for s, ref, hits in scored if s == best]
    used = tuple(sorted({w for _, hits in top for w in hits}))
    if len(top) > 1:  # "Martha C.": a first name and the surname's initial
        initials = {m.group(2).lower() for m in re.finditer(r"\b([A-Z][a-z]+)\s+([A-Z])\.?(?![\w])", question)
                    if m.group(1) in used}
        narrowed = [(ref, hits) for ref, hits in top
                    if initials & {t[0] for t in _name_tokens(ref.name) if t.lower() not in {h.lower() for h in hits}}]
        top = narrowed or top
    title = re.search(r"\b(mr|mrs|ms|miss|mister)\b\.?\s+(?=[A-Z])", question, re.I)
    if len(top) > 1 and title:  # "Mr. Karls": not Janet Karls
        sex = "M" if title.group(1).lower() in ("mr", "mister") else "F"
        narrowed = [(ref, hits) for ref, hits in top
                    if ((session.store.patients.row(ref.mrn) or {}).get("sex") or sex)[:1].upper() == sex]
        top = narrowed or top
    if len(top) == 1:
        return Resolution(top[0][0], [top[0][0]], used)
    top.sort(key=lambda t: t[0].mrn)
    return Resolution(None, [ref for ref, _ in top[:MAX_CANDIDATES]], used)


def pick_candidate(reply: str, candidates: list[PatientRef]) -> PatientRef | None:
    """The candidate a short reply chooses: an MRN, an ordinal ("the second one"), or a full name."""
    low = reply.lower()
    for ref in candidates:
        if re.search(rf"(?<![\w-]){re.escape(ref.mrn.lower())}(?![\w-])", low):
            return ref
    ordinals = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "last": -1}
    for word, i in ordinals.items():
        if re.search(rf"\b{word}\b", low) and candidates:
            return candidates[i] if -len(candidates) <= i < len(candidates) else None
    full = [ref for ref in candidates if ref.name and ref.name.lower() in low]
    return full[0] if len(full) == 1 else None
