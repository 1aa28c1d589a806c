"""Worker for `bench/coding.py --tree PATH`: the categories another source tree's suggester gives each text.

    python bench/coding_worker.py TREE < texts.json > categories.json

TREE is a checkout of this project at another commit (e.g. `git archive be9f2bc | tar -x -C /tmp/pre22`);
its archive, indexer and vault packages are imported instead of this tree's. Reads a JSON list of texts,
writes a JSON list of category lists (distinct first three characters of the top 10 suggestions, in order).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path


def main() -> None:
    tree = str(Path(sys.argv[1]).resolve())
    sys.path.insert(0, tree)
    from archive.store.schema import MIGRATIONS
    from indexer import icd10
    from indexer.code_match import matcher_for
    from indexer.code_suggest import suggest_codes
    from vault.db import migrate, open_index

    texts = json.load(sys.stdin)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        db = open_index(Path(tmp) / "index.db", b"\x01" * 32, create=True)
        migrate(db, MIGRATIONS)
        icd10.ensure_loaded(db)
        matcher = matcher_for(db)
        for text in texts:
            cats: list[str] = []
            for s in suggest_codes(db, text, limit=10, matcher=matcher):
                if s.code[:3] not in cats:
                    cats.append(s.code[:3])
            out.append(cats)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
