"""What it costs a search to ask which of its hits under the weak floor hold the query's words.

`archive.search._weak_marked` leaves unmarked a hit under the floor that holds every word of the query. When
the words' side listed every holder (fewer than the search's limit) that is free; when many records hold the
words, the hits under the floor are looked up (`indexer.fts.holding_among`). This script builds a full-text
index (the real one: `vault.db.open_index`, the schema's migrations, `fts.index_row`) of N records that all
hold one word, and times the look-up of 20 of them both ways, in the same run:

- baseline: the match filtered by a join on the records (`r.n IN json_each(...)`: FTS5 reads the word's whole
  doclist, every record holding it);
- `holding_among`: one statement a record, `rowid = ?`, which FTS5 seeks to.

    PYTHONPATH=. python bench/weak_holders.py [--records 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    from archive.store.schema import MIGRATIONS
    from indexer import fts
    from vault.db import migrate, open_index, transaction

    rng = random.Random(14)
    vocabulary = [f"term{i}" for i in range(5000)]
    with tempfile.TemporaryDirectory() as tmp:
        db = open_index(Path(tmp) / "i.db", secrets.token_bytes(32), create=True)
        migrate(db, MIGRATIONS)
        t0 = time.perf_counter()
        with transaction(db):
            for n in range(1, args.records + 1):
                rid = f"r{n:012x}"
                db.execute("INSERT INTO records (n, id, blob_id, filename, format, doc_type, size, status, imported_at)"
                           " VALUES (?, ?, ?, ?, 'text', 'note', 1, 'needs_filing', '2024-01-01')",
                           [n, rid, rid * 5, f"{rid}.txt"])
                fts.index_row(db, n, title=None, filename=f"{rid}.txt",
                              text="hypertension " + " ".join(rng.choices(vocabulary, k=40)), meta="note")
        built = time.perf_counter() - t0
        asked = rng.sample(range(1, args.records + 1), 20)

        def baseline() -> set[int]:
            sql = (f"SELECT f.rowid FROM {fts.TABLE} f CROSS JOIN records r ON r.n = f.rowid WHERE {fts.TABLE} MATCH ?"
                   " AND r.n IN (SELECT value FROM json_each(?)) LIMIT ?")
            return {int(r[0]) for r in db.execute(sql, [fts.parse_query("hypertension"), json.dumps(sorted(asked)),
                                                        len(asked)])}

        def seeks() -> set[int]:
            return {n for n, _rid in fts.holding_among(db, "hypertension", asked)}

        assert baseline() == seeks() == set(asked)
        times: dict[str, list[float]] = {"join filter": [], "rowid seeks": []}
        for _ in range(args.repeat):
            for name, fn in (("join filter", baseline), ("rowid seeks", seeks)):
                t = time.perf_counter()
                fn()
                times[name].append((time.perf_counter() - t) * 1000)
        db.conn.close()
    load = os.getloadavg()
    print(f"{args.records:,} records holding the word (index built in {built:.0f} s), 20 looked up, "
          f"{args.repeat} runs, load {load[0]:.1f}")
    base = statistics.median(times["join filter"])
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:12} median {med:7.2f} ms  max {max(values):7.2f} ms  ratio {med / base:.3f}")


if __name__ == "__main__":
    main()
