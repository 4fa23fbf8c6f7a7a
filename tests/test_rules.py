"""Conflict and eligibility rules: declared both ways, detected, every eligibility rule."""

from __future__ import annotations

from typing import Any

import pytest

from data.records import Challenge, Eligibility, Enterprise, Need, NeedKind, Talent
from data.taxonomy import load_taxonomy
from matching.rules import (
    NEED_UNVERIFIED_FACTOR,
    SOFT_FACTOR,
    UNVERIFIED_FACTOR,
    Reason,
    RuledPair,
    RuleResult,
    apply_rules,
    check_pair,
    core_name,
    mentions,
    name_variants,
    nationality_ok,
    penalise,
    region_ok,
)
from matching.tables import MatchingTables


@pytest.fixture(scope="module")
def tables() -> MatchingTables:
    return MatchingTables.from_taxonomy(load_taxonomy())


ENT = Enterprise(id="E1", name="平顶山神马尼龙科技有限公司", county="新华区",
                 parent_company="中国平煤神马集团")


def need(**kw: Any) -> Need:
    fields: dict[str, Any] = {"id": "N1", "enterprise_id": "E1", "kind": NeedKind.tech,
                              "title": "技术需求", "county": "新华区"}
    return Need(**{**fields, **kw})


def challenge(**elig: Any) -> Challenge:
    return Challenge(id="C1", enterprise_id="E1", title="榜单", eligibility=Eligibility(**elig))


def talent(**kw: Any) -> Talent:
    fields: dict[str, Any] = {"id": "T1", "name": "张三", "category": "专业技术",
                              "organisation": "北京化工大学"}
    return Talent(**{**fields, **kw})


def codes(reasons: list[Reason]) -> list[str]:
    return [r.code for r in reasons]


def test_clean_pair_has_no_reasons(tables):
    r = check_pair(need(), talent(), tables, ENT)
    assert (r.hard, r.soft, r.allowed, r.factor) == ([], [], True, 1.0)


# -- declared -----------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["平顶山神马尼龙科技有限公司", "神马尼龙科技", "E1", "N1",
                                   "中国平煤神马集团", "平煤神马"])
def test_talent_declares_avoiding_the_enterprise(tables, entry):
    r = check_pair(need(), talent(avoid=[entry]), tables, ENT)
    assert codes(r.hard) == ["talent_avoid"]
    assert entry not in r.hard[0].text  # private entries are never quoted


@pytest.mark.parametrize("entry", ["张三", "T1", "北京化工大学", "化工大学"])
def test_need_declares_avoiding_the_talent(tables, entry):
    r = check_pair(need(avoid=[entry]), talent(), tables, ENT)
    assert codes(r.hard) == ["need_avoid"]


def test_unrelated_avoid_entries_do_not_conflict(tables):
    t = talent(avoid=["洛阳某公司", "E10"])
    assert check_pair(need(avoid=["李四", "T10"]), t, tables, ENT).allowed


def test_names_do_not_run_on_digits(tables):
    ent = Enterprise(id="E10", name="企业10")
    assert not mentions("企业10", "企业1")
    assert check_pair(need(enterprise_id="E10"), talent(avoid=["企业1"]), tables, ent).allowed
    assert not check_pair(need(enterprise_id="E10"), talent(avoid=["企业10"]), tables, ent).allowed


def test_name_variants_drop_place_prefixes():
    assert "神马尼龙科技" in name_variants("平顶山神马尼龙科技有限公司", ["平顶山"])
    assert "某某材料" in name_variants("宝丰县某某材料有限公司")
    assert "某某材料" in name_variants("河南省某某材料有限公司")
    assert "科技" not in name_variants("平顶山科技有限公司", ["平顶山"])  # too generic


def test_core_name_drops_company_suffix():
    assert core_name("平顶山神马尼龙科技有限公司") == "平顶山神马尼龙科技"
    assert core_name("中国平煤神马集团") == "中国平煤神马"
    assert core_name("公司") == "公司"


# -- detected -----------------------------------------------------------------------------


@pytest.mark.parametrize(("org", "parent"), [
    ("平顶山神马尼龙科技有限公司", None),  # works at the enterprise
    ("北京某研究院", "中国平煤神马集团有限公司"),  # parent organisation = the parent company
    ("中国平煤神马集团技术中心", None),  # organisation inside the parent company
    ("神马尼龙科技", None),  # enterprise name contains the organisation
])
def test_employment_detected(tables, org, parent):
    r = check_pair(need(), talent(organisation=org, parent_organisation=parent), tables, ENT)
    assert codes(r.hard) == ["employed_by_enterprise"]
    assert "任职于需求企业" in r.hard[0].text


def test_relative_detected_without_leaking(tables):
    entry = "配偶王五任神马尼龙科技有限公司副总经理"
    r = check_pair(need(), talent(relatives=[entry]), tables, ENT)
    assert codes(r.hard) == ["relative_at_enterprise"]
    assert "王五" not in r.hard[0].text
    assert check_pair(need(), talent(relatives=["配偶在郑州工作"]), tables, ENT).allowed


def test_no_detection_without_enterprise(tables):
    t = talent(organisation="平顶山神马尼龙科技有限公司", relatives=["神马尼龙"])
    assert check_pair(need(), t, tables, None).allowed


# -- challenge eligibility ----------------------------------------------------------------


@pytest.mark.parametrize(("elig", "fields", "outcome"), [
    ({"min_title": "正高级"}, {"title": "教授"}, "ok"),
    ({"min_title": "正高级"}, {"title": "副教授"}, "eligibility_title"),
    ({"min_title": "副高"}, {"title": None}, "eligibility_title_unverified"),
    ({"min_level": "B"}, {"level": "A"}, "ok"),
    ({"min_level": "B"}, {"level": "C"}, "eligibility_level"),
    ({"min_level": "B"}, {"level": None}, "eligibility_level_unverified"),
    ({"min_months_on_site": 4}, {"months_per_year": 6}, "ok"),
    ({"min_months_on_site": 4}, {"months_per_year": 2}, "eligibility_months"),
    ({"min_months_on_site": 4}, {"months_per_year": None}, "eligibility_months_unverified"),
    ({"min_months_on_site": 4}, {"months_per_year": None, "intent": ["全职"]}, "ok"),
    ({"nationalities": ["中国"]}, {"nationality": "中华人民共和国"}, "ok"),
    ({"nationalities": ["中国"]}, {"nationality": "美国"}, "eligibility_nationality"),
    ({"nationalities": ["中国"]}, {"nationality": None}, "eligibility_nationality_unverified"),
    ({"regions": ["北京市", "上海"]}, {"current_city": "北京"}, "ok"),
    ({"regions": ["北京市", "上海"]}, {"current_city": "深圳"}, "eligibility_region"),
    ({"regions": ["北京市"]}, {"current_city": None}, "eligibility_region_unverified"),
    ({"regions": ["不限"]}, {"current_city": "波士顿"}, "ok"),
])
def test_eligibility_rules(tables, elig, fields, outcome):
    r = check_pair(challenge(**elig), talent(**fields), tables, ENT)
    if outcome == "ok":
        assert r.hard == [] and r.soft == []
    elif outcome.endswith("_unverified"):
        assert r.hard == [] and codes(r.soft) == [outcome]
        assert r.soft[0].text.startswith("资格待核实")
        assert r.factor == pytest.approx(UNVERIFIED_FACTOR)
    else:
        assert codes(r.hard) == [outcome] and r.soft == []


def test_unreadable_rules_are_flags_only(tables):
    r = check_pair(challenge(min_title="某某资格", regions=["国内"]),
                   talent(title="讲师", current_city="北京"), tables, ENT)
    assert r.hard == []
    assert codes(r.soft) == ["rule_unreadable", "rule_unreadable"]
    assert r.factor == 1.0


def test_eligibility_messages_name_the_requirement(tables):
    r = check_pair(challenge(min_title="副高", min_level="B类人才"),
                   talent(title="讲师", level="C"), tables, ENT)
    texts = [x.text for x in r.hard]
    assert texts == ["职称不满足要求：需副高级及以上，现为讲师",
                     "人才层次不满足要求：需B类及以上，现为C类"]


# -- need-level (soft) --------------------------------------------------------------------


@pytest.mark.parametrize(("need_kw", "fields", "code", "factor"), [
    ({"min_title": "副高级"}, {"title": "工程师"}, "need_min_title", SOFT_FACTOR),
    ({"min_title": "副高级"}, {"title": None}, "need_min_title_unverified", NEED_UNVERIFIED_FACTOR),
    ({"min_level": "A"}, {"level": "B"}, "need_min_level", SOFT_FACTOR),
    ({"min_months": 6}, {"months_per_year": 3}, "need_min_months", SOFT_FACTOR),
    ({"min_months": 6}, {}, "need_min_months_unverified", NEED_UNVERIFIED_FACTOR),
])
def test_need_level_requirements_are_soft(tables, need_kw, fields, code, factor):
    r = check_pair(need(**need_kw), talent(**fields), tables, ENT)
    assert r.hard == []
    assert codes(r.soft) == [code]
    assert r.factor == pytest.approx(factor)


def test_need_level_requirements_met(tables):
    r = check_pair(need(min_title="副高级", min_level="B", min_months=3),
                   talent(title="研究员", level="A", months_per_year=4), tables, ENT)
    assert r.soft == [] and r.hard == []


# -- helpers ------------------------------------------------------------------------------


def test_apply_rules_filters_hard_and_penalises_soft():
    soft = RuleResult(soft=[Reason("a", "x", 0.8), Reason("b", "y", 0.5)])
    hard = RuleResult(hard=[Reason("h", "z")])
    out = apply_rules([RuledPair("N1", "T1", 1.0, soft), RuledPair("N1", "T2", 0.9, hard),
                       RuledPair("N1", "T3", 0.7, RuleResult(), payload={"k": 1})])
    assert [p.talent_id for p in out.kept] == ["T1", "T3"]
    assert [p.talent_id for p in out.dropped] == ["T2"]
    assert out.kept[0].score == pytest.approx(0.4) and out.kept[0].base_score == 1.0
    assert out.kept[1].score == 0.7 and out.kept[1].payload == {"k": 1}


def test_penalise_never_raises_a_score():
    soft = RuleResult(soft=[Reason("a", "x", 0.8)])
    assert penalise(2.0, soft) == pytest.approx(1.6)
    assert penalise(-2.0, soft) == pytest.approx(-2.5)


def test_nationality_and_region_helpers():
    assert nationality_ok("China", ["中国"]) is True
    assert nationality_ok("德国", ["中国", "德国"]) is True
    assert region_ok("上海市", ["上海"]) is True
    assert region_ok("北京", ["国内"]) is None
    assert region_ok("北京", ["国内", "上海"]) is None
    assert region_ok("北京", ["上海"]) is False
