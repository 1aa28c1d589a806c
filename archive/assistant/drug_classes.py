"""Drug classes ("antibiotics", "statins", "blood thinners") and the medication names in each.

The table (drug_classes.tsv beside this file) is hand-written from WHO ATC
groups; see its header. Matching is by whole words, case-insensitive, so
"Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet" is an antibiotic and
"predniSONE 5 MG Oral Tablet" a corticosteroid. Pure; reads only that file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class DrugClass:
    name: str
    atc: str
    aliases: tuple[str, ...]
    members: tuple[str, ...]

    def matches(self, medication: str) -> str | None:
        """The member named in `medication` (a drug name as written), or None."""
        low = " " + _plain(medication) + " "
        for member in self.members:
            if f" {member} " in low:
                return member
        return None


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9/\-]+", " ", text.lower()).replace("/", " / ").split())


@cache
def drug_classes() -> tuple[DrugClass, ...]:
    text = files("archive.assistant").joinpath("drug_classes.tsv").read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, atc, aliases, members = line.split("\t")
        out.append(
            DrugClass(
                name=name,
                atc=atc,
                aliases=tuple(a.strip().lower() for a in aliases.split(",") if a.strip()),
                members=tuple(sorted({_plain(m) for m in members.split(",") if m.strip()}, key=len, reverse=True)),
            )
        )
    return tuple(out)


@cache
def _alias_pattern() -> tuple[re.Pattern[str], dict[str, DrugClass]]:
    by_alias: dict[str, DrugClass] = {}
    for cls in drug_classes():
        for alias in cls.aliases:
            by_alias.setdefault(alias, cls)
            # "diabetes medication" is also said "diabetes drug", "diabetes meds", "diabetes medicine"
            m = re.fullmatch(r"(.+) (?:medication|medicine|drug|med)(s?)", alias)
            if m:
                for word in ("medication", "medicine", "drug", "med"):
                    for plural in ("", "s"):
                        by_alias.setdefault(f"{m.group(1)} {word}{plural}", cls)
    alternatives = sorted(by_alias, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(a) for a in alternatives) + r")(?![\w-])", re.I)
    return pattern, by_alias


def find_drug_class(text: str) -> tuple[DrugClass | None, str]:
    """The drug class named in `text` (by one of its aliases), and the alias as written."""
    pattern, by_alias = _alias_pattern()
    m = pattern.search(text)
    if not m:
        return None, ""
    return by_alias[m.group(1).lower()], m.group(1)


def class_by_name(name: str) -> DrugClass | None:
    for cls in drug_classes():
        if cls.name == name:
            return cls
    return None


def member_pattern(cls: DrugClass) -> str:
    """An FTS query finding any member of the class (for text notes with no chart entries)."""
    parts = []
    for member in cls.members:
        words = member.split()
        parts.append(f'"{member}"' if len(words) > 1 else member)
    return " OR ".join(parts)
