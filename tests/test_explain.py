"""Explanations: a part only for a positive contribution, and only what the features show."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.records import Achievement, Enterprise, Need, NeedKind, Talent
from data.taxonomy import load_taxonomy
from matching.explain import DISPLAY_ORDER, MAX_TERMS, explain
from matching.features import (
    FEATURE_NAMES,
    PairDetails,
    PairFeatures,
    fused_score,
    pair_features,
    prepare_need,
)
from matching.rules import Reason, check_pair
from matching.tables import MatchingTables

TABLES = MatchingTables.from_taxonomy(load_taxonomy())
NOW = datetime(2025, 7, 1, tzinfo=UTC)
SAMPLE = "研究方向匹配：尼龙66、纺丝工艺；同属尼龙新材料产业链；宝丰县籍；可柔性引进，每年在平4个月"
TERMS = ["尼龙66", "纺丝工艺", "己二胺", "工业丝", "高分子材料", "注塑", "PA6"]

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def details(draw: st.DrawFn) -> PairDetails:
    required = draw(st.lists(st.sampled_from(TERMS), unique=True, max_size=len(TERMS)))
    matched = draw(st.lists(st.sampled_from(required), unique=True)) if required else []
    split = draw(st.integers(0, len(matched)))
    return PairDetails(
        required_terms=required, matched_terms=matched, matched_in_profile=matched[:split],
        matched_in_items=matched[split:], chain=draw(st.sampled_from([None, "尼龙新材料"])),
        kind="tech", kind_label="技术攻关", category="专业技术",
        kind_fit_known=draw(st.booleans()), city="平顶山", city_abbrev="平",
        hometown_county=draw(st.sampled_from([None, "宝丰县"])),
        tie_basis=draw(st.sampled_from([None, "county", "city", "bond"])),
        ties=draw(st.lists(st.sampled_from(["籍贯", "成长经历", "情感联系"]), unique=True)),
        availability_basis=draw(st.sampled_from(["unknown", "months", "full_time"])),
        months_per_year=draw(st.one_of(st.none(), st.integers(0, 12))),
        months_required=3, intents=draw(st.lists(st.sampled_from(["柔性", "全职"]), unique=True)),
        seniority_asked=draw(st.booleans()), title_name="正高级", required_title="副高级",
        age_days=draw(st.one_of(st.none(), st.floats(0, 3000))),
    )


@st.composite
def pair_features_st(draw: st.DrawFn) -> PairFeatures:
    values = {name: draw(st.one_of(st.just(0.0), st.just(1.0), unit)) for name in FEATURE_NAMES}
    return PairFeatures(**values, details=draw(details()))


weights_st = st.dictionaries(
    st.sampled_from(FEATURE_NAMES),
    st.one_of(st.just(0.0), st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)),
)


def check_invariants(features: PairFeatures, contributions: dict[str, float],
                     flags: list[Reason]) -> None:
    e = explain(features, contributions, flags)
    fit = [p for p in e.parts if p.kind == "fit"]
    for part in fit:
        assert contributions[part.feature] > 0
        assert part.contribution == contributions[part.feature]
    shown = {p.feature for p in fit}
    for name, value in contributions.items():
        if not value > 0:
            assert name not in shown
    assert len(shown) == len(fit)  # one part per feature at most
    assert [p.feature for p in fit] == [f for f in DISPLAY_ORDER if f in shown]
    assert e.text_zh == "；".join(p.text for p in e.parts)
    for part in fit:
        if part.feature == "coverage":
            listed = part.text.replace("研究方向匹配：", "").replace("成果涉及：", "")
            for chunk in listed.replace("，", "、").split("、"):
                term = chunk.split("等")[0] if chunk.endswith("项") else chunk
                assert term in features.details.matched_terms
    flag_parts = [p for p in e.parts if p.kind == "flag"]
    assert [p.text for p in flag_parts] == [f"⚠ {r.text}" for r in flags]
    assert all(p.contribution == 0.0 for p in flag_parts)
    assert e.contributions == contributions


@settings(max_examples=300, deadline=None)
@given(pair_features_st(), weights_st,
       st.lists(st.builds(Reason, st.sampled_from(["a", "b"]), st.sampled_from(["资格待核实"]))))
def test_parts_only_for_positive_contributions(features, weights, flags):
    _, contributions = fused_score(features, weights)
    check_invariants(features, contributions, flags)


@settings(max_examples=200, deadline=None)
@given(pair_features_st(), st.dictionaries(
    st.sampled_from(FEATURE_NAMES), st.floats(allow_nan=True, allow_infinity=False)))
def test_parts_only_for_positive_contributions_any_numbers(features, contributions):
    check_invariants(features, contributions, [])


def sample_pair() -> tuple[Need, Talent, Enterprise]:
    need = Need(id="N1", enterprise_id="E1", kind=NeedKind.tech, title="尼龙66工业丝纺丝",
                required_expertise=["尼龙66", "纺丝工艺"], chain="尼龙新材料", county="宝丰县")
    talent = Talent(id="T1", name="张三", category="专业技术", hometown_county="宝丰县",
                    ties=["籍贯"], research_directions=["尼龙66", "纺丝工艺"],
                    chains=["尼龙新材料"], intent=["柔性"], months_per_year=4, updated_at=NOW)
    return need, talent, Enterprise(id="E1", name="某尼龙公司", county="宝丰县")


def test_sample_sentence():
    need, talent, ent = sample_pair()
    f = pair_features(prepare_need(need, TABLES, ent), talent, None, None, NOW)
    weights = {"coverage": 0.3, "same_chain": 0.2, "tie": 0.2, "availability": 0.3}
    _, contributions = fused_score(f, weights)
    e = explain(f, contributions)
    assert f.coverage == pytest.approx(2 / 3)  # 工业丝 is required but not matched
    assert e.text_zh == SAMPLE
    assert [p.feature for p in e.parts] == ["coverage", "same_chain", "tie", "availability"]
    assert e.parts[0].contribution == pytest.approx(0.3 * 2 / 3)


def test_default_weights_sentence_with_flags():
    need, talent, ent = sample_pair()
    need = need.model_copy(update={"min_title": "副高级"})
    f = pair_features(prepare_need(need, TABLES, ent), talent, None, None, NOW)
    _, contributions = fused_score(f)
    rules = check_pair(need, talent, TABLES, ent)
    e = explain(f, contributions, rules.soft)
    assert e.text_zh.startswith(SAMPLE + "；专业技术人才，适合技术攻关需求；档案近一个月内更新")
    assert e.text_zh.endswith("；⚠ 待核实：职称未知（要求副高级及以上）")
    assert "语义相似度" not in e.text_zh  # no hit: dense is 0
    assert "职称" not in e.parts[-2].text  # seniority is neutral (unknown): no claim


def test_neutral_values_say_nothing():
    f = PairFeatures(availability=0.5, seniority=0.5, freshness=0.5, kind_fit=0.5)
    e = explain(f, dict.fromkeys(FEATURE_NAMES, 0.1))
    assert e.parts == [] and e.text_zh == ""


def test_coverage_lists_synonyms_and_caps_terms():
    d = PairDetails(matched_terms=TERMS, matched_in_profile=TERMS, found_as={"PA6": "尼龙6"})
    e = explain(PairFeatures(coverage=1.0, details=d), {"coverage": 0.15})
    assert e.text_zh == "研究方向匹配：" + "、".join(TERMS[:MAX_TERMS]) + f"等{len(TERMS)}项"
    d2 = PairDetails(matched_terms=["PA6"], matched_in_items=["PA6"], found_as={"PA6": "尼龙6"})
    assert explain(PairFeatures(coverage=1.0, details=d2), {"coverage": 1}).text_zh == \
        "成果涉及：PA6（尼龙6）"


@pytest.mark.parametrize(("basis", "county", "ties", "text"), [
    ("county", "宝丰县", ["籍贯"], "宝丰县籍"),
    ("city", "叶县", ["籍贯"], "叶县籍（平顶山）"),
    ("city", None, ["籍贯"], "平顶山籍"),
    ("bond", None, ["成长经历", "情感联系"], "有在平顶山成长经历，与平顶山有情感联系"),
])
def test_tie_texts(basis, county, ties, text):
    d = PairDetails(tie_basis=basis, hometown_county=county, ties=ties, city="平顶山")
    assert explain(PairFeatures(tie=0.7, details=d), {"tie": 0.05}).text_zh == text


@pytest.mark.parametrize(("months", "required", "intents", "text"), [
    (4, 3, ["柔性"], "可柔性引进，每年在平4个月"),
    (6, 3, ["项目合作"], "每年可在平6个月"),
    (2, 3, ["柔性"], "每年可在平2个月（需3个月）"),
])
def test_availability_texts(months, required, intents, text):
    d = PairDetails(availability_basis="months", months_per_year=months, months_required=required,
                    intents=intents, city="平顶山", city_abbrev="平")
    e = explain(PairFeatures(availability=0.5, details=d), {"availability": 0.03})
    assert e.text_zh == text


def test_real_pipeline_mentions_only_matched_terms():
    need, talent, ent = sample_pair()
    talent = talent.model_copy(update={"research_directions": ["纺丝"],
                                       "achievements": [Achievement(title="己二胺 合成")]})
    need = need.model_copy(update={"description": "涉及己二胺"})
    f = pair_features(prepare_need(need, TABLES, ent), talent, None, None, NOW)
    e = explain(f, fused_score(f)[1])
    assert e.parts[0].text == "研究方向匹配：纺丝工艺（纺丝），成果涉及：己二胺"
    assert "尼龙66" not in e.parts[0].text
    assert not math.isnan(sum(e.contributions.values()))
