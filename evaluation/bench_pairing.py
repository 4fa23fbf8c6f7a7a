"""Pairing solver benchmark on a random but realistic shape, printed as JSON.

Run: ``python -m evaluation.bench_pairing [--experts 114000] [--needs 5000] [--k 50] [--json]``.

Candidate edges imitate a retrieval step: each need gets its top-``k`` talents, drawn half from a
Zipf-like popularity (so a few experts are near the top for many needs) and half uniformly;
a score mixes the talent's overall strength (higher for popular talents) with need-specific
relevance. Demands are 1 (80 %), 2 (15 %) or 3 (5 %); every talent's load is 3 (``--load``). Each solver's
time is its ``solve`` only (candidate generation and encoding are timed apart); ``greedy`` is
the baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from matching.assignment import CandidateEdges, PairingRequest, encode
from matching.solvers import make_solver
from matching.solvers.base import Problem, SolveResult


def make_candidates(n_experts: int, n_needs: int, k: int, seed: int = 0) -> CandidateEdges:
    """Random top-k candidate edges with popular experts.

    Args:
        n_experts: number of talents.
        n_needs: number of needs.
        k: candidates per need.
        seed: random seed.

    Returns:
        The edges (ids ``N000001`` / ``T000001``), ``n_needs * k`` of them at most.
    """
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_experts + 1) ** 1.1
    popularity /= popularity.sum()
    strength = 0.35 + 0.5 * np.sqrt(popularity / popularity.max()) + rng.normal(0, 0.05, n_experts)
    draws = np.concatenate([rng.choice(n_experts, size=(n_needs, k), p=popularity),
                            rng.integers(0, n_experts, size=(n_needs, 2 * k))], axis=1)
    needs, talents, scores = [], [], []
    for i, row in enumerate(draws):
        pool = np.unique(row)
        score = np.clip(0.7 * strength[pool] + 0.3 * rng.beta(2, 4, len(pool)), 0, 1)
        top = np.argsort(-score)[:k]
        needs.append(np.full(len(top), i))
        talents.append(pool[top])
        scores.append(np.round(score[top], 4))
    need = np.concatenate(needs)
    talent = np.concatenate(talents)
    return CandidateEdges(np.char.add("N", np.char.zfill(need.astype(str), 6)).astype(object),
                          np.char.add("T", np.char.zfill(talent.astype(str), 6)).astype(object),
                          np.concatenate(scores))


def make_request(n_experts: int, n_needs: int, k: int, seed: int = 0,
                 load: int = 3) -> PairingRequest:
    """A benchmark request (see the module docstring).

    Args:
        n_experts: number of talents.
        n_needs: number of needs.
        k: candidates per need.
        seed: random seed.
        load: every talent's maximum load.

    Returns:
        The request.
    """
    edges = make_candidates(n_experts, n_needs, k, seed)
    rng = np.random.default_rng(seed + 1)
    need_ids = [f"N{i:06d}" for i in range(n_needs)]
    demand = rng.choice([1, 2, 3], size=n_needs, p=[0.8, 0.15, 0.05])
    return PairingRequest(needs=need_ids, edges=edges, default_load=load,
                          demands={nid: int(d) for nid, d in zip(need_ids, demand, strict=True)
                                   if d != 1})


def summarise(problem: Problem, result: SolveResult) -> dict[str, Any]:
    """The numbers reported per solver.

    Args:
        problem: the solved problem.
        result: the solver's result.

    Returns:
        Time, objective, minimum need score, slots filled and unmet.
    """
    return {
        "time_s": round(result.duration_s, 3),
        "objective": round(result.objective, 4),
        "min_need_score": round(result.min_need_score, 4),
        "filled": len(result.assigned),
        "unmet": int(result.unmet.sum()),
        "partial": result.partial,
        "demand": int(problem.demand.sum()),
    }


def run(n_experts: int, n_needs: int, k: int, solvers: Sequence[str], seed: int = 0,
        load: int = 3) -> dict[str, Any]:
    """Generate, encode and solve with each solver.

    Args:
        n_experts: number of talents.
        n_needs: number of needs.
        k: candidates per need.
        solvers: solver names.
        seed: random seed.
        load: every talent's maximum load.

    Returns:
        The report (JSON-ready).
    """
    started = time.perf_counter()
    request = make_request(n_experts, n_needs, k, seed, load)
    generated = time.perf_counter()
    enc = encode(request)
    encoded = time.perf_counter()
    report: dict[str, Any] = {
        "shape": {"experts": n_experts, "needs": n_needs, "k": k, "load": load, "edges": enc.problem.n_edges,
                  "talents_with_edges": enc.problem.n_talents},
        "generate_s": round(generated - started, 3),
        "encode_s": round(encoded - generated, 3),
        "baseline": "greedy",
        "solvers": {},
    }
    for name in solvers:
        report["solvers"][name] = summarise(enc.problem, make_solver(name).solve(enc.problem))
    base = report["solvers"].get("greedy")
    if base:
        for stats in report["solvers"].values():
            stats["objective_vs_greedy"] = round(stats["objective"] / max(base["objective"], 1e-9), 4)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: arguments (``sys.argv[1:]`` when ``None``).

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=114_000)
    parser.add_argument("--needs", type=int, default=5_000)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--load", type=int, default=3, help="every talent's maximum load")
    parser.add_argument("--solvers", default="greedy,flow,fair")
    parser.add_argument("--json", action="store_true", help="one JSON line instead of indented")
    args = parser.parse_args(argv)
    report = run(args.experts, args.needs, args.k, args.solvers.split(","), args.seed,
                 args.load)
    json.dump(report, sys.stdout, ensure_ascii=False, indent=None if args.json else 2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
