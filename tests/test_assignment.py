"""The pairing encoder/decoder: ids ↔ matrices, conflicts, forced pairs, alternates, shortfalls."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from evaluation.bench_pairing import make_request
from matching.assignment import (
    CandidateEdges,
    Conflict,
    PairingRequest,
    RunResult,
    encode,
    run_pairing,
)
from matching.solvers import SOLVERS

EDGES = [
    ("n1", "t1", 0.9), ("n1", "t2", 0.7), ("n1", "t3", 0.4),
    ("n2", "t1", 0.8), ("n2", "t2", 0.6), ("n2", "t4", 0.5),
    ("n3", "t1", 0.95), ("n3", "t4", 0.3),
]


def check_constraints(request: PairingRequest, result: RunResult) -> None:
    """Loads, demands and conflicts hold in id space (forced pairs excepted)."""
    forced = {(f[0], f[1]) for f in request.forced}
    conflicts = {(c.need_id, c.talent_id) if isinstance(c, Conflict) else (c[0], c[1])
                 for c in request.conflicts}
    pairs = [(n, t) for n, t, _ in result.pairs]
    assert len(set(pairs)) == len(pairs)
    assert not set(pairs) & conflicts
    assert forced <= set(pairs)
    for need, count in Counter(n for n, _ in pairs).items():
        assert count <= max(request.demands.get(need, request.default_demand),
                            sum(1 for f in forced if f[0] == need))
    for talent, count in Counter(t for _, t in pairs).items():
        assert count <= max(request.loads.get(talent, request.default_load),
                            sum(1 for f in forced if f[1] == talent))
    for need, alts in result.alternates.items():
        assert len(alts) <= request.n_alternates
        assert not {(need, t) for t in alts} & (conflicts | set(pairs))


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_pairs_come_back_in_ids(solver: str) -> None:
    request = PairingRequest(needs=["n1", "n2", "n3"], edges=EDGES, default_load=1)
    result = run_pairing(request, solver)
    check_constraints(request, result)
    assert result.solver == solver
    scores = {(n, t): s for n, t, s in EDGES}
    assert all(scores[(n, t)] == s for n, t, s in result.pairs)
    assert result.objective == pytest.approx(sum(s for _, _, s in result.pairs))


def test_flow_pairs_every_need_when_possible() -> None:
    request = PairingRequest(needs=["n1", "n2", "n3"], edges=EDGES, default_load=1)
    result = run_pairing(request, "flow")
    assert not result.partial and result.unmet == {}
    # n3–t1 leaves n1, n2 to share t2, t3, t4 (best 0.7 + 0.5): 2.15; n3–t4 gives at most 1.8
    assert sorted(result.pairs) == [("n1", "t2", 0.7), ("n2", "t4", 0.5), ("n3", "t1", 0.95)]


def test_overrides_of_load_and_demand() -> None:
    request = PairingRequest(needs=["n1", "n2", "n3"], edges=EDGES, default_load=1,
                             loads={"t1": 3}, demands={"n1": 2})
    result = run_pairing(request, "flow")
    check_constraints(request, result)
    assert ("n1", "t1", 0.9) in result.pairs and ("n3", "t1", 0.95) in result.pairs
    assert sum(1 for n, _, _ in result.pairs if n == "n1") == 2


def test_duplicate_edges_keep_best_score_and_pair_once() -> None:
    edges = [("n1", "t1", 0.2), ("n1", "t1", 0.8), ("n1", "t2", 0.5)]
    request = PairingRequest(needs=["n1"], edges=edges, default_demand=2)
    result = run_pairing(request, "flow")
    assert sorted(result.pairs) == [("n1", "t1", 0.8), ("n1", "t2", 0.5)]


def test_min_score_filters_edges_and_alternates() -> None:
    request = PairingRequest(needs=["n1"], edges=EDGES[:3], min_score=0.5, n_alternates=5)
    result = run_pairing(request, "flow")
    assert result.pairs == [("n1", "t1", 0.9)]
    assert result.alternates == {"n1": ["t2"]}


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_conflicts_excluded_from_pairs_and_alternates(solver: str) -> None:
    request = PairingRequest(needs=["n1", "n2", "n3"], edges=EDGES, n_alternates=5,
                             conflicts=[Conflict("n1", "t1", "同一单位"), ("n3", "t1", "亲属关系")])
    result = run_pairing(request, solver)
    check_constraints(request, result)
    assert "t1" not in result.alternates["n1"] and "t1" not in result.alternates["n3"]
    assert ("n1", "t2", 0.7) in result.pairs


def test_alternates_ranked_and_exclude_own_pairs() -> None:
    request = PairingRequest(needs=["n1", "n2"], edges=EDGES[:6], n_alternates=2)
    result = run_pairing(request, "flow")
    assert result.pairs == [("n1", "t1", 0.9), ("n2", "t1", 0.8)]
    assert result.alternates == {"n1": ["t2", "t3"], "n2": ["t2", "t4"]}
    assert run_pairing(PairingRequest(needs=["n1"], edges=EDGES[:3], n_alternates=0),
                       "flow").alternates == {"n1": []}


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_forced_pairs_kept(solver: str) -> None:
    # n1–t3 is forced although t1 is better; n2–t9 is forced without being a candidate
    request = PairingRequest(needs=["n1", "n2"], edges=EDGES[:6], min_score=0.45,
                             forced=[("n1", "t3"), ("n2", "t9", 0.3)])
    result = run_pairing(request, solver)
    check_constraints(request, result)
    assert sorted(result.pairs) == [("n1", "t3", 0.4), ("n2", "t9", 0.3)]


def test_forced_beyond_load_is_kept_with_a_note() -> None:
    request = PairingRequest(needs=["n1", "n2"], edges=EDGES[:6], default_load=1,
                             forced=[("n1", "t1"), ("n2", "t1")])
    result = run_pairing(request, "flow")
    assert {("n1", "t1"), ("n2", "t1")} <= {(n, t) for n, t, _ in result.pairs}
    assert any("t1" in m and "对接上限" in m for m in result.messages)


def test_forced_and_conflict_on_same_pair_refused() -> None:
    request = PairingRequest(needs=["n1"], edges=EDGES[:3], forced=[("n1", "t2")],
                             conflicts=[("n1", "t2", "回避")])
    with pytest.raises(ValueError, match="t2"):
        encode(request)


def test_short_need_is_partial_and_explained() -> None:
    edges = [("hard", "a", 0.9), ("hard", "b", 0.8), ("hard", "c", 0.1), ("hard", "d", 0.7)]
    request = PairingRequest(needs=["hard"], edges=edges, demands={"hard": 5}, min_score=0.5,
                             conflicts=[("hard", "d", "同一单位")])
    for solver in SOLVERS:
        result = run_pairing(request, solver)
        assert result.partial and result.unmet == {"hard": 3}
        assert sorted(t for _, t, _ in result.pairs) == ["a", "b"]
        text = "\n".join(result.messages)
        assert "hard" in text and "只有 2 位" in text
        assert "低于最低分" in text and "回避" in text and "同一单位" in text


def test_shortfall_from_loads_names_the_busy_expert() -> None:
    edges = [("n1", "star", 0.9), ("n2", "star", 0.8)]
    request = PairingRequest(needs=["n1", "n2"], edges=edges, default_load=1)
    result = run_pairing(request, "flow")
    assert result.partial and len(result.pairs) == 1
    (short,) = result.unmet
    text = "\n".join(result.messages)
    assert short in text and "star" in text and "对接上限" in text


def test_need_without_candidates() -> None:
    result = run_pairing(PairingRequest(needs=["n1", "lonely"], edges=EDGES[:3]), "fair")
    assert result.unmet == {"lonely": 1}
    assert any("lonely" in m and "只有 0 位" in m for m in result.messages)


@pytest.mark.parametrize(("request_kwargs", "field"), [
    ({"needs": ["n1"], "edges": [("nX", "t1", 0.5)]}, "nX"),
    ({"needs": ["n1", "n1"], "edges": []}, "n1"),
    ({"needs": ["n1"], "edges": [("n1", "t1", float("nan"))]}, "score"),
    ({"needs": ["n1"], "edges": EDGES[:1], "demands": {"n1": -1}}, "demand"),
    ({"needs": ["n1"], "edges": EDGES[:1], "loads": {"t1": -2}}, "load"),
    ({"needs": ["n1"], "edges": EDGES[:1], "forced": [("nX", "t1")]}, "nX"),
])
def test_bad_input_named(request_kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        encode(PairingRequest(**request_kwargs))


def test_unknown_solver_raises() -> None:
    with pytest.raises(ValueError, match="可选"):
        run_pairing(PairingRequest(needs=["n1"], edges=EDGES[:3]), "simplex")


def test_candidate_arrays_equal_triples() -> None:
    arrays = CandidateEdges(np.array([e[0] for e in EDGES], dtype=object),
                            np.array([e[1] for e in EDGES], dtype=object),
                            np.array([e[2] for e in EDGES]))
    a = run_pairing(PairingRequest(needs=["n1", "n2", "n3"], edges=arrays, default_load=1))
    b = run_pairing(PairingRequest(needs=["n1", "n2", "n3"], edges=EDGES, default_load=1))
    assert a.pairs == b.pairs and a.alternates == b.alternates


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_generated_requests_hold_constraints(solver: str) -> None:
    request = make_request(n_experts=400, n_needs=150, k=12, seed=3, load=1)
    edges = request.edges
    assert isinstance(edges, CandidateEdges)
    request.conflicts = [(n, t, "回避") for n, t in zip(edges.need_ids[::37], edges.talent_ids[::37],
                                                     strict=True)]
    result = run_pairing(request, solver)
    check_constraints(request, result)


@pytest.mark.slow
def test_full_scale_flow() -> None:
    request = make_request(n_experts=114_000, n_needs=5_000, k=50, seed=0)
    result = run_pairing(request, "flow")
    check_constraints(request, result)
    assert not result.partial
