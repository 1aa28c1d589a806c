"""Labelling finds a query's words in an ASCII text by plain search before matching the word-bounded pattern
(indexer.mentions._spans_at): the same occurrences as scanning the text with the pattern."""

import random

from indexer.hybrid import Concept
from indexer.mentions import MAX_SCAN, _occurrences, mentions

WORDS = ["pain", "Pain", "PAINS", "chest", "chest-pain", "spain", "pained", "painful", "CP", "c.p.", "heart",
         "failure", "heartfailure", "1pain", "pain1", "_pain", "pain_", "es", "painses", "no", "denies"]
CONCEPTS = [Concept("pain"), Concept("chest pain"), Concept("heart failure", ("chf",)), Concept("pain", prefix=True),
            Concept("cp", ("chest pain",)), Concept("es")]


def test_ascii_texts_give_the_occurrences_the_pattern_scan_gives() -> None:
    rng = random.Random(22)
    found = 0
    for _ in range(1500):
        text = "".join(rng.choice(WORDS) + rng.choice([" ", "  ", ", ", "-", "", ". ", "\n"])
                       for _ in range(rng.randint(1, 14)))
        low = text[:MAX_SCAN].lower()
        for concept in CONCEPTS:
            fast = _occurrences(text, low, concept, ascii_text=True)
            assert fast == _occurrences(text, low, concept, ascii_text=False), (text, concept)
            found += len(fast)
    assert found > 1000  # the texts do hold the words, often next to lookalikes ("spain", "pained")


def test_a_text_with_other_characters_is_scanned_with_the_pattern() -> None:
    # re.IGNORECASE matches the long s (U+017F) as "s": a plain search of the lower-cased text would miss it
    text = "Che\u017ft pain today. No chest pain now."
    assert "chest" not in text.lower()[:10]
    found = mentions(text, [Concept("chest pain")])
    assert [(text[m.start : m.end], m.label) for m in found] == [
        ("Che\u017ft pain", "affirmed"), ("chest pain", "negated")]
