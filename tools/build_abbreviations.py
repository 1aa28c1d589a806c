"""Build indexer/data/clinical_abbreviations.tsv from the Vanderbilt sense inventories.

Source: lisavirginia/clinical-abbreviations (CC BY 4.0), Grossman Liu et al., "A deep
database of medical abbreviations and acronyms for natural language processing",
Scientific Data 2021. We keep only each abbreviation's dominant sense (frequency
averaged over the clinic-note and discharge-summary inventories) and only when it
dominates clearly, so expansion helps more often than it misleads.

    .venv/bin/python tools/build_abbreviations.py [SOURCE_DIR]
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "abbreviations"
OUT = REPO / "indexer" / "data" / "clinical_abbreviations.tsv"
FILES = ("vanderbilt_clinic_notes.txt", "vanderbilt_discharge_sums.txt")
MIN_DOMINANCE = 0.6
# Abbreviations that are also everyday English words are never expanded.
ENGLISH = set(
    "a i am an as at be by do go he if in is it me my no of on or so to up us we all are can did "
    "had has her him his how its may not one our out per see she the too two was who why yes you "
    "and any arm art bad bed big cut day dry due ear end eye far fat few fit get hip ill lab lad "
    "law leg lid lip low man men mid new now old pad pan pen pet pop pot pus rag ram rat raw red "
    "rib rod rub sad sat saw set sex sit six ski sky son sun tab tag tan tap tea ten tie tip toe "
    "top toy tub use van vat war wax way wet win air ace age aid aim ale ant ape arc ash ate "
    "bag ban bar bat bay bee bin bit bow box boy bud bug bus but buy cab cam cap car cat cod "
    "cot cow cry cub cue cup dam den dew dig dim dip doc dog dot dub ego elm era eve ewe fan "
    "fee fig fin fir fix flu fly foe fog for fox fun fur gag gap gas gel gem gin gum gut guy "
    "ham hat hay hem hen hid hit hog hop hot hue hug hum hut ice ink inn ion ivy jab jam jar "
    "jaw jet job jog joy jug keg key kid kin kit lag lap lay led let lie lit log lot mad map "
    "mat mix mob mop mud mug nab nag nap net nil nod nor nun nut oak oar oat odd off oil opt "
    "orb ore owe owl own pal pat paw pay pea peg pie pig pin pit ply pod pry pub put ray rid "
    "rim rip rob rot row rug rum run rye sag sap sew shy sip sir sly sow soy spa spy sub "
    "sum tar tax tin ton tot tow try tug urn vet vow wad wag web wig wit woe wok won yak yam "
    "yap yaw yen yet yew zip zoo".split()
)


def build(source: Path) -> list[tuple[str, str, float]]:
    # Senses are grouped by concept (CUI), so "deep vein/venous thrombosis" count as one.
    freq: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    surface: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    files_with: dict[str, int] = defaultdict(int)
    for name in FILES:
        seen: set[str] = set()
        with open(source / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                abbr = (row["abbreviation"] or "").strip().lower().replace("_", "/")
                sense = (row["sense"] or "").strip().lower()
                try:
                    f = float(row["frequency"])
                except (TypeError, ValueError):
                    continue
                if abbr and sense:
                    concept = row["CUI"] if row.get("CUI") not in (None, "", "null") else sense
                    freq[abbr][concept] += f
                    surface[(abbr, concept)][sense] += f
                    seen.add(abbr)
        for abbr in seen:
            files_with[abbr] += 1
    out = []
    for abbr, concepts in sorted(freq.items()):
        concept, total = max(concepts.items(), key=lambda kv: kv[1])
        f = total / files_with[abbr]  # mean over the inventories that list the abbreviation
        sense = max(surface[(abbr, concept)].items(), key=lambda kv: kv[1])[0]
        if f < MIN_DOMINANCE or abbr in ENGLISH or len(abbr) < 2 or sense == abbr:
            continue
        if not any(ch.isalpha() for ch in abbr) or sense.rstrip(".") == abbr:
            continue
        out.append((abbr, sense, round(f, 3)))
    return out


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    rows = build(source)
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        fh.write(
            "# Clinical abbreviations, dominant sense only (built by tools/build_abbreviations.py).\n"
            "# Source: lisavirginia/clinical-abbreviations, CC BY 4.0. Grossman Liu L, et al. A deep database\n"
            "# of medical abbreviations and acronyms for natural language processing. Sci Data 8, 149 (2021).\n"
            "# Columns: abbreviation, sense, frequency of the sense (mean of the Vanderbilt clinic-note and\n"
            "# discharge-summary inventories).\n"
        )
        for abbr, sense, f in rows:
            fh.write(f"{abbr}\t{sense}\t{f}\n")
    print(f"wrote {len(rows)} abbreviations to {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
