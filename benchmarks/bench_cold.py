"""Cold-path benchmark: a cache-miss ``matches`` (a need posted a moment ago), in process.

Run: ``python -m benchmarks.bench_cold --root DIR [--needs 100] [--k 20] [--profile 30]``
over a folder prepared by :mod:`benchmarks.bench_service` (``--root``; e.g. the 114k sample).

It loads :class:`api.application.Application` over ``DIR``, loads the index once (reported
apart), then for ``--needs`` open needs calls ``Workflows.match_need`` — what the service
runs on a match-cache miss — and reports p50/p99 of the whole call (wall, and CPU seconds of
all the process's threads, which another job on a shared machine inflates less), then of its
stages (retrieval, reading the talents, features, rules + score + explanation, the JSON
rows). Pass ``first`` starts with empty talent and facts caches (a need whose candidates were
never read); pass ``again`` asks for the same needs once more (a need edited a moment ago).

Baseline in the same run: ``--reference`` times the per-pair matcher
(:class:`matching.reference.ReferenceMatcher`) against the pooled one on the same inputs and
counts the needs whose results differ. The code before this change runs the same script
with ``PYTHONPATH=<that checkout> python benchmarks/bench_cold.py`` (the stages then read the
store directly). ``--dump FILE`` writes every open need's hits and matches instead, to
compare two checkouts' results (at 114k: all 292 open needs equal, hits and matches).
``--profile N`` prints a cProfile breakdown of N calls (stderr). Prints JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _ms(xs: list[float]) -> dict[str, float]:
    a = np.array(xs) * 1000 if xs else np.zeros(1)
    return {"p50_ms": round(float(np.percentile(a, 50)), 2),
            "p99_ms": round(float(np.percentile(a, 99)), 2),
            "mean_ms": round(float(a.mean()), 2)}


def _timed(into: list[float], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    into.append(time.perf_counter() - t0)
    return out


def _dump(wf: Any, index: Any, k: int, path: Path) -> dict[str, Any]:
    """Every open need's hits (all fields) and ``Workflows.match_need`` result, pickled."""
    import pickle

    from api.workflows import RETRIEVE_K
    from embeddings.render import need_text

    out = {}
    for n in wf.open_needs():
        hits = index.talents_for(need_text(n), k=RETRIEVE_K)
        out[n.id] = ([(h.id, h.score, h.contributions, h.raw, h.ranks) for h in hits],
                     wf.match_need(n.id, k=k))
    path.write_bytes(pickle.dumps(out))
    return {"needs": len(out), "dump": str(path)}


def _rows(res: Any, talents: dict[str, Any]) -> list[dict[str, Any]]:
    from api.workflow_rows import match_dict

    return [match_dict(m, talents.get(m.talent_id)) for m in res.matches]


def _reset(wf: Any) -> None:
    """Empty the record and facts caches (where this checkout has them)."""
    cache = getattr(wf, "talent_cache", None)
    if cache is not None:
        cache.clear()
    facts = getattr(wf.matcher, "facts", None)
    if facts is not None:
        wf.matcher.facts = type(facts)(wf.matcher.tables)


def _pass(wf: Any, index: Any, needs: list[Any], k: int, reset: bool) -> dict[str, Any]:
    """One ``Workflows.match_need`` per need, timed whole, then its stages on the same path.

    The first pass starts with empty record and facts caches (the talents of a new need
    are read and prepared afresh); the second asks for the same needs again.
    """
    from api.typed import many, one
    from api.workflows import RETRIEVE_K
    from data.records import Enterprise, Talent
    from embeddings.render import need_text

    total: list[float] = []
    stages: dict[str, list[float]] = {s: [] for s in
                                      ("retrieve", "talents", "features", "rank", "rows")}
    cache = getattr(wf, "talent_cache", None)  # None: a checkout without it (the baseline)
    cpu: list[float] = []
    for n in needs:
        c0 = time.process_time()
        _timed(total, wf.match_need, n.id, k=k)
        cpu.append(time.process_time() - c0)
    if reset:
        _reset(wf)
    store, matcher = wf.app.store, wf.matcher
    for n in needs:
        hits = _timed(stages["retrieve"], index.talents_for, need_text(n), k=RETRIEVE_K)
        ids = [h.id for h in hits]
        talents = many(Talent, _timed(stages["talents"], cache.get_many, ids)
                       if cache is not None else
                       _timed(stages["talents"], store.get_many, "talents", ids))
        ent = (one(Enterprise, store.get("enterprises", n.enterprise_id))
               if n.enterprise_id else None)
        cands = _timed(stages["features"], matcher.candidates, n, hits, talents, ent)
        res = _timed(stages["rank"], matcher.rank, n, cands, talents, ent, k)
        _timed(stages["rows"], _rows, res, talents)
    return {"match_need": _ms(total), "match_need_cpu": _ms(cpu),
            "stages": {s: _ms(v) for s, v in stages.items()}}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, required=True, help="a folder prepared by bench_service")
    p.add_argument("--needs", type=int, default=100)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--profile", type=int, default=0, help="cProfile this many calls")
    p.add_argument("--dump", type=Path, default=None,
                   help="write every open need's top-200 hits and k matches (pickle) and stop: "
                        "run it with two checkouts' code and compare the files")
    p.add_argument("--reference", action="store_true",
                   help="also time the per-candidate reference path and compare")
    args = p.parse_args(argv)

    from api.application import Application
    from api.settings import Settings

    app = Application(Settings(database_url=f"sqlite:///{args.root / 'tm.db'}",
                               index_dir=args.root / "index"))
    wf = app.workflows()
    t0 = time.perf_counter()
    index = wf.index
    load_s = time.perf_counter() - t0
    if args.dump:
        dumped = _dump(wf, index, args.k, args.dump)
        sys.stdout.write(json.dumps(dumped) + "\n")
        return dumped
    needs = wf.open_needs()[: args.needs]
    wf.match_need(needs[-1].id, k=args.k)  # lazy imports, the tables' caches, BM25 maxima
    _reset(wf)
    passes = {"first": _pass(wf, index, needs, args.k, True),
              "again": _pass(wf, index, needs, args.k, False)}
    out: dict[str, Any] = {
        "root": str(args.root), "talents": len(index.retrievers["talents"].ids),
        "needs": len(needs), "k": args.k, "cpus": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "index_load_s": round(load_s, 2), **passes,
    }
    if args.reference:
        out["reference"] = _reference(wf, needs, args.k)
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for n in needs[: args.profile]:
            wf.match_need(n.id, k=args.k)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(45)
        buf.write("\n")
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(30)
        sys.stderr.write(buf.getvalue())
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return out


def _reference(wf: Any, needs: list[Any], k: int) -> dict[str, Any]:
    """The pooled matcher against the per-pair reference on the same inputs (same clock),
    both cold: talent records read afresh (so the pooled one prepares every talent's facts)
    and the folding cache emptied before each call, in alternating order; and whether both
    give equal results."""
    from datetime import UTC, datetime

    from api.typed import many, one
    from api.workflows import RETRIEVE_K
    from data.records import Enterprise, Talent
    from embeddings.render import need_text
    from matching.matcher import Matcher
    from matching.reference import ReferenceMatcher

    m, now = wf.matcher, datetime.now(UTC)
    new = Matcher(m.tables, m.fused.weights, m.ranker, now, m.rerank_depth)
    ref = ReferenceMatcher(m.tables, m.fused.weights, m.ranker, now, m.rerank_depth)
    times_new: list[float] = []
    times_ref: list[float] = []
    differ = 0
    store = wf.app.store
    from matching.tables import _fold

    for i, n in enumerate(needs):
        hits = wf.index.talents_for(need_text(n), k=RETRIEVE_K)
        talents = many(Talent, store.get_many("talents", [h.id for h in hits]))
        ent = (one(Enterprise, store.get("enterprises", n.enterprise_id))
               if n.enterprise_id else None)
        runs = [(new, times_new), (ref, times_ref)]
        results = []
        for matcher, into in runs if i % 2 else runs[::-1]:
            _fold.cache_clear()  # neither path profits from the other's folded texts
            results.append(_timed(into, matcher.match_need, n, hits, talents, ent, k=k))
        differ += results[0] != results[1]
    return {"matcher_pooled": _ms(times_new), "matcher_per_pair": _ms(times_ref),
            "needs_differing": differ}


if __name__ == "__main__":
    main()
