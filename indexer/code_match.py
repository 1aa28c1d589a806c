"""Matching diagnosis wording against ICD-10-CM names (descriptions, inclusion terms, index terms).

A "name" is one way of saying a code: its description, an inclusion term, or
a line of the hand-written mini index. Each name is parsed into required and
optional word stems following the code set's conventions: words in
parentheses are nonessential modifiers, "without ..." states the default,
"unspecified"/"other"/"NOS" say nothing about the patient. A phrase matches a
name by how much of the name's (IDF-weighted) required words it contains.
Built once per process from the `icd10_codes` table; no I/O besides reading it.
"""

from __future__ import annotations

import math
import re
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from indexer.code_names import parse_name
from indexer.icd10 import default_key
from indexer.query.index_terms import index_terms
from indexer.query.spelling import UsSpelling
from indexer.query.tokens import stem, words

_CODE_IN_TEXT = re.compile(r"\b[A-Z]\d[0-9A-Z]\.?[0-9A-Z-]*")


@dataclass(frozen=True)
class Name:
    code: str
    text: str
    required: tuple[str, ...]
    optional: frozenset[str]
    source: str  # "description", "term" or "index"
    other: bool = False  # "Other ..." / "... other specified ..."


@dataclass(frozen=True)
class NameMatch:
    name: Name
    score: float
    coverage: float
    start: int  # token positions of the matched words in the phrase
    end: int
    used: frozenset[int] = frozenset()  # positions of the matched words inside [start, end]


# Share of a name's (IDF-weighted) words a phrase must contain to match it at all.
MIN_COVERAGE = 0.7
# A word in at least this many names is common (pain, injury, fracture, left).
COMMON_DF = 250


class CodeMatcher:
    """All names of the code set, with an anchor index for fast lookup of a phrase's candidates."""

    def __init__(self, names: list[Name], billable: dict[str, bool], default: dict[str, str],
                 descriptions: dict[str, str]) -> None:
        self.names = names
        self.billable = billable
        self.default = default  # code -> the billable code chosen for it
        self.descriptions = descriptions
        self._maps: tuple[dict[str, str], dict[str, str]] | None = None
        self._maps_lock = threading.Lock()
        self._spelling: UsSpelling | None = None
        df: dict[str, int] = defaultdict(int)
        for n in names:
            for s in set(n.required):
                df[s] += 1
        self.df = dict(df)
        total = max(1, len(names))
        self.idf = {s: math.log(total / c) for s, c in df.items()}
        self.max_idf = math.log(total)
        self.anchors: dict[str, list[int]] = defaultdict(list)
        for i, n in enumerate(names):
            ranked = sorted(n.required, key=lambda s: -self.weight(s))
            for s in ranked[:2]:
                self.anchors[s].append(i)

    def weight(self, s: str) -> float:
        return self.idf.get(s, self.max_idf)

    def match(self, stems: list[str], limit: int = 10, min_score: float = 0.35) -> list[NameMatch]:
        """Names best matching a phrase given as a list of stems (positions matter for compactness)."""
        present = set(stems)
        candidates: set[int] = set()
        for s in present:
            candidates.update(self.anchors.get(s, ()))
        if not candidates:
            return []
        positions: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(stems):
            positions[s].append(i)
        phrase_mass = sum(self.weight(s) for s in present) or 1.0
        best: dict[str, NameMatch] = {}
        for i in candidates:
            name = self.names[i]
            req = name.required
            mass = sum(self.weight(s) for s in req) or 1.0
            matched = [s for s in req if s in present]
            got = sum(self.weight(s) for s in matched)
            coverage = got / mass
            if coverage < MIN_COVERAGE:
                continue
            start, end = _window(positions, matched)
            span = end - start + 1
            extra = [s for s in name.optional if s in present]
            got_all = got + sum(self.weight(s) for s in extra) * 0.5
            specificity = 1.0 - 0.5 * math.exp(-got / 4.0)
            explained = min(1.0, got_all / phrase_mass)
            score = coverage**2 * specificity * (0.75 + 0.25 * explained)
            if span > 2 * len(matched) + 3:  # words scattered over a long clause
                score *= 0.5
            if len(req) == 1 and name.source != "index" and self.df.get(req[0], 0) >= COMMON_DF:
                score *= 0.7  # one very common word ("pain", "injury") is weak evidence
            if name.source == "index":
                score *= 1.05
            elif name.other:  # "Other X" is a specified kind of X the phrase does not name
                score *= 0.75
            if score < min_score:
                continue
            prev = best.get(name.code)
            if prev is None or score > prev.score:
                used = frozenset(p for s in matched for p in positions[s] if start <= p <= end)
                best[name.code] = NameMatch(name, score, coverage, start, end, used)
        ranked = sorted(best.values(), key=lambda m: (-round(m.score, 3), *self.preference(m.name.code)))
        return ranked[:limit]

    @property
    def spelling(self) -> UsSpelling:
        """A note's British or Commonwealth spelling read as the US one the names use ("anaemia" -> "anemia"),
        only where the names hold the US form and not the word as written (indexer.query.spelling)."""
        with self._maps_lock:
            if self._spelling is None:
                self._spelling = UsSpelling(w for n in self.names for w in re.findall(r"[a-z]+", n.text.lower()))
            return self._spelling

    def family_code(self, code: str) -> str | None:
        """The family-history code (Z80-Z84) for a condition's code, if the code set has one."""
        found = self._history_maps()[0]
        mapped = found.get(code) or found.get(code[:3])
        if code[:1] == "C" and mapped in (None, "Z80.9"):
            # A malignant neoplasm's family-history code follows the blocks of chapter 2 (C18 colon -> Z80.0
            # digestive organs); the names alone map most sites to "unspecified".
            block = family_neoplasm_code(code)
            if block and block in self.descriptions:
                return block
        if mapped is None:
            # No name of Z80-Z84 names the condition: the "other diseases of" code of its chapter (I10 -> Z82.49
            # ischemic heart disease and other diseases of the circulatory system).
            chapter = family_chapter_code(code)
            if chapter and chapter in self.descriptions:
                return chapter
        return mapped

    def personal_history_code(self, code: str) -> str | None:
        """The personal-history code (Z85-Z87) for a condition's code, if the code set has one."""
        found = self._history_maps()[1]
        return found.get(code) or found.get(code[:3])

    def _history_maps(self) -> tuple[dict[str, str], dict[str, str]]:
        # Built from the code set itself: "Family history of malignant neoplasm of breast" (Z80.3) names the
        # condition matched as C50 -> {C50: Z80.3}. The most specific wording wins a category.
        with self._maps_lock:
            if self._maps is None:
                self._maps = (self._map_history(("Z80", "Z81", "Z82", "Z83", "Z84"), "family history of "),
                              self._map_history(("Z85", "Z86", "Z87"), "personal history of "))
            return self._maps

    def _map_history(self, categories: tuple[str, ...], prefix: str) -> dict[str, str]:
        best: dict[str, tuple[float, str]] = {}
        for code, desc in self.descriptions.items():
            if code[:3] not in categories or not self.billable.get(code) or not desc.lower().startswith(prefix):
                continue
            # "transient ischemic attack (TIA), and cerebral infarction without residual deficits": each part
            # names a condition; "other diseases of ..." names none ("other malignant neoplasm of lung" does).
            condition = desc[len(prefix):]
            parts = re.split(r",? and |, |; ", condition)
            for part in [condition, *parts] if len(parts) > 1 else parts:
                part = re.sub(r"\([^)]*\)", " ", part)
                stems = [stem(w) for w in words(part)]
                generic = re.match(r"(other|unspecified)( specified)? (diseases?|disorders?|conditions?)\b", part, re.I)
                if not stems or generic or "unspecified" in part.lower():
                    continue
                content = {s for s in stems if s in self.idf}
                for m in self.match(stems, limit=5):
                    named = set(m.name.required) | m.name.optional
                    # The condition's own name, not a longer one that merely contains it.
                    if m.name.code.startswith("Z") or m.coverage < 0.99 or len(content - named) > len(content) // 3:
                        continue
                    target = self.default.get(m.name.code, m.name.code)
                    keys = [target]
                    if self.default.get(target[:3]) == target:  # the category's general form names the category
                        keys.append(target[:3])
                    for key in keys:
                        if key not in best or m.score > best[key][0]:
                            best[key] = (m.score, code)
        out = {key: code for key, (_r, code) in best.items()}
        # A cancer without its own history code: the code set's "malignant neoplasm, unspecified" one.
        fallback = next((c for c, d in self.descriptions.items() if c[:3] in categories and self.billable.get(c)
                         and d.lower() in (prefix + "malignant neoplasm, unspecified",
                                           prefix + "malignant neoplasm of unspecified site")), None)
        if fallback:
            for code in self.descriptions:
                if code[:1] == "C" and code[:3] not in out and len(code) == 3:
                    out[code] = fallback
        return out

    def preference(self, code: str) -> tuple[int, int, int, str]:
        """Tie-breaks a coder would use: billable, then 'unspecified' (.9), then the shorter code."""
        target = self.default.get(code, code)
        return (0 if self.billable.get(code) else 1, 0 if target.replace(".", "")[-1:] == "9" else 1,
                len(code), code)


def _window(positions: dict[str, list[int]], matched: list[str]) -> tuple[int, int]:
    """The smallest token window holding one occurrence of every matched stem."""
    if not matched:
        return 0, 0
    events = sorted((p, s) for s in set(matched) for p in positions[s])
    need = len(set(matched))
    counts: dict[str, int] = defaultdict(int)
    have = 0
    best = (events[0][0], events[-1][0])
    left = 0
    for pos, s in events:
        counts[s] += 1
        if counts[s] == 1:
            have += 1
        while have == need:
            lpos, ls = events[left]
            if pos - lpos < best[1] - best[0]:
                best = (lpos, pos)
            counts[ls] -= 1
            if counts[ls] == 0:
                have -= 1
            left += 1
    return best


def _default_billable(rows: list[tuple[str, str, str, int, str]]) -> dict[str, str]:
    """code -> the billable code a coder picks under it ('unspecified'/.9, initial encounter 'A')."""
    billable = [(code, desc) for code, desc, _k, b, _p in rows if b]
    out: dict[str, str] = {}
    by_prefix: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for code, desc in billable:
        compact = code.replace(".", "")
        for n in range(3, len(compact)):
            by_prefix[compact[:n]].append((code, desc))
    for code, _desc, kind, b, _p in rows:
        if kind in ("chapter", "block"):
            continue
        if b:
            out[code] = code
            continue
        under = by_prefix.get(code.replace(".", ""), [])
        if under:
            out[code] = min(under, key=lambda item: default_key(*item))[0]
    return out


_CACHE: dict[str, CodeMatcher] = {}
_LOCK = threading.Lock()


def matcher_for(db: Any) -> CodeMatcher:
    """The matcher for the code set loaded in `db`, built once per process and release."""
    row = db.execute("SELECT value FROM settings WHERE key = 'icd10_release'").fetchone()
    release = row[0] if row else ""
    with _LOCK:
        if release in _CACHE:
            return _CACHE[release]
        matcher = build_matcher(db)
        _CACHE[release] = matcher
        return matcher


def _is_other(text: str) -> bool:
    low = text.lower()
    return low.startswith("other ") or " other specified " in low or ", other " in low


def build_matcher(db: Any) -> CodeMatcher:
    rows = [
        (r[0], r[1], r[2], int(r[3]), r[4])
        for r in db.execute("SELECT code, description, kind, billable, terms FROM icd10_codes ORDER BY rowid")
    ]
    billable = {code: bool(b) for code, _d, _k, b, _t in rows}
    descriptions = {code: desc for code, desc, _k, _b, _t in rows}
    default = _default_billable(rows)
    names: list[Name] = []
    for code, desc, kind, _b, terms in rows:
        if kind in ("chapter", "block", "extension"):
            continue  # extensions repeat their parent's words plus the encounter
        req, opt = parse_name(desc)
        if req:
            names.append(Name(code, desc, req, opt, "description", other=_is_other(desc)))
        for term in (t.strip() for t in terms.split(" | ")):
            if not term or _CODE_IN_TEXT.search(term) or len(words(term)) > 10 or term.lower().startswith("any "):
                continue
            req, opt = parse_name(term)
            if req:
                names.append(Name(code, term, req, opt, "term", other=_is_other(term)))
    for term, code in index_terms():
        if code in billable:
            req, opt = parse_name(term)
            if req:
                names.append(Name(code, term, req, opt, "index"))
    return CodeMatcher(names, billable, default, descriptions)


# ICD-10-CM Z80 (family history of primary malignant neoplasm) by the sites of chapter 2's blocks:
# (first category, last category, code).
_Z80_BLOCKS: tuple[tuple[str, str, str], ...] = (
    ("C00", "C14", "Z80.8"),  # lip, oral cavity and pharynx: other organs
    ("C15", "C26", "Z80.0"),  # digestive organs
    ("C30", "C32", "Z80.2"),  # other respiratory organs
    ("C33", "C34", "Z80.1"),  # trachea, bronchus and lung
    ("C37", "C39", "Z80.2"),  # other intrathoracic organs
    ("C40", "C49", "Z80.8"),  # bone, skin (melanoma), mesothelial and soft tissue
    ("C4A", "C4A", "Z80.8"),
    ("C50", "C50", "Z80.3"),  # breast
    ("C51", "C55", "Z80.49"),  # female genital organs
    ("C56", "C56", "Z80.41"),  # ovary
    ("C57", "C58", "Z80.49"),
    ("C60", "C60", "Z80.49"),  # male genital organs
    ("C61", "C61", "Z80.42"),  # prostate
    ("C62", "C62", "Z80.43"),  # testis
    ("C63", "C63", "Z80.49"),
    ("C64", "C64", "Z80.51"),  # kidney
    ("C65", "C66", "Z80.59"),  # renal pelvis, ureter
    ("C67", "C67", "Z80.52"),  # bladder
    ("C68", "C68", "Z80.59"),
    ("C69", "C79", "Z80.8"),  # eye, brain, thyroid, endocrine glands, ill-defined and secondary sites
    ("C7A", "C7B", "Z80.8"),
    ("C81", "C90", "Z80.7"),  # lymphoid and hematopoietic tissue
    ("C91", "C95", "Z80.6"),  # leukemia
    ("C96", "C96", "Z80.7"),
)


def family_neoplasm_code(code: str) -> str | None:
    """The Z80 code for a malignant neoplasm's code (C00-C96), by its site; None for other codes and C80."""
    category = code[:3].upper()
    return next((z for lo, hi, z in _Z80_BLOCKS if lo <= category <= hi and len(category) == 3), None)


# ICD-10-CM Z80-Z84's "family history of other diseases of ..." codes by the chapters (and blocks) they name:
# (first category, last category, code); the first row that holds a category wins.
_FAMILY_CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("B20", "B20", "Z83.0"),  # HIV disease
    ("A00", "B99", "Z83.1"),  # other infectious and parasitic diseases
    ("D50", "D89", "Z83.2"),  # diseases of the blood and the immune mechanism
    ("E08", "E13", "Z83.3"),  # diabetes mellitus
    ("E00", "E89", "Z83.49"),  # other endocrine, nutritional and metabolic diseases
    ("F70", "F79", "Z81.0"),  # intellectual disabilities
    ("F10", "F10", "Z81.1"),  # alcohol abuse and dependence
    ("F17", "F17", "Z81.2"),  # tobacco abuse and dependence
    ("F11", "F19", "Z81.3"),  # other psychoactive substance abuse and dependence
    ("F01", "F99", "Z81.8"),  # other mental and behavioral disorders
    ("G00", "G99", "Z82.0"),  # epilepsy and other diseases of the nervous system
    ("H00", "H59", "Z83.518"),  # other specified eye disorder
    ("I60", "I69", "Z82.3"),  # stroke
    ("I00", "I99", "Z82.49"),  # ischemic heart disease and other diseases of the circulatory system
    ("J40", "J47", "Z82.5"),  # asthma and other chronic lower respiratory diseases
    ("J00", "J99", "Z83.6"),  # other diseases of the respiratory system
    ("K00", "K95", "Z83.79"),  # other diseases of the digestive system
    ("L00", "L99", "Z84.0"),  # diseases of the skin and subcutaneous tissue
    ("M00", "M19", "Z82.61"),  # arthritis: infectious (M00-M02), inflammatory (M05-M14), osteoarthritis (M15-M19)
    ("M00", "M99", "Z82.69"),  # other diseases of the musculoskeletal system and connective tissue
    ("N00", "N29", "Z84.1"),  # disorders of kidney and ureter
    ("N30", "N99", "Z84.2"),  # other diseases of the genitourinary system
    ("Q00", "Q99", "Z82.79"),  # other congenital malformations, deformations and chromosomal abnormalities
)


def family_chapter_code(code: str) -> str | None:
    """The Z81-Z84 "other diseases of" code of a condition's chapter; None outside the chapters Z80-Z84 name."""
    category = code[:3].upper()
    return next((z for lo, hi, z in _FAMILY_CHAPTERS if lo <= category <= hi), None)
