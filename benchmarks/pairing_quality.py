"""Pairing quality on the store's needs: flow vs fair vs greedy on the same candidate edges.

``python -m benchmarks.pairing_quality [--k 20] [--json]`` reads the configured store and
index (``make run`` or ``talentmatch sample --load`` + ``talentmatch index build`` first),
ranks candidates once, then solves the same problem with each solver under several load and
demand settings, and prints total score, lowest need score and filled slots per solver.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

SETTINGS = ({"max_load": 3, "demand": 1}, {"max_load": 1, "demand": 1},
            {"max_load": 1, "demand": 2})


def run(k: int = 20) -> dict[str, Any]:
    """Solve the store's pairing problem with every solver under each setting."""
    from api.application import Application
    from api.settings import get_settings
    from matching.assignment import PairingRequest, run_pairing

    wf = Application(get_settings()).workflows()
    needs = wf.open_needs()
    edges, conflicts, _ = wf.candidate_edges(needs, k)
    out: dict[str, Any] = {"needs": len(needs), "edges": len(edges), "k": k,
                           "scorer": wf.matcher.scorer.name,
                           "calibrated": bool(wf.matcher.calibrated), "runs": []}
    for setting in SETTINGS:
        row: dict[str, Any] = dict(setting)
        for solver in ("greedy", "flow", "fair"):
            req = PairingRequest(needs=[n.id for n in needs], edges=edges,
                                 default_load=setting["max_load"],
                                 default_demand=setting["demand"], conflicts=conflicts)
            res = run_pairing(req, solver=solver)
            row[solver] = {"objective": round(float(res.objective), 4),
                           "min_need_score": round(float(res.min_need_score), 4),
                           "pairs": len(res.pairs), "partial": bool(res.partial),
                           "solve_s": round(float(res.duration_s), 4)}
        out["runs"].append(row)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """Print the comparison as JSON."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    print(json.dumps(run(args.k), ensure_ascii=False, indent=None if args.json else 2))


if __name__ == "__main__":  # pragma: no cover
    main()
