"""Dense index choice by measurement (issue #14 item 4): exact search against HNSW and IVF on a
built index's own vectors.

Run: ``python -m benchmarks.bench_ann --root DIR [--queries 100] [--depth 200] [--threads 2]``
over a folder whose ``index/`` holds a built version (e.g. the one ``bench_service`` prepares,
or ``talentmatch index build`` at province scale).

It loads the serving version's talent summary vectors (what the hybrid retriever's dense
stage scans) and its need summary vectors as queries, then times one query at a time:

- **baseline, in the same run**: the exact scan the retriever does today (``X @ q`` and a
  top-``depth`` partition);
- **HNSW** (faiss ``IndexHNSWFlat``, inner product, and ``IndexHNSWSQ`` with 8-bit codes,
  the graph index versions persist: :mod:`embeddings.graph`) at two candidate counts, each
  candidate list re-scored exactly as :class:`embeddings.dense.DenseIndex` does;
- **IVF** (faiss ``IndexIVFFlat``, ``nlist ≈ 4·√n``) at a few ``nprobe``, re-scored the same
  way.

For each it prints build seconds (``--threads`` faiss threads), p50 / p99 query ms (one
thread, as a request gets), and recall@``depth`` against the exact top ``depth``. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _vectors(root: Path) -> tuple[np.ndarray, np.ndarray]:
    from embeddings.persist import VersionedFolder

    current = VersionedFolder(root / "index").current()
    talents = np.ascontiguousarray(np.load(current / "talents" / "summary.npy"), dtype=np.float32)
    needs = np.ascontiguousarray(np.load(current / "needs" / "summary.npy"), dtype=np.float32)
    return talents, needs


def _timed(queries: np.ndarray, search: Callable[[np.ndarray], np.ndarray]
           ) -> tuple[list[np.ndarray], dict[str, float]]:
    search(queries[0])  # first-call costs (page faults, allocations) are not a query's
    found, times = [], []
    for q in queries:
        t0 = time.perf_counter()
        found.append(search(q))
        times.append((time.perf_counter() - t0) * 1000)
    a = np.array(times)
    return found, {"p50_ms": round(float(np.percentile(a, 50)), 2),
                   "p99_ms": round(float(np.percentile(a, 99)), 2)}


def _recall(found: list[np.ndarray], exact: list[np.ndarray]) -> float:
    return round(float(np.mean([len(set(f.tolist()) & set(e.tolist())) / max(len(e), 1)
                                for f, e in zip(found, exact, strict=True)])), 4)


def _rescored(x: np.ndarray, index: Any, depth: int, candidates: int
              ) -> Callable[[np.ndarray], np.ndarray]:
    def search(q: np.ndarray) -> np.ndarray:
        _, cand = index.search(q[None, :], candidates)
        rows = cand[0][cand[0] >= 0]
        exact = x[rows] @ q
        return rows[np.argsort(-exact, kind="stable")[:depth]]
    return search


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, required=True, help="folder with a built index/")
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--depth", type=int, default=200, help="results per query (the pool)")
    p.add_argument("--threads", type=int, default=2, help="faiss threads for building")
    args = p.parse_args(argv)

    import faiss

    x, needs = _vectors(args.root)
    queries = needs[: args.queries]
    n, dim = x.shape
    depth = min(args.depth, n)

    def exact_search(q: np.ndarray) -> np.ndarray:
        s = x @ q
        top = np.argpartition(-s, depth - 1)[:depth]
        return top[np.argsort(-s[top], kind="stable")]

    exact, exact_t = _timed(queries, exact_search)
    out: dict[str, Any] = {"root": str(args.root), "talents": n, "dim": dim,
                           "queries": len(queries), "depth": depth, "cpus": os.cpu_count(),
                           "loadavg": [round(v, 2) for v in os.getloadavg()],
                           "baseline_exact": {**exact_t, "recall": 1.0}}

    for name, make in (
            ("hnsw", lambda: faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)),
            ("hnsw_sq8", lambda: faiss.IndexHNSWSQ(  # what index versions persist
                dim, faiss.ScalarQuantizer.QT_8bit,  # type: ignore[arg-type]
                32, faiss.METRIC_INNER_PRODUCT))):
        faiss.omp_set_num_threads(args.threads)
        t0 = time.perf_counter()
        hnsw = make()
        hnsw.hnsw.efConstruction = 80
        hnsw.train(x)
        hnsw.add(x)
        out[name] = {"m": 32, "ef_construction": 80,
                     "build_s": round(time.perf_counter() - t0, 1), "runs": []}
        faiss.omp_set_num_threads(1)
        for factor in (2, 4):
            cand = min(n, factor * depth)
            hnsw.hnsw.efSearch = max(128, cand)
            found, t = _timed(queries, _rescored(x, hnsw, depth, cand))
            out[name]["runs"].append({"candidates": cand, "ef_search": max(128, cand), **t,
                                      "recall": _recall(found, exact)})

    faiss.omp_set_num_threads(args.threads)
    nlist = max(1, int(4 * math.sqrt(n)))
    t0 = time.perf_counter()
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(x[np.random.default_rng(0).permutation(n)[: min(n, 100 * nlist)]])
    ivf.add(x)
    out["ivf"] = {"nlist": nlist, "build_s": round(time.perf_counter() - t0, 1), "runs": []}
    faiss.omp_set_num_threads(1)
    for nprobe in (8, 32, 64):
        ivf.nprobe = nprobe
        found, t = _timed(queries, _rescored(x, ivf, depth, min(n, 2 * depth)))
        out["ivf"]["runs"].append({"nprobe": nprobe, **t, "recall": _recall(found, exact)})
    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return out


if __name__ == "__main__":
    main()
