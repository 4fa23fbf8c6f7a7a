"""Event shortlist: capacity, meeting caps, m strong candidates per enterprise, diversity."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.records import Enterprise, Event, Need, Talent
from matching.selection import CandidateEdge, SelectionProblem, as_edges, select
from matching.shortlist import build_event_shortlist


def _event(**overrides: Any) -> Event:
    fields: dict[str, Any] = {"id": "EV1", "name": "百名鹰才鹰商项目对接会", "capacity": 100,
                              "time_slots": ["09:00", "09:30", "10:00", "10:30"]}
    return Event(**{**fields, **overrides})


def _talent(tid: str, chain: str = "尼龙新材料", county: str = "叶县") -> Talent:
    return Talent(id=tid, name=f"人才{tid}", category="专业技术", chains=[chain],
                  hometown_county=county)


def _need(nid: str, ent: str | None, chain: str = "尼龙新材料") -> Need:
    return Need(id=nid, enterprise_id=ent, kind="tech", title=f"需求{nid}", chain=chain)


def _ents(*ids: str) -> list[Enterprise]:
    return [Enterprise(id=i, name=f"企业{i}") for i in ids]


def _strong_count(shortlist: Any, edges: list[tuple[str, str, float]], needs: list[Need],
                  strong: float) -> Counter[str]:
    ent_of = {n.id: n.enterprise_id for n in needs}
    best: dict[tuple[str, str], float] = {}
    for n, t, s in edges:
        key = (t, ent_of[n] or "")
        best[key] = max(best.get(key, 0.0), s)
    return Counter(e for e, ts in shortlist.per_enterprise.items() for t in ts
                   if best.get((t, e), 0.0) >= strong)


def test_each_enterprise_gets_m_strong_candidates_before_pure_coverage() -> None:
    """E1 has five needs, each with its own 0.9 expert; E2 one need with two 0.6x experts.

    Pure coverage would take four E1 experts (0.9 each beats 0.65); the first pass gives E2
    its two strong candidates first.
    """
    needs = [_need(f"N{i}", "E1") for i in range(5)] + [_need("M0", "E2")]
    edges = [(f"N{i}", f"A{i}", 0.9) for i in range(5)] + [("M0", "C0", 0.65),
                                                          ("M0", "C1", 0.62)]
    talents = [_talent(f"A{i}") for i in range(5)] + [_talent("C0"), _talent("C1")]
    shortlist, _ = build_event_shortlist(_event(capacity=4, enterprise_ids=["E1", "E2"]),
                                         edges, talents, needs, _ents("E1", "E2"), m=2)
    counts = _strong_count(shortlist, edges, needs, 0.6)
    assert counts["E1"] >= 2 and counts["E2"] >= 2
    assert len(shortlist.entries) == 4
    assert not shortlist.short_enterprises
    assert {u.need_id for u in shortlist.uncovered} == {"N2", "N3", "N4"}
    assert all("名单已满" in u.reason for u in shortlist.uncovered)


def test_enterprise_without_enough_strong_candidates_is_named() -> None:
    needs = [_need("N1", "E1"), _need("N2", "E2"), _need("N3", "E3")]
    edges = [("N1", "A", 0.9), ("N1", "B", 0.8), ("N2", "C", 0.95), ("N2", "D", 0.3)]
    talents = [_talent(t) for t in "ABCD"]
    shortlist, _ = build_event_shortlist(_event(enterprise_ids=["E1", "E2", "E3"]), edges,
                                         talents, needs, _ents("E1", "E2", "E3"), m=2)
    assert set(shortlist.short_enterprises) == {"E2", "E3"}
    assert "仅有 1 名强候选" in shortlist.short_enterprises["E2"]
    assert "仅有 0 名强候选" in shortlist.short_enterprises["E3"]
    assert any("企业E3" in msg for msg in shortlist.messages)
    assert [u.need_id for u in shortlist.uncovered] == ["N3"]
    assert "没有候选" in shortlist.uncovered[0].reason


@pytest.mark.parametrize("winner_chain", ["高端装备", "新能源"])
def test_under_represented_chain_wins_a_tie(winner_chain: str) -> None:
    """A (尼龙) is picked first; B and C are equal but for chain: the new chain wins."""
    loser_chain = "尼龙新材料"
    needs = [_need("N1", "E1"), _need("N2", "E1")]
    edges = [("N1", "A", 0.9), ("N2", "B", 0.8), ("N2", "C", 0.8)]
    talents = [_talent("A", loser_chain), _talent("B", loser_chain),
               _talent("C", winner_chain)]
    shortlist, _ = build_event_shortlist(_event(capacity=2, enterprise_ids=["E1"]), edges,
                                         talents, needs, _ents("E1"), m=0)
    assert [e.talent_id for e in shortlist.entries] == ["A", "C"]
    # with the chains swapped, the id order no longer decides: B wins
    talents = [_talent("A", loser_chain), _talent("B", winner_chain),
               _talent("C", loser_chain)]
    shortlist, _ = build_event_shortlist(_event(capacity=2, enterprise_ids=["E1"]), edges,
                                         talents, needs, _ents("E1"), m=0)
    assert [e.talent_id for e in shortlist.entries] == ["A", "B"]


def test_under_represented_county_wins_a_tie() -> None:
    needs = [_need("N1", "E1"), _need("N2", "E1")]
    edges = [("N1", "A", 0.9), ("N2", "B", 0.8), ("N2", "C", 0.8)]
    talents = [_talent("A", county="叶县"), _talent("B", county="叶县"),
               _talent("C", county="郏县")]
    shortlist, _ = build_event_shortlist(_event(capacity=2, enterprise_ids=["E1"]), edges,
                                         talents, needs, _ents("E1"), m=0)
    assert [e.talent_id for e in shortlist.entries] == ["A", "C"]


def test_meeting_cap_and_slots_bound_meetings() -> None:
    ents = [f"E{i}" for i in range(6)]
    needs = [_need(f"N{i}", e) for i, e in enumerate(ents)]
    edges = [(n.id, "A", 0.9) for n in needs] + [(n.id, f"B{i}", 0.7)
                                                for i, n in enumerate(needs)]
    talents = [_talent("A")] + [_talent(f"B{i}") for i in range(6)]
    shortlist, schedule = build_event_shortlist(_event(enterprise_ids=ents), edges, talents,
                                                needs, _ents(*ents), m=1, meeting_cap=2)
    entry = next(e for e in shortlist.entries if e.talent_id == "A")
    assert len(entry.enterprises) == 2
    assert all(len(e.enterprises) <= 2 for e in shortlist.entries)
    assert len(schedule.meetings) == sum(len(e.enterprises) for e in shortlist.entries)
    assert not schedule.unplaced
    assert all(len(ts) >= 1 for ts in shortlist.per_enterprise.values())


def test_enterprise_meets_at_most_one_talent_per_slot() -> None:
    needs = [_need(f"N{i}", "E1") for i in range(5)]
    edges = [(f"N{i}", f"T{i}", 0.9 - i / 100) for i in range(5)]
    talents = [_talent(f"T{i}") for i in range(5)]
    shortlist, schedule = build_event_shortlist(
        _event(enterprise_ids=["E1"], time_slots=["a", "b"]), edges, talents, needs,
        _ents("E1"))
    assert len(shortlist.per_enterprise["E1"]) == 2
    assert {u.need_id for u in shortlist.uncovered} == {"N2", "N3", "N4"}
    assert all("时段已排满" in u.reason for u in shortlist.uncovered)
    assert not schedule.unplaced


def test_reason_reuses_the_edge_explanation_and_names_the_enterprise() -> None:
    needs = [_need("N1", "E1")]
    edges = [CandidateEdge("N1", "A", 0.82, "研究方向匹配：尼龙66；宝丰县籍")]
    shortlist, _ = build_event_shortlist(_event(enterprise_ids=["E1"]), edges, [_talent("A")],
                                         needs, _ents("E1"), m=1)
    reason = shortlist.entries[0].reason_zh
    assert "企业E1" in reason and "研究方向匹配：尼龙66" in reason and "0.82" in reason
    assert shortlist.entries[0].first_pass


def test_scope_from_need_ids_theme_chains_and_unknown_talents() -> None:
    needs = [_need("N1", "E1"), _need("N2", "E2", chain="新能源"), _need("N3", None)]
    edges = [("N1", "A", 0.9), ("N2", "B", 0.9), ("N3", "A", 0.9), ("N1", "ghost", 0.99)]
    talents = [_talent("A"), _talent("B")]
    by_ids, _ = build_event_shortlist(_event(need_ids=["N1", "N3", "N9"]), edges, talents,
                                      needs, _ents("E1", "E2"))
    assert set(by_ids.per_enterprise) == {"E1"}
    assert [u.need_id for u in by_ids.uncovered] == ["N3"]
    assert "未关联参会企业" in by_ids.uncovered[0].reason
    assert any("N9" in msg for msg in by_ids.messages)
    assert any("不在人才库" in msg for msg in by_ids.messages)
    by_theme, _ = build_event_shortlist(_event(theme_chains=["新能源"]), edges, talents, needs,
                                        _ents("E1", "E2"))
    assert [e.talent_id for e in by_theme.entries] == ["B"]


def test_as_edges_accepts_tuples_mappings_and_objects() -> None:
    class Obj:
        need_id, talent_id, score, explanation = "N1", "T1", 0.5, "理由"

    edges = as_edges([("N1", "T1", 0.5), {"need_id": "N1", "talent_id": "T1", "score": 0.5},
                      Obj()])
    assert edges[0] == edges[1] == CandidateEdge("N1", "T1", 0.5)
    assert edges[2].explanation == "理由"


def test_bad_parameters_raise() -> None:
    with pytest.raises(ValueError, match="meeting_cap"):
        build_event_shortlist(_event(), [], [], [], [], meeting_cap=-1)


def _random_problem(seed: int, n_talents: int, n_needs: int, n_ents: int, capacity: int,
                    cap: int, room: int, m: int) -> SelectionProblem:
    rng = random.Random(seed)
    pairs = {(rng.randrange(n_talents), rng.randrange(n_needs))
             for _ in range(n_talents * 3)}
    keys = sorted(pairs)
    return SelectionProblem(
        edge_talent=np.array([t for t, _ in keys], dtype=np.int64),
        edge_need=np.array([n for _, n in keys], dtype=np.int64),
        edge_score=np.array([rng.random() for _ in keys]),
        need_enterprise=np.array([rng.randrange(-1, n_ents) for _ in range(n_needs)]),
        talent_cap=np.array([rng.randint(0, cap) for _ in range(n_talents)]),
        enterprise_room=np.full(n_ents, room),
        chain_group=np.array([rng.randrange(3) for _ in range(n_talents)]),
        county_group=np.array([rng.randrange(4) for _ in range(n_talents)]),
        capacity=capacity, m=m)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 30), st.integers(1, 25), st.integers(1, 6),
       st.integers(0, 12), st.integers(0, 4), st.integers(0, 5), st.integers(0, 3))
def test_random_selections_respect_every_limit(seed: int, n_talents: int, n_needs: int,
                                               n_ents: int, capacity: int, cap: int,
                                               room: int, m: int) -> None:
    p = _random_problem(seed, n_talents, n_needs, n_ents, capacity, cap, room, m)
    sel = select(p)
    assert len(sel.order) == len(set(sel.order)) <= capacity
    edges = {(int(t), int(p.need_enterprise[n])) for t, n in zip(p.edge_talent, p.edge_need,
                                                                   strict=True)}
    load: Counter[int] = Counter()
    for t, ents in sel.meetings.items():
        assert len(ents) == len(set(ents)) <= p.talent_cap[t]
        assert all((t, f) in edges for f in ents)
        load.update(ents)
    assert all(load[f] <= room for f in load)


def test_per_talent_meeting_cap_override() -> None:
    ents = [f"E{i}" for i in range(4)]
    needs = [_need(f"N{i}", e) for i, e in enumerate(ents)]
    edges = [(n.id, "A", 0.9) for n in needs]
    shortlist, schedule = build_event_shortlist(_event(enterprise_ids=ents), edges,
                                                [_talent("A")], needs, _ents(*ents), m=1,
                                                meeting_cap=4, meeting_caps={"A": 1})
    assert shortlist.entries[0].enterprises == ["E0"]
    assert len(schedule.meetings) == 1
    assert all("上限" in u.reason for u in shortlist.uncovered)
