"""Pair features on hand-built records: each feature's value and the matched terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from data.records import Achievement, Challenge, Eligibility, Enterprise, Need, NeedKind, Talent
from data.taxonomy import load_taxonomy
from matching.features import (
    DEFAULT_WEIGHTS,
    FEATURE_NAMES,
    NEUTRAL,
    PoolStats,
    features_for_hits,
    fused_score,
    pair_features,
    prepare_need,
)
from matching.need_context import required_terms
from matching.tables import MatchingTables

NOW = datetime(2025, 7, 1, tzinfo=UTC)


@dataclass
class FakeHit:
    """A stand-in for ``embeddings.hybrid.Hit``."""

    id: str
    raw: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def tables() -> MatchingTables:
    return MatchingTables.from_taxonomy(load_taxonomy())


def need(**kw: Any) -> Need:
    fields: dict[str, Any] = {"id": "N1", "enterprise_id": "E1", "kind": NeedKind.tech,
                              "title": "技术需求", "chain": "尼龙新材料", "county": "新华区"}
    return Need(**{**fields, **kw})


def talent(**kw: Any) -> Talent:
    fields: dict[str, Any] = {"id": "T1", "name": "张三", "category": "专业技术"}
    return Talent(**{**fields, **kw})


def feats(tables: MatchingTables, n: Need, t: Talent, hit: FakeHit | None = None,
          enterprise: Enterprise | None = None, pool: PoolStats | None = None):
    return pair_features(prepare_need(n, tables, enterprise), t, hit, pool, NOW)


# -- dense / lexical ----------------------------------------------------------------------


def test_dense_is_max_of_raw_cosines_and_lexical_is_bm25_over_pool_max(tables):
    hit = FakeHit("T1", {"dense_profile": 0.42, "dense_items": 0.58, "bm25": 3.0})
    f = feats(tables, need(), talent(), hit, pool=PoolStats(12.0))
    assert f.dense == pytest.approx(0.58)
    assert f.lexical == pytest.approx(0.25)


def test_retrieval_features_without_signals(tables):
    assert feats(tables, need(), talent()).dense == 0.0
    f = feats(tables, need(), talent(), FakeHit("T1", {"dense_profile": -0.2}), pool=PoolStats(5))
    assert (f.dense, f.lexical) == (0.0, 0.0)


def test_pool_stats_from_hits():
    hits = [FakeHit("a", {"bm25": 2.0}), FakeHit("b", {"bm25": 7.5}), FakeHit("c", {})]
    assert PoolStats.from_hits(hits).bm25_max == 7.5
    assert PoolStats.from_hits([]).bm25_max == 0.0


# -- coverage -----------------------------------------------------------------------------


def test_required_terms_items_then_chain_terms_of_text(tables):
    n = need(title="尼龙66切片固相增粘", description="需要改性尼龙注塑经验",
             required_expertise=["纺丝工艺", "高分子材料"])
    terms = dict(required_terms(n, tables, "尼龙新材料"))
    assert list(terms) == ["纺丝工艺", "高分子材料", "尼龙66", "固相增粘", "改性尼龙", "注塑"]
    assert terms["纺丝工艺"] == ["纺丝"]
    assert terms["高分子材料"] == []
    assert "尼龙6" not in terms  # 「尼龙6」 must not be read inside 「尼龙66」


def test_coverage_counts_matched_terms_in_profile_and_items(tables):
    n = need(title="尼龙66工业丝", required_expertise=["纺丝工艺", "高分子材料"])
    t = talent(research_directions=["尼龙66", "纺丝工艺"],
               achievements=[Achievement(title="工业丝强度提升")],
               organisation="高分子材料研究所")  # organisation is not expertise
    f = feats(tables, n, t)
    d = f.details
    assert d.required_terms == ["纺丝工艺", "高分子材料", "尼龙66", "工业丝"]
    assert d.matched_terms == ["纺丝工艺", "尼龙66", "工业丝"]
    assert d.matched_in_profile == ["纺丝工艺", "尼龙66"]
    assert d.matched_in_items == ["工业丝"]
    assert f.coverage == pytest.approx(3 / 4)


def test_coverage_through_synonyms_and_inner_terms(tables):
    n = need(title="PA66 聚合", required_expertise=["纺丝工艺"])
    t = talent(research_directions=["尼龙 66 纺丝"])
    f = feats(tables, n, t)
    assert f.details.matched_terms == ["纺丝工艺", "PA66"]
    assert f.details.found_as == {"纺丝工艺": "纺丝", "PA66": "尼龙66"}
    assert f.coverage == 1.0


def test_coverage_respects_digit_boundaries(tables):
    n = need(title="尼龙6 聚合", required_expertise=[])
    assert feats(tables, n, talent(research_directions=["尼龙66"])).coverage == 0.0
    assert feats(tables, n, talent(research_directions=["PA6 改性"])).coverage == 1.0


def test_coverage_zero_without_terms(tables):
    f = feats(tables, need(title="一般需求", required_expertise=[]), talent(disciplines=["x"]))
    assert (f.coverage, f.details.required_terms) == (0.0, [])


# -- chain / kind -------------------------------------------------------------------------


def test_same_chain_with_aliases(tables):
    assert feats(tables, need(), talent(chains=["尼龙新材料"])).same_chain == 1.0
    assert feats(tables, need(), talent(chains=["尼龙"])).same_chain == 1.0
    assert feats(tables, need(), talent(chains=["煤化工"])).same_chain == 0.0
    assert feats(tables, need(chain=None), talent(chains=["煤化工"])).same_chain == 0.0


def test_kind_fit_table_lookup(tables):
    assert feats(tables, need(), talent(category="专业技术")).kind_fit == 1.0
    assert feats(tables, need(kind="funding"), talent(category="企业经营管理")).kind_fit == 1.0
    assert feats(tables, need(kind="funding"), talent(category="高技能")).kind_fit == 0.2
    small = MatchingTables(kind_fit={"tech": {"专业技术": 0.9}})
    f = feats(small, need(), talent(category="其他"))
    assert (f.kind_fit, f.details.kind_fit_known) == (NEUTRAL, False)


# -- tie ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("county", "ties", "expected", "basis"), [
    ("新华区", ["籍贯"], 1.0, "county"),
    ("宝丰县", ["籍贯"], 0.7, "city"),
    (None, ["籍贯"], 0.7, "city"),
    (None, ["成长经历"], 0.4, "bond"),
    ("宛城区", ["情感联系"], 0.4, "bond"),
    ("宛城区", ["籍贯"], 0.0, None),
    (None, [], 0.0, None),
])
def test_tie(tables, county, ties, expected, basis):
    f = feats(tables, need(county="新华区"), talent(hometown_county=county, ties=ties))
    assert (f.tie, f.details.tie_basis) == (expected, basis)


def test_tie_uses_enterprise_county_and_library_city(tables):
    ent = Enterprise(id="E1", name="某公司", county="宝丰县")
    assert feats(tables, need(county=None), talent(hometown_county="宝丰县"), enterprise=ent).tie == 1.0
    other = talent(hometown_county=None, ties=["成长经历"], city="南阳")
    assert feats(tables, need(), other).tie == 0.0


# -- availability -------------------------------------------------------------------------


@pytest.mark.parametrize(("intent", "expected"), [(["全职"], 1.0), (["柔性"], 0.2), ([], NEUTRAL)])
def test_availability_full_time_need(tables, intent, expected):
    f = feats(tables, need(full_time=True), talent(intent=intent, months_per_year=12))
    assert f.availability == expected


@pytest.mark.parametrize(("months", "min_months", "intent", "expected"), [
    (4, None, ["柔性"], 1.0),
    (3, None, ["柔性"], 1.0),
    (2, None, ["柔性"], 0.8 * 2 / 3),
    (4, 6, ["柔性"], 0.8 * 4 / 6),
    (0, None, [], 0.0),
    (None, None, ["柔性"], NEUTRAL),
    (None, 6, ["全职引进"], 1.0),
])
def test_availability_flexible(tables, months, min_months, intent, expected):
    f = feats(tables, need(min_months=min_months), talent(intent=intent, months_per_year=months))
    assert f.availability == pytest.approx(expected)


# -- seniority ----------------------------------------------------------------------------


def test_seniority_neutral_when_not_asked(tables):
    f = feats(tables, need(), talent(title="教授"))
    assert (f.seniority, f.details.seniority_asked) == (NEUTRAL, False)


@pytest.mark.parametrize(("title", "level", "expected"), [
    ("教授", "A", 1.0), ("高级工程师", "B", 1.0), ("讲师", "A", 0.0), ("教授", "C", 0.0),
    (None, "A", NEUTRAL), ("某某职务", "A", NEUTRAL), ("讲师", None, 0.0),
])
def test_seniority_when_asked(tables, title, level, expected):
    n = need(min_title="副高", min_level="B类")
    f = feats(tables, n, talent(title=title, level=level))
    assert f.seniority == expected
    assert f.details.seniority_asked
    assert (f.details.required_title, f.details.required_level) == ("副高级", "B")


def test_seniority_takes_challenge_eligibility(tables):
    ch = Challenge(id="C1", title="榜单", chain="尼龙新材料",
                   eligibility=Eligibility(min_title="正高级"))
    assert feats(tables, ch, talent(title="副教授")).seniority == 0.0
    assert feats(tables, ch, talent(title="二级教授")).seniority == 1.0


# -- freshness ----------------------------------------------------------------------------


def test_freshness_half_life(tables):
    assert feats(tables, need(), talent(updated_at=NOW)).freshness == 1.0
    year_ago = (NOW - timedelta(days=365)).replace(tzinfo=None)  # naive = UTC
    f = feats(tables, need(), talent(updated_at=year_ago))
    assert f.freshness == pytest.approx(0.5)
    assert f.details.age_days == pytest.approx(365)
    assert feats(tables, need(), talent()).freshness == NEUTRAL
    assert feats(tables, need(), talent(updated_at=NOW + timedelta(days=9))).freshness == 1.0


# -- fusion -------------------------------------------------------------------------------


def test_default_weights_sum_to_one():
    assert set(DEFAULT_WEIGHTS) == set(FEATURE_NAMES)
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)


def test_fused_score_is_sum_of_contributions(tables):
    t = talent(research_directions=["尼龙66"], chains=["尼龙新材料"], hometown_county="新华区",
               ties=["籍贯"], intent=["柔性"], months_per_year=4, updated_at=NOW)
    f = feats(tables, need(title="尼龙66"), t, FakeHit("T1", {"dense_profile": 0.5}))
    score, parts = fused_score(f)
    assert set(parts) == set(FEATURE_NAMES)
    assert score == pytest.approx(sum(parts.values()))
    assert parts["coverage"] == pytest.approx(0.15)
    assert parts["dense"] == pytest.approx(0.35 * 0.5)
    score2, parts2 = fused_score(f, {"tie": 2.0})
    assert score2 == 2.0 and parts2["dense"] == 0.0
    with pytest.raises(ValueError, match="unknown feature"):
        fused_score(f, {"bogus": 1.0})


def test_features_for_hits_skips_unknown_talents(tables):
    hits = [FakeHit("T1", {"bm25": 4.0}), FakeHit("T9", {"bm25": 8.0})]
    out = features_for_hits(need(), {"T1": talent()}, hits, tables, now=NOW)
    assert list(out) == ["T1"]
    assert out["T1"].lexical == pytest.approx(0.5)
    assert out["T1"].as_dict()["lexical"] == pytest.approx(0.5)
