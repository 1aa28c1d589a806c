"""Reading a code's name (description, inclusion term, index term) by the code set's conventions.

Words in parentheses are nonessential modifiers, "without ..." states the
default, "unspecified"/"other"/"NOS" say nothing about the patient. Used to
index the names (code_match) and to read a code search query like a name
(icd10). Pure functions; no I/O.
"""

from __future__ import annotations

import re

from indexer.query.stopwords import FUNCTION_WORDS
from indexer.query.tokens import stem, words

# Words that say nothing about the patient ("mellitus": diabetes is written without it).
FILLERS = frozenset(
    "unspecified other specified nos not elsewhere classified site sites part parts certain mellitus".split()
)


def parse_name(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """Required and optional stems of a code name, per the code set's conventions.

    'Migraine, unspecified, not intractable, without status migrainosus' -> required
    (migrain,); optional: the rest. Segments are split at commas: a later one that starts
    with 'unspecified', 'not' or 'without' is optional, and so is 'without ...' inside a
    segment up to a following 'with'. Words in parentheses are optional too.
    """
    optional: list[str] = []
    required: list[str] = []
    for n, segment in enumerate(text.lower().split(",")):
        for paren in re.findall(r"\(([^)]*)\)", segment):
            optional += words(paren)
        segment = re.sub(r"\([^)]*\)", " ", segment).strip()
        if n > 0 and re.match(r"(unspecified|not|without)\b", segment):
            optional += words(segment)
            continue
        m = re.search(r"\bwithout\b(.*?)(?=\bwith\b|$)", segment)
        if m:
            optional += words(m.group(1))
            segment = segment[: m.start()] + " " + segment[m.end() :]
        required += [w for w in words(segment) if w not in FUNCTION_WORDS and w not in FILLERS]
    req = tuple(dict.fromkeys(stem(w) for w in required))
    opt = frozenset(stem(w) for w in optional if w not in FUNCTION_WORDS and w not in FILLERS) - set(req)
    return req, opt
