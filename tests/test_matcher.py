"""The matcher: rules drop or flag pairs, honest explanations, both directions, ``ranked``."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.records import Enterprise, Need, NeedKind, Project, ProjectStatus, Talent
from data.taxonomy import load_taxonomy
from matching.matcher import RANKER_OFFSET, Matcher
from matching.ranker import train_ranker
from matching.scorer import SCORER_FEATURES
from matching.tables import MatchingTables

TABLES = MatchingTables.from_taxonomy(load_taxonomy())
NOW = datetime(2026, 6, 30, tzinfo=UTC)
ENT = Enterprise(id="E1", name="平顶山神马尼龙科技有限公司", county="宝丰县",
                 chains=["尼龙新材料"])


@dataclass
class FakeHit:
    id: str
    score: float
    raw: dict[str, float] = field(default_factory=dict)


def talent(i: int, **kw) -> Talent:
    fields = {"id": f"T{i}", "name": f"人才{i}", "category": "专业技术", "title": "正高级",
              "research_directions": ["尼龙66聚合", "纺丝工艺"], "chains": ["尼龙新材料"],
              "hometown_county": "宝丰县", "ties": ["籍贯"], "intent": ["柔性"],
              "months_per_year": 4, "organisation": f"某大学{i}"}
    return Talent(**{**fields, **kw})


def need(**kw) -> Need:
    fields = {"id": "N1", "enterprise_id": "E1", "kind": NeedKind.tech,
              "title": "尼龙66切片纺丝工艺改进", "required_expertise": ["纺丝工艺"],
              "chain": "尼龙新材料", "county": "宝丰县"}
    return Need(**{**fields, **kw})


def hit(i: int, score: float = 0.5) -> FakeHit:
    return FakeHit(f"T{i}", score, {"dense_profile": score, "dense_items": score / 2,
                                    "bm25": 10 * score})


def test_hard_rules_drop_with_reasons_and_soft_rules_flag():
    talents = {t.id: t for t in [
        talent(1),
        talent(2, organisation="神马尼龙科技有限公司"),  # works at the enterprise
        talent(3, avoid=["平顶山神马尼龙科技有限公司"]),  # declared
        talent(4, title="中级"),  # below the need's min_title: soft
    ]}
    n = need(min_title="副高级")
    result = Matcher(TABLES, now=NOW).match_need(n, [hit(i, 0.6) for i in range(1, 5)],
                                                 talents, ENT)
    dropped = {d.talent_id: [r.code for r in d.reasons] for d in result.dropped}
    assert dropped == {"T2": ["employed_by_enterprise"], "T3": ["talent_avoid"]}
    assert all(r.text for d in result.dropped for r in d.reasons)
    by_id = {m.talent_id: m for m in result.matches}
    assert set(by_id) == {"T1", "T4"}
    flagged = by_id["T4"]
    assert [f.code for f in flagged.flags] == ["need_min_title"]
    assert flagged.score == pytest.approx(flagged.base_score * 0.8)
    assert "⚠" in flagged.explanation
    assert [m.rank for m in result.matches] == [1, 2]
    assert result.matches[0].talent_id == "T1"


def test_fused_match_contributions_and_explanation():
    result = Matcher(TABLES, now=NOW).match_need(need(), [hit(1, 0.7)], {"T1": talent(1)}, ENT)
    m = result.matches[0]
    assert set(m.features) == set(SCORER_FEATURES) == set(m.contributions)
    assert m.score == pytest.approx(sum(m.contributions.values()))
    assert "纺丝工艺" in m.explanation and "宝丰县籍" in m.explanation
    assert m.matched_terms and result.scorer == "fused"


def _ranker():
    rng = random.Random(0)
    rows = []
    for _ in range(120):
        row = {n: rng.random() for n in SCORER_FEATURES}
        rows.append((row, int(row["coverage"] - row["tie"] > 0)))  # tie pushes down
    model = train_ranker(rows, min_decisions=50)
    assert model is not None
    return model


RANKER = _ranker()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.sampled_from(["宝丰县", "叶县", None]),
                          st.sampled_from([["纺丝工艺"], ["热处理"], []]),
                          st.one_of(st.none(), st.integers(0, 12))),
                min_size=1, max_size=8),
       st.booleans())
def test_explanations_claim_only_positive_contributions(rows, learned):
    talents = {f"T{i}": talent(i, hometown_county=c, research_directions=d or ["材料"],
                               months_per_year=mo)
               for i, (_, c, d, mo) in enumerate(rows)}
    hits = [hit(i, s) for i, (s, *_rest) in enumerate(rows)]
    matcher = Matcher(TABLES, ranker=RANKER if learned else None, now=NOW)
    for m in matcher.match_need(need(), hits, talents, ENT).matches:
        for part in m.parts:
            if part.kind == "fit":
                assert m.contributions[part.feature] > 0
                assert part.contribution == pytest.approx(m.contributions[part.feature])
                assert m.features[part.feature] > 0


def test_ranker_reorders_the_head_only():
    talents = {f"T{i}": talent(i) for i in range(30)}
    hits = [hit(i, 0.9 - i * 0.02) for i in range(30)]
    result = Matcher(TABLES, ranker=RANKER, now=NOW, rerank_depth=5).match_need(
        need(), hits, talents, ENT)
    head = [m for m in result.matches if m.score > RANKER_OFFSET]
    assert len(head) == 5 and result.matches[:5] == head
    assert all(m.score <= 1.0 for m in result.matches[5:])
    assert result.scorer == "ranker"


def test_needs_and_projects_for_a_talent():
    t = talent(1, intent=["投资"], hometown_county="郏县")
    needs = {
        "N1": need(id="N1", kind=NeedKind.tech, county="叶县", enterprise_id="E9"),
        "N2": need(id="N2", kind=NeedKind.funding, county="郏县", enterprise_id="E9"),
        "N3": need(id="N3", enterprise_id="E1"),
    }
    works_there = talent(1, intent=["投资"], hometown_county="郏县",
                         organisation="神马尼龙科技有限公司")
    hits = [FakeHit(n, 0.5, {"dense_profile": 0.5}) for n in needs]
    projects = [
        Project(id="P1", name="尼龙回乡创业项目", status=ProjectStatus.negotiating,
                county="郏县", chain="尼龙新材料"),
        Project(id="P2", name="别处项目", status=ProjectStatus.signed, county="叶县",
                chain="特高压电气"),
        Project(id="P3", name="无关项目", status=ProjectStatus.intended, city="南阳",
                county="宛城区", chain="特高压电气"),
    ]
    matcher = Matcher(TABLES, now=NOW)
    out = matcher.needs_for_talent(t, hits, needs, {"E1": ENT}, projects)
    assert out.needs[0].id == "N2"  # hometown county and 投资 → 资金 need
    assert "郏县籍" in out.needs[0].explanation and "投资意向" in out.needs[0].explanation
    assert [p.id for p in out.projects][:2] == ["P1", "P2"]
    assert "P3" not in [p.id for p in out.projects]
    assert "郏县" in out.projects[0].explanation and "尼龙新材料" in out.projects[0].explanation
    assert "（在谈）" in out.projects[0].title
    blocked = matcher.needs_for_talent(works_there, hits, needs, {"E1": ENT})
    assert [d[0] for d in blocked.dropped] == ["N3"]


def test_ranked_method_builds_records_from_exchange_rows():
    from evaluation.ranked import need_record, talent_record

    t = talent_record({"id": "T1", "name": "甲", "text": "某大学教授。学科：材料科学与工程。"
                       "研究方向：纺丝工艺、尼龙66。", "items": [{"title": "论文", "text": ""}],
                       "level": "Z", "months_per_year": 4, "chains": ["尼龙新材料"]})
    assert t.disciplines == ["材料科学与工程"] and t.research_directions == ["纺丝工艺", "尼龙66"]
    assert t.level is None or t.level == "Z"
    assert t.months_per_year == 4 and t.category == ""
    bare = talent_record({"id": "T2", "name": "乙", "text": "做尼龙纺丝", "months_per_year": 40})
    assert bare.research_directions == ["做尼龙纺丝"] and bare.months_per_year is None
    n = need_record({"id": "C1", "title": "揭榜", "text": "纺丝", "kind": "技术攻关",
                     "list_no": "JB-1", "eligibility": {"min_title": "正高级"}}, TABLES)
    assert n.kind == NeedKind.tech and n.eligibility.min_title == "正高级"


def test_ranked_method_in_the_evaluator():
    from data.sample import generate, need_row, talent_row
    from evaluation.evaluator import evaluate
    from evaluation.methods import RetrieverBackend, RetrieverMethod, make_methods
    from evaluation.ranked import RankedMethod
    from tests.fakes import HashEncoder

    data = generate(200, 30, seed=5)
    backend = RetrieverBackend(HashEncoder())
    methods = [RetrieverMethod("hybrid", backend), RankedMethod(backend, top_n=100,
                                                                tables=TABLES)]
    result = evaluate([need_row(n) for n in data.all_needs()],
                      [talent_row(t) for t in data.talents], data.qrels, methods)
    assert result["methods"]["ranked"]["ndcg@10"] is not None
    assert [m.name for m in make_methods(["ranked"], "use-multilingual")] == ["ranked"]
