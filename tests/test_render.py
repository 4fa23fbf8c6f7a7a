"""Texts rendered from talents, needs, challenges and exchange rows."""

from __future__ import annotations

from data.records import Achievement, Challenge, Eligibility, Need, Talent
from embeddings.render import (
    exchange_need_text,
    exchange_talent_texts,
    item_text,
    need_text,
    talent_texts,
)


def _talent() -> Talent:
    return Talent(
        id="t1", name="张三", category="专业技术", hometown_county="郏县",
        disciplines=["材料科学", "高分子化学"], research_directions="尼龙66改性、工程塑料",
        title="正高级", position="总工程师", organisation="某新材料研究院", chains=["尼龙新材料"],
        relatives=["李四"], avoid=["某公司"],
        achievements=[
            Achievement(kind="paper", title="尼龙66增韧研究", text="提出一种增韧方法"),
            Achievement(kind="patent", title="一种特高压绝缘子"),
        ],
    )


def test_talent_profile_has_expertise_fields_in_order() -> None:
    profile, _ = talent_texts(_talent())
    assert profile == (
        "材料科学、高分子化学；尼龙66改性、工程塑料；正高级 总工程师；某新材料研究院；尼龙新材料"
    )


def test_talent_profile_leaves_out_private_and_identity_fields() -> None:
    profile, items = talent_texts(_talent())
    text = profile + "".join(items)
    for secret in ("张三", "李四", "某公司", "郏县", "专业技术"):
        assert secret not in text


def test_talent_items_are_title_and_text() -> None:
    _, items = talent_texts(_talent())
    assert items == ["尼龙66增韧研究。提出一种增韧方法", "一种特高压绝缘子"]


def test_empty_talent_profile_is_empty() -> None:
    profile, items = talent_texts(Talent(id="t2", name="王五", category="其他"))
    assert (profile, items) == ("", [])


def test_need_text() -> None:
    need = Need(id="n1", kind="tech", title="尼龙66切片提质", description="提高切片黏度稳定性",
                required_expertise=["聚合工艺", "高分子"], chain="尼龙新材料", avoid=["某人"])
    assert need_text(need) == "尼龙66切片提质。提高切片黏度稳定性；聚合工艺、高分子；尼龙新材料"


def test_challenge_text_has_no_rules_or_funding() -> None:
    ch = Challenge(id="c1", title="特高压套管国产化", description="攻关环氧浸纸工艺",
                   list_no="PDS-2024-07", funding=800,
                   eligibility=Eligibility(min_title="正高级", min_months_on_site=6))
    text = need_text(ch)
    assert text == "特高压套管国产化。攻关环氧浸纸工艺"
    for hidden in ("PDS-2024-07", "800", "正高级"):
        assert hidden not in text


def test_item_text_punctuation() -> None:
    assert item_text("标题。", "正文") == "标题。正文"
    assert item_text("", "正文") == "正文"
    assert item_text(None, None) == ""


def test_exchange_rows() -> None:
    row = {"id": "x", "name": "n", "text": " 储能电池 ", "items": [
        {"title": "锂电正极", "text": "高镍", "year": 2020}, {"title": "", "text": ""}]}
    assert exchange_talent_texts(row) == ("储能电池", ["锂电正极。高镍"])
    assert exchange_talent_texts({"id": "y", "text": "a"}) == ("a", [])
    assert exchange_need_text({"id": "n", "title": "煤矿安全", "text": "瓦斯监测"}) == "煤矿安全。瓦斯监测"
