"""What every pairing solver sees (matrices only) and what it returns.

The encoder (``matching.assignment``) turns ids, scores, conflicts, loads and demands into a
:class:`Problem` of sparse edge arrays; a solver picks a subset of edges; the encoder decodes the
picked edges back into (need id, talent id, score) pairs. Solvers never see ids.

Shared definitions, used by every solver, the tests and the benchmark:

* **Edge flags**: ``0`` candidate, ``-1`` forbidden (a conflict: never assigned), ``+1``
  forced (always assigned, before anything else; it uses one slot of the need's demand and one
  unit of the talent's load).
* **Target** of a need: ``min(demand, forced edges + eligible edges)``: the demand it could
  reach if it had every candidate to itself. A need whose target is below its demand is short
  whatever the solver does.
* **Need score**: the sum of the scores of the need's assigned edges divided by its target,
  i.e. the mean over its attainable demand slots, an unfilled slot counting 0. For a need of
  demand 1 it is simply the score of its one edge (0 when it gets none). Needs with target 0 are
  left out of the minimum. **Min need score** is the minimum of need scores.
* **Objective** is the total score of the assigned edges (forced ones included).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

FORBIDDEN = -1
CANDIDATE = 0
FORCED = 1

SCALE = 10_000
"""Scores are turned into integer costs as ``round(score * SCALE)``."""


@dataclass(frozen=True)
class Problem:
    """A pairing problem as sparse matrices: ``E`` edges between ``N`` needs and ``T`` talents.

    Attributes:
        need_idx: (E,) int, the need row of each edge.
        talent_idx: (E,) int, the talent column of each edge.
        score: (E,) float, the edge score (higher is better, non-negative).
        flag: (E,) int8, ``-1`` forbidden, ``0`` candidate, ``+1`` forced.
        demand: (N,) int, how many talents each need asks for (forced pairs included).
        load: (T,) int, the maximum number of needs each talent may be paired with.
    """

    need_idx: np.ndarray
    talent_idx: np.ndarray
    score: np.ndarray
    flag: np.ndarray
    demand: np.ndarray
    load: np.ndarray

    @property
    def n_needs(self) -> int:
        """Number of needs (rows)."""
        return len(self.demand)

    @property
    def n_talents(self) -> int:
        """Number of talents (columns)."""
        return len(self.load)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.score)

    def count_per_need(self, mask: np.ndarray) -> np.ndarray:
        """How many of the masked edges each need has.

        Args:
            mask: (E,) bool.

        Returns:
            (N,) int64 counts.
        """
        return np.bincount(self.need_idx[mask], minlength=self.n_needs).astype(np.int64)

    def count_per_talent(self, mask: np.ndarray) -> np.ndarray:
        """How many of the masked edges each talent has.

        Args:
            mask: (E,) bool.

        Returns:
            (T,) int64 counts.
        """
        return np.bincount(self.talent_idx[mask], minlength=self.n_talents).astype(np.int64)


@dataclass(frozen=True)
class Residual:
    """What is left to decide once forced edges are placed.

    Attributes:
        forced: (E,) bool, edges that are assigned whatever happens.
        eligible: (E,) bool, edges a solver may choose (candidates, not forced, not forbidden).
        demand: (N,) int64, slots still open per need (never negative).
        load: (T,) int64, capacity still free per talent (never negative).
        target: (N,) int64, see the module docstring.
    """

    forced: np.ndarray
    eligible: np.ndarray
    demand: np.ndarray
    load: np.ndarray
    target: np.ndarray


def residual(problem: Problem) -> Residual:
    """Place the forced edges and return the remaining capacities.

    Args:
        problem: the pairing problem.

    Returns:
        The :class:`Residual` (forced mask, eligible mask, open demand, free load, target).
    """
    forced = problem.flag == FORCED
    eligible = problem.flag == CANDIDATE
    n_forced = problem.count_per_need(forced)
    demand = np.maximum(problem.demand.astype(np.int64) - n_forced, 0)
    load = np.maximum(problem.load.astype(np.int64) - problem.count_per_talent(forced), 0)
    target = np.minimum(problem.demand.astype(np.int64), n_forced + problem.count_per_need(eligible))
    return Residual(forced, eligible, demand, load, target)


def scaled(score: np.ndarray) -> np.ndarray:
    """Integer version of scores for the integer solvers.

    Args:
        score: float scores.

    Returns:
        int64 ``round(score * SCALE)``.
    """
    return np.rint(np.asarray(score, dtype=np.float64) * SCALE).astype(np.int64)


def need_scores(problem: Problem, assigned: np.ndarray) -> np.ndarray:
    """Per-need score as defined in the module docstring.

    Args:
        problem: the pairing problem.
        assigned: int edge indices that are assigned.

    Returns:
        (N,) float64; ``nan`` for needs whose target is 0.
    """
    target = residual(problem).target
    total = np.bincount(problem.need_idx[assigned], weights=problem.score[assigned],
                        minlength=problem.n_needs)
    out = np.full(problem.n_needs, np.nan)
    has = target > 0
    out[has] = total[has] / target[has]
    return out


def min_need_score(problem: Problem, assigned: np.ndarray) -> float:
    """The minimum need score (0.0 when no need has a positive target).

    Args:
        problem: the pairing problem.
        assigned: int edge indices that are assigned.

    Returns:
        The minimum over needs with a positive target.
    """
    scores = need_scores(problem, assigned)
    scores = scores[~np.isnan(scores)]
    return float(scores.min()) if len(scores) else 0.0


@dataclass
class SolveResult:
    """A solver's answer, still in matrix form.

    Attributes:
        assigned: int64 indices of the assigned edges (forced edges included), sorted.
        objective: total score of the assigned edges.
        min_need_score: see the module docstring.
        unmet: (N,) int64, demand slots left unfilled per need.
        solver: the solver's name.
        duration_s: wall time of ``solve`` in seconds.
        messages: notes from the solver (plain Chinese where users read them).
    """

    assigned: np.ndarray
    objective: float
    min_need_score: float
    unmet: np.ndarray
    solver: str
    duration_s: float
    messages: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """Whether some need did not get its full demand."""
        return bool(self.unmet.sum() > 0)


def finish(problem: Problem, assigned: np.ndarray, solver: str, started: float,
           messages: list[str] | None = None) -> SolveResult:
    """Wrap chosen edges (forced ones added) into a :class:`SolveResult`.

    Args:
        problem: the pairing problem.
        assigned: edge indices chosen by the solver (forced edges may be absent).
        solver: the solver's name.
        started: ``time.perf_counter()`` at the start of ``solve``.
        messages: solver notes.

    Returns:
        The result with objective, min need score and unmet demand filled in.
    """
    forced = np.flatnonzero(problem.flag == FORCED)
    chosen = np.union1d(np.asarray(assigned, dtype=np.int64), forced).astype(np.int64)
    mask = np.zeros(problem.n_edges, dtype=bool)
    mask[chosen] = True
    got = problem.count_per_need(mask)
    unmet = np.maximum(problem.demand.astype(np.int64) - got, 0)
    return SolveResult(
        assigned=chosen,
        objective=float(problem.score[chosen].sum()),
        min_need_score=min_need_score(problem, chosen),
        unmet=unmet,
        solver=solver,
        duration_s=time.perf_counter() - started,
        messages=list(messages or []),
    )


@runtime_checkable
class Solver(Protocol):
    """A pairing solver: matrices in, chosen edges out."""

    name: str

    def solve(self, problem: Problem) -> SolveResult:
        """Choose edges respecting flags, demands and loads.

        Args:
            problem: the pairing problem.

        Returns:
            The chosen edges and their summary.
        """
        ...
