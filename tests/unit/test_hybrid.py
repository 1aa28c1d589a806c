"""Hybrid query parsing (abbreviations, structured queries) and score fusion."""

from __future__ import annotations

from bench.baselines import rrf
from indexer import hybrid


def test_plain_words_become_or_concepts_without_stopwords() -> None:
    parsed = hybrid.expand("elderly patient with a fall and hip fracture")
    words = [c.word for c in parsed.concepts]
    assert words == ["elderly", "patient", "fall", "hip", "fracture"]
    assert parsed.match() == '"elderly" OR "patient" OR "fall" OR "hip" OR "fracture"'
    assert not parsed.structured


def test_abbreviations_add_their_long_form() -> None:
    parsed = hybrid.expand("CHF exacerbation, s/p CABG")
    by_word = {c.word: c.alternatives for c in parsed.concepts}
    assert by_word["chf"] == ("congestive heart failure",)
    assert by_word["s/p"] == ("status post",)
    assert '("chf" OR "congestive heart failure")' in (parsed.match() or "")
    assert "CHF (congestive heart failure)" in parsed.embedding_text()
    assert "s/p (status post)" in parsed.embedding_text()


def test_long_forms_add_the_abbreviation_on_the_keyword_side() -> None:
    parsed = hybrid.expand("history of chronic obstructive pulmonary disease")
    assert any(c.word == "copd" for c in parsed.concepts)
    assert parsed.embedding_text() == "history of chronic obstructive pulmonary disease"


def test_ordinary_words_and_ambiguous_abbreviations_are_not_expanded() -> None:
    parsed = hybrid.expand("the patient has a cold and is on room air")
    assert parsed.expansions == {}
    assert hybrid.expand("AF with RVR").expansions.get("AF") is None  # 'af' is mostly 'afebrile': ambiguous


def test_structured_queries_are_honoured_as_typed() -> None:
    for q in ('"heart failure" edema', "fall OR syncope", "fracture -hip", "cardi*", "title:discharge"):
        assert hybrid.is_structured(q), q
    assert not hybrid.is_structured("post-op confusion, s/p hip fracture")
    parsed = hybrid.expand('"heart failure" edema')
    assert parsed.match() == '("heart failure" AND "edema")'


def test_fusion_keeps_a_note_only_the_vector_side_finds() -> None:
    """The failure of naive RRF: weak matches in both lists outrank the vector side's clear first hit."""
    target = 1
    weak = list(range(2, 12))
    cosine = {target: 0.62, **{n: 0.45 for n in weak}}
    bm25 = {n: 1.0 for n in weak}  # they share only common words with the query
    attainable = 12.0
    vector_list = [target, *weak]
    keyword_list = weak
    naive = [n for n, _ in rrf([keyword_list, vector_list])]
    assert naive.index(target) >= 10  # pushed out of the top 10
    fused = hybrid.fuse(cosine, bm25, attainable, {}, {})
    assert fused[0].n == target


def test_fusion_lets_confident_keywords_win() -> None:
    """A record holding the query's rare words rises above vector neighbours that do not."""
    cosine = {1: 0.55, 2: 0.53, 3: 0.47}
    bm25 = {3: 11.0, 1: 0.8}
    fused = hybrid.fuse(cosine, bm25, attainable=12.0, keyword_rank={}, vector_rank={})
    assert [f.n for f in fused] == [3, 1, 2]
    assert 0.9 < fused[0].coverage <= 1.0


def test_records_without_vectors_still_rank_by_keywords() -> None:
    fused = hybrid.fuse({1: 0.5, 2: 0.4, 3: 0.3}, {9: 12.0}, attainable=12.0, keyword_rank={}, vector_rank={})
    assert fused[0].n == 9 and fused[0].cosine is None


def test_lay_wording_gets_its_clinical_forms() -> None:
    parsed = hybrid.expand("throwing up blood, gullet tear after a heart attack; kidney stones")
    by_word = {c.word: c.alternatives for c in parsed.concepts}
    assert "hematemesis" in by_word["throwing up blood"]
    assert "esophagus" in by_word["gullet"]
    assert "myocardial infarction" in by_word["heart attack"]
    assert "nephrolithiasis" in by_word["kidney stones"]  # the table has "kidney stone(s)": a plural "s" is optional
    # the words of a matched phrase are not separate concepts as well
    assert not {"throwing", "attack", "heart", "stones"} & set(by_word)
    assert '("gullet" OR "esophagus" OR "esophageal")' in (parsed.match() or "")


def test_lay_wording_is_spelled_out_in_the_embedded_text_only_when_asked() -> None:
    parsed = hybrid.expand("Gullet tear, sugar sickness")
    assert parsed.embedding_text() == "Gullet tear, sugar sickness"
    assert parsed.embedding_text(lay=True) == "Gullet (esophagus) tear, sugar sickness (diabetes mellitus)"
    assert hybrid.expand("gullet", abbreviations=False).lay == {}  # the benchmark's "shares no word" check


def test_slang_eponyms_and_unlisted_abbreviations_reach_chart_wording() -> None:
    parsed = hybrid.expand("Bible bump on the wrist, coryza, SCFE in a youngster, rodent ulcer on crown of the head")
    by_word = {c.word: c.alternatives for c in parsed.concepts}
    assert "ganglion cyst" in by_word["bible bump"]
    assert "upper respiratory infection" in by_word["coryza"]
    assert "slipped capital femoral epiphysis" in by_word["scfe"]  # an abbreviation neither table lists
    assert "basal cell carcinoma" in by_word["rodent ulcer"]
    assert "scalp" in by_word["crown of the head"]  # the longer phrase wins over its words
    assert "SCFE (slipped capital femoral epiphysis)" in parsed.embedding_text(lay=True)
    # chart wording itself is not translated: "lens implant" is what a cataract note says
    assert "lens implant" not in {c.word for c in hybrid.expand("posterior chamber lens implant").concepts}


def test_the_word_being_typed_is_a_prefix_without_expansions() -> None:
    parsed = hybrid.expand("broken gullet", as_you_type=True)
    assert parsed.concepts[-1] == hybrid.Concept("gullet", (), prefix=True)
    assert "esophagus" not in parsed.embedding_text(lay=True)
    assert parsed.embedding_text(lay=True) == "broken (fracture) gullet"


def test_idf_when_the_counts_come_from_two_snapshots() -> None:
    """Issue 16: another process committed records between counting them and counting a word's hits."""
    from indexer.hybrid import _idf_of

    assert _idf_of(12, 10) == _idf_of(10, 10) > 0


def test_abbreviations_of_the_written_list_are_spelled_out_in_hybrid_mode_only() -> None:
    """TURBT is not in the Vanderbilt table; the larger written list knows it. Written in capitals only."""
    parsed = hybrid.expand("repeat TURBT for recurrence")
    turbt = next(c for c in parsed.concepts if c.word == "turbt")
    assert turbt.alternatives == ("transurethral resection of bladder tumor",)
    assert parsed.embedding_text(lay=True) == "repeat TURBT (transurethral resection of bladder tumor) for recurrence"
    assert parsed.embedding_text() == "repeat TURBT for recurrence"  # semantic mode: the query as typed
    assert hybrid.expand("repeat turbt").written == {}  # a lower-case word is a word
    # A word the Vanderbilt table expands keeps that expansion.
    assert hybrid.expand("CHF").written == {} and hybrid.expand("CHF").expansions == {"CHF": "congestive heart failure"}
    # Several meanings: the archive chooses (KeywordPlan.senses); the embedded text uses the chosen one.
    af = hybrid.expand("AF with RVR")
    assert af.written["AF"][:2] == ("ancillary feature", "atrial fibrillation")
    assert "AF (atrial fibrillation)" in af.embedding_text(lay=True, senses={"AF": "atrial fibrillation"})


def test_second_look_moves_the_query_toward_its_best_records_and_weighs_whole_records() -> None:
    import numpy as np

    from indexer.vectors import VectorMatrix

    def unit(*v: float) -> list[float]:
        a = np.array(v, dtype=np.float32)
        return list(a / np.linalg.norm(a))

    query = np.array(unit(1, 0, 0, 0), dtype=np.float32)
    rows = [
        (1, unit(1, 0.2, 0, 0)), (1, unit(0.6, 0.8, 0, 0)),  # the first fusion's best record
        (2, unit(0.5, 0, 0, 1)), (2, unit(0, 0, 0, 1)),  # one passage like the query, the rest elsewhere
        (3, unit(0.5, 0.8, 0.1, 0)), (3, unit(0.45, 0.85, 0, 0)),  # about what record 1 is about, throughout
    ]
    vm = VectorMatrix.from_arrays("m", np.array([r[1] for r in rows]), np.array([r[0] for r in rows]))
    plain, _ = hybrid.second_look(vm, query, [1, 2, 3], top=[])
    moved, centroid = hybrid.second_look(vm, query, [1, 2, 3], top=[1])
    assert moved[3] - moved[2] > plain[3] - plain[2]  # feedback from record 1 favours record 3
    assert centroid[3] > centroid[2]  # 3 is about the query throughout, 2 in one passage
    assert hybrid.second_look(vm, query, [9], top=[9]) == ({}, {})  # no vectors: nothing to say


def test_fusion_with_the_whole_record_stays_on_the_cosine_scale() -> None:
    fused = {f.n: f for f in hybrid.fuse({1: 0.6, 2: 0.6}, {1: 10.0}, 10.0, {}, {}, centroid={1: 0.6, 2: 0.3})}
    assert abs(fused[1].score - (0.6 + hybrid.KEYWORD_WEIGHT / (1 + hybrid.CENTROID_WEIGHT))) < 1e-9
    assert fused[2].score < 0.6 and fused[2].cosine == 0.6


def _fused(n: int, coverage: float, keyword_rank: int | None) -> hybrid.Fused:
    return hybrid.Fused(n, 0.9 - n / 100, 0.5, coverage, keyword_rank, n)


def test_the_keyword_sides_first_record_holding_the_words_stays_within_the_first_ten() -> None:
    """Dozens of notes hold a description query's every word: each gets the whole keyword bonus, cosine orders
    them, and the one BM25 ranks first fell out of the first ten (desc-f, session 10)."""
    ranked = [_fused(n, 1.0, None if n != 23 else 1) for n in range(1, 31)]
    kept = hybrid.keep_keyword_best(ranked)
    assert [f.n for f in kept][:10] == [*range(1, 10), 23]
    assert [f.n for f in kept][10:] == [*range(10, 23), *range(24, 31)]  # the rest in their order
    assert kept[9].score == ranked[22].score  # its score is left as it is
    weak = [_fused(n, 1.0 if n != 23 else hybrid.KEEP_COVERAGE - 0.01, 1 if n == 23 else None) for n in range(1, 31)]
    assert hybrid.keep_keyword_best(weak) == weak  # holding too few of the words: no place kept
    high = [_fused(n, 1.0, 1 if n == 4 else None) for n in range(1, 31)]
    assert hybrid.keep_keyword_best(high) == high  # within the first ten already
