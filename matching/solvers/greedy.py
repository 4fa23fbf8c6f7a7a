"""Greedy pairing: the baseline the other solvers are compared against.

Edges are taken from the highest score down; an edge is kept when its need still has an open
slot and its talent still has free load. Fast and simple, but popular talents are used up by
the first needs that reach them, so later needs may go short.
"""

from __future__ import annotations

import time

import numpy as np

from matching.solvers.base import Problem, SolveResult, finish, residual


class GreedySolver:
    """Highest score first, while capacities allow (baseline only)."""

    name = "greedy"

    def solve(self, problem: Problem) -> SolveResult:
        """Solve the pairing problem greedily.

        Args:
            problem: the pairing problem.

        Returns:
            The chosen edges (forced ones included).
        """
        started = time.perf_counter()
        res = residual(problem)
        eligible = np.flatnonzero(res.eligible)
        order = eligible[np.argsort(-problem.score[eligible], kind="stable")]
        need_left = res.demand.tolist()
        talent_left = res.load.tolist()
        needs = problem.need_idx[order].tolist()
        talents = problem.talent_idx[order].tolist()
        chosen = []
        for edge, i, j in zip(order.tolist(), needs, talents, strict=True):
            if need_left[i] > 0 and talent_left[j] > 0:
                need_left[i] -= 1
                talent_left[j] -= 1
                chosen.append(edge)
        return finish(problem, np.asarray(chosen, dtype=np.int64), self.name, started)
