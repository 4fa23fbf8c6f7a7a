"""Pairing runs (资智结对): ids in, pairs and alternates out; the solvers see only matrices.

The encoder owns everything the solvers must not know: need and talent ids ↔ row and column
indices, the minimum score, conflicts (flag ``-1``) and forced pairs (flag ``+1``), per-talent
maximum load and per-need demand. The decoder turns the chosen edges back into
``(need_id, talent_id, score)`` pairs, ranks alternates for each need and explains, in Chinese,
why a need could not get its full demand and what to relax (:mod:`matching.shortfall`).

Example::

    request = PairingRequest(needs=["n1", "n2"],
                             edges=[("n1", "t1", 0.9), ("n2", "t1", 0.8), ("n2", "t2", 0.5)],
                             default_load=1)
    result = run_pairing(request, solver="flow")
    result.pairs  # [("n1", "t1", 0.9), ("n2", "t2", 0.5)]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from matching.shortfall import alternates, explain_shortfall
from matching.solvers import make_solver
from matching.solvers.base import CANDIDATE, FORBIDDEN, FORCED, Problem, Solver, SolveResult


@dataclass(frozen=True)
class CandidateEdges:
    """Sparse candidate edges (top-k talents per need) as three parallel arrays."""

    need_ids: np.ndarray
    talent_ids: np.ndarray
    scores: np.ndarray

    @classmethod
    def from_triples(cls, triples: Iterable[tuple[str, str, float]]) -> CandidateEdges:
        """Build from ``(need_id, talent_id, score)`` triples.

        Args:
            triples: the edges.

        Returns:
            The arrays.
        """
        rows = list(triples)
        if not rows:
            return cls(np.array([], dtype=object), np.array([], dtype=object), np.array([]))
        needs, talents, scores = zip(*rows, strict=True)
        return cls(np.asarray(needs, dtype=object), np.asarray(talents, dtype=object),
                   np.asarray(scores, dtype=np.float64))


@dataclass(frozen=True)
class Conflict:
    """A pair that must not be proposed (回避), with its reason."""

    need_id: str
    talent_id: str
    reason: str = ""


@dataclass
class PairingRequest:
    """Everything a pairing run needs, in ids.

    Attributes:
        needs: need ids (every need that should be paired, even one without candidates).
        edges: candidate edges, as :class:`CandidateEdges` or ``(need, talent, score)`` triples.
        min_score: edges scoring below it are not used (forced pairs excepted).
        default_load: how many needs one talent may be paired with.
        loads: per-talent overrides of ``default_load``.
        default_demand: how many talents one need asks for.
        demands: per-need overrides of ``default_demand``.
        conflicts: pairs never to propose (:class:`Conflict` or ``(need, talent, reason)``).
        forced: pairs always kept: ``(need, talent)`` or ``(need, talent, score)``; the score of
            the candidate edge is used when there is one, else the given score, else 0.
        n_alternates: alternates listed per need.
    """

    needs: Sequence[str]
    edges: CandidateEdges | Iterable[tuple[str, str, float]]
    min_score: float = 0.0
    default_load: int = 3
    loads: Mapping[str, int] = field(default_factory=dict)
    default_demand: int = 1
    demands: Mapping[str, int] = field(default_factory=dict)
    conflicts: Sequence[Conflict | tuple[str, str, str]] = ()
    forced: Sequence[tuple[str, str] | tuple[str, str, float]] = ()
    n_alternates: int = 3


@dataclass
class Encoding:
    """A request turned into a :class:`Problem`, with what is needed to decode and explain.

    Attributes:
        problem: the matrices the solver sees.
        need_ids: row index → need id.
        talent_ids: column index → talent id.
        min_score: the request's minimum score.
        n_candidates: (N,) distinct candidate edges per need, before any filter.
        n_forbidden: (N,) of those, removed by conflicts.
        n_below_min: (N,) of the rest, below the minimum score.
        n_alternates: alternates to list per need.
        conflict_reasons: need row → distinct reasons of its conflicts.
        messages: notes raised while encoding.
    """

    problem: Problem
    need_ids: list[str]
    talent_ids: np.ndarray
    min_score: float
    n_candidates: np.ndarray
    n_forbidden: np.ndarray
    n_below_min: np.ndarray
    n_alternates: int
    conflict_reasons: dict[int, list[str]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    """The outcome of one pairing run, in ids.

    Attributes:
        pairs: ``(need_id, talent_id, score)``, by need order then score descending.
        objective: total score of the pairs.
        min_need_score: lowest need score (see ``matching.solvers.base``).
        partial: whether some need did not get its full demand.
        messages: notes and explanations in Chinese (what to relax when partial).
        alternates: need id → ranked talent ids not paired with it and not in conflict with it.
        unmet: need id → unfilled slots, for short needs only.
        solver: the solver's name.
        duration_s: the solver's wall time (encoding and decoding excluded).
    """

    pairs: list[tuple[str, str, float]]
    objective: float
    min_need_score: float
    partial: bool
    messages: list[str]
    alternates: dict[str, list[str]]
    unmet: dict[str, int]
    solver: str
    duration_s: float


def _edge_arrays(request: PairingRequest) -> CandidateEdges:
    edges = request.edges
    if not isinstance(edges, CandidateEdges):
        edges = CandidateEdges.from_triples(edges)
    scores = np.asarray(edges.scores, dtype=np.float64)
    if not len(edges.need_ids) == len(edges.talent_ids) == len(scores):
        raise ValueError("候选边的 need_ids、talent_ids、scores 长度不一致")
    bad = np.flatnonzero(~np.isfinite(scores))
    if len(bad):
        raise ValueError(f"候选边第 {bad[0] + 1} 行的分数（score）不是有限数：{scores[bad[0]]!r}")
    return CandidateEdges(np.asarray(edges.need_ids, dtype=object),
                          np.asarray(edges.talent_ids, dtype=object), scores)


def _need_index(needs: Sequence[str]) -> pd.Index:
    index = pd.Index(list(needs), dtype=object)
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise ValueError(f"需求列表（needs）中需求 {dup!r} 重复")
    return index


def _rows(index: pd.Index, ids: Sequence[Any] | np.ndarray, what: str) -> np.ndarray:
    rows = index.get_indexer(pd.Index(list(ids), dtype=object))
    if (rows < 0).any():
        k = int(np.flatnonzero(rows < 0)[0])
        raise ValueError(f"{what}第 {k + 1} 行的需求 need_id={ids[k]!r} 不在需求列表（needs）中")
    return rows.astype(np.int64)


def _conflict_list(request: PairingRequest) -> list[Conflict]:
    return [c if isinstance(c, Conflict) else Conflict(*c) for c in request.conflicts]


def _reasons(conflicts: list[Conflict], needs: pd.Index) -> dict[int, list[str]]:
    """Distinct conflict reasons per need row."""
    out: dict[int, list[str]] = {}
    for c in conflicts:
        row = needs.get_indexer([c.need_id])[0]
        if row >= 0 and c.reason and c.reason not in out.setdefault(int(row), []):
            out[int(row)].append(c.reason)
    return out


def _per_id(default: int, overrides: Mapping[str, int], index: pd.Index, what: str) -> np.ndarray:
    """Default value per id with overrides; unknown ids are ignored, negatives refused."""
    values = np.full(len(index), int(default), dtype=np.int64)
    for key, value in overrides.items():
        if int(value) < 0:
            raise ValueError(f"{what} {key!r} 的值 {value} 不能为负数")
        pos = index.get_indexer([key])[0]
        if pos >= 0:
            values[pos] = int(value)
    if default < 0:
        raise ValueError(f"默认{what}不能为负数：{default}")
    return values


def _dedupe(need: np.ndarray, talent: np.ndarray, score: np.ndarray,
            n_talents: int) -> np.ndarray:
    """Indices of the best-scoring edge of each (need, talent) pair, sorted by key."""
    key = need * max(n_talents, 1) + talent
    order = np.lexsort((-score, key))
    first = np.ones(len(order), dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    return order[first]


def _talent_index(edge_talents: np.ndarray, forced_talents: list[str]) -> tuple[np.ndarray, pd.Index]:
    """Column codes of edge talents then forced talents, and the column → id index."""
    codes, uniques = pd.factorize(np.concatenate(
        [edge_talents, np.asarray(forced_talents, dtype=object)]))
    return codes.astype(np.int64), pd.Index(uniques, dtype=object)


def _forced_triples(request: PairingRequest) -> list[tuple[str, str, float]]:
    return [(str(f[0]), str(f[1]), float(f[2]) if len(f) > 2 else 0.0)
            for f in request.forced]


def encode(request: PairingRequest) -> Encoding:
    """Turn a request into matrices.

    Args:
        request: the pairing request.

    Returns:
        The :class:`Encoding`.

    Raises:
        ValueError: unknown need ids, duplicate needs, non-finite scores, negative loads or
            demands, or a pair both forced and in conflict (messages in Chinese).
    """
    needs = _need_index(request.needs)
    edges = _edge_arrays(request)
    forced = _forced_triples(request)
    need = _rows(needs, edges.need_ids, "候选边")
    codes, talents = _talent_index(edges.talent_ids, [f[1] for f in forced])
    n_t = max(len(talents), 1)
    edge_talent, forced_talent = codes[:len(need)], codes[len(need):]
    keep = _dedupe(need, edge_talent, edges.scores, n_t)
    need, talent, score = need[keep], edge_talent[keep], edges.scores[keep]
    keys = need * n_t + talent
    conflicts = _conflict_list(request)
    conflict_keys = _keys(needs, talents, [(c.need_id, c.talent_id) for c in conflicts])
    forced_need = _rows(needs, [f[0] for f in forced], "指定结对（forced）")
    forced_keys = forced_need * n_t + forced_talent
    _refuse_forced_conflicts(forced, forced_keys, conflict_keys)
    flag = np.zeros(len(keys), dtype=np.int8)
    flag[np.isin(keys, conflict_keys)] = FORBIDDEN
    flag[np.isin(keys, forced_keys)] = FORCED
    below = (score < request.min_score) & (flag == CANDIDATE)
    fkeys, first = np.unique(forced_keys, return_index=True)
    extra = ~np.isin(fkeys, keys)
    extra_score = np.asarray([forced[k][2] for k in first[extra]], dtype=np.float64)
    kept = ~below
    problem = Problem(
        need_idx=np.concatenate([need[kept], fkeys[extra] // n_t]),
        talent_idx=np.concatenate([talent[kept], fkeys[extra] % n_t]),
        score=np.concatenate([score[kept], extra_score]),
        flag=np.concatenate([flag[kept], np.full(int(extra.sum()), FORCED, np.int8)]),
        demand=_per_id(request.default_demand, request.demands, needs, "需求人数（demand）"),
        load=_per_id(request.default_load, request.loads, talents, "对接上限（load）"),
    )
    enc = Encoding(problem, list(needs), np.asarray(talents, dtype=object), request.min_score,
                   np.bincount(need, minlength=len(needs)),
                   np.bincount(need[flag == FORBIDDEN], minlength=len(needs)),
                   np.bincount(need[below], minlength=len(needs)), request.n_alternates,
                   _reasons(conflicts, needs))
    enc.messages.extend(_forced_notes(enc))
    return enc


def _refuse_forced_conflicts(forced: list[tuple[str, str, float]], forced_keys: np.ndarray,
                             conflict_keys: np.ndarray) -> None:
    clash = np.flatnonzero(np.isin(forced_keys, conflict_keys))
    if len(clash):
        nid, tid, _ = forced[int(clash[0])]
        raise ValueError(f"指定结对（forced）第 {clash[0] + 1} 行：需求 {nid!r} 与人才 {tid!r} "
                         "同时在回避名单（conflicts）中，请删除其中一项")


def _keys(needs: pd.Index, talents: pd.Index, pairs: list[tuple[str, str]]) -> np.ndarray:
    """Edge keys ``need * T + talent`` of the pairs whose ids are both known."""
    if not pairs:
        return np.zeros(0, dtype=np.int64)
    rows = needs.get_indexer(pd.Index([p[0] for p in pairs], dtype=object))
    cols = talents.get_indexer(pd.Index([p[1] for p in pairs], dtype=object))
    ok = (rows >= 0) & (cols >= 0)
    return rows[ok].astype(np.int64) * max(len(talents), 1) + cols[ok]


def _forced_notes(enc: Encoding) -> list[str]:
    """Notes on forced pairs that exceed a need's demand or a talent's load (all are kept)."""
    p = enc.problem
    forced = p.flag == FORCED
    notes = []
    per_need = p.count_per_need(forced)
    for i in np.flatnonzero(per_need > p.demand).tolist():
        notes.append(f"需求「{enc.need_ids[i]}」的指定结对有 {per_need[i]} 个，超过需求人数 "
                     f"{p.demand[i]}，已全部保留。")
    per_talent = p.count_per_talent(forced)
    for j in np.flatnonzero(per_talent > p.load).tolist():
        notes.append(f"人才「{enc.talent_ids[j]}」的指定结对有 {per_talent[j]} 个，超过其对接上限 "
                     f"{p.load[j]}，已全部保留。")
    return notes


def decode(enc: Encoding, result: SolveResult) -> RunResult:
    """Turn a solver's result back into ids, with alternates and explanations.

    Args:
        enc: the encoding the solver was given.
        result: the solver's result.

    Returns:
        The :class:`RunResult`.
    """
    p = enc.problem
    picked = result.assigned[np.lexsort((-p.score[result.assigned], p.need_idx[result.assigned]))]
    pairs = [(enc.need_ids[i], enc.talent_ids[j], float(s)) for i, j, s in zip(
        p.need_idx[picked].tolist(), p.talent_idx[picked].tolist(), p.score[picked].tolist(),
        strict=True)]
    short = np.flatnonzero(result.unmet > 0).tolist()
    return RunResult(
        pairs=pairs,
        objective=result.objective,
        min_need_score=result.min_need_score,
        partial=result.partial,
        messages=[*enc.messages, *result.messages, *explain_shortfall(enc, result)],
        alternates=alternates(enc, result.assigned),
        unmet={enc.need_ids[i]: int(result.unmet[i]) for i in short},
        solver=result.solver,
        duration_s=result.duration_s,
    )


def run_pairing(request: PairingRequest, solver: str | Solver = "flow",
                **options: Any) -> RunResult:
    """Encode, solve and decode one pairing run.

    Args:
        request: the pairing request.
        solver: a solver name (``flow``, ``fair``, ``greedy``) or a solver object.
        **options: solver options when ``solver`` is a name.

    Returns:
        The :class:`RunResult` (marked partial, with explanations, when demand stays unmet).

    Raises:
        ValueError: an unknown solver name or invalid input (see :func:`encode`).
    """
    engine = make_solver(solver, **options) if isinstance(solver, str) else solver
    enc = encode(request)
    return decode(enc, engine.solve(enc.problem))
