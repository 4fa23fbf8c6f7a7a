"""揭榜挂帅 leads and teams: never an ineligible lead, coverage, no conflicts inside a team."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.records import Challenge, Eligibility, Talent
from data.taxonomy import load_taxonomy
from matching.leads import (
    leadership,
    leads_for_challenge,
    members_conflict,
    propose,
)
from matching.matcher import Matcher
from matching.rules import check_pair
from matching.tables import MatchingTables
from tests.fakes import HashEncoder, SplitTokenizer

TABLES = MatchingTables.from_taxonomy(load_taxonomy())
NOW = datetime(2026, 6, 30, tzinfo=UTC)
TITLES = [None, "正高级", "副高级", "中级", "初级", "教授", "研究员", "副教授"]
TERMS = ["纺丝工艺", "尼龙66", "己二胺", "注塑", "阻燃"]


@dataclass
class FakeHit:
    id: str
    score: float
    raw: dict[str, float] = field(default_factory=dict)


def challenge(**kw) -> Challenge:
    fields = {"id": "C1", "title": "揭榜挂帅：尼龙66纺丝工艺攻关", "chain": "尼龙新材料",
              "required_expertise": TERMS, "county": "宝丰县"}
    return Challenge(**{**fields, **kw})


talent_st = st.builds(
    lambda i, title, level, months, nat, terms, led: Talent(
        id=f"T{i}", name=f"人才{i}", category="专业技术", title=title, level=level,
        months_per_year=months, nationality=nat, research_directions=terms or ["材料"],
        chains=["尼龙新材料"], led_projects=led),
    st.integers(0, 10 ** 6), st.sampled_from(TITLES), st.sampled_from([None, "A", "B", "C"]),
    st.one_of(st.none(), st.integers(0, 12)), st.sampled_from([None, "中国", "美国"]),
    st.lists(st.sampled_from(TERMS), unique=True, max_size=3), st.integers(0, 9))

eligibility_st = st.builds(
    Eligibility, min_title=st.sampled_from([None, "正高级", "副高级", "中级"]),
    min_level=st.sampled_from([None, "A", "B", "C"]),
    min_months_on_site=st.one_of(st.none(), st.integers(0, 12)),
    nationalities=st.sampled_from([[], ["中国"]]))


@settings(max_examples=60, deadline=None)
@given(st.lists(talent_st, min_size=1, max_size=12, unique_by=lambda t: t.id), eligibility_st,
       st.booleans())
def test_never_an_ineligible_lead(talents, eligibility, rules_upstream):
    c = challenge(eligibility=eligibility)
    by_id = {t.id: t for t in talents}
    hits = [FakeHit(t.id, 1.0 - i / 20, {"dense_profile": 0.5}) for i, t in enumerate(talents)]
    matcher = Matcher(TABLES, now=NOW)
    cands = matcher.candidates(c, hits, by_id)
    # even matches computed without rules must not yield an ineligible lead
    result = matcher.rank(c, cands, by_id, apply_rules=rules_upstream)
    proposal = propose(c, result.matches, by_id, TABLES)
    for lead in proposal.leads:
        assert check_pair(c, by_id[lead.match.talent_id], TABLES).allowed
    for member in proposal.team:
        assert check_pair(c, by_id[member.talent_id], TABLES).allowed
    eligible = [t for t in talents if check_pair(c, t, TABLES).allowed]
    assert len(proposal.leads) == min(10, len(eligible))


def test_leadership_orders_level_title_and_led_projects():
    senior = Talent(id="A", name="甲", category="专业技术", level="A", title="正高级",
                    led_projects=5)
    junior = Talent(id="B", name="乙", category="专业技术", level="C", title="中级")
    assert leadership(senior, TABLES) == pytest.approx(1.0)
    assert 0 < leadership(junior, TABLES) < leadership(senior, TABLES)


def test_member_conflicts():
    a = Talent(id="T1", name="张三", category="专业技术", organisation="某大学")
    b = Talent(id="T2", name="李四", category="专业技术", avoid=["张三"])
    c = Talent(id="T3", name="王五", category="专业技术", relatives=["张三"])
    d = Talent(id="T4", name="赵六", category="专业技术", avoid=["某大学"])
    e = Talent(id="T5", name="钱七", category="专业技术")
    assert members_conflict(a, b) and members_conflict(b, a)
    assert members_conflict(a, c) and members_conflict(a, d)
    assert not members_conflict(a, e) and not members_conflict(b, c)


def test_team_avoids_conflicts_and_explains_what_members_add():
    talents = {
        "T1": Talent(id="T1", name="张三", category="专业技术", title="正高级", level="A",
                     research_directions=["纺丝工艺", "尼龙66"], chains=["尼龙新材料"]),
        "T2": Talent(id="T2", name="李四", category="专业技术", title="正高级",
                     research_directions=["己二胺"], avoid=["张三"], chains=["尼龙新材料"]),
        "T3": Talent(id="T3", name="王五", category="专业技术", title="正高级",
                     research_directions=["己二胺合成"], chains=["尼龙新材料"]),
        "T4": Talent(id="T4", name="赵六", category="专业技术", title="副高级",
                     research_directions=["注塑", "阻燃"], chains=["尼龙新材料"]),
    }
    hits = [FakeHit(t, 0.9 - i / 10, {"dense_profile": 0.5}) for i, t in enumerate(talents)]
    proposal = leads_for_challenge(Matcher(TABLES, now=NOW), challenge(), hits, talents)
    team = [m.talent_id for m in proposal.team]
    assert team[0] == "T1" and proposal.team[0].role == "揭榜人"
    assert "T2" not in team and "T3" in team and "T4" in team
    assert set(proposal.covered_terms) == set(TERMS) and proposal.missing_terms == []
    t4 = next(m for m in proposal.team if m.talent_id == "T4")
    assert t4.role == "成员" and t4.reason_zh.startswith("补充：") and "注塑" in t4.reason_zh


@lru_cache(maxsize=1)
def sample_proposals():
    from data.sample import generate
    from evaluation.simulate_reviewer import build_retriever, retrieve

    data = generate(400, 60, seed=11)
    hits = retrieve(build_retriever(data, HashEncoder(), SplitTokenizer()), data.challenges, 120)
    talents = {t.id: t for t in data.talents}
    ents = {e.id: e for e in data.enterprises}
    matcher = Matcher(TABLES, now=NOW)
    return [(c, leads_for_challenge(matcher, c, hits[c.id], talents,
                                    ents.get(c.enterprise_id or "")), talents)
            for c in data.challenges]


def test_sample_teams_cover_at_least_the_top_leads_without_conflicts():
    proposals = sample_proposals()
    assert len(proposals) >= 5
    with_team = 0
    for c, p, talents in proposals:
        if not p.team:
            continue
        with_team += 1
        n = len(p.team)
        assert c.team_size[0] <= n <= c.team_size[1] or n == len(p.leads)
        top = {t for lead in p.leads[:n] for t in lead.match.matched_terms}
        assert len(p.covered_terms) >= len(top)
        assert set(p.covered_terms) | set(p.missing_terms) == set(p.required_terms)
        members = [talents[m.talent_id] for m in p.team]
        assert len({m.id for m in members}) == n
        for a, b in combinations(members, 2):
            assert not members_conflict(a, b)
        assert all(m.reason_zh for m in p.team)
    assert with_team >= 5
