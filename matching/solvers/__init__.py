"""Pairing solvers (资智结对): matrices in, chosen edges out.

Use :func:`make_solver` with a name from :data:`SOLVERS`; an unknown name raises instead of
falling back silently. ``matching.assignment`` encodes ids into a :class:`Problem` and decodes
the :class:`SolveResult` back into pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matching.solvers.base import Problem, Solver, SolveResult
from matching.solvers.fair import FairSolver
from matching.solvers.flow import FlowSolver
from matching.solvers.greedy import GreedySolver

SOLVERS: dict[str, Callable[..., Solver]] = {
    "flow": FlowSolver,
    "fair": FairSolver,
    "greedy": GreedySolver,
}


def make_solver(name: str, **options: Any) -> Solver:
    """Build a solver by name.

    Args:
        name: one of ``flow``, ``fair``, ``greedy``.
        **options: passed to the solver's constructor (e.g. ``method="exact"`` for ``fair``).

    Returns:
        The solver.

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    try:
        factory = SOLVERS[name]
    except KeyError:
        known = "、".join(SOLVERS)
        raise ValueError(f"未知的结对求解器 solver={name!r}；可选：{known}") from None
    return factory(**options)


__all__ = ["SOLVERS", "FairSolver", "FlowSolver", "GreedySolver", "Problem", "SolveResult",
           "Solver", "make_solver"]
