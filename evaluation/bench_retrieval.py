"""Retrieval benchmark at library scale: build, warm rebuild, incremental update, query latency.

``python -m evaluation.bench_retrieval --talents 114000 --json`` (or
``talentmatch bench retrieval``) prints one JSON object. Figures are measured in this run and
compared with exact brute force at the same size (numpy ``X @ q`` and faiss IndexFlatIP), so
ratios hold on a noisy machine. Serving latency and memory are measured in a fresh process
that only loads the index and answers queries.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _status_mb(field: str) -> float:
    """One ``/proc/self/status`` memory field (``VmRSS``, ``VmHWM``) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    """Current resident set size of this process in MiB (from /proc)."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB.

    Read from ``VmHWM``, which starts afresh at ``exec``; ``getrusage``'s ``ru_maxrss`` would
    give the serving child its parent's peak (the build's), as the runs before 2026-12-08 did.
    """
    return _status_mb("VmHWM")


def _percentiles(samples: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(samples) * 1000
    return {"p50_ms": round(float(np.percentile(arr, 50)), 2),
            "p99_ms": round(float(np.percentile(arr, 99)), 2),
            "mean_ms": round(float(arr.mean()), 2)}


def _docs(n_talents: int, n_needs: int, seed: int) -> tuple[dict[str, list[Any]], list[str]]:
    from data.sample import generate
    from embeddings.index import Doc
    from embeddings.render import need_text, talent_texts

    data = generate(n_talents=n_talents, n_needs=n_needs, seed=seed)
    talents = []
    for t in data.talents:
        profile, items = talent_texts(t)
        talents.append(Doc(t.id, profile, tuple(items)))
    needs = [Doc(n.id, need_text(n)) for n in data.all_needs()]
    return {"talents": talents, "needs": needs}, [d.profile for d in needs]


def _builder(root: Path, encoder_name: str, threads: int) -> Any:
    from data.taxonomy import load_taxonomy
    from embeddings.encoders import make_encoder
    from embeddings.index import IndexBuilder
    from embeddings.tokenize import Tokenizer
    from embeddings.tokens import TokenCache

    encoder = make_encoder(encoder_name, threads=threads, cache_dir=root / "cache")
    return IndexBuilder(root, encoder, Tokenizer(load_taxonomy().all_terms()),
                        token_cache=TokenCache(root / "cache"))


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t0, 2)


def _changed(docs: list[Any], n: int) -> list[Any]:
    from embeddings.index import Doc

    return [Doc(d.id, d.profile + "；新增方向：数字化转型", d.items) for d in docs[:n]]


def build_phase(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Encoder throughput, full build, warm rebuild and an incremental update."""
    docs, queries = _docs(args.talents, args.needs, args.seed)
    builder = _builder(root, args.encoder, args.threads)
    sample = [d.profile for d in docs["talents"][:2000]]
    _, t_enc = _timed(lambda: builder.encoder.encode(sample))
    out: dict[str, Any] = {
        "talents": len(docs["talents"]), "needs": len(docs["needs"]),
        "talent_items": sum(len(d.items) for d in docs["talents"]),
        "encoder": builder.encoder.id,
        "encoder_texts_per_s": round(len(sample) / t_enc, 1),
        "encoder_mean_chars": round(float(np.mean([len(s) for s in sample])), 1),
    }
    _, out["full_build_s"] = _timed(lambda: builder.build(docs, progress=False))
    _, out["rebuild_warm_s"] = _timed(lambda: builder.build(docs, progress=False))
    for version in builder.folder.list_versions():  # cold index, warm embedding cache
        shutil.rmtree(builder.folder.versions / version)
    _, out["rebuild_warm_cache_only_s"] = _timed(lambda: builder.build(docs, progress=False))
    changed = _changed(docs["talents"], args.changed)
    _, out["incremental_update_s"] = _timed(
        lambda: builder.update({"talents": changed}, {}, progress=False))
    out["incremental_changed"] = len(changed)
    out["build_peak_rss_mb"] = round(peak_rss_mb(), 1)
    (root / "queries.json").write_text(json.dumps(queries[:args.queries], ensure_ascii=False))
    return out


def serve_phase(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Load the index and time hybrid top-50 queries (encoding included) and brute force."""
    import faiss

    queries = json.loads((root / "queries.json").read_text())
    builder = _builder(root, args.encoder, args.threads)
    index, load_s = _timed(builder.load)
    retriever = index.retrievers["talents"]
    for q in queries[:5]:
        retriever.search(q, k=50)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        retriever.search(q, k=50)
        times.append(time.perf_counter() - t0)
    enc_times = []
    for q in queries:
        t0 = time.perf_counter()
        builder.encoder.encode_query(q)
        enc_times.append(time.perf_counter() - t0)
    vectors = np.load(builder.folder.current() / "talents" / "profile.npy")
    qv = np.stack([builder.encoder.encode_query(q) for q in queries[:100]])
    numpy_t, faiss_t = [], []
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    for q in qv:
        t0 = time.perf_counter()
        s = vectors @ q
        np.argpartition(-s, 50)[:50]
        numpy_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        flat.search(q[None, :], 50)
        faiss_t.append(time.perf_counter() - t0)
    del flat, vectors
    return {
        "load_s": load_s,
        "serving_rss_mb": round(rss_mb(), 1),
        "serving_peak_rss_mb": round(peak_rss_mb(), 1),
        "hybrid_top50_with_encoding": _percentiles(times),
        "query_encoding": _percentiles(enc_times),
        "baseline_numpy_exact_profile_top50": _percentiles(numpy_t),
        "baseline_faiss_flatip_profile_top50": _percentiles(faiss_t),
        "n_queries": len(queries),
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run both phases (serving in a child process) and print one JSON object."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--talents", type=int, default=114_000)
    p.add_argument("--needs", type=int, default=300)
    p.add_argument("--changed", type=int, default=1000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--encoder", default=os.environ.get("TALENTMATCH_ENCODER", "use-multilingual"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--root", type=Path, default=None, help="work folder (default: a temp dir)")
    p.add_argument("--phase", choices=["all", "serve"], default="all", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="print JSON only")
    args = p.parse_args(argv)
    root = args.root or Path(tempfile.mkdtemp(prefix="tm-bench-"))
    if args.phase == "serve":
        result = serve_phase(root, args)
        print(json.dumps(result))
        return result
    result = {"bench": "retrieval", "cores": os.cpu_count(), **build_phase(root, args)}
    child = subprocess.run(
        [sys.executable, "-m", "evaluation.bench_retrieval", "--phase", "serve",
         "--root", str(root), "--encoder", args.encoder, "--threads", str(args.threads)],
        capture_output=True, text=True, check=True)
    result.update(json.loads(child.stdout.strip().splitlines()[-1]))
    if args.root is None:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return result


if __name__ == "__main__":  # pragma: no cover
    main()
