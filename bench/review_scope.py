"""Doubt scoped to the mention (issue 22, session 13): the review channel's cues, each counted only when the mention
lies in its scope, as ConText pairs a trigger with its target (Harkema et al. 2009; NegEx, Chapman et al. 2001).

The rules (indexer.assertion) already read the medspaCy ConText lexicon with its scopes; where they attribute a
cue, nothing changes here. This module is for cues they could not attribute: wording outside their lexicon that
the linguistics of negation, test results, experiencers and prevention say is doubt. Each cue kind has a scope:

- a ConText trigger (the rules' lexicon): the scope the rules give it (direction, terminators, window). If that
  scope holds the mention the rules' reading already holds the category, unless the suggester answered it
  otherwise; kept so that the channel and the rules agree by construction.
- NegEx's and pyConText's triggers that the rules' lexicon lacks (`_EXTRA`): forward, backward or bidirectional
  as NegEx gives them, in a window of `WINDOW` words, cut by a terminator: ";", a new clause's conjunction ("but",
  "however", "although", "though", "yet", "except", "which", "whereas") or any TERMINATE rule of the rule set.
- a test result ("negative", "not detected", "equivocal", "pending"): about the mention's test only, i.e. it
  ends the clause the mention opens and only a lab name's words (assay, specimen, method), a copula or
  punctuation other than a terminator stand between ("Pertussis PCR: not detected"; "Pneumonia, blood cultures
  negative" is about the cultures).
- a person other than the patient: only as the subject or the possessor of the mention's clause ("Brother has
  asthma", "her mother's lupus", "asthma in his brother"); never as the subject of a reporting or perception
  verb ("Mom says he has been wheezing", "Wife notes loud snoring": the report is of the patient), nor when the
  patient is named between them ("Mom took him in for wheezing"). Child, baby, infant, newborn and twin are the
  patient in a paediatric note unless someone's ("her baby").
- prevention, vaccination, screening or exposure: only in the mention's own noun phrase ("influenza vaccine",
  "vaccinated against measles", "screening for colon cancer", "exposure to TB").
- a question mark: written on the mention ("?PE", "stress fracture?") or closing the mention's clause.

Terminators, window and lexicon come from NegEx (its conjunctions and 5-6 word window), medspaCy's rule set
(TERMINATE rules) and pyConText's lexical kb, not from any benchmark's misses.

The signature of `review_cue` is the one session 12's channel had, so it can be measured over older trees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from indexer import assertion
from indexer.assertion import Context

NEGATION = "negation"
UNCERTAINTY = "uncertainty"
CONDITIONAL = "conditional"
TEMPORAL = "temporal"
PERSON = "another person"
RESULT = "test result"
PREVENTION = "prevention"
QUESTION = "question"

# ConText categories -> cue kinds (OTHER: someone who is no relative).
_KIND = {
    assertion.NEGATED: NEGATION,
    assertion.POSSIBLE: UNCERTAINTY,
    assertion.HYPOTHETICAL: CONDITIONAL,
    assertion.HISTORICAL: TEMPORAL,
    assertion.FAMILY: PERSON,
    "other": PERSON,
}

# A window of words (punctuation not counted): NegEx reads 5 (6 in its later versions) words from a trigger.
WINDOW = 6

# NegEx's conjunctions (its "termination" terms) that end a scope, with ";" (the rule set's TERMINATE rules too).
_CONJUNCTIONS = frozenset("but however although though yet except nevertheless whereas which".split())


def _phrases(spec: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split()) for p in spec.split("|"))


# NegEx's and pyConText's triggers that the medspaCy lexicon (indexer/data/context_rules.json) lacks, by kind and
# direction. A phrase the rule set holds is read by the rules (and the ConText part below) instead.
_EXTRA: tuple[tuple[str, str, tuple[tuple[str, ...], ...]], ...] = (
    (NEGATION, "FORWARD", _phrases(
        "negative for|neg for|no signs of|no sign of|no evidence of|no suspicious|without evidence of|"
        "without any|absence of|rules out|ruled out|r/o for|not demonstrate|doesn't demonstrate|no new|"
        "no further|free of|never had|never developed|not have|doesn't have|does not have|did not have|"
        "didn't have|fails to reveal|failed to reveal|not exhibit|not reveal|not see|not had|no findings of|"
        "no findings to indicate|no suggestion of|with no|without|nothing to suggest|unremarkable for|no other|"
        "no obvious|no definite|no convincing|low probability|atypical for|mimicking|simulating")),
    (NEGATION, "BACKWARD", _phrases(
        "is ruled out|are ruled out|was ruled out|were ruled out|has been ruled out|have been ruled out|"
        "ruled out|excluded|was excluded|is excluded|not demonstrated|not appreciated|not seen|not identified|"
        "not visualized|not present|unlikely|not found|not confirmed|not established|can be ruled out|"
        "could be ruled out|must be ruled out|would not be expected|no longer seen|no longer noted|"
        "no longer visualized")),
    (UNCERTAINTY, "FORWARD", _phrases(
        "concern for|concerning for|suspicious for|suspicion of|suspicion for|suspect|suspected|suspected of|"
        "questionable|question of|query|possible|possibly|probable|probably|likely|may be|might be|could be|"
        "presumed|presumptive|presumably|worrisome for|worry for|cannot exclude|cannot rule out|can not exclude|"
        "not excluded|differential|ddx|versus|vs|equivocal for|suggestive of|"
        "evaluate for|evaluation for|assess for|to exclude|to evaluate|w/u for|workup for|work up for|"
        "less likely|should be considered|may be related|may represent|might represent|may reflect|"
        "might reflect|rather than|checked for|unable to assess|cannot be evaluated|not known to have")),
    (UNCERTAINTY, "BACKWARD", _phrases(
        "cannot be excluded|cannot be ruled out|not excluded|not ruled out|is questionable|unlikely|"
        "be ruled out|being ruled out|is to be ruled out|not been ruled out|should be ruled out|"
        "will be ruled out|is in the differential|less likely|likely|possible|probable|questionable|"
        "should be considered|"
        "is possible|is probable|is likely|suspected|versus|vs|equivocal|indeterminate|inconclusive")),
    (CONDITIONAL, "FORWARD", _phrases(
        "if|if any|in case of|should|should he|should she|return for|return if|watch for|monitor for|"
        "monitoring for|warning signs|precautions|risk of|risk for|at risk|prevent|"
        "prevention of|to prevent|prophylaxis|prophylaxis for|prophylaxis against|screen for|screening for|"
        "test for|testing for|check for|vaccine for|vaccine against|vaccination for|vaccination against|"
        "vaccinated against|vaccinated for|immunized against|immunization against|exposure to|exposed to|"
        "contact with|counseled on|counseled about|counseling on|counseling about|educated on|educated about|"
        "in the event of|could develop|may develop|predispose to|predisposes to|warned of|were warned|"
        "if there are|if there is|clinical concern|clinical suspicion")),
)

# Prevention written in the mention's own noun phrase, after it: "influenza vaccine", "HPV series", "TB exposure".
_PREVENTION_AFTER = frozenset(
    "vaccine vaccines vaccination vaccinations vax immunization immunizations immunisation shot shots booster "
    "boosters series dose doses prophylaxis screening screen surveillance exposure exposures precautions "
    "prevention titer titers titre carrier carriers risk".split())

# A test's name (assay, antigen, method, specimen): only these may stand between a mention and its result.
_LAB_WORDS = frozenset(
    "ab abs ag ags antibody antibodies antigen antigens igm igg iga ige screen screening test tests testing titer "
    "titers titre pcr naat nat rna dna viral load serology serologies rapid eia elisa ria western blot culture "
    "cultures cx assay combo panel qual quant qualitative quantitative level result results swab smear stool urine "
    "serum blood plasma csf type gen generation st nd rd th third fourth fifth probe amplified nucleic acid ql qn "
    "total study studies stain smear toxin by of for the a an".split())
_COPULA = frozenset("is was were are be been being came come comes back returned returns remains remained still "
                    "reported found to and/or".split())

# A result word closing a test's clause, and what it says of the test's condition.
_RESULTS: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    (NEGATION, _phrases(
        "negative|neg|non reactive|nonreactive|non-reactive|not reactive|not detected|none detected|"
        "undetected|undetectable|not isolated|no growth|normal|within normal limits|wnl|unremarkable|"
        "not found|not seen|absent")),
    (UNCERTAINTY, _phrases(
        "equivocal|indeterminate|inconclusive|pending|sent|awaited|to follow|in process|ordered|"
        "in progress|requested|not yet resulted|not resulted")),
)

# Another person: a kinship or role noun (pyConText's and medspaCy's experiencer lexicon, nouns only).
_PERSON_NOUNS = frozenset(
    "mother mothers mom moms mum mama father fathers dad dads papa parent parents brother brothers sister "
    "sisters sibling siblings son sons daughter daughters grandmother grandmothers grandfather grandfathers "
    "grandparent grandparents grandma grandpa granny grandson granddaughter grandchild grandchildren aunt aunts "
    "uncle uncles cousin cousins niece nieces nephew nephews husband husbands wife wives spouse spouses partner "
    "partners boyfriend girlfriend fiance fiancee relative relatives roommate roommates housemate housemates "
    "classmate classmates schoolmate coworker coworkers co-worker colleague colleagues friend friends neighbor "
    "neighbors neighbour neighbours donor donors recipient caregiver caregivers carer teammate teammates "
    "stepmother stepfather stepbrother stepsister halfbrother halfsister twin twins".split())
# The patient, in a paediatric note, unless someone's ("her baby").
_PATIENT_UNLESS_OWNED = frozenset("child children kid kids baby babies infant infants newborn newborns neonate "
                                  "neonates twin twins toddler".split())
_POSSESSIVE = frozenset("his her their my our your 's patient's pt's".split())
_DETERMINERS = frozenset(
    "the a an his her their my our your this that these those 's older younger elder big little maternal "
    "paternal biological adoptive step half identical fraternal twin first second third one two both other "
    "patient pt patients pt's".split())
# The patient as a clause's subject or object.
_PATIENT = frozenset("he she him her they them patient pt i me we us herself himself themselves".split())
# Reporting and perception verbs: their subject reports, it is not the one who has the condition.
_REPORTING = frozenset(
    "says said say states stated state reports reported report notes noted note notices noticed notice "
    "describes described describe endorses endorsed tells told tell thinks thought think believes believed "
    "feels felt worried worries worry concerned hears heard hear sees saw see observes observed observe "
    "witnessed witnesses complains complained asks asked ask wants wanted requests requested called calls "
    "noticing reporting wonders wondered mentions mentioned adds added confirms confirmed denies denied".split())
# Words that relate a person after the mention to it: "asthma in his brother", "lupus of her sister".
_POSTPOSED = frozenset("in of for".split())


# A section's heading sets its lines' default (medspaCy's sectionizer: patient instructions, immunizations,
# screening and preventive care, pending results, a differential, a relative's section): a heading that names one
# of these, and that the rules' section defaults do not read, is a cue for every mention under it.
_HEAD_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (CONDITIONAL, re.compile(
        r"(?i)\b(?:instructions?|precautions?|immuni[sz]ations?|vaccin\w*|screening|prevent\w*|prophyla\w*|"
        r"health maintenance|education|counsel\w*|warning signs|return (?:if|to)|anticipatory guidance)\b")),
    (UNCERTAINTY, re.compile(r"(?i)\b(?:pending|differential|ddx|rule out|r/o|to exclude|to be ruled out)\b")),
    (PERSON, re.compile(
        r"(?i)\b(?:mother|mom|father|dad|parents?|brother|sister|siblings?|son|daughter|grand\w+|aunt|uncle|"
        r"cousin|husband|wife|spouse|partner|relatives?|donor|caregiver|contacts?|maternal|paternal)\b")),
)


@dataclass(frozen=True)
class Cue:
    """What makes a suggestion wait for a person: the kind of doubt, the words carrying it, and the sentence."""

    kind: str
    words: str
    sentence: str

    def __str__(self) -> str:
        return f'{self.kind}: "{self.words}"'


def _terminators(words: list[str]) -> set[int]:
    """Word indexes that end any scope: ";", NegEx's conjunctions, and the rule set's TERMINATE rules."""
    cut = {k for k, w in enumerate(words) if w == ";" or w in _CONJUNCTIONS}
    for first, _last, rule in assertion._matches(words):
        if rule.direction == "TERMINATE":
            cut.add(first)
    return cut


def _span_len(words: list[str], k: int, phrase: tuple[str, ...]) -> int:
    """How many tokens `phrase` takes from words[k] ("non-reactive": non - reactive), 0 if it does not match."""
    j = k
    for part in phrase:
        pieces = re.split(r"([-/])", part)
        for p in pieces:
            if not p:
                continue
            if j >= len(words) or words[j] != p:
                return 0
            j += 1
    return j - k


def _scope(words: list[str], first: int, last: int, direction: str, cut: set[int],
           window: int = WINDOW) -> tuple[int, int]:
    """The words a trigger at words[first:last] reaches: `window` words in its direction, cut at a terminator."""
    lo = hi = first
    if direction in ("FORWARD", "BIDIRECTIONAL"):
        n, k = 0, last
        while k < len(words) and k not in cut and n < window:
            n += words[k] not in assertion.PUNCT
            k += 1
        hi = k
    else:
        hi = last
    if direction in ("BACKWARD", "BIDIRECTIONAL"):
        n, k = 0, first
        while k > 0 and (k - 1) not in cut and n < window:
            k -= 1
            n += words[k] not in assertion.PUNCT
        lo = k
    return lo, hi


def _clause_start(words: list[str], first: int, cut: set[int]) -> int:
    """Where the mention's clause begins: after a terminator, a colon's label excepted, or an "and"/"," that
    opens a clause with a subject of its own ("..., and his brother has asthma")."""
    k = first
    while k > 0:
        w = words[k - 1]
        if (k - 1) in cut or w in ".!?(" or w in ("who", "whom", "whose", "that", "because", "while", "since"):
            return k
        if w in ("and", ",", "or"):
            j = k
            while j < first and words[j] in _DETERMINERS:
                j += 1
            if j < first and (words[j] in _PATIENT or words[j] in _PERSON_NOUNS):
                return k
        k -= 1
    return 0


def _person(words: list[str], mine: set[int], cut: set[int]) -> tuple[int, int] | None:
    """The words naming another person who is the subject or the possessor of the mention's clause."""
    first, last = min(mine), max(mine) + 1

    def is_person(k: int) -> bool:
        w = words[k]
        if w in _PERSON_NOUNS - _PATIENT_UNLESS_OWNED:
            return True
        return w in _PATIENT_UNLESS_OWNED and k > 0 and words[k - 1] in _POSSESSIVE | {"'s"}

    # Postposed: "asthma in his brother", "breast cancer of her mother", "diabetes in mother".
    k = last
    if k < len(words) and words[k] in _POSTPOSED and k not in cut:
        j = k + 1
        while j < len(words) and words[j] in _DETERMINERS and j - k <= 3:
            j += 1
        if j < len(words) and j - k <= 4 and is_person(j):
            return k, j + 1
    start = _clause_start(words, first, cut)
    # The clause's first noun phrase: determiners and possessives, then its head.
    j = start
    while j < first and (words[j] in _DETERMINERS or words[j] in assertion.PUNCT and words[j] not in ":"
                         or words[j] in "-*" or words[j].isdigit()):
        j += 1
    if j >= first or not is_person(j):
        return None
    head = j
    # "Mother's sister", "Mom's diabetes": the head is the last noun of the possessive chain.
    while head + 2 <= first and words[head + 1] == "'s" and head + 2 < len(words) and is_person(head + 2):
        head += 2
    between = words[head + 1 : first]
    if len([w for w in between if w not in assertion.PUNCT]) > 2 * WINDOW:
        return None
    if any(w in _REPORTING for w in between):
        return None  # the person reports; the report is of the patient
    if any(w in _PATIENT for w in between):
        return None  # the patient is named between: "Mom took him in for wheezing"
    return j, head + 1


def _result(words: list[str], mine: set[int], cut: set[int]) -> tuple[str, int, int] | None:
    """A result word that ends the clause the mention opens, only a test's name standing between."""
    k = max(mine) + 1
    while k < len(words) and k not in cut:
        w = words[k]
        for kind, phrases in _RESULTS:
            for p in phrases:
                n = _span_len(words, k, p)
                if n:
                    # it must close the clause: nothing but punctuation before the next terminator
                    end = k + n
                    if end >= len(words) or words[end] in ",;.!?)" or end in cut:
                        return kind, k, end
        if w in _LAB_WORDS or w in _COPULA or w in ":=-()/" or any(c.isdigit() for c in w):
            k += 1
            continue
        return None
    return None


def review_cue(text: str, spans: Sequence[tuple[int, int]], said: Context,
               names_condition: Callable[[list[str]], bool], attributed: frozenset[str] = frozenset()) -> Cue | None:
    """The first cue of doubt in whose scope the mention written as `spans` of `text` lies and that the rules did
    not attribute, or None.

    `said` is the rules' reading of the mention; `attributed` the cue kinds the suggestion already answers (a
    family-history code answers PERSON, a personal-history code TEMPORAL). `names_condition` is kept for the
    session-12 signature; a scope that holds the mention needs no test of what else it names.
    """
    del names_condition
    start, end = min(a for a, _b in spans), max(b for _a, b in spans)
    s, e = assertion.sentence_around(text, start, end)
    # A label's sentence ("Pertussis PCR:") goes on with its value on the same line ("not detected.").
    while text[s:e].rstrip().endswith(":"):
        line_end = text.find("\n", e)
        line_end = len(text) if line_end < 0 else line_end
        nxt = e + len(text[e:line_end]) - len(text[e:line_end].lstrip())
        if nxt >= line_end:
            break
        e = max(e + 1, assertion.sentence_around(text, nxt, nxt + 1)[1])
    sentence = text[s:e].strip()
    held = set(attributed)
    if said.historical:
        held.add(TEMPORAL)
    if said.family or said.other:
        held.add(PERSON)
    if said.negated:
        held.add(NEGATION)
    if said.possible:
        held.add(UNCERTAINTY)
    if said.hypothetical:
        held.add(CONDITIONAL)
    toks = assertion._tokens(text, s, e)
    words = [w for w, _a, _b in toks]
    mine = {k for k, (_w, a, b) in enumerate(toks) if any(a < pe and b > ps for ps, pe in spans)}
    if not mine:
        return None
    masked = ["\x00" if k in mine else w for k, w in enumerate(words)]
    cut = _terminators(masked)

    def said_words(first: int, last: int) -> str:
        return text[toks[first][1] : toks[min(last, len(toks)) - 1][2]]

    # ConText triggers with the rules' own scopes (attributed by the rules' reading where they reach).
    for mod in assertion._modifiers(masked, assertion._matches(masked, assertion.text_words(text))):
        if mod.rule.direction in ("TERMINATE", "PSEUDO"):
            continue
        kind = _KIND.get(mod.rule.category, "")
        lo, hi = mod.scope
        if kind and kind not in held and any(lo <= k < hi for k in mine):
            return Cue(kind, said_words(mod.first, mod.last), sentence)
    # Wording the rule set reads as a whole (a trigger or pseudo-trigger holding all of a phrase's words: "no
    # increase", "not only") is its own; a shorter rule inside a longer phrase ("not" in "not established") is not.
    ruled = [(first, last) for first, last, rule in assertion._matches(masked, assertion.text_words(text))
             if rule.direction != "TERMINATE"]
    # NegEx's and pyConText's triggers the rule set lacks, in their own scopes.
    for kind, direction, phrases in _EXTRA:
        if kind in held:
            continue
        for k in range(len(masked)):
            if k in mine:
                continue
            for p in phrases:
                n = _span_len(masked, k, p)
                if not n or any(j in mine for j in range(k, k + n)):
                    continue
                if any(first <= k and k + n <= last for first, last in ruled):
                    continue
                lo, hi = _scope(masked, k, k + n, direction, cut)
                if any(lo <= j < hi for j in mine):
                    return Cue(kind, said_words(k, k + n), sentence)
    found = _result(masked, mine, cut)
    if found is not None and found[0] not in held:
        return Cue(RESULT, said_words(found[1], found[2]), sentence)
    if PERSON not in held:
        who = _person(masked, mine, cut)
        if who is not None:
            return Cue(PERSON, said_words(*who), sentence)
    if PREVENTION not in held:
        k = max(mine) + 1
        while k < len(masked) and masked[k] in ("-",):
            k += 1
        if k < len(masked) and masked[k] in _PREVENTION_AFTER:
            return Cue(PREVENTION, said_words(k, k + 1), sentence)
    if QUESTION not in held:
        first, last = min(mine), max(mine) + 1
        on_it = (first > 0 and masked[first - 1] == "?") or (last < len(masked) and masked[last] == "?")
        closing = next((k for k in range(last, len(masked)) if k in cut or masked[k] in ".!?"), len(masked))
        if on_it or (closing < len(masked) and masked[closing] == "?"):
            return Cue(QUESTION, "?", sentence)
    head = assertion.heading_at(text, start)
    if head is not None and not said.heading:
        reporter = any(w in _REPORTING for w, _a, _b in assertion._tokens(head.name))
        for kind, rx in _HEAD_CUES:
            found_head = rx.search(head.name)
            if found_head and kind not in held and not (kind == PERSON and reporter):
                return Cue(kind, f"{head.name}: {found_head.group()}", sentence)
    return None
