"""Fair pairing: lift the worst-served need first, then the total (after FairFlow / FairIR).

Objective, in order: (1) maximise the **min need score** (defined in ``solvers.base``: the mean
score over a need's attainable demand slots, unfilled slots counting 0; for demand 1 the score
of its one edge); (2) fill as many slots as possible; (3) maximise the total score.

Two methods:

* ``exact`` (CP-SAT): the objective above solved to optimality in two stages (max ``z`` with
  ``sum of need i's scores >= target_i * z`` for every need; then, holding ``z``, slots and total).
  Used by ``auto`` when the problem has at most ``exact_max_edges`` eligible edges. ``z`` is in
  integer units of 1/``SCALE``, so the minimum is optimal to within 1/``SCALE``.
* ``threshold`` (FairFlow style, any size): binary search over score values for the highest
  threshold ``t`` at which every need can still fill all its attainable slots using only edges
  scoring at least ``t`` (a max-flow check per step), then a min-cost flow over those edges for
  the total. Exact when every demand is 1; with larger demands it guarantees every slot
  ``>= t`` and hence a min need score ``>= t``, a lower bound on the optimum (measured on
  ``bench_pairing`` shapes with demands 1–3: 0.432 against the exact 0.441 for 500 needs × top-10,
  0.433 against 0.457 for 200 needs × top-10; flow gave 0.417 and 0.414). When loads make it
  impossible to fill every attainable slot, the slots per need are first fixed by the ``flow``
  solution (most slots filled) and the threshold is raised among those.
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

from matching.solvers.base import Problem, Residual, SolveResult, finish, residual, scaled
from matching.solvers.flow import max_flow_value, min_cost_assign

Method = Literal["auto", "exact", "threshold"]


def _slots(problem: Problem, res: Residual, eligible: np.ndarray) -> tuple[np.ndarray, bool]:
    """Slots per need the threshold search must fill, and whether loads cut them down.

    Args:
        problem: the pairing problem.
        res: its residual after forced edges.
        eligible: indices of the eligible edges.

    Returns:
        ``(slots, contended)``.
    """
    slots = np.minimum(res.demand, problem.count_per_need(res.eligible))
    if max_flow_value(problem, eligible, slots, res.load) == slots.sum():
        return slots, False
    base = min_cost_assign(problem, eligible, slots, res.load)
    return np.bincount(problem.need_idx[base], minlength=problem.n_needs).astype(np.int64), True


def _threshold_ceiling(problem: Problem, eligible: np.ndarray, points: np.ndarray,
                       slots: np.ndarray) -> int:
    """The highest threshold worth trying: min over needs of its ``slots``-th best score.

    Args:
        problem: the pairing problem.
        eligible: indices of the eligible edges.
        points: integer scores of those edges.
        slots: slots per need to fill.

    Returns:
        The ceiling, in integer score units.
    """
    needs = problem.need_idx[eligible]
    order = np.lexsort((-points, needs))
    sorted_needs, sorted_points = needs[order], points[order]
    starts = np.searchsorted(sorted_needs, np.arange(problem.n_needs))
    open_needs = np.flatnonzero(slots > 0)
    if len(open_needs) == 0:
        return int(points.max(initial=0))
    return int(sorted_points[starts[open_needs] + slots[open_needs] - 1].min())


def threshold_assign(problem: Problem) -> tuple[np.ndarray, list[str]]:
    """FairFlow-style threshold search (see the module docstring).

    Args:
        problem: the pairing problem.

    Returns:
        ``(chosen edge indices, messages)``.
    """
    res = residual(problem)
    eligible = np.flatnonzero(res.eligible)
    if len(eligible) == 0:
        return np.zeros(0, dtype=np.int64), []
    slots, contended = _slots(problem, res, eligible)
    messages = ["部分需求无法全部满足（对接上限不足），公平求解在可满足的名额内提高最低分。"] if contended else []
    points = scaled(problem.score[eligible])
    values = np.unique(points[points <= _threshold_ceiling(problem, eligible, points, slots)])
    lo, hi = 0, len(values) - 1  # values[lo] (every edge) is feasible by construction
    while lo < hi:
        mid = (lo + hi + 1) // 2
        usable = eligible[points >= values[mid]]
        if max_flow_value(problem, usable, slots, res.load) == slots.sum():
            lo = mid
        else:
            hi = mid - 1
    usable = eligible[points >= values[lo]] if len(values) else eligible
    return min_cost_assign(problem, usable, slots, res.load), messages


class _ExactModel:
    """CP-SAT model of the fair objective over the eligible edges."""

    def __init__(self, problem: Problem) -> None:
        res = residual(problem)
        self.eligible = np.flatnonzero(res.eligible)
        points = scaled(problem.score[self.eligible]).tolist()
        self.model = cp_model.CpModel()
        self.x = [self.model.new_bool_var(f"x{e}") for e in self.eligible.tolist()]
        self.z = self.model.new_int_var(min(0, *points), max(0, *points), "z")
        by_need: list[list[int]] = [[] for _ in range(problem.n_needs)]
        by_talent: list[list[int]] = [[] for _ in range(problem.n_talents)]
        for k, e in enumerate(self.eligible.tolist()):
            by_need[problem.need_idx[e]].append(k)
            by_talent[problem.talent_idx[e]].append(k)
        forced_points = np.bincount(problem.need_idx[res.forced], minlength=problem.n_needs,
                                    weights=scaled(problem.score[res.forced]))
        for i, ks in enumerate(by_need):
            if ks:
                self.model.add(sum(self.x[k] for k in ks) <= int(res.demand[i]))
            if res.target[i] > 0:
                gained = sum(points[k] * self.x[k] for k in ks)
                self.model.add(int(forced_points[i]) + gained >= int(res.target[i]) * self.z)
        for j, ks in enumerate(by_talent):
            if ks:
                self.model.add(sum(self.x[k] for k in ks) <= int(res.load[j]))
        self.count = sum(self.x)
        self.total = sum(p * v for p, v in zip(points, self.x, strict=True))
        self.big = sum(points) + 1

    def solve(self, time_limit_s: float) -> np.ndarray | None:
        """Two-stage solve; ``None`` when either stage is not proven optimal in time.

        Args:
            time_limit_s: limit for each stage.

        Returns:
            Chosen edge indices, or ``None``.
        """
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit_s
        solver.parameters.num_workers = 1
        self.model.maximize(self.z)
        if solver.solve(self.model) != cp_model.OPTIMAL:
            return None
        self.model.add(self.z >= int(solver.value(self.z)))
        self.model.maximize(self.big * self.count + self.total)
        if solver.solve(self.model) != cp_model.OPTIMAL:
            return None
        picked = [k for k, v in enumerate(self.x) if solver.boolean_value(v)]
        return self.eligible[np.asarray(picked, dtype=np.int64)]


class FairSolver:
    """Maximise the lowest need score, then slots filled, then the total."""

    name = "fair"

    def __init__(self, method: Method = "auto", exact_max_edges: int = 1000,
                 time_limit_s: float = 5.0) -> None:
        """Configure the solver.

        Args:
            method: ``auto`` (exact when small, threshold otherwise), ``exact`` or ``threshold``.
            exact_max_edges: largest number of eligible edges ``auto`` solves exactly.
            time_limit_s: CP-SAT time limit per stage; past it the threshold method is used.
        """
        if method not in ("auto", "exact", "threshold"):
            raise ValueError(f"未知的公平求解方法 method={method!r}；可选 auto、exact、threshold")
        self.method = method
        self.exact_max_edges = exact_max_edges
        self.time_limit_s = time_limit_s

    def solve(self, problem: Problem) -> SolveResult:
        """Solve the pairing problem fairly.

        Args:
            problem: the pairing problem.

        Returns:
            The chosen edges (forced ones included).
        """
        started = time.perf_counter()
        n_eligible = int(residual(problem).eligible.sum())
        exact = n_eligible > 0 and (self.method == "exact" or (
            self.method == "auto" and n_eligible <= self.exact_max_edges))
        chosen = _ExactModel(problem).solve(self.time_limit_s) if exact else None
        messages: list[str] = []
        if exact and chosen is None:
            messages.append("精确公平求解未在时限内完成，已改用阈值法（最低分为下界）。")
        if chosen is None:
            chosen, notes = threshold_assign(problem)
            messages.extend(notes)
        return finish(problem, chosen, self.name, started, messages)
