"""Time an upsert of N synthetic talents into a fresh SQLite store, then an identical
re-upsert (all unchanged). Not a test; prints JSON.

    .venv/bin/python tests/bench_store.py [N] [URL]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from factories import make_talent

from data.store import Store


def main(n: int, url: str | None) -> dict[str, float | int | str]:
    """Run the benchmark and return its measurements."""
    url = url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    t0 = time.perf_counter()
    talents = [make_talent(i) for i in range(n)]
    build = time.perf_counter() - t0
    with Store.open(url) as store:
        t0 = time.perf_counter()
        first = store.upsert("talents", talents)
        insert_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = store.upsert("talents", talents)
        reupsert_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        seen = sum(1 for _ in store.iter("talents"))
        iter_s = time.perf_counter() - t0
    assert first.counts["inserted"] == n and again.counts["unchanged"] == n and seen == n
    return {"n": n, "url": url.split("?")[0], "build_records_s": round(build, 2),
            "upsert_insert_s": round(insert_s, 2), "reupsert_unchanged_s": round(reupsert_s, 2),
            "iter_all_s": round(iter_s, 2)}


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 114_000
    print(json.dumps(main(count, sys.argv[2] if len(sys.argv) > 2 else None)))
