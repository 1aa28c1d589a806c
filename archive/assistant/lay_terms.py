"""Lay words for chart entries ("had her appendix out" is an appendectomy; "a reaction to lisinopril" is an
entry naming lisinopril): the clinical wordings to try when the asked words find nothing.

The table (lay_terms.tsv beside this file) is hand-written; see its header. Pure; reads only that file.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

from indexer.query.abbreviations import written_abbreviation
from indexer.query.lay_terms import lay_phrases_in
from indexer.query.tokens import WORD

# A verb as asked, the noun a chart names the act by ("cardioverted" -> cardioversion, "intubated" -> intubation,
# "resected" -> resection, "excised" -> excision, "transfused" -> transfusion, "biopsied" -> biopsy,
# "catheterized" -> catheterization, "stented" -> stent): the longest ending first.
_NOUN_OF_VERB = (("erted", "ersion"), ("ected", "ection"), ("cised", "cision"), ("fused", "fusion"),
                 ("ized", "ization"), ("ised", "isation"), ("ated", "ation"), ("ied", "y"), ("ted", "t"))


@cache
def _table() -> tuple[tuple[re.Pattern[str], tuple[str, ...], tuple[str, ...]], ...]:
    text = files("archive.assistant").joinpath("lay_terms.tsv").read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pattern, wordings, *kinds = line.split("\t")
        out.append((re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.I),
                    tuple(w.strip() for w in wordings.split("|") if w.strip()),
                    tuple(kinds[0].split()) if kinds else ()))
    return tuple(out)


def clinical_forms(topic: str, keep_rest: bool = True, broad: bool = False) -> list[tuple[str, tuple[str, ...]]]:
    """(clinical wording, the chart entry kinds it may be: () for any) for the lay phrases in `topic` (with the
    rest of the topic, then alone; alone only unless `keep_rest`), best first; [] if none. `broad` adds the
    search's everyday-wording vocabulary (indexer/data/lay_terms.tsv: "heart attack", "keyhole surgery") after
    this table's phrasings, for callers that try the forms only when the asked words found nothing."""
    out: list[tuple[str, tuple[str, ...]]] = []
    seen: set[str] = set()
    if broad:
        words = [w.lower() for w in WORD.findall(topic)]
        for i, (_gram, n, forms) in sorted(lay_phrases_in(words).items()):
            rest = " ".join(words[:i] + words[i + n:])
            for form in forms:  # with the rest of the topic: "esophagus cancer", never "esophagus" alone
                candidate = f"{form} {rest}".strip()
                if candidate.lower() != topic.lower() and candidate.lower() not in seen:
                    seen.add(candidate.lower())
                    out.append((candidate, ()))
        own = clinical_forms(topic, keep_rest)
        out += [(form, ()) for form in _spelt_out(topic) if form.lower() not in seen]
        return own + [f for f in out if f[0].lower() not in {o.lower() for o, _ in own}]
    for pattern, wordings, kinds in _table():
        m = pattern.search(topic)
        if not m:
            continue
        rest = (topic[: m.start()] + " " + topic[m.end():]).strip()
        for wording in wordings:
            form = m.expand(wording) if "\\" in wording else wording
            for candidate in (f"{form} {rest}".strip() if keep_rest else form, form):
                if candidate and candidate.lower() != topic.lower() and candidate.lower() not in seen:
                    seen.add(candidate.lower())
                    out.append((candidate, kinds))
    return out


def _spelt_out(topic: str) -> list[str]:
    """The topic with an abbreviation written out ("a TURP": transurethral resection of prostate gland) or a verb
    made the noun a chart uses ("cardioverted": cardioversion): each such word replaced, one at a time."""
    out: list[str] = []
    for m in WORD.finditer(topic):
        word = m.group(0)
        swaps = list(written_abbreviation(word))
        lower = word.lower()
        for ending, noun in _NOUN_OF_VERB:
            if lower.endswith(ending):
                if len(lower) - len(ending) >= 2:  # "excised", not "rated"
                    swaps.append(lower[: -len(ending)] + noun)
                break
        out += [f"{topic[: m.start()]}{swap}{topic[m.end():]}".strip() for swap in swaps]
    return list(dict.fromkeys(out))
