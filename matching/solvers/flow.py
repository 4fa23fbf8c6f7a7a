"""Min-cost flow pairing (OR-Tools ``SimpleMinCostFlow``).

The network: each need node supplies its open demand; an arc need → talent per eligible edge
(capacity 1, cost ``max_score - score`` in integer units of 1/``SCALE``); an arc talent → sink
with the talent's free load. ``solve_max_flow_with_min_cost`` then sends as much flow as the
network allows at minimum cost, which is the same as giving every unmet demand slot a dummy arc
whose cost exceeds any score gain: **first as many demand slots as possible are filled, then the
total score is maximised**. Unfillable slots simply stay unfilled, so the solve is always
feasible and a short need shows up as unmet demand (a partial result).

Forced edges are placed before the flow (they use up demand and load); forbidden edges are not
in the network at all.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from matching.solvers.base import Problem, SolveResult, finish, residual, scaled


def _network(problem: Problem, edges: np.ndarray,
             talent_cap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Tails, heads and capacities of the bipartite network (edge arcs first).

    Args:
        problem: the pairing problem.
        edges: indices of the edges to put in the network.
        talent_cap: (T,) free load per talent.

    Returns:
        ``(tails, heads, capacities, sink)``; needs are nodes ``0..N-1``, talents ``N..N+T-1``,
        the sink is ``N+T``. Arc ``k < len(edges)`` is edge ``edges[k]``.
    """
    n, t = problem.n_needs, problem.n_talents
    sink = n + t
    talents = np.arange(t, dtype=np.int32)
    tails = np.concatenate([problem.need_idx[edges].astype(np.int32), talents + n])
    heads = np.concatenate([problem.talent_idx[edges].astype(np.int32) + n,
                            np.full(t, sink, dtype=np.int32)])
    caps = np.concatenate([np.ones(len(edges), dtype=np.int64), talent_cap.astype(np.int64)])
    return tails, heads, caps, sink


def min_cost_assign(problem: Problem, edges: np.ndarray, need_cap: np.ndarray,
                    talent_cap: np.ndarray) -> np.ndarray:
    """Fill as many slots as possible, then maximise the total score, over the given edges.

    Args:
        problem: the pairing problem (for endpoints and scores).
        edges: int indices of the edges allowed (must not repeat a need–talent pair).
        need_cap: (N,) slots each need may still take.
        talent_cap: (T,) load each talent may still take.

    Returns:
        int64 indices (into the problem's edges) of the chosen edges.

    Raises:
        RuntimeError: when OR-Tools reports anything but an optimal solve.
    """
    edges = np.asarray(edges, dtype=np.int64)
    if len(edges) == 0 or need_cap.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    tails, heads, caps, sink = _network(problem, edges, talent_cap)
    points = scaled(problem.score[edges])
    costs = np.concatenate([points.max() - points, np.zeros(problem.n_talents, dtype=np.int64)])
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    nodes = np.arange(problem.n_needs + 1, dtype=np.int32)
    nodes[-1] = sink
    supplies = np.concatenate([need_cap.astype(np.int64), [-int(need_cap.sum())]])
    smcf.set_nodes_supplies(nodes, supplies)
    status = smcf.solve_max_flow_with_min_cost()
    if status != smcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: status {status}")
    flows = np.asarray(smcf.flows(np.arange(len(edges), dtype=np.int32)))
    return edges[flows > 0]


def max_flow_value(problem: Problem, edges: np.ndarray, need_cap: np.ndarray,
                   talent_cap: np.ndarray) -> int:
    """The largest number of slots fillable with the given edges (OR-Tools ``SimpleMaxFlow``).

    Args:
        problem: the pairing problem.
        edges: int indices of the edges allowed.
        need_cap: (N,) slots each need may still take.
        talent_cap: (T,) load each talent may still take.

    Returns:
        The maximum flow.

    Raises:
        RuntimeError: when OR-Tools reports anything but an optimal solve.
    """
    edges = np.asarray(edges, dtype=np.int64)
    if len(edges) == 0 or need_cap.sum() == 0:
        return 0
    tails, heads, caps, sink = _network(problem, edges, talent_cap)
    source = sink + 1
    needs = np.arange(problem.n_needs, dtype=np.int32)
    mf = max_flow.SimpleMaxFlow()
    mf.add_arcs_with_capacity(np.concatenate([tails, np.full(len(needs), source, np.int32)]),
                              np.concatenate([heads, needs]),
                              np.concatenate([caps, need_cap.astype(np.int64)]))
    status = mf.solve(source, sink)
    if status != mf.OPTIMAL:
        raise RuntimeError(f"max flow failed: status {status}")
    return int(mf.optimal_flow())


class FlowSolver:
    """Most slots filled, then the highest total score (min-cost flow)."""

    name = "flow"

    def solve(self, problem: Problem) -> SolveResult:
        """Solve the pairing problem.

        Args:
            problem: the pairing problem.

        Returns:
            The chosen edges (forced ones included); partial when some demand stays unmet.
        """
        started = time.perf_counter()
        res = residual(problem)
        chosen = min_cost_assign(problem, np.flatnonzero(res.eligible), res.demand, res.load)
        return finish(problem, chosen, self.name, started)
