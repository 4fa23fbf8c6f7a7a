"""Pairing solvers on tiny hand-built matrices, checked against brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from matching.solvers import SOLVERS, make_solver
from matching.solvers.base import FORBIDDEN, FORCED, Problem, SolveResult
from matching.solvers.fair import FairSolver


def problem(edges: list[tuple[int, int, float, int]], demand: list[int], load: list[int]) -> Problem:
    """Build a problem from ``(need, talent, score, flag)`` rows."""
    need, talent, score, flag = zip(*edges, strict=True) if edges else ((), (), (), ())
    return Problem(np.asarray(need, dtype=np.int64), np.asarray(talent, dtype=np.int64),
                   np.asarray(score, dtype=np.float64), np.asarray(flag, dtype=np.int8),
                   np.asarray(demand, dtype=np.int64), np.asarray(load, dtype=np.int64))


def random_problem(seed: int, max_demand: int = 2) -> Problem:
    """A tiny random problem with 2-decimal scores, some conflicts and maybe a forced pair."""
    rng = np.random.default_rng(seed)
    n, t = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    rows: list[tuple[int, int, float, int]] = []
    for i, j in itertools.product(range(n), range(t)):
        if rng.random() < 0.65 and len(rows) < 12:
            flag = FORBIDDEN if rng.random() < 0.1 else 0
            rows.append((i, j, float(rng.integers(5, 101)) / 100, flag))
    if rows and rng.random() < 0.3:
        k = int(rng.integers(len(rows)))
        rows[k] = (*rows[k][:3], FORCED)
    demand = rng.integers(1, max_demand + 1, n).tolist()
    load = rng.integers(1, 3, t).tolist()
    return problem(rows, demand, load)


def feasible_subsets(p: Problem) -> list[np.ndarray]:
    """Every feasible assignment (forced edges included) by enumeration."""
    forced = np.flatnonzero(p.flag == FORCED)
    free = np.flatnonzero(p.flag == 0)
    need_cap = p.demand - np.bincount(p.need_idx[forced], minlength=p.n_needs)
    talent_cap = p.load - np.bincount(p.talent_idx[forced], minlength=p.n_talents)
    out = []
    for bits in itertools.product([False, True], repeat=len(free)):
        chosen = free[np.asarray(bits, dtype=bool)] if len(free) else free
        if (np.bincount(p.need_idx[chosen], minlength=p.n_needs) <= np.maximum(need_cap, 0)).all() and (
                np.bincount(p.talent_idx[chosen], minlength=p.n_talents) <= np.maximum(talent_cap, 0)).all():
            out.append(np.concatenate([forced, chosen]))
    return out


def brute_min_score(p: Problem, chosen: np.ndarray) -> float:
    """Min need score, written out independently of ``solvers.base``."""
    usable = (p.flag != FORBIDDEN)
    worst = None
    for i in range(p.n_needs):
        target = min(int(p.demand[i]), int((usable & (p.need_idx == i)).sum()))
        if target == 0:
            continue
        value = sum(p.score[e] for e in chosen if p.need_idx[e] == i) / target
        worst = value if worst is None else min(worst, value)
    return 0.0 if worst is None else float(worst)


def assert_valid(p: Problem, r: SolveResult) -> None:
    """Every load, demand, conflict and forced pair holds."""
    chosen = r.assigned
    assert len(set(chosen.tolist())) == len(chosen)
    assert not (p.flag[chosen] == FORBIDDEN).any()
    assert set(np.flatnonzero(p.flag == FORCED).tolist()) <= set(chosen.tolist())
    forced = p.flag == FORCED
    per_need = np.bincount(p.need_idx[chosen], minlength=p.n_needs)
    per_talent = np.bincount(p.talent_idx[chosen], minlength=p.n_talents)
    assert (per_need <= np.maximum(p.demand, p.count_per_need(forced))).all()
    assert (per_talent <= np.maximum(p.load, p.count_per_talent(forced))).all()
    assert r.objective == pytest.approx(p.score[chosen].sum())
    assert (r.unmet == np.maximum(p.demand - per_need, 0)).all()


@pytest.mark.parametrize("seed", range(40))
def test_flow_reaches_brute_force_optimum(seed: int) -> None:
    p = random_problem(seed)
    r = make_solver("flow").solve(p)
    assert_valid(p, r)
    best = max((len(c), round(float(p.score[c].sum()), 6)) for c in feasible_subsets(p))
    assert (len(r.assigned), round(r.objective, 6)) == best


@pytest.mark.parametrize("seed", range(40))
def test_fair_reaches_best_minimum(seed: int) -> None:
    p = random_problem(seed)
    r = make_solver("fair").solve(p)  # auto: exact on tiny problems
    assert_valid(p, r)
    best = max((round(brute_min_score(p, c), 6), len(c), round(float(p.score[c].sum()), 6))
               for c in feasible_subsets(p))
    assert r.min_need_score == pytest.approx(brute_min_score(p, r.assigned))
    assert (round(r.min_need_score, 6), len(r.assigned), round(r.objective, 6)) == best


@pytest.mark.parametrize("seed", range(40))
def test_fair_threshold_exact_for_unit_demand(seed: int) -> None:
    p = random_problem(seed, max_demand=1)
    r = FairSolver(method="threshold").solve(p)
    assert_valid(p, r)
    best = max(round(brute_min_score(p, c), 6) for c in feasible_subsets(p))
    assert round(r.min_need_score, 6) == best


@pytest.mark.parametrize("seed", range(20))
def test_fair_threshold_valid_for_larger_demand(seed: int) -> None:
    p = random_problem(seed, max_demand=3)
    r = FairSolver(method="threshold").solve(p)
    assert_valid(p, r)
    assert r.min_need_score <= max(brute_min_score(p, c) for c in feasible_subsets(p)) + 1e-9


@pytest.mark.parametrize("seed", range(20))
def test_greedy_is_valid_and_never_beats_flow(seed: int) -> None:
    p = random_problem(seed)
    g = make_solver("greedy").solve(p)
    f = make_solver("flow").solve(p)
    assert_valid(p, g)
    assert (len(g.assigned), g.objective) <= (len(f.assigned), f.objective + 1e-9)


def test_flow_serves_more_needs_than_greedy() -> None:
    # need 0: X .9, Y .8; need 1: X .85 only; every load 1
    p = problem([(0, 0, 0.9, 0), (0, 1, 0.8, 0), (1, 0, 0.85, 0)], [1, 1], [1, 1])
    g = make_solver("greedy").solve(p)
    f = make_solver("flow").solve(p)
    assert g.partial and g.assigned.tolist() == [0]
    assert not f.partial and sorted(f.assigned.tolist()) == [1, 2]
    assert f.objective == pytest.approx(1.65)


def test_fair_trades_total_for_the_worst_need() -> None:
    # need 0: X 1.0, Y .5; need 1: X .45, Y .05. Flow: 0-X + 1-Y (1.05, min .05);
    # fair: 0-Y + 1-X (0.95, min .45).
    p = problem([(0, 0, 1.0, 0), (0, 1, 0.5, 0), (1, 0, 0.45, 0), (1, 1, 0.05, 0)], [1, 1], [1, 1])
    f = make_solver("flow").solve(p)
    assert sorted(f.assigned.tolist()) == [0, 3]
    for method in ("exact", "threshold"):
        r = FairSolver(method=method).solve(p)
        assert sorted(r.assigned.tolist()) == [1, 2], method
        assert r.min_need_score == pytest.approx(0.45)
        assert r.objective == pytest.approx(0.95)


def test_forced_pairs_kept_and_use_capacity() -> None:
    # talent 0 forced onto need 1 (low score): need 0 must take talent 1
    p = problem([(0, 0, 0.9, 0), (0, 1, 0.3, 0), (1, 0, 0.1, FORCED)], [1, 1], [1, 1])
    for name in SOLVERS:
        r = make_solver(name).solve(p)
        assert_valid(p, r)
        assert sorted(r.assigned.tolist()) == [1, 2], name


def test_forbidden_edges_never_chosen() -> None:
    p = problem([(0, 0, 0.9, FORBIDDEN), (0, 1, 0.2, 0)], [1], [1, 1])
    for name in SOLVERS:
        assert make_solver(name).solve(p).assigned.tolist() == [1], name


def test_unmet_demand_is_partial() -> None:
    # demand 5, two eligible talents
    p = problem([(0, 0, 0.9, 0), (0, 1, 0.8, 0), (0, 2, 0.7, FORBIDDEN)], [5], [3, 3, 3])
    for name in SOLVERS:
        r = make_solver(name).solve(p)
        assert r.partial and r.unmet.tolist() == [3] and len(r.assigned) == 2, name
        assert r.min_need_score == pytest.approx((0.9 + 0.8) / 2)


def test_empty_problem() -> None:
    p = problem([], [1, 2], [])
    for name in SOLVERS:
        r = make_solver(name).solve(p)
        assert r.partial and r.unmet.tolist() == [1, 2] and len(r.assigned) == 0


def test_unknown_solver_name_raises_listing_known() -> None:
    with pytest.raises(ValueError, match="flow") as info:
        make_solver("hungarian")
    assert "hungarian" in str(info.value) and "fair" in str(info.value)
    with pytest.raises(ValueError, match="threshold"):
        FairSolver(method="magic")  # type: ignore[arg-type]


def test_medium_random_flow_and_fair_against_greedy() -> None:
    rng = np.random.default_rng(7)
    n, t, k = 300, 400, 15
    need = np.repeat(np.arange(n), k)
    talent = np.concatenate([rng.choice(t, k, replace=False, p=None) for _ in range(n)])
    score = np.round(rng.beta(2, 3, n * k), 4)
    p = Problem(need, talent, score, np.zeros(n * k, np.int8), rng.integers(1, 3, n),
                np.ones(t, np.int64))
    g, f, fair = (make_solver(name).solve(p) for name in ("greedy", "flow", "fair"))
    for r in (g, f, fair):
        assert_valid(p, r)
    assert (len(f.assigned), f.objective) >= (len(g.assigned), g.objective)
    assert len(fair.assigned) == len(f.assigned)
    assert fair.min_need_score >= f.min_need_score - 1e-9
