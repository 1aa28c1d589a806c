"""British and Commonwealth spelling read in the code set's US spelling ("anaemia" -> "anemia").

ICD-10-CM's names are written in US spelling; a note from the UK, Australia, India or Canada writes
"haemolytic anaemia", "oesophageal varices", "paediatric asthma", "tumour". Rather than a list of words, the
systematic correspondences are tried (ae/oe -> e in the Greek and Latin stems, -our -> -or, -ise/-isation ->
-ize/-ization, -yse -> -yze, -tre/-bre -> -ter/-ber, -lled/-lling -> -led/-ling, sulph -> sulf), and a form is
taken only when the vocabulary it is given (the code set's words) knows the US form and not the word as written:
"aerosol", "poem", "toe", "canoe", "four" stay as they are. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from indexer.query.tokens import stem

# (British pattern, US replacement); each applies inside a lower-case word.
RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # haem-, anaem-, -aemia, paed-, caec-, naev-, faec-, aetiol-, anaesth-; never a word's last letters ("sundae")
    # nor before r or a vowel but a ("aerosol", "anaerobic", "Israel")
    (re.compile(r"ae(?=[a-df-hj-npqs-z])"), "e"),
    # oedem-, oesophag-, oestr-, foet-, coeliac, -rrhoea, -pnoea, amoeb-; never last ("toe", "canoe", "oboe") nor
    # before r or a vowel but a ("coerce", "Boeing", "whoever")
    (re.compile(r"oe(?=[a-df-hj-npqs-z])"), "e"),
    # tumour, humour, labour, odour, colour: two letters or more before it ("four", "hour", "your" stay)
    (re.compile(r"(?<=[a-z]{2})our(?=s?$|ed$|ing$|al$|ous$)"), "or"),
    # hospitalised, immunisation, catheterisation, organised
    (re.compile(r"(?<=[a-z]{3})is(?=e$|es$|ed$|ing$|ation$|ations$|er$|ers$)"), "iz"),
    # paralysed, analyse, dialysed
    (re.compile(r"(?<=[a-z]{3})ys(?=e$|es$|ed$|ing$)"), "yz"),
    # centre, litre, fibre, calibre
    (re.compile(r"(?<=[a-z]{2}[tb])re(?=s?$)"), "er"),
    # counselling, labelled, travelled
    (re.compile(r"(?<=[a-z]{3})ll(?=ed$|ing$|or$|ors$)"), "l"),
    # sulphate, sulphonamide
    (re.compile(r"sulph"), "sulf"),
)

MAX_REMEMBERED = 100_000  # words whose answer is kept (a few MB)
MIN_LENGTH = 5  # a US form shorter than this is an everyday word's look-alike ("does" -> "des")


def us_candidates(word: str) -> list[str]:
    """The US forms `word` may stand for, most changed first: every rule at once, then each rule alone."""
    low = word.lower()
    every = low
    alone: list[str] = []
    for pattern, us in RULES:
        every = pattern.sub(us, every)
        one = pattern.sub(us, low)
        if one != low:
            alone.append(one)
    found = [every, *alone] if every != low else []
    return list(dict.fromkeys(f for f in found if len(f) >= MIN_LENGTH))


class UsSpelling:
    """The US spelling of a word, where a vocabulary (the code set's words) knows that form and not the word."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.words = frozenset(w.lower() for w in vocabulary)
        self.stems = frozenset(stem(w) for w in self.words)
        self._seen: dict[str, str] = {}

    def knows(self, word: str) -> bool:
        return word in self.words or stem(word) in self.stems

    def __call__(self, word: str) -> str:
        """`word`'s US form (lower case) if the vocabulary knows it and not `word`; else `word` unchanged."""
        low = word.lower()
        if low in self._seen:
            return self._seen[low] if self._seen[low] != low else word
        found = low
        if not low.isascii() or not low.isalpha() or self.knows(low):
            pass
        else:
            found = next((us for us in us_candidates(low) if self.knows(us)), low)
        if len(self._seen) >= MAX_REMEMBERED:
            self._seen.clear()  # a long-running archive reads many distinct words; start again rather than grow
        self._seen[low] = found
        return found if found != low else word
