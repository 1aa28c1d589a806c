"""Which suggested code a more specific or definitive one of the same text explains (for the suggester's ranking).

ICD-10-CM Official Guidelines, Section I.B: a code for a sign or symptom (chapter 18, R00-R99) is not used when a
related definitive diagnosis is established (I.B.4-5), and an unspecified code is not used when the record supports
a more specific one (I.B.2, I.A.9). The suggester keeps both kinds listed for the coder, ranked below the code that
explains them (code_suggest._ranked). Two relations, each checkable:

- `names_more`: a code of the same category whose name holds every required word of the unspecified code's name
  and more ("acute on chronic systolic (congestive) heart failure" over "congestive heart failure", I50.9);
- `explains_symptom`: SYMPTOM_EXPLAINED_BY, a small table from chapter 18's categories to the body system's
  categories whose diseases routinely present with the symptom. A symptom not in the table is explained by nothing.
  The suggester asks it only of a diagnosis the note establishes: named in full under a diagnosis heading.

Pure functions; no I/O.
"""

from __future__ import annotations

import re

# (symptom code prefix, the categories whose diagnosis explains it, as "A00-B99" ranges, categories or code
# prefixes). The longest prefix of a symptom's code wins. Chapter 18's blocks follow the body systems (R00-R09
# circulatory and respiratory, R10-R19 digestive, R20-R23 skin, R25-R29 nervous and musculoskeletal, R30-R39
# urinary, R40-R46 cognition and emotion, R47-R49 speech, R50-R69 general); within a block only the diseases that
# routinely present with the symptom are listed (chest pain: ischaemic heart disease, not hypertension). Symptoms
# that the code set asks to code beside their disease, or that many diseases share, are left out: R13 (dysphagia,
# coded beside a stroke's sequela), R45 (suicidal ideation beside depression), R47 (aphasia beside a stroke),
# R52-R55, R57-R59, R62-R69 (pain, fatigue, syncope, shock, weight loss, sepsis's R65, illness unspecified).
SYMPTOM_EXPLAINED_BY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("R00", ("I47-I49",)),  # tachycardia, bradycardia, palpitations: arrhythmias
    ("R01", ("I05-I09", "I34-I38", "Q20-Q24")),  # murmurs: valve disease, congenital heart disease
    ("R03.0", ("I10-I16",)),  # an elevated reading "without diagnosis of hypertension"
    ("R04.2", ("J00-J99", "I26", "C34", "A15")),  # haemoptysis: lung disease, embolism, lung cancer, tuberculosis
    ("R05", ("J00-J99",)),  # cough: respiratory disease
    # dyspnoea, wheeze: lower respiratory disease (not rhinitis or sinusitis, J30-J39), embolism, heart failure
    ("R06", ("J09-J22", "J40-J99", "I26-I27", "I50")),
    ("R07.0", ("J00-J06",)),  # sore throat: pharyngitis, tonsillitis, upper respiratory infection
    # chest pain on breathing, pleurodynia: pneumonia, pleural disease, embolism
    ("R07.1", ("J09-J18", "J90-J94", "I26")),
    ("R07.81", ("J09-J18", "J90-J94", "I26")),
    ("R07", ("I20-I25", "I26", "I30-I31", "J93")),  # chest pain: angina, infarction, embolism, pericarditis,
                                                   # pneumothorax
    ("R09.1", ("J90-J94",)),  # pleurisy: pleural disease
    ("R09.8", ("J00-J06", "J30-J32")),  # nasal congestion: rhinitis, sinusitis, upper respiratory infection
    # abdominal pain, by its site: upper (R10.1: oesophagus, stomach, duodenum, liver, gallbladder, pancreas),
    # pelvic (R10.2: pelvic inflammation, endometriosis, ovary, ectopic pregnancy), lower (R10.3: appendix, hernia,
    # bowel, urinary stones, pelvic organs), flank (R10.A: kidney infection, stones, obstruction), unspecified
    # (the abdomen's organs; not the mouth, the anus or a functional disorder)
    ("R10.1", ("K20-K31", "K70-K77", "K80-K87")),
    ("R10.2", ("N70-N77", "N80-N83", "O00")),
    ("R10.3", ("K35-K38", "K40-K46", "K50-K52", "K55-K58", "N10", "N20-N23", "N70-N77", "N80-N83", "O00")),
    ("R10.A", ("N10-N13", "N20-N23")),
    ("R10", ("K25-K31", "K35-K38", "K40-K46", "K50-K52", "K55-K58", "K65-K66", "K70-K77", "K80-K87", "N20-N23")),
    ("R11", ("K20-K95", "A00-A09", "G43")),  # nausea, vomiting: digestive disease, gastroenteritis, migraine
    ("R12", ("K20-K31",)),  # heartburn: oesophagus, stomach, duodenum
    ("R14", ("K20-K95",)),  # flatulence
    ("R16", ("K70-K77",)),  # hepatomegaly, splenomegaly: liver disease
    ("R17", ("K70-K77", "K80-K83", "B15-B19", "C22")),  # jaundice: liver, biliary tract, hepatitis, liver cancer
    ("R19.7", ("K50-K52", "K58", "A00-A09")),  # diarrhoea: inflammatory bowel, gastroenteritis, IBS, infection
    # rash: skin infections, dermatitis, papulosquamous disorders, urticaria and erythema, viral exanthems (not
    # pruritus, L29: itself a symptom)
    ("R21", ("L00-L08", "L20-L28", "L30", "L40-L45", "L49-L54", "B00-B09")),
    ("R25.1", ("G20-G21", "G25.0")),  # tremor: parkinsonism, essential tremor
    ("R30", ("N30-N39", "N41", "A54", "A56")),  # dysuria: cystitis, UTI, urethritis, prostatitis, STI
    # haematuria: glomerular and tubulo-interstitial disease, stones, bladder, prostate, urinary cancers (not
    # kidney failure, N17-N19)
    ("R31", ("N00-N08", "N10-N16", "N20-N23", "N30-N41", "C61", "C64-C68")),
    ("R32", ("N39.3-N39.4",)),  # urinary incontinence: its specified forms
    ("R33", ("N31-N32", "N35", "N40")),  # urinary retention: neurogenic bladder, stricture, prostate hyperplasia
    ("R34", ("N17-N19",)),  # anuria, oliguria: kidney failure
    ("R35", ("N30-N39", "N40")),  # frequency, nocturia: UTI, bladder, prostate hyperplasia
    ("R36", ("N34", "A54", "A56")),  # urethral discharge: urethritis, gonorrhoea, chlamydia
    ("R39.1", ("N30-N39", "N40")),  # hesitancy, poor stream, urgency
    ("R41.0", ("F01-F03", "G30-G31", "F05")),  # disorientation: dementia, delirium
    ("R42", ("H81",)),  # dizziness, vertigo: vestibular disorders
    ("R44", ("F20-F29",)),  # hallucinations: psychotic disorders
    ("R50", ("A00-B99", "J00-J22", "N10", "N30.0", "N39.0", "L03", "G00-G04", "I33", "M86")),  # fever: infection
    ("R51", ("G43-G44",)),  # headache: migraine, headache syndromes
    ("R56", ("G40",)),  # convulsions: epilepsy
    ("R60", ("I50", "I80-I82", "I87", "N04")),  # oedema: heart failure, venous thrombosis or insufficiency,
                                               # nephrotic syndrome
)


def explains_symptom(diagnosis: str, symptom: str) -> bool:
    """Whether `diagnosis` (a code outside chapter 18) is one that routinely presents with `symptom` (R00-R69), by
    SYMPTOM_EXPLAINED_BY."""
    if diagnosis[:1] in "RZ" or symptom[:1] != "R":
        return False
    keys = [(key, by) for key, by in SYMPTOM_EXPLAINED_BY if symptom.startswith(key)]
    if not keys:
        return False
    _key, by = max(keys, key=lambda kb: len(kb[0]))
    return any(_within(diagnosis, item) for item in by)


def _within(code: str, item: str) -> bool:
    lo, _dash, hi = item.partition("-")
    if not hi:
        return code.startswith(lo)
    # "N39.3-N39.4": codes between, by the length of the bounds; "I20-I25": categories between
    return lo <= code[: len(lo)] <= hi


# "not specified as recurrent" (K40.90 unilateral inguinal hernia) qualifies a named form: no unspecified code.
_UNSPECIFIED = re.compile(r"(?i)\bunspecified\b|\bnot specified\b(?! as\b)|\bNOS\b")


def is_unspecified(description: str) -> bool:
    """Whether a code's description says it is the unspecified form ("Heart failure, unspecified", "Urinary tract
    infection, site not specified", "... NOS")."""
    return bool(_UNSPECIFIED.search(description))


def names_more(specific: tuple[tuple[str, ...], frozenset[str], bool],
               general: tuple[tuple[str, ...], frozenset[str], bool]) -> bool:
    """Whether a name (required stems, optional stems, an "Other ..." name) says all that another says and more:
    every required word of `general` is a word of `specific`, and `specific` requires a word `general` does not
    have. An "Other X" name names no form the text said ("Other chest pain" is no more than "chest pain")."""
    s_req, s_opt, s_other = specific
    g_req, g_opt, _g_other = general
    if s_other:
        return False
    return set(g_req) <= set(s_req) | s_opt and bool(set(s_req) - set(g_req) - g_opt)
