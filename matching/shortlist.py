"""Event shortlist (百名鹰才鹰商项目对接会): which talents to invite, to meet which enterprises.

:func:`build_event_shortlist` takes an event's records and candidate edges: it finds the
participating needs and enterprises, encodes them as a
:class:`~matching.selection.SelectionProblem`, runs the greedy selection
(:func:`matching.selection.select`, whose docstring states the objective and the passes),
decodes the result into a :class:`Shortlist` with reasons in Chinese, and schedules the
meetings (:mod:`matching.schedule`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matching.schedule import DEFAULT_MEETING_CAP, Meeting, Schedule, schedule_meetings
from matching.selection import (
    CHAIN_BONUS,
    COUNTY_BONUS,
    DEFAULT_DECAY,
    DEFAULT_M,
    DEFAULT_STRONG,
    CandidateEdge,
    Selection,
    SelectionProblem,
    as_edges,
    select,
)

# -- ids in, shortlist out ------------------------------------------------------------------


@dataclass(frozen=True)
class ShortlistEntry:
    """One invited talent.

    Attributes:
        talent_id: the talent.
        needs: participating needs the talent serves (through its meetings), best first.
        enterprises: enterprises the talent meets, in assignment order.
        score: the talent's best edge score among the needs it serves.
        reason_zh: why the talent is on the list, in Chinese.
        first_pass: picked to give some enterprise its ``m`` strong candidates.
    """

    talent_id: str
    needs: list[str]
    enterprises: list[str]
    score: float
    reason_zh: str
    first_pass: bool = False


@dataclass(frozen=True)
class UncoveredNeed:
    """A participating need that no shortlisted talent serves, and why."""

    need_id: str
    reason: str


@dataclass
class Shortlist:
    """The shortlist of an event.

    Attributes:
        entries: invited talents in selection order.
        per_enterprise: enterprise id → talent ids meeting it (every participating enterprise).
        uncovered: needs no invited talent serves, with reasons.
        messages: notes in Chinese (enterprises short of strong candidates, skipped edges …).
        short_enterprises: enterprise id → why it has fewer than ``m`` strong candidates.
        meetings: the meetings to schedule (priority = best edge score of the pair).
        event_id: the event's id.
        event_name: the event's name.
        event_date: the event's date (ISO) or ``""``.
        coverage: the coverage objective reached.
    """

    entries: list[ShortlistEntry]
    per_enterprise: dict[str, list[str]]
    uncovered: list[UncoveredNeed]
    messages: list[str] = field(default_factory=list)
    short_enterprises: dict[str, str] = field(default_factory=dict)
    meetings: list[Meeting] = field(default_factory=list)
    event_id: str = ""
    event_name: str = ""
    event_date: str = ""
    coverage: float = 0.0


def build_event_shortlist(event: Any, edges: Iterable[Any], talents: Iterable[Any],
                          needs: Iterable[Any], enterprises: Iterable[Any], *,
                          capacity: int | None = None, m: int = DEFAULT_M,
                          meeting_cap: int = DEFAULT_MEETING_CAP,
                          meeting_caps: Mapping[str, int] | None = None,
                          strong: float = DEFAULT_STRONG, decay: float = DEFAULT_DECAY,
                          chain_bonus: float = CHAIN_BONUS, county_bonus: float = COUNTY_BONUS,
                          ) -> tuple[Shortlist, Schedule]:
    """Choose an event's talents and schedule their meetings.

    Args:
        event: a :class:`data.records.Event`. Participating needs are ``event.need_ids`` when
            given, else the open needs of ``event.enterprise_ids``, else the open needs in the
            theme chains (every open need when the event names none). Participating enterprises are ``event.enterprise_ids`` plus those
            of the participating needs.
        edges: candidate edges from ranking (see :func:`as_edges`).
        talents: :class:`data.records.Talent` records (edges to other talents are skipped).
        needs: :class:`data.records.Need` records (at least the participating ones).
        enterprises: :class:`data.records.Enterprise` records (for names in reasons).
        capacity: most talents (default ``event.capacity``).
        m: strong candidates wanted per enterprise.
        meeting_cap: most meetings per talent.
        meeting_caps: per-talent overrides of ``meeting_cap``.
        strong: the strong-score threshold.
        decay: weight ratio of a need's successive candidates (0–1).
        chain_bonus: diversity bonus for an unrepresented chain.
        county_bonus: diversity bonus for an unrepresented county.

    Returns:
        ``(shortlist, schedule)``.

    Raises:
        ValueError: a parameter is out of range.
    """
    cap = event.capacity if capacity is None else capacity
    caps = dict(meeting_caps or {})
    if m < 0 or min([meeting_cap, cap, *caps.values()]) < 0 or not 0.0 <= decay <= 1.0:
        raise ValueError(f"参数超出范围：m={m}、meeting_cap={meeting_cap}、capacity={cap} 不能为"
                         f"负数，decay={decay} 须在 0 到 1 之间")
    scope = _Scope.of(event, list(needs), list(enterprises))
    talent_map = {t.id: t for t in talents}
    enc = _encode(scope, as_edges(edges), talent_map, SelectionProblemArgs(
        cap, m, meeting_cap, strong, decay, chain_bonus, county_bonus), caps)
    shortlist = _decode(enc, select(enc.problem))
    schedule = schedule_meetings(shortlist.meetings, list(event.time_slots),
                                 meeting_cap=meeting_cap, caps=caps)
    shortlist.messages.extend(schedule.messages)
    return shortlist, schedule


@dataclass(frozen=True)
class SelectionProblemArgs:
    """The scalar parameters of a :class:`SelectionProblem`, in its field order."""

    capacity: int
    m: int
    meeting_cap: int
    strong: float
    decay: float
    chain_bonus: float
    county_bonus: float


@dataclass
class _Scope:
    """The participating needs and enterprises of an event."""

    event: Any
    needs: list[Any]
    enterprise_ids: list[str]
    enterprises: dict[str, Any]
    messages: list[str]

    @classmethod
    def of(cls, event: Any, needs: list[Any], enterprises: list[Any]) -> _Scope:
        by_id = {n.id: n for n in needs}
        messages: list[str] = []
        if event.need_ids:
            missing = [i for i in event.need_ids if i not in by_id]
            if missing:
                messages.append(f"活动列出的需求未找到，已跳过：{'、'.join(missing[:10])}")
            chosen = [by_id[i] for i in dict.fromkeys(event.need_ids) if i in by_id]
        elif event.enterprise_ids:
            wanted = set(event.enterprise_ids)
            chosen = [n for n in needs if n.enterprise_id in wanted and _is_open(n)]
        else:
            themes = set(event.theme_chains)
            chosen = [n for n in needs if _is_open(n) and (not themes or n.chain in themes)]
        ent_ids = list(dict.fromkeys([*event.enterprise_ids,
                                      *(n.enterprise_id for n in chosen if n.enterprise_id)]))
        with_needs = {n.enterprise_id for n in chosen}
        idle = [e for e in ent_ids if e not in with_needs]
        if idle:
            messages.append(f"以下参会企业没有参会需求：{'、'.join(idle[:10])}")
        return cls(event, chosen, ent_ids, {e.id: e for e in enterprises}, messages)

    def enterprise_name(self, enterprise_id: str) -> str:
        ent = self.enterprises.get(enterprise_id)
        return ent.name if ent is not None else enterprise_id


def _is_open(need: Any) -> bool:
    return str(getattr(need, "status", "open")) in ("open", "NeedStatus.open")


@dataclass
class _Encoding:
    """A scope turned into a :class:`SelectionProblem`, with what decoding needs."""

    problem: SelectionProblem
    scope: _Scope
    talent_ids: list[str]
    edges: dict[tuple[int, int], CandidateEdge]
    meeting_cap: int
    messages: list[str]


def _encode(scope: _Scope, edges: list[CandidateEdge], talents: Mapping[str, Any],
            args: SelectionProblemArgs, caps: Mapping[str, int]) -> _Encoding:
    """Ids → indices; one edge per (need, talent), the best."""
    need_index = {n.id: i for i, n in enumerate(scope.needs)}
    ent_index = {e: i for i, e in enumerate(scope.enterprise_ids)}
    best: dict[tuple[int, str], CandidateEdge] = {}
    unknown: set[str] = set()
    for e in edges:
        if e.need_id not in need_index:
            continue
        if e.talent_id not in talents:
            unknown.add(e.talent_id)
            continue
        key = (need_index[e.need_id], e.talent_id)
        if key not in best or e.score > best[key].score:
            best[key] = e
    talent_ids = sorted({t for _, t in best})
    t_index = {t: i for i, t in enumerate(talent_ids)}
    by_index = {(n, t_index[t]): e for (n, t), e in best.items()}
    slots = len(scope.event.time_slots)
    room = slots if slots else max(1, args.capacity * max(1, args.meeting_cap))
    chains, counties = _groups(scope, talent_ids, talents, by_index)
    keys = list(by_index)
    problem = SelectionProblem(
        edge_talent=np.array([t for _, t in keys], dtype=np.int64),
        edge_need=np.array([n for n, _ in keys], dtype=np.int64),
        edge_score=np.array([by_index[k].score for k in keys], dtype=np.float64),
        need_enterprise=np.array([ent_index.get(n.enterprise_id or "", -1)
                                  for n in scope.needs], dtype=np.int64),
        talent_cap=np.array([caps.get(t, args.meeting_cap) for t in talent_ids],
                            dtype=np.int64),
        enterprise_room=np.full(len(scope.enterprise_ids), room, dtype=np.int64),
        chain_group=chains, county_group=counties, capacity=args.capacity, m=args.m,
        strong=args.strong, decay=args.decay, chain_bonus=args.chain_bonus,
        county_bonus=args.county_bonus)
    messages = list(scope.messages)
    if unknown:
        messages.append(f"{len(unknown)} 名候选人才不在人才库中，其候选边已跳过")
    if not slots:
        messages.append("活动未设置「对接时段」，对接日程无法安排")
    return _Encoding(problem, scope, talent_ids, by_index, args.meeting_cap, messages)


def _groups(scope: _Scope, talent_ids: list[str], talents: Mapping[str, Any],
            edges: Mapping[tuple[int, int], CandidateEdge]) -> tuple[np.ndarray, np.ndarray]:
    """Primary chain and hometown county of each talent, as group numbers.

    The primary chain is the talent's first chain among the event's theme chains, else its
    first chain, else the chain of its best participating need.
    """
    themes = set(scope.event.theme_chains)
    best_need: dict[int, tuple[float, int]] = {}
    for (n, t), e in edges.items():
        best_need[t] = max(best_need.get(t, (-1.0, n)), (e.score, n))
    chain_no: dict[str, int] = {}
    county_no: dict[str, int] = {}
    chains, counties = [], []
    for i, tid in enumerate(talent_ids):
        talent = talents[tid]
        own = list(getattr(talent, "chains", []) or [])
        chain = next((c for c in own if c in themes), own[0] if own else None)
        if chain is None and i in best_need:
            chain = scope.needs[best_need[i][1]].chain
        chains.append(chain_no.setdefault(chain or "", len(chain_no)))
        county = getattr(talent, "hometown_county", None) or ""
        counties.append(county_no.setdefault(county, len(county_no)))
    return np.array(chains, dtype=np.int64), np.array(counties, dtype=np.int64)


def _decode(enc: _Encoding, sel: Selection) -> Shortlist:
    """Indices → the shortlist with reasons, meetings, uncovered needs and short enterprises."""
    scope, p = enc.scope, enc.problem
    ent_ids = scope.enterprise_ids
    entries, meetings = [], []
    per_enterprise: dict[str, list[str]] = {e: [] for e in ent_ids}
    served: set[int] = set()
    chosen = set(sel.order)
    by_pair: dict[tuple[int, int], list[tuple[float, int, CandidateEdge]]] = {}
    for (n, t), e in enc.edges.items():
        if t in chosen:
            by_pair.setdefault((t, int(p.need_enterprise[n])), []).append((e.score, n, e))
    for t in sel.order:
        tid = enc.talent_ids[t]
        pairs = []
        for f in sel.meetings[t]:
            items = sorted(by_pair[(t, f)], key=lambda x: (-x[0], x[1]))
            pairs.append((f, items))
            per_enterprise[ent_ids[f]].append(tid)
            served.update(n for _, n, _ in items)
            meetings.append(Meeting(tid, ent_ids[f], items[0][0],
                                    tuple(scope.needs[n].id for _, n, _ in items)))
        need_list = sorted(((s, n) for _, items in pairs for s, n, _ in items), reverse=True)
        entries.append(ShortlistEntry(
            tid, [scope.needs[n].id for _, n in need_list], [ent_ids[f] for f, _ in pairs],
            need_list[0][0] if need_list else 0.0,
            _reason(scope, pairs, t in sel.first_pass, p), t in sel.first_pass))
    short = _short_enterprises(enc, sel)
    messages = [*enc.messages, *(f"企业「{scope.enterprise_name(e)}」（{e}）{why}"
                                 for e, why in short.items())]
    event = scope.event
    return Shortlist(entries, per_enterprise, _uncovered(enc, sel, served), messages, short,
                     meetings, str(event.id), str(event.name),
                     event.date.isoformat() if event.date else "", sel.coverage)


def _reason(scope: _Scope, pairs: list[tuple[int, list[tuple[float, int, CandidateEdge]]]],
            first_pass: bool, p: SelectionProblem) -> str:
    """Why a talent is invited: the enterprises and needs it serves, with their explanations."""
    parts = []
    for f, items in pairs:
        name = scope.enterprise_name(scope.enterprise_ids[f])
        needs = "、".join(f"「{scope.needs[n].title}」（匹配度 {s:.2f}）" for s, n, _ in items[:3])
        more = f"等 {len(items)} 项需求" if len(items) > 3 else ""
        why = next((e.explanation for _, _, e in items if e.explanation), "")
        parts.append(f"对接「{name}」：{needs}{more}" + (f"——{why}" if why else ""))
    text = "；".join(parts)
    strong = [scope.enterprise_name(scope.enterprise_ids[f]) for f, items in pairs
              if items and items[0][0] >= p.strong]
    if first_pass and strong:
        names = "、".join(f"「{n}」" for n in strong)
        text = f"为保证{names}至少 {p.m} 名强候选（匹配度 ≥ {p.strong:.2f}）而入选。{text}"
    return text


def _short_enterprises(enc: _Encoding, sel: Selection) -> dict[str, str]:
    """Enterprises with fewer than ``m`` selected strong candidates, and why."""
    p = enc.problem
    strong_pool: dict[int, set[int]] = {}
    for (n, t), e in enc.edges.items():
        f = int(p.need_enterprise[n])
        if f >= 0 and e.score >= p.strong:
            strong_pool.setdefault(f, set()).add(t)
    out = {}
    for f, eid in enumerate(enc.scope.enterprise_ids):
        have = int(sel.strong_count[f])
        if have >= p.m:
            continue
        pool = len(strong_pool.get(f, set()))
        head = f"只有 {have} 名强候选（得分 ≥ {p.strong:.2f}），少于要求的 {p.m} 名："
        if pool < p.m:
            cause = f"排序结果中该企业仅有 {pool} 名强候选人才，可降低「强候选阈值」或补充人才"
        elif p.enterprise_room[f] < p.m:
            cause = f"活动只有 {int(p.enterprise_room[f])} 个对接时段，可在活动的「对接时段」中增加"
        else:
            cause = "其余强候选的对接场次已满或名单名额已满，可调高「每人对接场次上限」或活动的「名单容量」"
        out[eid] = head + cause
    return out


def _uncovered(enc: _Encoding, sel: Selection, served: set[int]) -> list[UncoveredNeed]:
    """Participating needs that no invited talent serves, each with its reason."""
    p, scope = enc.problem, enc.scope
    candidates: dict[int, set[int]] = {}
    for n, t in enc.edges:
        candidates.setdefault(n, set()).add(t)
    full = len(sel.order) >= p.capacity
    load = np.zeros(len(p.enterprise_room), dtype=np.int64)
    for ents in sel.meetings.values():
        load[ents] += 1
    out = []
    for n, need in enumerate(scope.needs):
        if n in served:
            continue
        f = int(p.need_enterprise[n])
        pool = candidates.get(n, set())
        chosen = pool & set(sel.order)
        if f < 0:
            reason = "需求未关联参会企业（enterprise_id 为空），无法安排对接"
        elif not pool:
            reason = "没有候选人才（排序结果中无此需求的候选）"
        elif chosen and all(len(sel.meetings[t]) >= p.talent_cap[t] for t in chosen):
            reason = f"入选的候选人才对接场次均已达上限（「每人对接场次上限」为 {enc.meeting_cap} 场）"
        elif load[f] >= p.enterprise_room[f]:
            reason = f"企业对接时段已排满（{int(p.enterprise_room[f])} 个时段）"
        elif full:
            reason = f"候选人才（{len(pool)} 名）均未入选：名单已满（「名单容量」为 {p.capacity} 人）"
        else:
            reason = "候选人才得分为 0，未带来覆盖"
        out.append(UncoveredNeed(need.id, reason))
    return out

