"""The event shortlist's selection core: which talents to invite, to meet which enterprises.

Indices in, indices out (:class:`SelectionProblem` → :func:`select` → :class:`Selection`);
:mod:`matching.shortlist` turns an event's records into the problem and the selection back
into a :class:`~matching.shortlist.Shortlist`.

The selection is a budgeted, submodular coverage problem solved greedily with lazy evaluation.
A *meeting* (talent, enterprise) covers the talent's candidate edges to that enterprise's needs.

**Coverage.** Each participating need ``n`` keeps the scores of the selected talents that meet
its enterprise about it, best first, and is worth ``Σ_k decay^k · s_(k)`` over its best
``depth`` (= ``m``) scores: the best candidate counts fully, the second ``decay`` (0.5) times,
the third ``decay²`` times, further ones nothing. A weighted sum of sorted values with
non-increasing weights is submodular, so marginal gains only shrink as the shortlist grows,
which is what lazy evaluation needs.

**A talent's gain** is the sum of its ``meeting_cap`` best positive meeting gains among the
enterprises that still have a free time slot (an enterprise meets at most one talent per slot,
so at most ``len(time_slots)`` talents), times a **diversity multiplier**
``1 + chain_bonus / (1 + c_chain) + county_bonus / (1 + c_county)``, where ``c_chain`` and
``c_county`` count the already selected talents of the talent's primary chain and hometown
county. The multiplier only shrinks as the shortlist grows, so laziness stays valid, and of two
otherwise equal talents the one from the less represented chain (or county) wins. It is a soft
preference: a clearly better candidate still wins over diversity.

**Passes.**

1. *Strong candidates first*, in ``m`` rounds: in round ``r`` each enterprise with fewer than
   ``r`` strong candidates (talents meeting it whose best edge to it scores at least
   ``strong``), scarcest first (fewest strong candidates still available), gets one more: a
   selected talent with a spare meeting if there is one (free), else the new talent that also
   serves the most other short enterprises, ties broken by diversified gain. So every
   enterprise gets its first strong candidate before any gets its second.
2. *Fill spare meetings*: selected talents with spare meeting cap meet further enterprises by
   marginal gain (free: it costs no place on the list).
3. *Marginal coverage*: add talents by diversified gain until ``capacity`` or no gain is left,
   then fill spare meetings again.

Enterprises left with fewer than ``m`` strong candidates, and needs left uncovered, are reported
with reasons in Chinese by :func:`matching.shortlist.build_event_shortlist`, which also
schedules the meetings (:mod:`matching.schedule`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_M = 3
DEFAULT_STRONG = 0.6
"""Strong-score threshold on the fused score (0–1) of :mod:`matching.features`."""
DEFAULT_DECAY = 0.5
CHAIN_BONUS = 0.10
COUNTY_BONUS = 0.05
EPS = 1e-9


@dataclass(frozen=True)
class CandidateEdge:
    """One candidate (need, talent) edge from ranking, with its Chinese explanation."""

    need_id: str
    talent_id: str
    score: float
    explanation: str = ""


def as_edges(edges: Iterable[Any]) -> list[CandidateEdge]:
    """Normalise edges given as tuples ``(need, talent, score[, explanation])``, mappings or
    objects with those attributes (e.g. :class:`data.records.Suggestion`).

    Args:
        edges: the edges.

    Returns:
        The edges as :class:`CandidateEdge`.
    """
    out = []
    for e in edges:
        if isinstance(e, CandidateEdge):
            out.append(e)
        elif isinstance(e, (tuple, list)):
            out.append(CandidateEdge(str(e[0]), str(e[1]), float(e[2]),
                                     str(e[3]) if len(e) > 3 and e[3] else ""))
        else:
            out.append(CandidateEdge(str(_get(e, "need_id")), str(_get(e, "talent_id")),
                                     float(_get(e, "score")), str(_get(e, "explanation") or "")))
    return out


def _get(obj: Any, key: str) -> Any:
    """A key of a mapping or an attribute of an object (None when absent)."""
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


# -- the matrix core ------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectionProblem:
    """The selection as arrays: ``E`` edges, ``N`` needs, ``T`` talents, ``F`` enterprises.

    Attributes:
        edge_talent: (E,) talent column of each edge (one edge per (need, talent)).
        edge_need: (E,) need row of each edge.
        edge_score: (E,) score of each edge.
        need_enterprise: (N,) enterprise of each need, ``-1`` for none (never covered).
        talent_cap: (T,) most meetings per talent.
        enterprise_room: (F,) most meetings per enterprise (its number of time slots).
        chain_group: (T,) primary chain group of each talent (for diversity).
        county_group: (T,) hometown county group of each talent (for diversity).
        capacity: most talents on the shortlist.
        m: strong candidates wanted per enterprise.
        strong: strong-score threshold.
        decay: weight ratio between a need's k-th and (k+1)-th best candidates.
        chain_bonus: diversity bonus for an unrepresented chain.
        county_bonus: diversity bonus for an unrepresented county.
    """

    edge_talent: np.ndarray
    edge_need: np.ndarray
    edge_score: np.ndarray
    need_enterprise: np.ndarray
    talent_cap: np.ndarray
    enterprise_room: np.ndarray
    chain_group: np.ndarray
    county_group: np.ndarray
    capacity: int
    m: int = DEFAULT_M
    strong: float = DEFAULT_STRONG
    decay: float = DEFAULT_DECAY
    chain_bonus: float = CHAIN_BONUS
    county_bonus: float = COUNTY_BONUS


@dataclass
class Selection:
    """What :func:`select` chose, in indices.

    Attributes:
        order: talents in the order they were selected.
        meetings: talent → enterprises it meets, in assignment order.
        first_pass: talents picked to give enterprises their ``m`` strong candidates.
        gain: talent → diversified gain when it was picked.
        strong_count: (F,) selected strong candidates per enterprise.
        coverage: the coverage objective reached (without diversity multipliers).
    """

    order: list[int]
    meetings: dict[int, list[int]]
    first_pass: set[int]
    gain: dict[int, float]
    strong_count: np.ndarray
    coverage: float


class _Greedy:
    """State of the greedy selection over a :class:`SelectionProblem`."""

    def __init__(self, p: SelectionProblem) -> None:
        self.p = p
        self.depth = max(1, p.m)
        self.pair: dict[tuple[int, int], list[tuple[int, float]]] = {}
        for t, n, s in zip(p.edge_talent.tolist(), p.edge_need.tolist(),
                           p.edge_score.tolist(), strict=True):
            f = int(p.need_enterprise[n])
            if f >= 0:
                self.pair.setdefault((t, f), []).append((n, float(s)))
        self.ents: dict[int, list[int]] = {}
        self.strong_for: dict[int, set[int]] = {}
        for (t, f), items in self.pair.items():
            self.ents.setdefault(t, []).append(f)
            if max(s for _, s in items) >= p.strong:
                self.strong_for.setdefault(t, set()).add(f)
        self.top: dict[int, list[float]] = {}
        self.load = np.zeros(len(p.enterprise_room), dtype=np.int64)
        self.strong_count = np.zeros(len(p.enterprise_room), dtype=np.int64)
        self.assigned: dict[int, list[int]] = {}
        self.chain_n: dict[int, int] = {}
        self.county_n: dict[int, int] = {}

    def _worth(self, scores: list[float]) -> float:
        return sum(s * self.p.decay ** k for k, s in enumerate(scores))

    def meeting_gain(self, t: int, f: int) -> float:
        """Coverage gained if talent ``t`` meets enterprise ``f``."""
        gain = 0.0
        for n, s in self.pair[(t, f)]:
            cur = self.top.get(n, [])
            if len(cur) >= self.depth and s <= cur[-1]:
                continue
            new = sorted([*cur, s], reverse=True)[: self.depth]
            gain += self._worth(new) - self._worth(cur)
        return gain

    def open_ents(self, t: int) -> list[int]:
        """Enterprises ``t`` could still meet (not met yet, with a free slot)."""
        done = self.assigned.get(t, [])
        return [f for f in self.ents.get(t, []) if f not in done
                and self.load[f] < self.p.enterprise_room[f]]

    def spare(self, t: int) -> int:
        """Meetings left to talent ``t``."""
        return int(self.p.talent_cap[t]) - len(self.assigned.get(t, []))

    def multiplier(self, t: int) -> float:
        """Diversity multiplier of ``t`` given the current selection."""
        c1 = self.chain_n.get(int(self.p.chain_group[t]), 0)
        c2 = self.county_n.get(int(self.p.county_group[t]), 0)
        return 1.0 + self.p.chain_bonus / (1 + c1) + self.p.county_bonus / (1 + c2)

    def bundle(self, t: int, allowed: Callable[[int], bool]) -> tuple[float, list[int]]:
        """Best positive meeting gains of ``t`` among allowed enterprises, up to its cap."""
        gains = sorted(((self.meeting_gain(t, f), f) for f in self.open_ents(t) if allowed(f)),
                       key=lambda x: (-x[0], x[1]))
        picked = [(g, f) for g, f in gains[: max(0, self.spare(t))] if g > EPS]
        return sum(g for g, _ in picked), [f for _, f in picked]

    def meet(self, t: int, f: int) -> None:
        """Record the meeting (t, f) and its coverage."""
        self.assigned.setdefault(t, []).append(f)
        self.load[f] += 1
        if f in self.strong_for.get(t, set()):
            self.strong_count[f] += 1
        for n, s in self.pair[(t, f)]:
            self.top[n] = sorted([*self.top.get(n, []), s], reverse=True)[: self.depth]

    def add(self, t: int, ents: list[int]) -> None:
        """Put ``t`` on the shortlist, meeting ``ents``."""
        self.assigned.setdefault(t, [])
        for g, counts in ((self.p.chain_group[t], self.chain_n),
                          (self.p.county_group[t], self.county_n)):
            counts[int(g)] = counts.get(int(g), 0) + 1
        for f in ents:
            self.meet(t, f)

    def coverage(self) -> float:
        """The coverage objective of the current selection."""
        return sum(self._worth(v) for v in self.top.values())


def select(problem: SelectionProblem) -> Selection:
    """Choose the shortlist (see the module docstring for the passes).

    Args:
        problem: the arrays.

    Returns:
        The selection, in indices.
    """
    g = _Greedy(problem)
    order: list[int] = []
    gains: dict[int, float] = {}

    def gain_key(t: int) -> tuple[tuple[float, ...], list[int]]:
        total, ents = g.bundle(t, lambda f: True)
        return (total * g.multiplier(t),), ents

    talents = sorted(g.ents)
    first = _strong_rounds(g, order, gains)
    _fill(g, order)
    _lazy([t for t in talents if t not in g.assigned], gain_key, g, order, gains,
          problem.capacity)
    _fill(g, order)
    return Selection(order, {t: g.assigned[t] for t in order}, set(first), gains,
                     g.strong_count, g.coverage())


def _strong_rounds(g: _Greedy, order: list[int], gains: dict[int, float]) -> list[int]:
    """Pass 1: give every enterprise up to ``m`` strong candidates, one round at a time."""
    p = g.p
    pool: dict[int, list[int]] = {}
    for t in sorted(g.strong_for):
        for f in g.strong_for[t]:
            pool.setdefault(f, []).append(t)
    picked: list[int] = []
    for r in range(1, p.m + 1):
        short = [f for f in sorted(pool) if g.strong_count[f] < r]
        short.sort(key=lambda f: sum(1 for t in pool[f] if _can_meet(g, t, f, len(order))))
        for f in short:
            if g.strong_count[f] >= r or g.load[f] >= p.enterprise_room[f]:
                continue
            pick, ents, gain = _strong_pick(g, f, pool[f], len(order) < p.capacity)
            if pick is None:
                continue
            if pick in g.assigned:
                g.meet(pick, f)
                continue
            g.add(pick, ents)
            order.append(pick)
            picked.append(pick)
            gains[pick] = gain
    return picked


def _can_meet(g: _Greedy, t: int, f: int, n_selected: int) -> bool:
    """Whether ``t`` could still be given a meeting with ``f``."""
    if t in g.assigned:
        return g.spare(t) > 0 and f not in g.assigned[t]
    return n_selected < g.p.capacity and g.p.talent_cap[t] > 0


def _strong_pick(g: _Greedy, f: int, pool: list[int], can_add: bool
                 ) -> tuple[int | None, list[int], float]:
    """The talent to give ``f`` one more strong candidate: a selected one with a spare
    meeting (best meeting gain), else a new one serving the most short enterprises.

    Returns:
        ``(talent, enterprises it should meet, diversified gain)``; talent None when none.
    """
    spare = [t for t in pool if t in g.assigned and g.spare(t) > 0 and f not in g.assigned[t]]
    if spare:
        t = max(spare, key=lambda t: (g.meeting_gain(t, f), -t))
        return t, [f], 0.0
    if not can_add:
        return None, [], 0.0
    best: tuple[tuple[float, float, int], int, list[int], float] | None = None
    for t in pool:
        if t in g.assigned or g.p.talent_cap[t] <= 0:
            continue
        others = [(g.meeting_gain(t, e), e) for e in g.open_ents(t)
                  if e != f and e in g.strong_for[t] and g.strong_count[e] < g.p.m]
        others.sort(key=lambda x: (-x[0], x[1]))
        ents = [f, *(e for _, e in others[: g.spare(t) - 1])]
        gain = sum(g.meeting_gain(t, e) for e in ents) * g.multiplier(t)
        key = (float(len(ents)), gain, -t)
        if best is None or key > best[0]:
            best = (key, t, ents, gain)
    return (None, [], 0.0) if best is None else (best[1], best[2], best[3])


def _lazy(candidates: list[int], key: Callable[[int], tuple[tuple[float, ...], list[int]]],
          g: _Greedy, order: list[int], gains: dict[int, float], capacity: int) -> list[int]:
    """Lazy greedy: add talents by ``key`` (non-increasing over time) while it is positive."""
    heap = [(tuple(-x for x in key(t)[0]), t) for t in candidates]
    heapq.heapify(heap)
    picked: list[int] = []
    while heap and len(order) < capacity:
        _, t = heapq.heappop(heap)
        k, ents = key(t)
        if not ents or k[0] <= EPS:
            continue
        entry = (tuple(-x for x in k), t)
        if heap and entry > heap[0]:
            heapq.heappush(heap, entry)
            continue
        g.add(t, ents)
        order.append(t)
        picked.append(t)
        gains[t] = k[-1]
    return picked


def _fill(g: _Greedy, order: list[int]) -> None:
    """Give selected talents' spare meetings to the enterprises they add most to."""
    heap = [(-g.meeting_gain(t, f), t, f) for t in order for f in g.open_ents(t)]
    heapq.heapify(heap)
    while heap:
        _, t, f = heapq.heappop(heap)
        if g.spare(t) <= 0 or f not in g.open_ents(t):
            continue
        gain = g.meeting_gain(t, f)
        if gain <= EPS:
            continue
        if heap and (-gain, t, f) > heap[0]:
            heapq.heappush(heap, (-gain, t, f))
            continue
        g.meet(t, f)
