"""indexer.code_explains: which code a more specific or definitive one explains."""

from __future__ import annotations

from indexer.code_explains import SYMPTOM_EXPLAINED_BY, explains_symptom, is_unspecified, names_more
from indexer.code_names import parse_name


def test_a_symptom_is_explained_by_its_body_systems_diseases_only() -> None:
    assert explains_symptom("I50.23", "R06.02")  # dyspnoea: heart failure
    assert explains_symptom("J44.1", "R06.02")  # dyspnoea: COPD
    assert not explains_symptom("J30.9", "R06.02")  # not allergic rhinitis
    assert explains_symptom("I21.4", "R07.9")  # chest pain: infarction
    assert not explains_symptom("I10", "R07.9")  # not hypertension
    assert explains_symptom("J02.9", "R07.0") and not explains_symptom("I20.0", "R07.0")  # throat, not chest
    assert explains_symptom("N39.41", "R32") and not explains_symptom("N39.0", "R32")  # a range of subcategories
    assert not explains_symptom("F32.9", "R45.851")  # suicidal ideation is coded beside depression
    assert not explains_symptom("R50.9", "R06.02") and not explains_symptom("Z87.01", "R06.02")


def test_the_table_names_chapter_18_symptoms_and_other_chapters() -> None:
    for symptom, by in SYMPTOM_EXPLAINED_BY:
        assert "R00" <= symptom[:3] <= "R69"
        for item in by:
            assert item[:1] not in "RZ" and all(len(part) >= 3 for part in item.split("-"))


def test_unspecified_and_names_more() -> None:
    assert is_unspecified("Heart failure, unspecified")
    assert is_unspecified("Urinary tract infection, site not specified")
    assert not is_unspecified("Essential (primary) hypertension")
    assert not is_unspecified("Unilateral inguinal hernia, without obstruction or gangrene, not specified as recurrent")

    def name(text: str, other: bool = False) -> tuple[tuple[str, ...], frozenset[str], bool]:
        return (*parse_name(text), other)

    assert names_more(name("Acute on chronic systolic (congestive) heart failure"), name("congestive heart failure"))
    assert names_more(name("congestive heart failure"), name("Heart failure, unspecified"))
    assert not names_more(name("Other chest pain", other=True), name("Chest pain, unspecified"))
    assert not names_more(name("Left ventricular failure, unspecified"), name("Heart failure, unspecified"))
    assert not names_more(name("Chest pain, unspecified"), name("Chest pain, unspecified"))
